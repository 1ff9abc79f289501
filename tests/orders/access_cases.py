from portal.organisations.models import Power
from tests.access import Case
from tests.catalog.builders import make_order


def an_order(organisation):
    return {"order_id": make_order(organisation).id}


CASES = {
    "orders.show_order": Case(an_order, power=Power.ORDER),
    "orders.cancel_order": Case(an_order, power=Power.ORDER),
    "orders.reorder": Case(an_order, power=Power.ORDER),
    "orders.invoice_pdf": Case(an_order, power=Power.ORDER),
    "orders.order_xlsx": Case(an_order, power=Power.ORDER),
    "orders.order_documents": Case(an_order, power=Power.ORDER),
    "orders.staff_order": Case(an_order, staff=True),
    "orders.staff_change_status": Case(an_order, staff=True, curated=True),
    "orders.staff_shipped_quantities": Case(an_order, staff=True, curated=True),
    "orders.staff_note": Case(an_order, staff=True, curated=True),
    "orders.staff_issue_upd": Case(an_order, staff=True, curated=True),
}
