"""Organisations, their members and the powers each member holds."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit
from portal.accounts.models import User
from portal.accounts.services import AccountError, send_set_password_link
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, DeliveryAddress, Membership, Organisation


class OrganisationError(AccountError):
    pass


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
        raise OrganisationError(_l("An organisation with INN %(inn)s already exists.", inn=inn))
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
            raise OrganisationError(_l("This e-mail belongs to a supplier employee."))
        if any(m.organisation_id == organisation.id for m in user.memberships):
            raise OrganisationError(_l("This person is already a member of the organisation."))
    else:
        if login and not login_is_free(login):
            raise OrganisationError(_l("The login %(login)s is taken.", login=login))
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
        raise OrganisationError(_l("You cannot block yourself."))
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
        raise OrganisationError(
            _l("At least one active member must keep the power to manage users.")
        )


def members(organisation_id):
    return db.session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(Membership.organisation_id == organisation_id)
        .order_by(User.full_name)
    ).all()


def admin_powers():
    return set(ALL_POWERS)
