"""Staff edit an item's terms of sale by hand (no re-import): VAT category, minimum and
multiple, the Rx/ЖНВЛП/cold-chain flags, the description. Each change is one audit event with
before and after in words; the item's history on its staff page is read from those events."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit, caching
from portal.audit import AuditEvent
from portal.billing.models import VatCategory
from portal.catalog.models import Item
from portal.errors import UserError
from portal.extensions import db

MAX_QUANTITY = 100000
DESCRIPTION_MAX_LENGTH = 5000


def _yes_no(value) -> str:
    return str(_l("yes")) if value else str(_l("no"))


def _in_words(item) -> dict:
    description = (item.description or "").strip()
    if len(description) > 200:
        description = description[:200] + "…"
    return {
        "vat_category": str(VatCategory(item.vat_category).label),
        "min_quantity": str(item.min_quantity),
        "order_multiple": str(item.order_multiple),
        "is_rx": _yes_no(item.is_rx),
        "is_vital": _yes_no(item.is_vital),
        "is_cold_chain": _yes_no(item.is_cold_chain),
        "description": description or "—",
    }


def edit_item(item: Item, values: dict, *, actor=None) -> list[str]:
    """Validate all values, then store them; returns the names of the changed fields."""
    try:
        vat_category = VatCategory(values.get("vat_category"))
    except ValueError:
        raise UserError(_l("Choose the VAT category."), "vat_category") from None
    for field in ("min_quantity", "order_multiple"):
        value = values.get(field)
        if value is None:
            raise UserError(_l("Enter a whole number of packs."), field)
        if not 1 <= value <= MAX_QUANTITY:
            raise UserError(
                _l("From 1 to %(count)s packs.", count=f"{MAX_QUANTITY:,}".replace(",", "\u00a0")),
                field,
            )
    if values["min_quantity"] % values["order_multiple"]:
        raise UserError(
            _l(
                "The minimum must be a whole number of multiples (%(multiple)s).",
                multiple=values["order_multiple"],
            ),
            "min_quantity",
        )
    description = (values.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise UserError(
            _l("At most %(count)s characters.", count=DESCRIPTION_MAX_LENGTH), "description"
        )
    before = _in_words(item)
    item.vat_category = vat_category.value
    item.min_quantity = values["min_quantity"]
    item.order_multiple = values["order_multiple"]
    item.is_rx = bool(values.get("is_rx"))
    item.is_vital = bool(values.get("is_vital"))
    item.is_cold_chain = bool(values.get("is_cold_chain"))
    item.description = description or None
    db.session.flush()
    after = _in_words(item)
    changed = [key for key in after if before[key] != after[key]]
    if changed:
        audit.record(
            "item.changed",
            actor=actor,
            target=item,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
        # Filters «Rx»/«ЖНВЛП» are answered from the search cache: ask afresh.
        caching.forget_catalogue()
    return changed


def history(item: Item) -> list[AuditEvent]:
    """The item's changes, newest first (who, when, before and after)."""
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target_type == "Item", AuditEvent.target_id == str(item.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
