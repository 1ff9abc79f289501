"""Organisations, their members and the powers each member holds."""

import re
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit
from portal.accounts.models import User, normalise_email
from portal.accounts.services import send_set_password_link
from portal.database import utcnow
from portal.errors import UserError
from portal.extensions import db
from portal.mail import send_mail
from portal.notifications.services import notify
from portal.organisations.models import (
    ALL_POWERS,
    DeliveryAddress,
    Invitation,
    Membership,
    Organisation,
)


def login_is_free(login: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.login) == login.lower())) is None


def email_owner(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def suggest_login(seed: str) -> str:
    """A free login derived from an e-mail or a name: ivanov, ivanov2, ..."""
    base = re.sub(r"[^a-z0-9._-]", "", seed.split("@")[0].lower())[:40] or "user"
    candidate, n = base, 1
    while not login_is_free(candidate):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def create_organisation(
    *,
    legal_name,
    inn,
    kind,
    created_by,
    kpp=None,
    ogrn=None,
    legal_address=None,
    delivery_address=None,
    region=None,
    phone=None,
    email=None,
    manager=None,
) -> Organisation:
    if db.session.scalar(select(Organisation.id).where(Organisation.inn == inn)):
        raise UserError(_l("An organisation with INN %(inn)s already exists.", inn=inn))
    organisation = Organisation(
        legal_name=legal_name,
        inn=inn,
        kind=kind,
        kpp=kpp or None,
        ogrn=ogrn or None,
        legal_address=legal_address,
        region=region,
        phone=phone,
        email=email,
        manager_id=manager.id if manager else None,
    )
    if delivery_address:
        organisation.addresses.append(
            DeliveryAddress(address=delivery_address, region=region, is_default=True)
        )
    db.session.add(organisation)
    db.session.flush()
    audit.record(
        "organisation.created",
        actor=created_by,
        target=organisation,
        organisation=organisation,
        inn=inn,
        kind=kind,
    )
    return organisation


def add_member(
    organisation, *, full_name, email, powers, added_by, login=None, phone=None, send_link=True
) -> Membership:
    """Add a person to an organisation. An existing account (same e-mail) gets a membership;
    a new one is created and e-mailed a link to set a password."""
    email = email.strip()
    user = email_owner(email)
    if user is not None:
        if user.is_staff:
            raise UserError(_l("This e-mail belongs to a supplier employee."))
        if any(m.organisation_id == organisation.id for m in user.memberships):
            raise UserError(_l("This person is already a member of the organisation."))
    else:
        if login and not login_is_free(login):
            raise UserError(_l("The login %(login)s is taken.", login=login))
        user = User(
            login=login or suggest_login(email), email=email, full_name=full_name, phone=phone
        )
        db.session.add(user)
    membership = Membership(user=user, organisation=organisation)
    membership.powers = powers
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "membership.added",
        actor=added_by,
        target=membership,
        organisation=organisation,
        user=user.login,
        powers=sorted(membership.powers),
    )
    if send_link and user.password_hash is None:
        send_set_password_link(user)
    return membership


# --- invitations: an organisation administrator adds a colleague ----------------------------


def invite_member(
    organisation, *, full_name, email, powers, invited_by, login=None, phone=None
) -> Invitation:
    """Invite a person by e-mail. Nobody is attached without their consent, and the inviting
    administrator learns nothing about the address (whose it is, whether it is staff):

    - no account has it: an account is created (the name, login and phone typed here) and
      e-mailed a set-password link; setting the password accepts the invitation;
    - a customer account has it: they get an e-mail and an in-portal notice, and the
      membership is created when they accept, signed in;
    - a supplier employee (or a blocked account) has it: nothing is sent and it can never
      be accepted. The administrator sees the same pending invitation in every case.
    """
    email = normalise_email(email)
    owner = email_owner(email)
    if owner is not None and any(m.organisation_id == organisation.id for m in owner.memberships):
        # Members are listed with their e-mail on the same page: this tells nothing new.
        raise UserError(_l("This person is already a member of the organisation."))
    if pending_invitation(organisation.id, email) is not None:
        raise UserError(_l("An invitation to this e-mail is already waiting."))
    invitation = Invitation(
        token=secrets.token_urlsafe(32),
        organisation=organisation,
        email=email,
        invited_by_id=invited_by.id if invited_by else None,
        expires_at=utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"]),
    )
    invitation.powers = powers
    delivered = True
    if owner is None:
        if login and not login_is_free(login):
            raise UserError(_l("The login %(login)s is taken.", login=login))
        owner = User(
            login=login or suggest_login(email), email=email, full_name=full_name, phone=phone
        )
        db.session.add(owner)
        invitation.user = owner
        invitation.created_account = True
    elif owner.is_staff or not owner.is_active:
        delivered = False  # never acceptable; the administrator is not told why
    else:
        invitation.user = owner
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "membership.invited",
        actor=invited_by,
        target=invitation,
        organisation=organisation,
        email=email,
        powers=sorted(invitation.powers),
        new_account=invitation.created_account,
        delivered=delivered,
    )
    if invitation.created_account:
        send_set_password_link(owner)
    elif delivered:
        _send_invitation(invitation, invited_by)
    return invitation


def _send_invitation(invitation: Invitation, invited_by) -> None:
    user, organisation = invitation.user, invitation.organisation
    link = url_for("organisations.show_invitation", token=invitation.token)
    notify(
        user,
        _l("%(organisation)s invites you to join it", organisation=organisation.legal_name),
        body=_l("Open the invitation to accept or decline it."),
        link=link,
    )
    send_mail(
        user.email,
        _l("An invitation to join %(organisation)s", organisation=organisation.legal_name),
        "membership_invitation",
        user.language,
        user=user,
        organisation=organisation,
        inviter=invited_by,
        invitation=invitation,
        link=link,
    )


def pending_invitation(organisation_id, email) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            Invitation.organisation_id == organisation_id,
            Invitation.email == normalise_email(email),
            Invitation.accepted_at.is_(None),
            Invitation.declined_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )


def pending_invitations(organisation_id):
    return db.session.scalars(
        select(Invitation)
        .where(
            Invitation.organisation_id == organisation_id,
            Invitation.accepted_at.is_(None),
            Invitation.declined_at.is_(None),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()


def invitation_for(token: str, user) -> Invitation | None:
    """The invitation behind a link, only for the account it invites (else None: a 404)."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None or invitation.user_id is None or invitation.user_id != user.id:
        return None
    return invitation


def _require_open(invitation: Invitation) -> None:
    if not invitation.is_pending:
        raise UserError(_l("This invitation has already been answered."))
    if invitation.expires_at <= utcnow():
        raise UserError(
            _l("This invitation has expired. Ask the organisation's administrator for a new one.")
        )


def accept_invitation(invitation: Invitation, user, *, by_setting_password=False) -> Membership:
    _require_open(invitation)
    if not invitation.organisation.is_active:
        raise UserError(_l("This organisation no longer uses the portal."))
    invitation.accepted_at = utcnow()
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id
        )
    )
    if membership is None:
        membership = Membership(user=user, organisation=invitation.organisation)
        membership.powers = invitation.powers
        db.session.add(membership)
        db.session.flush()
    audit.record(
        "membership.invitation_accepted",
        actor=user,
        target=membership,
        organisation=invitation.organisation_id,
        invitation=invitation.id,
        powers=sorted(membership.powers),
        by_setting_password=by_setting_password,
    )
    return membership


def decline_invitation(invitation: Invitation, user) -> None:
    _require_open(invitation)
    invitation.declined_at = utcnow()
    audit.record(
        "membership.invitation_declined",
        actor=user,
        target=invitation,
        organisation=invitation.organisation_id,
    )


def accept_invitations_of_new_account(user) -> None:
    """Setting the password through the link an invitation e-mailed is the new account's
    consent: its pending invitations become memberships."""
    invitations = db.session.scalars(
        select(Invitation).where(
            Invitation.user_id == user.id,
            Invitation.created_account.is_(True),
            Invitation.accepted_at.is_(None),
            Invitation.declined_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).all()
    for invitation in invitations:
        accept_invitation(invitation, user, by_setting_password=True)


def update_powers(membership: Membership, powers, changed_by) -> None:
    before = sorted(membership.powers)
    membership.powers = powers
    _keep_one_user_manager(membership)
    audit.record(
        "membership.powers_changed",
        actor=changed_by,
        target=membership,
        organisation=membership.organisation_id,
        before=before,
        after=sorted(membership.powers),
    )


def set_blocked(membership: Membership, blocked: bool, changed_by) -> None:
    if membership.user_id == changed_by.id and blocked:
        raise UserError(_l("You cannot block yourself."))
    membership.is_blocked = blocked
    _keep_one_user_manager(membership)
    audit.record(
        "membership.blocked" if blocked else "membership.unblocked",
        actor=changed_by,
        target=membership,
        organisation=membership.organisation_id,
    )


def _keep_one_user_manager(membership):
    from portal.organisations.models import Power

    db.session.flush()
    managers = db.session.scalars(
        select(Membership).where(Membership.organisation_id == membership.organisation_id)
    ).all()
    if not any(m.has(Power.MANAGE_USERS) for m in managers):
        raise UserError(_l("At least one active member must keep the power to manage users."))


def members(organisation_id):
    return db.session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(Membership.organisation_id == organisation_id)
        .order_by(User.full_name)
    ).all()


def admin_powers():
    return set(ALL_POWERS)
