from datetime import date, timedelta

from portal.catalog.models import Promotion
from portal.extensions import db
from tests.access import Case
from tests.catalog.builders import make_item


def an_address(organisation):
    return {"organisation_id": organisation.id, "address_id": organisation.addresses[0].id}


def an_item(_organisation):
    return {"item_id": make_item("Тестовый товар").id}


def a_promotion(_organisation):
    item = make_item("Товар по акции")
    promotion = Promotion(
        item_id=item.id,
        title="Акция",
        discount_percent=10,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=3),
    )
    db.session.add(promotion)
    db.session.commit()
    return {"promotion_id": promotion.id}


def organisation_id(organisation):
    return {"organisation_id": organisation.id}


CASES = {
    "backoffice.show_terms": Case(organisation_id, staff=True),
    "backoffice.edit_terms": Case(organisation_id, staff=True, curated=True),
    "backoffice.add_address": Case(organisation_id, staff=True, curated=True),
    "backoffice.edit_address": Case(an_address, staff=True, curated=True),
    "backoffice.remove_address": Case(an_address, staff=True, curated=True),
    "backoffice.edit_item": Case(an_item, staff=True),
    "backoffice.edit_promotion": Case(a_promotion, staff=True),
    "backoffice.end_promotion": Case(a_promotion, staff=True),
}
