from portal.extensions import db
from portal.jobs.models import FailedJob
from tests.access import Case


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


# Failed jobs belong to no organisation: staff only (a customer gets 403).
CASES = {"jobs.retry": Case(a_failed_job, staff=True)}
