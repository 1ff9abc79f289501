"""The person's data as a workbook: one sheet per section, Russian headings, dates in the
portal's time zone."""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.organisations.models import OrganisationKind, Power
from portal.privacy.rights import personal_data
from portal.reports import xlsx

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: a domain that can never receive mail


FIELD_LABELS = {
    "id": _l("Account number"),
    "login": _l("Login"),
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "language": _l("Language"),
    "staff_role": _l("Staff role"),
    "active": _l("Account active"),
    "two_factor_enabled": _l("Two-factor sign-in"),
    "created_at": _l("Created"),
    "last_login_at": _l("Last sign-in"),
    "order_status": _l("E-mail on order status changes"),
    "request_answers": _l("E-mail on answers to requests"),
    "reading_reminders": _l("Meter reading reminders"),
    "news_and_promotions": _l("News and promotions by e-mail"),
}
# Security events and the person's own actions are both audit entries.
_EVENT_COLUMNS = [
    ("at", _l("When")),
    ("action", _l("Action")),
    ("object", _l("Object")),
    ("organisation", _l("Organisation")),
    ("ip", _l("IP address")),
    ("details", _l("Details")),
]
SHEETS = [
    (
        "memberships",
        _l("Organisations"),
        [
            ("organisation", _l("Organisation")),
            ("inn", _l("INN")),
            ("kind", _l("Kind of activity")),
            ("powers", _l("Powers")),
            ("blocked", _l("Blocked")),
            ("since", _l("Member since")),
        ],
    ),
    (
        "consents",
        _l("Consents"),
        [
            ("kind", _l("Consent")),
            ("version", _l("Version")),
            ("accepted_at", _l("Given")),
            ("withdrawn_at", _l("Withdrawn")),
            ("text_sha256", _l("Text digest (SHA-256)")),
            ("ip", _l("IP address")),
            ("user_agent", _l("Browser")),
        ],
    ),
    (
        "offer_acceptances",
        _l("Offer agreement"),
        [
            ("version", _l("Version")),
            ("title", _l("Title")),
            ("accepted_at", _l("Accepted at")),
            ("ip", _l("IP address")),
        ],
    ),
    (
        "sign_in_history",
        _l("Sign-in history"),
        [
            ("at", _l("When")),
            ("succeeded", _l("Succeeded")),
            ("ip", _l("IP address")),
            ("typed_login", _l("Login typed")),
        ],
    ),
    (
        "security_events",
        _l("Security events"),
        _EVENT_COLUMNS,
    ),
    (
        "uploads",
        _l("Uploaded files"),
        [
            ("source", _l("Where")),
            ("name", _l("File")),
            ("content_type", _l("Type")),
            ("size", _l("Size, bytes")),
            ("sha256", _l("SHA-256")),
            ("uploaded_at", _l("Uploaded")),
            ("organisation", _l("Organisation")),
        ],
    ),
    (
        "audit_entries",
        _l("Your actions"),
        _EVENT_COLUMNS,
    ),
    (
        "applications",
        _l("Applications"),
        [
            ("reference", _l("No.")),
            ("submitted_at", _l("Application date")),
            ("organisation", _l("Organisation")),
            ("representative", _l("Representative")),
            ("email", _l("E-mail")),
            ("phone", _l("Phone")),
            ("region", _l("Region")),
            ("inn", _l("INN")),
            ("status", _l("Status")),
            ("ip", _l("IP address")),
        ],
    ),
    (
        "privacy_requests",
        _l("Personal data requests"),
        [
            ("reference", _l("No.")),
            ("kind", _l("Request type")),
            ("status", _l("Status")),
            ("received_on", _l("Received on")),
            ("due_on", _l("Answer due")),
            ("decided_at", _l("Decided")),
            ("decision_reason", _l("Reason")),
        ],
    ),
    (
        "notifications",
        _l("Notifications"),
        [
            ("at", _l("When")),
            ("title", _l("Title")),
            ("read_at", _l("Read")),
        ],
    ),
]
DATETIME_FORMAT = "DD.MM.YYYY HH:MM:SS"


UPLOAD_SOURCES = {
    "document": _l("Document scan"),
    "request": _l("Request attachment"),
    "meter_photo": _l("Meter photo"),
}


def _label(section, key, value):
    """The words for a stored code in the person's language, or None when it is not a code."""
    from portal.onboarding.models import ApplicationStatus
    from portal.privacy.requests import RequestKind, RequestStatus

    if key == "powers":
        return "; ".join(str(Power(p).label) for p in value)
    if section == "privacy_requests" and key == "kind" and value in set(RequestKind):
        return str(RequestKind(value).label)
    if section == "privacy_requests" and key == "status" and value in set(RequestStatus):
        return str(RequestStatus(value).label)
    if section == "applications" and key == "status" and value in set(ApplicationStatus):
        return str(ApplicationStatus(value).label)
    if key == "kind" and value in set(OrganisationKind):
        return str(OrganisationKind(value).label)
    if key == "source" and value in UPLOAD_SOURCES:
        return str(UPLOAD_SOURCES[value])
    return None


def _cell_value(key, value, zone, section=""):
    """A value as a spreadsheet shows it: local time, yes/no, labels, lists joined."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    label = _label(section, key, value) if isinstance(value, str | list) else None
    if label is not None:
        return label
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return value


def _write_cell(sheet, value):
    if isinstance(value, datetime):
        return xlsx.cell(sheet, value, number_format=DATETIME_FORMAT)
    if isinstance(value, date):
        return xlsx.cell(sheet, value, number_format=xlsx.DATE_FORMAT)
    return value


def export_xlsx(user) -> bytes:
    from openpyxl import Workbook

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    data = personal_data(user)
    workbook = Workbook(write_only=True)

    sheet = xlsx.TextSafeSheet(workbook.create_sheet(_("Profile")))
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 50
    sheet.append([xlsx.cell(sheet, _("What the portal holds about you"), bold=True)])
    sheet.append([_("Operator"), data["operator"]])
    sheet.append([_("Prepared"), _write_cell(sheet, _cell_value("", data["generated_at"], zone))])
    sheet.append([])
    for section in ("profile", "notification_settings"):
        for key, value in data[section].items():
            label = str(FIELD_LABELS[key])
            sheet.append([label, _write_cell(sheet, _cell_value(key, value, zone))])

    for key, title, columns in SHEETS:
        sheet = xlsx.TextSafeSheet(workbook.create_sheet(str(title)[:31]))
        for index in range(len(columns)):
            sheet.column_dimensions[chr(ord("A") + index)].width = 22
        sheet.append([xlsx.cell(sheet, str(label), bold=True) for _key, label in columns])
        for row in data[key]:
            sheet.append(
                [
                    _write_cell(sheet, _cell_value(name, row.get(name), zone, key))
                    for name, _ in columns
                ]
            )
    return xlsx.to_bytes(workbook)
