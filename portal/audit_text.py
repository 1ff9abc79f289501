"""The audit log as people read it: what happened in words, objects by name, before → after.

Rendered from the stored data when the page is shown, so entries written before this module
read the same way: codes become labels (powers, roles, statuses, kinds), ids become names,
lists and before/after dictionaries become lines of text — never Python's `[…]` or `{…}`.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import select

from portal.extensions import db

ACTION_LABELS = {
    "access.curator_refused": _l("Change refused: not the organisation's curator"),
    "account.blocked_consent_withdrawn": _l("Account blocked: consent withdrawn"),
    "account.profile_updated": _l("Profile updated"),
    "api_key.created": _l("API key created"),
    "api_key.refused": _l("API key refused"),
    "api_key.revoked": _l("API key revoked"),
    "application.applicant_replied": _l("Applicant replied"),
    "application.approved": _l("Application approved"),
    "application.info_requested": _l("More information requested"),
    "application.rejected": _l("Application rejected"),
    "application.reply_link_resent": _l("Reply link sent again"),
    "application.submitted": _l("Application submitted"),
    "auth.access_code_issued": _l("One-time access code issued"),
    "auth.account_locked": _l("Account paused after failed sign-ins"),
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Failed sign-in"),
    "auth.login_refused_locked": _l("Sign-in refused: account paused"),
    "auth.logout": _l("Signed out"),
    "auth.logout_everywhere": _l("Signed out on all devices"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_set_by_link": _l("Password set by link"),
    "auth.reset_link_sent_by_staff": _l("Password reset link sent by staff"),
    "auth.reset_requested": _l("Password reset requested"),
    "auth.reset_requested_unknown": _l("Password reset requested for an unknown address"),
    "billing.credit_hold_cleared": _l("Credit hold lifted"),
    "billing.credit_hold_set": _l("Credit hold set"),
    "billing.document_issued": _l("Primary document issued"),
    "billing.payment_reallocated": _l("Payment re-allocated"),
    "billing.vat_corrected": _l("VAT corrected"),
    "billing.vat_rate_added": _l("VAT rate added"),
    "catalog.certificate_added": _l("Certificate added"),
    "catalog.certificate_removed": _l("Certificate removed"),
    "catalog.imported": _l("Catalogue imported"),
    "consent.given": _l("Consent given"),
    "consent.version_published": _l("Consent version published"),
    "consent.withdrawn": _l("Consent withdrawn"),
    "documents.published": _l("Document published"),
    "documents.scan_downloaded_by_staff": _l("Scan downloaded by staff"),
    "documents.upload_accepted": _l("Uploaded scan accepted"),
    "documents.upload_deleted": _l("Uploaded scan deleted"),
    "documents.upload_rejected": _l("Uploaded scan rejected"),
    "documents.uploaded": _l("Scan uploaded"),
    "documents.withdrawn": _l("Document withdrawn"),
    "item.changed": _l("Item changed"),
    "ledger.adjustment": _l("Adjustment posted"),
    "ledger.payment": _l("Payment posted"),
    "membership.added": _l("Colleague added"),
    "membership.blocked": _l("Colleague blocked"),
    "membership.invitation_accepted": _l("Invitation accepted"),
    "membership.invitation_declined": _l("Invitation declined"),
    "membership.invited": _l("Colleague invited"),
    "membership.powers_changed": _l("Powers changed"),
    "membership.unblocked": _l("Colleague unblocked"),
    "metering.contract_created": _l("Gas contract created"),
    "metering.contract_updated": _l("Gas contract changed"),
    "metering.meter_created": _l("Meter added"),
    "metering.meter_deactivated": _l("Meter taken out of use"),
    "metering.meter_updated": _l("Meter changed"),
    "metering.reading_corrected": _l("Reading corrected"),
    "metering.reading_reviewed": _l("Reading reviewed"),
    "metering.tariff_added": _l("Tariff added"),
    "offer.accepted": _l("Offer accepted"),
    "offer.published": _l("Offer version published"),
    "orders.note": _l("Note on an order"),
    "orders.shipped_quantities": _l("Shipped quantities entered"),
    "orders.status_changed": _l("Order status changed"),
    "organisation.address_added": _l("Delivery address added"),
    "organisation.address_changed": _l("Delivery address changed"),
    "organisation.address_removed": _l("Delivery address removed"),
    "organisation.created": _l("Organisation created"),
    "organisation.manager_assigned": _l("Curator assigned"),
    "organisation.supply_contract_changed": _l("Supply contract changed"),
    "organisation.terms_changed": _l("Commercial terms changed"),
    "privacy.erased": _l("Personal data erased"),
    "privacy.exported": _l("Personal data downloaded"),
    "privacy.request_closed": _l("Personal data request closed"),
    "privacy.request_opened": _l("Personal data request opened"),
    "privacy.retention_applied": _l("Retention periods applied"),
    "privacy.staff_export": _l("Staff export"),
    "promotion.changed": _l("Promotion changed"),
    "promotion.created": _l("Promotion created"),
    "promotion.ended": _l("Promotion ended"),
    "staff.activated": _l("Staff account activated"),
    "staff.created": _l("Staff account created"),
    "staff.deactivated": _l("Staff account deactivated"),
    "tickets.assigned": _l("Request assigned"),
    "tickets.attachment_downloaded_by_staff": _l("Request attachment downloaded by staff"),
    "tickets.status_changed": _l("Request status changed"),
}

FIELD_LABELS = {
    "price_list": _l("Price type"),
    "discount": _l("Discount"),
    "credit_limit": _l("Credit limit"),
    "contract_number": _l("Supply contract number"),
    "contract_date": _l("Supply contract date"),
    "number": _l("Number"),
    "date": _l("Date"),
    "deferral_days": _l("Payment deferral, days"),
    "address": _l("Delivery address"),
    "manager": _l("Curator"),
    "manager_id": _l("Curator"),
    "title": _l("Title"),
    "applies_to": _l("Applies to"),
    "offer": _l("Offer"),
    "period": _l("Period"),
    "vat_category": _l("VAT category"),
    "min_quantity": _l("Minimum order, packs"),
    "order_multiple": _l("Order multiple, packs"),
    "is_rx": _l("Prescription only (Rx)"),
    "is_vital": _l("Vital and essential (ЖНВЛП)"),
    "is_cold_chain": _l("Cold chain 2–8 °C"),
    "description": _l("Description"),
    "powers": _l("Powers"),
    "role": _l("Role"),
    "email": _l("E-mail"),
    "login": _l("Login"),
    "inn": _l("INN"),
    "kind": _l("Kind"),
    "reason": _l("Reason"),
    "comment": _l("Comment"),
    "note": _l("Note"),
    "old": _l("Before"),
    "new": _l("After"),
    "from_status": _l("Before"),
    "to_status": _l("After"),
    "changes": _l("Changes"),
    "user": _l("User"),
    "version": _l("Version"),
    "purpose": _l("Purpose"),
    "endpoint": _l("Page"),
    "method": _l("Request"),
    "new_account": _l("New account"),
    "delivered": _l("E-mail sent"),
    "by_setting_password": _l("By setting the password"),
    "old_value": _l("Before"),
    "new_value": _l("After"),
    "by_staff": _l("By staff"),
    "serial_number": _l("Meter serial number"),
    "start_date": _l("From"),
    "end_date": _l("Until"),
    "valid_from": _l("Valid from"),
    "price_per_thousand": _l("Price per 1,000 m³"),
    "file": _l("File"),
    "to_all": _l("To every organisation"),
    "decision": _l("Decision"),
    "due_on": _l("Due on"),
    "overdue": _l("Overdue"),
    "rows": _l("Rows"),
    "what": _l("What"),
    "filters": _l("Filters"),
    "via": _l("Through"),
    "application": _l("Application"),
    "invitation": _l("Invitation"),
    "link": _l("Link"),
    "meter": _l("Meter"),
    "initial_value": _l("Initial reading"),
    "initial_date": _l("Initial reading date"),
    "attachment_id": _l("Attachment"),
    "digest": _l("Text digest"),
    "acceptance_id": _l("Acceptance"),
}

TYPE_LABELS = {
    "User": _l("User"),
    "LocalProxy": _l("User"),  # entries written before the proxy was unwrapped
    "Organisation": _l("Organisation"),
    "Membership": _l("Membership"),
    "Item": _l("Item"),
    "Promotion": _l("Promotion"),
    "Order": _l("Order"),
    "Application": _l("Application"),
    "OfferVersion": _l("Offer version"),
    "Ticket": _l("Request"),
    "Document": _l("Document"),
}

# The attribute that names a row of each kind, first found wins.
NAME_ATTRIBUTES = ("full_name", "legal_name", "number", "title", "name", "login", "sku")


def _power_label(code):
    from portal.organisations.models import Power

    try:
        return str(Power(code).label)
    except ValueError:
        return str(code)


def _role_label(code):
    return {"manager": str(_l("Account manager")), "admin": str(_l("Administrator"))}.get(
        code, str(code)
    )


def _order_status_label(code):
    from portal.orders.models import OrderStatus

    try:
        return str(OrderStatus(code).label)
    except (ValueError, KeyError):
        return str(code)


def _kind_label(code):
    from portal.organisations.models import OrganisationKind

    try:
        return str(OrganisationKind(code).label)
    except (ValueError, KeyError):
        return str(code)


def _vat_label(code):
    from portal.billing.models import VatCategory

    try:
        return str(VatCategory(code).label)
    except ValueError:
        return str(code)


def _user_name(user_id):
    from portal.accounts.models import User

    if user_id in (None, "", 0):
        return "—"
    user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
    return user.full_name if user else str(_l("user no longer exists"))


VALUE_RENDERERS = {
    "powers": _power_label,
    "role": _role_label,
    "kind": _kind_label,
    "vat_category": _vat_label,
}


def words(value, key=None) -> str:
    """One stored value as text: labels for codes, lists joined, yes/no, «—» for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("yes")) if value else str(_l("no"))
    if key in ("manager_id", "user_id"):
        return _user_name(value)
    if key in ("old", "new", "from_status", "to_status") and isinstance(value, str):
        return _order_status_label(value)
    if isinstance(value, list | tuple):
        return ", ".join(words(v, key) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{_field_label(k)}: {words(v, k)}" for k, v in value.items())
    renderer = VALUE_RENDERERS.get(key)
    if renderer is not None:
        return renderer(value)
    return str(value)


def _field_label(key) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else str(key).replace("_", " ")


@dataclass
class Described:
    event: object
    action: str
    target: str
    lines: list[str] = field(default_factory=list)


def _target_names(events) -> dict[tuple[str, str], str]:
    """(type, id) -> name for the page's events, one query per kind of object."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_type and event.target_id and event.target_id.isdigit():
            kind = "User" if event.target_type == "LocalProxy" else event.target_type
            wanted.setdefault(kind, set()).add(int(event.target_id))
    classes = {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers}
    names = {}
    for kind, ids in wanted.items():
        model = classes.get(kind)
        if model is None:
            continue
        for row in db.session.scalars(select(model).where(model.id.in_(ids))):
            if kind == "Item":
                name = f"{row.sku} {row.full_name}"
            elif kind == "Membership":
                name = f"{row.user.full_name}, {row.organisation.legal_name}"
            else:
                name = next(
                    (str(getattr(row, a)) for a in NAME_ATTRIBUTES if getattr(row, a, None)),
                    None,
                )
            if name:
                names[(kind, str(row.id))] = name
    return names


def _change_lines(details) -> list[str]:
    lines = []
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        for key in list(dict.fromkeys([*before, *after])):
            if key in before and key in after:
                lines.append(
                    f"{_field_label(key)}: {words(before[key], key)} → {words(after[key], key)}"
                )
            elif key in after:
                lines.append(f"{_field_label(key)}: {words(after[key], key)}")
            else:
                removed = _lp("audit value", "removed")
                lines.append(f"{_field_label(key)}: {words(before[key], key)} ({removed})")
    changes = details.get("changes")
    if isinstance(changes, dict):  # {'A00007': [None, 2]}: a quantity per code, old and new
        for code, pair in changes.items():
            if isinstance(pair, list | tuple) and len(pair) == 2:
                lines.append(f"{code}: {words(pair[0])} → {words(pair[1])}")
            else:
                lines.append(f"{code}: {words(pair)}")
    for key, value in details.items():
        if key in ("before", "after", "changes"):
            continue
        lines.append(f"{_field_label(key)}: {words(value, key)}")
    return lines


def describe(events) -> list[Described]:
    names = _target_names(events)
    described = []
    for event in events:
        kind = "User" if event.target_type == "LocalProxy" else event.target_type
        target = ""
        if kind:
            label = str(TYPE_LABELS.get(kind, kind))
            name = names.get((kind, event.target_id or ""))
            target = f"{label} «{name}»" if name else f"{label} № {event.target_id or '—'}"
        action = ACTION_LABELS.get(event.action)
        described.append(
            Described(
                event=event,
                action=str(action) if action is not None else event.action,
                target=target,
                lines=_change_lines(event.details or {}),
            )
        )
    return described
