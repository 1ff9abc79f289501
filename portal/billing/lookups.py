"""The orders and gas contracts billing charges for, known by id: lookups their domains register.

Billing sits below orders and metering (tests/test_architecture.py) and never imports their
models. A ledger row names its subject by kind and id (`LedgerEntry.source_type` "order" with
`source_id`, or `contract_id`); when billing needs the order or the contract itself it asks
the lookup that portal.orders and portal.metering register when they are imported (create_app
imports every domain before the first request):

    lookups.register_orders(OrderLookup(get=..., get_many=..., ...))

What a lookup returns is the domain's own row; billing reads only the attributes named here.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class OrderLookup:
    """An order as billing reads it: id, number, organisation_id, organisation, status,
    created_at, total, payment_terms, lines (vat_rate, vat_category, shipped_amount)."""

    get: Callable[[int], object | None]
    get_many: Callable[[Iterable[int]], dict[int, object]]
    # (organisation id, select of order ids to leave out) → the organisation's orders that are
    # not cancelled and not among those ids, with their lines, oldest first.
    open_without: Callable[[int, object], list]
    # (organisation id, lower-case numbers) → rows (id, number, status) of its orders so numbered.
    by_numbers: Callable[[int, Iterable[str]], list]
    is_order: Callable[[object], bool]


@dataclass(frozen=True)
class ContractLookup:
    """A gas contract as billing reads it: id, number, organisation_id, tariffs, tariff_on(day)."""

    get: Callable[[int], object | None]
    # () → rows (id, organisation_id, number) of every contract (payment purposes name them).
    numbers: Callable[[], list]
    # () → every contract with its tariffs, by id (the month's charges run over all of them).
    all_with_tariffs: Callable[[], list]
    # (contract id) → lock the contract's row until the transaction ends (charge vs tariff).
    lock: Callable[[int], None]
    # (contract id, month) → the month's readings of the contract's metering points, in order
    # (reading_date, consumption).
    readings: Callable[[int, object], list]


@dataclass(frozen=True)
class GasStaffPage:
    """The staff page of a gas customer (metering's); a refused money form is shown on it."""

    organisation_or_404: Callable[[int], object]
    contract_choices: Callable[[object], list]
    render: Callable[..., object]  # (organisation, payment_form=…, adjustment_form=…)


_REGISTERED: dict[str, object] = {}


def register_orders(lookup: OrderLookup) -> None:
    _REGISTERED["orders"] = lookup


def register_contracts(lookup: ContractLookup) -> None:
    _REGISTERED["contracts"] = lookup


def register_gas_staff_page(page: GasStaffPage) -> None:
    _REGISTERED["gas_staff_page"] = page


def _registered(name: str):
    try:
        return _REGISTERED[name]
    except KeyError:
        raise RuntimeError(
            f"billing has no {name} lookup: the domain registers it when imported (create_app)"
        ) from None


def orders() -> OrderLookup:
    return _registered("orders")


def contracts() -> ContractLookup:
    return _registered("contracts")


def gas_staff_page() -> GasStaffPage:
    return _registered("gas_staff_page")
