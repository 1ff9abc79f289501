"""Builders for organisations, users and sessions, shared by every test module."""

import itertools

import pytest
from stdnum.ru import inn as inn_number

from portal.accounts.models import OfferAcceptance, OfferVersion, StaffRole, User
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, DeliveryAddress, Membership, Organisation
from portal.privacy.consents import current_version
from portal.privacy.models import ConsentAcceptance, ConsentPurpose

PASSWORD = "Correct-horse-42"
_counter = itertools.count(1)


def valid_inn(n: int) -> str:
    """A 10-digit INN with a correct check digit, unique per n."""
    body = f"77{n:07d}"
    return body + inn_number.calc_company_check_digit(body)


def make_organisation(kind="pharmacy", inn=None, name=None, **fields):
    n = next(_counter)
    organisation = Organisation(
        legal_name=name or f'ООО "Тест {n}"',
        inn=inn or valid_inn(n),
        kind=kind,
        region="Москва",
        **fields,
    )
    organisation.addresses.append(
        DeliveryAddress(address=f"Москва, ул. Тестовая, {n}", region="Москва", is_default=True)
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_user(
    organisation=None,
    powers=ALL_POWERS,
    *,
    login=None,
    staff_role=None,
    password=PASSWORD,
    accept_offer=True,
    accept_consents=True,
    email=None,
):
    n = next(_counter)
    login = login or f"user{n}"
    user = User(
        login=login,
        email=email or f"{login}@example.org",
        full_name=f"Пользователь {n}",
        staff_role=staff_role,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if organisation is not None:
        membership = Membership(user=user, organisation=organisation)
        membership.powers = powers
        db.session.add(membership)
    if accept_offer:
        for offer in db.session.scalars(db.select(OfferVersion)):
            db.session.add(OfferAcceptance(user_id=user.id, offer_version_id=offer.id))
    if accept_consents and not staff_role:
        # As if accepted at the first sign-in: the current consent for using the portal.
        version = current_version(ConsentPurpose.PORTAL)
        if version is not None:
            db.session.add(
                ConsentAcceptance(
                    user_id=user.id,
                    purpose=version.purpose,
                    version_id=version.id,
                    digest=version.digest,
                )
            )
    db.session.commit()
    return user


def login(client, user_or_login, password=PASSWORD):
    name = user_or_login if isinstance(user_or_login, str) else user_or_login.login
    response = client.post("/login", data={"login": name, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def pharmacy():
    organisation = make_organisation("pharmacy", name='ООО "Аптека Тест"')
    db.session.commit()
    return organisation


@pytest.fixture
def gas_org():
    organisation = make_organisation("gas", name='АО "Газ Тест"')
    db.session.commit()
    return organisation


@pytest.fixture
def other_pharmacy():
    organisation = make_organisation("pharmacy", name='ООО "Чужая аптека"')
    db.session.commit()
    return organisation


@pytest.fixture
def buyer(pharmacy):
    return make_user(pharmacy, login="buyer")


@pytest.fixture
def manager():
    return make_user(login="manager", staff_role=StaffRole.MANAGER)


@pytest.fixture
def admin():
    return make_user(login="admin", staff_role=StaffRole.ADMIN)


@pytest.fixture
def login_as(client):
    def do(user, password=PASSWORD):
        login(client, user, password)
        return client

    return do


__all__ = [
    "PASSWORD",
    "valid_inn",
    "make_organisation",
    "make_user",
    "login",
    "pharmacy",
    "gas_org",
    "other_pharmacy",
    "buyer",
    "manager",
    "admin",
    "login_as",
]
