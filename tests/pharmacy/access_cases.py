from portal.organisations.models import Power
from tests.access import Case
from tests.catalog.builders import make_order
from tests.pharmacy.builders import a_recall_notice


def an_order(organisation):
    return {"order_id": make_order(organisation).id}


def a_recall(organisation):
    return {"recall_id": a_recall_notice(organisation).id}


CASES = {
    "pharmacy.order_series_xlsx": Case(an_order, power=Power.ORDER),
    "pharmacy.show_recall": Case(a_recall, power=Power.ORDER),
    "pharmacy.recall_letter": Case(a_recall, power=Power.ORDER),
    "pharmacy.acknowledge_recall": Case(a_recall, power=Power.ORDER),
    "pharmacy.staff_order_series": Case(an_order, staff=True),
    "pharmacy.staff_save_order_series": Case(an_order, staff=True, curated=True),
    "pharmacy.staff_recall": Case(a_recall, staff=True),
    "pharmacy.staff_recall_letter": Case(a_recall, staff=True),
}
