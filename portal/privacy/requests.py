"""Requests about a person's data (152-ФЗ art. 14, 20, 21): erasure, access, a withdrawn consent.

A request is answered within ten working days of its receipt (art. 20 p. 1, art. 21 p. 3);
working days follow the Russian production calendar (portal.calendar_ru: public holidays,
days off moved by government decree and the Saturdays made working days). Staff who may close
a request are the administrators and the managers of one of the person's organisations (the
curator rule of the back office); every opening and closing is in the audit log.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import Date, ForeignKey, Index, String, Text, exists, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import audit, clock
from portal.calendar_ru import add_working_days, working_days_between
from portal.database import Timestamped, UTCDateTime, utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import Membership, Organisation

# The legal term of an answer, in working days.
ANSWER_TERM_WORKING_DAYS = 10


class RequestKind(enum.StrEnum):
    ERASURE = "erasure"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    ACCESS = "access"
    OTHER = "other"

    @property
    def label(self):
        return {
            RequestKind.ERASURE: _l("Erasure of personal data"),
            RequestKind.CONSENT_WITHDRAWN: _l("Consent withdrawn"),
            RequestKind.ACCESS: _l("Access to personal data"),
            RequestKind.OTHER: _lp("privacy request", "Other"),
        }[self]


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"

    @property
    def label(self):
        return {
            RequestStatus.OPEN: _lp("privacy request", "Open"),
            RequestStatus.DONE: _lp("privacy request", "Done"),
            RequestStatus.REFUSED: _lp("privacy request", "Refused"),
        }[self]


class PrivacyRequest(Timestamped, db.Model):
    """A person's request about their data and the staff decision on it."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The person's organisation when the request came (the curator rule applies to it).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    organisation = relationship("Organisation")

    @property
    def reference(self) -> str:
        return f"PD-{self.id:05d}"

    @property
    def kind_label(self):
        return RequestKind(self.kind).label

    @property
    def status_label(self):
        return RequestStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    def is_overdue(self, today: date | None = None) -> bool:
        return self.is_open and self.due_on < (today or clock.local_today())

    def working_days_left(self, today: date | None = None) -> int:
        """Working days from today to the due date (negative once overdue)."""
        today = today or clock.local_today()
        if self.due_on >= today:
            return working_days_between(today, self.due_on)
        return -working_days_between(self.due_on, today)


# --- opening and closing ---------------------------------------------------------------------


def _home_organisation(user) -> Organisation | None:
    memberships = sorted(user.memberships, key=lambda m: m.id)
    return memberships[0].organisation if memberships else None


def open_requests_of(user, kind=None):
    query = select(PrivacyRequest).where(
        PrivacyRequest.user_id == user.id, PrivacyRequest.status == RequestStatus.OPEN
    )
    if kind is not None:
        query = query.where(PrivacyRequest.kind == RequestKind(kind))
    return db.session.scalars(query.order_by(PrivacyRequest.id)).all()


def requests_of(user):
    return db.session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.user_id == user.id)
        .order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc())
    ).all()


def open_request(user, kind, note=None, *, received_on: date | None = None) -> PrivacyRequest:
    """Record a person's request (the open one of the same kind if there is one) and tell staff.

    Its due date is ten working days after the day of receipt (Europe/Moscow).
    """
    kind = RequestKind(kind)
    note = (note or "").strip() or None
    existing = open_requests_of(user, kind)
    if existing:
        return existing[0]
    received_on = received_on or clock.local_today()
    request = PrivacyRequest(
        user_id=user.id,
        organisation_id=getattr(_home_organisation(user), "id", None),
        kind=kind,
        status=RequestStatus.OPEN,
        note=note,
        received_on=received_on,
        due_on=add_working_days(received_on, ANSWER_TERM_WORKING_DAYS),
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        "privacy.request_opened",
        actor=user,
        target=request,
        organisation=request.organisation_id,
        kind=kind.value,
        due_on=request.due_on.isoformat(),
    )
    _notify_staff(request)
    return request


def _notify_staff(request: PrivacyRequest) -> None:
    from flask import url_for

    from portal.accounts.models import StaffRole, User
    from portal.notifications.services import notify

    deciders = db.session.scalars(
        select(User).where(User.is_active_flag.is_(True), User.staff_role.isnot(None))
    ).all()
    try:
        link = url_for("privacy_rights.staff_request", request_id=request.id)
    except RuntimeError:  # outside a request (a command): the list is enough
        link = None
    organisations = {m.organisation for m in request.user.memberships}
    curators = {o.manager_id for o in organisations if o.manager_id is not None}
    uncurated = any(o.manager_id is None for o in organisations)
    for staff in deciders:
        if staff.staff_role == StaffRole.ADMIN or staff.id in curators or uncurated:
            notify(
                staff,
                _l(
                    "Personal data request %(reference)s: %(kind)s, answer due %(due)s",
                    reference=request.reference,
                    kind=request.kind_label,
                    due=request.due_on.strftime("%d.%m.%Y"),
                ),
                link=link,
                organisation=request.organisation_id,
            )


def can_decide(staff, request: PrivacyRequest) -> bool:
    """Admins, and managers who may change one of the person's organisations."""
    from portal.security import can_manage_organisation

    if not staff.is_authenticated or not staff.is_staff:
        return False
    if staff.is_admin:
        return True
    organisations = [m.organisation for m in request.user.memberships]
    if request.organisation is not None:
        organisations.append(request.organisation)
    return any(can_manage_organisation(staff, o) for o in organisations)


def delegate_decision(request: PrivacyRequest, staff) -> bool:
    """The curator rule's delegate: a manager of any of the person's organisations may decide."""
    return can_decide(staff, request)


def visible_requests(staff, status=None):
    """The back office list: every request for admins; for a manager, the requests of people in
    the organisations the manager curates (or that no manager curates yet)."""
    query = select(PrivacyRequest)
    if not staff.is_admin:
        curated = select(Organisation.id).where(
            or_(Organisation.manager_id == staff.id, Organisation.manager_id.is_(None))
        )
        member_of_curated = exists().where(
            Membership.user_id == PrivacyRequest.user_id,
            Membership.organisation_id.in_(curated),
        )
        query = query.where(or_(PrivacyRequest.organisation_id.in_(curated), member_of_curated))
    if status == "open":
        query = query.where(PrivacyRequest.status == RequestStatus.OPEN)
    elif status == "closed":
        query = query.where(PrivacyRequest.status != RequestStatus.OPEN)
    return query.order_by(
        (PrivacyRequest.status != RequestStatus.OPEN), PrivacyRequest.due_on, PrivacyRequest.id
    )


def close_request(request: PrivacyRequest, decision, reason, staff) -> PrivacyRequest:
    """Close a request with a decision: done, or refused with a reason. Done on an erasure
    request erases the person (refused as a whole, nothing changed, when the rules forbid it)."""
    from portal.privacy import erasure

    decision = RequestStatus(decision)
    reason = (reason or "").strip() or None
    if not request.is_open:
        raise UserError(_l("This request is already closed."))
    if decision == RequestStatus.OPEN:
        raise UserError(_l("Choose a decision."), field="decision")
    if decision == RequestStatus.REFUSED and not reason:
        raise UserError(_l("Give the reason for the refusal."), field="reason")
    if decision == RequestStatus.DONE and request.kind == RequestKind.ERASURE:
        try:
            erasure.erase_user(request.user, by=staff)
        except UserError as refusal:
            raise UserError(refusal.message) from refusal
    request.status = decision
    request.decision_reason = reason
    request.decided_at = utcnow()
    request.decided_by_id = getattr(staff, "id", None)
    audit.record(
        "privacy.request_closed",
        actor=staff,
        target=request,
        organisation=request.organisation_id,
        kind=request.kind,
        decision=decision.value,
        reason=reason,
        overdue=request.due_on < clock.local_today(),
    )
    return request
