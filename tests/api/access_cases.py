"""Access cases of the API key pages and of every /api/v1 route.

CASES: portal pages with an object id (the generic matrix). API_CASES: every API route;
`build(owner)` makes what the route reads and returns its URL arguments, `power` is the power
it declares, `foreign` the kind of organisation whose key must get 404 (None: nothing in the
route belongs to an organisation), `body` the JSON a POST sends.
"""

from collections.abc import Callable
from dataclasses import dataclass

from portal.organisations.models import Power
from tests.access import Case
from tests.api.conftest import issue_key
from tests.catalog.builders import make_item


def _key(organisation):
    return {"key_id": issue_key(organisation)[0].id}


CASES = {
    "api_keys.revoke_key": Case(_key, power=Power.MANAGE_USERS),
}


@dataclass(frozen=True)
class ApiCase:
    build: Callable
    power: object = None
    foreign: str | None = None
    kind: str = "pharmacy"
    body: dict | Callable | None = None  # a callable gets build()'s arguments
    status: int = 200
    refused_without: tuple = ()
    foreign_status: int = 404


def _item(_organisation):
    return {"sku": make_item().sku}


# Catalogue items are shared by every pharmacy: "another organisation's" item is one a gas
# customer asks for (its key gets 404: for it the catalogue does not exist).
API_CASES = {
    "api_me.me": ApiCase(lambda o: {}),
    "api_catalog.list_items": ApiCase(lambda o: {}, power=Power.VIEW_PRICES, foreign="gas"),
    "api_catalog.show_item": ApiCase(_item, power=Power.VIEW_PRICES, foreign="gas"),
    "api_catalog.lookup_items": ApiCase(
        lambda o: {}, power=Power.VIEW_PRICES, foreign="gas", body={"codes": ["X1"]}
    ),
}


# --- orders and webhooks (portal.api.orders, portal.api.webhook_views) ------------------------


def _webhook(organisation):
    from portal.api.order_models import WebhookEndpoint
    from portal.extensions import db

    endpoint = WebhookEndpoint(
        organisation_id=organisation.id,
        url="http://localhost:9/hook",
        secret="whsec_test",
        events_text="order.status_changed",
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def _webhook_id(organisation):
    return {"endpoint_id": _webhook(organisation).id}


def _delivery_id(organisation):
    from portal.api.order_models import WebhookDelivery
    from portal.extensions import db

    delivery = WebhookDelivery(
        endpoint_id=_webhook(organisation).id,
        organisation_id=organisation.id,
        event_id=f"evt-{organisation.id}",
        event="order.status_changed",
        payload="{}",
        status="failed",
    )
    db.session.add(delivery)
    db.session.commit()
    return {"delivery_id": delivery.id}


def _order_number(organisation):
    from tests.catalog.builders import make_order

    return {"number": make_order(organisation).number}


def _orderable(_organisation):
    make_item(sku="ACCESS-1")
    return {}


CASES["api_keys.remove_webhook"] = Case(_webhook_id, power=Power.MANAGE_USERS)
CASES["api_keys.resend_delivery"] = Case(_delivery_id, power=Power.MANAGE_USERS)

# A dry run answers 200 (a placed order 201); a gas customer's key finds no ordering (404).
API_CASES["api_orders.create_order"] = ApiCase(
    _orderable,
    power=Power.ORDER,
    foreign="gas",
    body={
        "lines": [{"sku": "ACCESS-1", "quantity": 1}],
        "payment_terms": "prepayment",
        "dry_run": True,
    },
)
API_CASES["api_orders.list_orders"] = ApiCase(lambda o: {}, power=Power.ORDER, foreign="gas")
API_CASES["api_orders.show_order"] = ApiCase(_order_number, power=Power.ORDER, foreign="pharmacy")
API_CASES["api_orders.cancel_order"] = ApiCase(_order_number, power=Power.ORDER, foreign="pharmacy")
# --- documents, readings and telemetry, settlements -------------------------------------------
# `status`: what a key with every power gets; `refused_without`: powers the object itself needs
# (checked by the view, beyond the declaration: a key without them gets 403);
# `foreign_status`: what another organisation's key gets when the ids are in the body (422:
# "not one of your organisation's meters", as the form says), not in the path.


def _supplier_contract(organisation):
    from tests.api.test_documents import publish

    document = publish(organisation, kind="contract", title="Договор")
    return {"document_id": f"supplier-{document.id}", "fmt": "pdf"}


def _meter(organisation):
    from portal.extensions import db
    from tests.metering.helpers import make_meter

    meter = make_meter(organisation, max_flow="10")
    db.session.commit()
    return {"meter_id": meter.id}


def _statement_job(organisation):
    import secrets
    from datetime import date

    from portal.billing import statements
    from portal.billing.models import JobStatus, StatementJob
    from portal.extensions import db
    from tests import stored
    from tests.factories import make_user

    token = secrets.token_hex(8)
    stored.put(statements.report_key(f"{token}.pdf"), b"%PDF-1.4 test", "reports")
    stored.put(statements.report_key(f"{token}.xlsx"), b"PK test", "reports")
    job = StatementJob(
        organisation_id=organisation.id,
        requested_by_id=make_user(organisation).id,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        status=JobStatus.DONE,
        progress=100,
        fingerprint="0" * 64,
        pdf_name=f"{token}.pdf",
        xlsx_name=f"{token}.xlsx",
    )
    db.session.add(job)
    db.session.commit()
    return {"job_id": job.id, "fmt": "pdf"}


def _reading_body(args):
    from datetime import date

    # The machine's date is never after Moscow's: never "in the future" for the portal.
    return {
        "reading_date": date.today().isoformat(),
        "readings": [{"meter_id": args["meter_id"], "value": "100"}],
    }


HOUR = {"at": "2026-01-01T10:00:00+03:00", "volume": "1.5"}

API_CASES.update(
    {
        "api_documents.list_documents": ApiCase(lambda o: {}),
        "api_documents.download_document": ApiCase(
            _supplier_contract, foreign="pharmacy", refused_without=(Power.VIEW_FINANCE,)
        ),
        "api_readings.list_meters": ApiCase(_meter, power=Power.SUBMIT_READINGS, kind="gas"),
        "api_readings.list_contracts": ApiCase(_meter, power=Power.SUBMIT_READINGS, kind="gas"),
        "api_readings.reading_window": ApiCase(
            lambda o: {}, power=Power.SUBMIT_READINGS, kind="gas"
        ),
        "api_readings.submit_readings": ApiCase(
            _meter,
            power=Power.SUBMIT_READINGS,
            kind="gas",
            foreign="gas",
            foreign_status=422,
            status=201,
            body=_reading_body,
        ),
        "api_telemetry.post_meter_telemetry": ApiCase(
            _meter,
            power=Power.SUBMIT_READINGS,
            kind="gas",
            foreign="gas",
            body={"granularity": "hour", "points": [HOUR]},
        ),
        "api_telemetry.post_telemetry": ApiCase(
            _meter,
            power=Power.SUBMIT_READINGS,
            kind="gas",
            foreign="gas",
            foreign_status=422,
            body=lambda args: {
                "series": [{"meter_id": args["meter_id"], "granularity": "hour", "points": [HOUR]}]
            },
        ),
        "api_settlements.balance": ApiCase(lambda o: {}, power=Power.VIEW_FINANCE),
        "api_settlements.list_ledger": ApiCase(lambda o: {}, power=Power.VIEW_FINANCE),
        "api_settlements.request_statement": ApiCase(
            lambda o: {},
            power=Power.VIEW_FINANCE,
            status=202,
            body={"from": "2026-01-01", "to": "2026-01-31"},
        ),
        "api_settlements.show_statement": ApiCase(
            _statement_job, power=Power.VIEW_FINANCE, foreign="pharmacy"
        ),
        "api_settlements.download_statement": ApiCase(
            _statement_job, power=Power.VIEW_FINANCE, foreign="pharmacy"
        ),
    }
)
