from portal.extensions import db
from portal.jobs.models import BackgroundJob, FailedJob
from tests.access import Case
from tests.factories import make_user


def a_failed_job(organisation):
    job = FailedJob(
        task_id="t-1",
        task_name="portal.billing.queue.generate_statement",
        kind="statements",
        arguments={"args": [1], "kwargs": {}},
        error="RuntimeError: boom",
    )
    db.session.add(job)
    db.session.commit()
    return {"job_id": job.id}


def a_background_job(organisation):
    staff = make_user(staff_role="admin")
    db.session.flush()
    job = BackgroundJob(task="catalog_import", kind="imports", requested_by_id=staff.id)
    db.session.add(job)
    db.session.commit()
    return {"job_id": job.id}


# Failed jobs belong to no organisation: staff only (a customer gets 403). An import's or a
# document's page: staff only too (the person who asked, or an administrator).
CASES = {
    "jobs.retry": Case(a_failed_job, staff=True),
    "jobs.show_job": Case(a_background_job, staff=True),
    "jobs.job_status": Case(a_background_job, staff=True),
}
