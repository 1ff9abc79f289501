"""An organisation's commercial terms as its curator sets them on «Коммерческие условия».

Price type or discount, credit limit, payment deferral, the supply contract, delivery
addresses. Every change is audited with the values before and after, written as people read
them; a refused value (a discount over 100 %, a negative credit limit) raises UserError naming
the field, and nothing is changed. Prices are never cached (portal/caching.py), so the buyer's
next page shows the new terms.
"""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit, caching
from portal.catalog.models import OrganisationPricing, PriceList
from portal.errors import UserError
from portal.extensions import db
from portal.formatting import local_date, money
from portal.organisations import contracts
from portal.organisations.models import DeliveryAddress

MAX_CREDIT_LIMIT = Decimal("999999999999.99")  # the Money column's 14 digits
ADDRESS_MAX_LENGTH = 500


@dataclass(frozen=True)
class Terms:
    price_list_id: int | None
    discount_percent: Decimal
    credit_limit: Decimal
    contract_number: str | None
    contract_date: object
    deferral_days: int | None


def pricing_of(organisation) -> OrganisationPricing | None:
    return db.session.scalar(
        select(OrganisationPricing).where(OrganisationPricing.organisation_id == organisation.id)
    )


def price_lists() -> list[PriceList]:
    return db.session.scalars(
        select(PriceList).order_by(PriceList.is_base.desc(), PriceList.name)
    ).all()


def current_terms(organisation) -> Terms:
    pricing = pricing_of(organisation)
    return Terms(
        price_list_id=pricing.price_list_id if pricing else None,
        discount_percent=pricing.discount_percent if pricing else Decimal("0"),
        credit_limit=organisation.credit_limit,
        contract_number=organisation.supply_contract_number,
        contract_date=organisation.supply_contract_date,
        deferral_days=organisation.payment_deferral_days,
    )


def _percent_text(value) -> str:
    text = f"{Decimal(value).normalize():f}".replace(".", ",")
    return f"{text}\u00a0%"


def _in_words(organisation, pricing) -> dict:
    """The terms as the audit log shows them (text, never codes or ids)."""
    price_list = (
        db.session.get(PriceList, pricing.price_list_id)
        if pricing is not None and pricing.price_list_id is not None
        else None
    )
    return {
        "price_list": price_list.name if price_list else str(_l("base price list")),
        "discount": _percent_text(pricing.discount_percent if pricing else 0),
        "credit_limit": money(organisation.credit_limit),
        "contract_number": organisation.supply_contract_number or "—",
        "contract_date": local_date(organisation.supply_contract_date) or "—",
        "deferral_days": str(organisation.payment_deferral_days)
        if organisation.payment_deferral_days is not None
        else str(_l("default (%(days)s)", days=contracts.deferral_days(organisation))),
    }


def _check(price_list_id, discount_percent, credit_limit, number, contract_date, deferral_days):
    if discount_percent is None:
        raise UserError(_l("Enter the discount (0 when there is none)."), "discount_percent")
    if discount_percent < 0 or discount_percent > 100:
        raise UserError(_l("The discount is from 0 to 100 %."), "discount_percent")
    if discount_percent.as_tuple().exponent < -2:
        raise UserError(_l("At most two digits after the decimal point."), "discount_percent")
    if credit_limit is None:
        raise UserError(_l("Enter the credit limit (0 for none)."), "credit_limit")
    if credit_limit < 0:
        raise UserError(_l("The credit limit cannot be below zero."), "credit_limit")
    if credit_limit > MAX_CREDIT_LIMIT or credit_limit.as_tuple().exponent < -2:
        raise UserError(_l("Enter an amount in roubles and kopecks."), "credit_limit")
    if price_list_id is not None and db.session.get(PriceList, price_list_id) is None:
        raise UserError(_l("Choose one of the price types."), "price_list_id")
    if number or contract_date:
        for field, problem in (
            ("contract_number", contracts.number_problem(number)),
            ("contract_date", contracts.date_problem(contract_date)),
        ):
            if problem:
                raise UserError(problem, field)
    if deferral_days is not None and not 0 <= deferral_days <= contracts.MAX_DEFERRAL_DAYS:
        raise UserError(
            _l("The deferral is from 0 to %(days)s days.", days=contracts.MAX_DEFERRAL_DAYS),
            "deferral_days",
        )


def set_terms(
    organisation,
    *,
    price_list_id,
    discount_percent,
    credit_limit,
    contract_number,
    contract_date,
    deferral_days,
    actor=None,
):
    """Validate every value first, then store them all; audited with before and after."""
    number = (contract_number or "").strip() or None
    _check(price_list_id, discount_percent, credit_limit, number, contract_date, deferral_days)
    pricing = pricing_of(organisation)
    before = _in_words(organisation, pricing)
    if pricing is None:
        pricing = OrganisationPricing(organisation_id=organisation.id)
        db.session.add(pricing)
    pricing.price_list_id = price_list_id
    pricing.discount_percent = discount_percent
    organisation.credit_limit = credit_limit
    organisation.supply_contract_number = number
    organisation.supply_contract_date = contract_date if number else None
    organisation.payment_deferral_days = deferral_days
    db.session.flush()
    after = _in_words(organisation, pricing)
    changed = [key for key in after if before[key] != after[key]]
    if changed:
        audit.record(
            "organisation.terms_changed",
            actor=actor,
            target=organisation,
            organisation=organisation,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return changed


# --- delivery addresses -----------------------------------------------------------------------


def _address_problem(text):
    text = (text or "").strip()
    if not text:
        return _l("Enter the address.")
    if len(text) > ADDRESS_MAX_LENGTH:
        return _l("The address is at most %(count)s characters.", count=ADDRESS_MAX_LENGTH)
    return None


def _forget_serving_warehouse(organisation) -> None:
    # The address's region decides the serving warehouse (caching.SERVING_WAREHOUSE).
    caching.forget_serving_warehouse(organisation.id)


def _address_words(address) -> str:
    text = address.address
    if address.region:
        text += f" ({address.region})"
    return text


def add_address(organisation, *, address, region, is_default, actor=None) -> DeliveryAddress:
    problem = _address_problem(address)
    if problem:
        raise UserError(problem, "address")
    row = DeliveryAddress(
        organisation_id=organisation.id,
        address=address.strip(),
        region=(region or "").strip() or None,
        is_default=bool(is_default) or not organisation.addresses,
    )
    organisation.addresses.append(row)
    if row.is_default:
        _only_default(organisation, row)
    db.session.flush()
    audit.record(
        "organisation.address_added",
        actor=actor,
        target=organisation,
        organisation=organisation,
        after={"address": _address_words(row)},
    )
    _forget_serving_warehouse(organisation)
    return row


def _only_default(organisation, chosen) -> None:
    for other in organisation.addresses:
        other.is_default = other is chosen


def edit_address(organisation, row, *, address, region, is_default, actor=None) -> None:
    problem = _address_problem(address)
    if problem:
        raise UserError(problem, "address")
    before = _address_words(row)
    was_default = row.is_default
    row.address = address.strip()
    row.region = (region or "").strip() or None
    if is_default:
        _only_default(organisation, row)
    after = _address_words(row)
    if before != after or was_default != row.is_default:
        audit.record(
            "organisation.address_changed",
            actor=actor,
            target=organisation,
            organisation=organisation,
            before={"address": before},
            after={"address": after},
        )
    _forget_serving_warehouse(organisation)


def remove_address(organisation, row, *, actor=None) -> None:
    """Orders keep the address text they were placed with; the last address stays."""
    if len(organisation.addresses) <= 1:
        raise UserError(_l("An organisation keeps at least one delivery address."), "address")
    organisation.addresses.remove(row)
    db.session.delete(row)
    if row.is_default and organisation.addresses:
        organisation.addresses[0].is_default = True
    audit.record(
        "organisation.address_removed",
        actor=actor,
        target=organisation,
        organisation=organisation,
        before={"address": _address_words(row)},
    )
    _forget_serving_warehouse(organisation)
