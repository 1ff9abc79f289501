from datetime import date

from portal.billing.models import StatementJob
from portal.extensions import db
from portal.organisations.models import Power
from tests.access import Case
from tests.factories import make_user
from tests.metering.access_cases import the_organisation


def a_job(organisation):
    user = make_user(organisation)
    job = StatementJob(
        organisation_id=organisation.id,
        requested_by_id=user.id,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        fingerprint="0" * 64,
    )
    db.session.add(job)
    db.session.commit()
    return {"job_id": job.id}


def a_payment(organisation):
    from portal.billing.ledger import post_payment

    payment = post_payment(
        organisation.id,
        "10.00",
        entry_date=date(2026, 1, 10),
        description="Оплата",
        document_number="1",
    )
    db.session.commit()
    return {"entry_id": payment.id}


def a_job_download(organisation):
    return {**a_job(organisation), "fmt": "pdf"}


def a_upd(organisation):
    """An issued УПД of the organisation (its snapshot is never read: access comes first)."""
    from portal.billing.models import PrimaryDocument
    from portal.billing.primary import digest

    year = 2026
    number = (db.session.query(PrimaryDocument).count() or 0) + 1
    document = PrimaryDocument(
        kind="upd",
        series="",
        year=year,
        number=number,
        organisation_id=organisation.id,
        document_date=date(year, 3, 10),
        snapshot="{}",
        snapshot_sha256=digest("{}"),
    )
    db.session.add(document)
    db.session.commit()
    return {"document_id": document.id}


CASES = {
    "billing.upd_pdf": Case(a_upd),
    "billing.upd_xlsx": Case(a_upd),
    "billing.staff_upd_pdf": Case(a_upd, staff=True),
    "billing.document_xml": Case(a_upd),
    "billing.staff_document_xml": Case(a_upd, staff=True),
    "billing.show_job": Case(a_job, power=Power.VIEW_FINANCE),
    "billing.job_status": Case(a_job, power=Power.VIEW_FINANCE),
    "billing.retry_job": Case(a_job, power=Power.VIEW_FINANCE),
    "billing.download": Case(a_job_download, power=Power.VIEW_FINANCE),
}
CASES.update(
    {
        "billing.staff_enter_payment": Case(the_organisation, staff=True, curated=True, kind="gas"),
        "billing.staff_enter_adjustment": Case(
            the_organisation, staff=True, curated=True, kind="gas"
        ),
        "billing.staff_allocate_payment": Case(a_payment, staff=True, curated=True),
    }
)
CASES.update(
    {
        "billing.receivables_organisation": Case(the_organisation, staff=True),
        "billing.set_credit_hold": Case(the_organisation, staff=True, curated=True),
        "billing.clear_credit_hold": Case(the_organisation, staff=True, curated=True),
    }
)


def a_ukd(organisation):
    """An issued УКД of the organisation (access comes before its snapshot is read)."""
    from portal.billing.models import PrimaryDocument
    from portal.billing.primary import digest

    number = (db.session.query(PrimaryDocument).count() or 0) + 1
    document = PrimaryDocument(
        kind="ukd",
        series="К",
        year=2026,
        number=number,
        organisation_id=organisation.id,
        document_date=date(2026, 3, 12),
        snapshot="{}",
        snapshot_sha256=digest("{}"),
    )
    db.session.add(document)
    db.session.commit()
    return {"document_id": document.id}


def an_order_of(organisation):
    from tests.catalog.builders import make_order

    return {"order_id": make_order(organisation).id}


CASES.update(
    {
        "billing.ukd_pdf": Case(a_ukd),
        "billing.ukd_xlsx": Case(a_ukd),
        "billing.gas_act_pdf": Case(a_upd),
        "billing.staff_ukd_pdf": Case(a_ukd, staff=True),
        "billing.staff_correct_shipment": Case(an_order_of, staff=True, curated=True),
    }
)
