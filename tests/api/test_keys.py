"""API keys: created by an organisation administrator, shown once, stored hashed, revoked."""

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.api import keys
from portal.api.models import ApiKey
from portal.audit import AuditEvent
from portal.errors import UserError
from portal.extensions import db
from portal.organisations.models import ALL_POWERS, Membership, Power
from tests.api.conftest import assert_problem, bearer, issue_key
from tests.factories import login, make_organisation, make_user

TOKEN_RE = re.compile(r'data-testid="api-key-token" value="(sp_[0-9a-f]+\.[A-Za-z0-9_-]+)"')


def _admin(powers=ALL_POWERS):
    organisation = make_organisation()
    return organisation, make_user(organisation, powers)


def _create(client, **fields):
    data = {"name": "1С:Аптека", "powers": ["view_prices"], **fields}
    return client.post("/organisation/api-keys", data=data)


def test_an_administrator_creates_a_key_sees_it_once_and_only_its_hash_is_kept(app, api_client):
    organisation, admin = _admin()
    client = app.test_client()
    login(client, admin)
    page = _create(client, networks="203.0.113.0/24\n127.0.0.1")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)

    key = db.session.scalar(select(ApiKey))
    prefix, secret = keys.split_token(token)
    assert key.prefix == prefix and key.organisation_id == organisation.id
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(key.__dict__)
    assert key.networks == ["203.0.113.0/24", "127.0.0.1/32"]

    listing = client.get("/organisation/api-keys").get_data(as_text=True)
    assert "1С:Аптека" in listing and f"sp_{prefix}" in listing and secret not in listing
    assert "никогда" in listing  # never used yet

    assert api_client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at is not None
    assert "127.0.0.1" in client.get("/organisation/api-keys").get_data(as_text=True)

    revoked = client.post(f"/organisation/api-keys/{key.id}/revoke")
    assert revoked.status_code == 302
    body = assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)
    assert body["type"].endswith("#problem-key-revoked")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["api_key.created", "api_key.revoked", "api_key.refused"]
    assert "отозван" in client.get("/organisation/api-keys").get_data(as_text=True)


def test_only_the_user_administrator_reaches_the_key_page(app):
    organisation = make_organisation()
    clerk = make_user(organisation, ALL_POWERS - {Power.MANAGE_USERS})
    client = app.test_client()
    login(client, clerk)
    assert client.get("/organisation/api-keys").status_code == 403
    assert _create(client).status_code == 403
    assert db.session.scalar(select(func.count(ApiKey.id))) == 0


def test_a_key_cannot_have_a_power_its_creator_lacks(app):
    organisation, admin = _admin({Power.MANAGE_USERS, Power.VIEW_PRICES})
    client = app.test_client()
    login(client, admin)
    page = _create(client, powers=["view_prices", "order"])
    assert page.status_code == 422
    assert db.session.scalar(select(func.count(ApiKey.id))) == 0
    membership = db.session.scalar(select(Membership).where(Membership.user_id == admin.id))
    with app.test_request_context(), pytest.raises(UserError) as refused:
        keys.create_key(membership, name="x", powers=[Power.ORDER])
    assert refused.value.field == "powers"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"networks": "10.0.0.1/24"}, "не диапазон IP"),
        ({"networks": "nonsense"}, "не диапазон IP"),
        ({"expires_on": (date.today() - timedelta(days=2)).isoformat()}, "уже прошла"),
        ({"name": ""}, "обязательн"),
        ({"powers": []}, "хотя бы одно"),
    ],
)
def test_bad_key_input_is_named_and_nothing_is_saved(app, fields, message):
    _organisation, admin = _admin()
    client = app.test_client()
    login(client, admin)
    page = _create(client, **fields)
    assert page.status_code == 422
    assert message in page.get_data(as_text=True).lower() or message in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ApiKey.id))) == 0


def test_the_key_forms_need_the_csrf_token(app):
    _organisation, admin = _admin()
    key, _token = issue_key(make_organisation())
    client = app.test_client()
    login(client, admin)
    page = client.post("/organisation/api-keys", data={"name": "x"}, csrf=False)
    assert page.status_code in (400, 422)
    assert db.session.scalar(select(func.count(ApiKey.id))) == 1


def test_another_organisations_key_cannot_be_revoked(app, api_client):
    key, token = issue_key()
    _organisation, stranger = _admin()
    client = app.test_client()
    login(client, stranger)
    assert client.post(f"/organisation/api-keys/{key.id}/revoke").status_code == 404
    assert api_client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_an_expired_key_is_refused(app, api_client):
    key, token = issue_key(expires_on=clock.local_today())  # the portal's (Moscow) day
    assert api_client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    key.expires_at = key.created_at - timedelta(seconds=1)
    db.session.commit()
    body = assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)
    assert body["type"].endswith("#problem-key-expired")
    assert api_client.get("/api/v1/me", headers=bearer(token)).headers["WWW-Authenticate"]


def test_a_key_works_only_from_its_networks(app, api_client):
    _key, token = issue_key(networks_text="203.0.113.0/24")
    outside = api_client.get("/api/v1/me", headers=bearer(token))
    body = assert_problem(outside, 403)
    assert body["type"].endswith("#problem-address-not-allowed")
    inside = api_client.get(
        "/api/v1/me", headers=bearer(token), environ_base={"REMOTE_ADDR": "203.0.113.77"}
    )
    assert inside.status_code == 200
    _key, ipv6 = issue_key(networks_text="2001:db8::/32")
    allowed = api_client.get(
        "/api/v1/me", headers=bearer(ipv6), environ_base={"REMOTE_ADDR": "2001:db8::5"}
    )
    assert allowed.status_code == 200


def test_a_blocked_organisation_or_creator_disables_the_keys(app, api_client):
    organisation = make_organisation()
    creator = make_user(organisation, ALL_POWERS)
    _key, token = issue_key(organisation, user=creator)
    assert api_client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    membership = db.session.scalar(select(Membership).where(Membership.user_id == creator.id))
    membership.is_blocked = True
    db.session.commit()
    body = assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)
    assert body["type"].endswith("#problem-key-blocked")

    membership.is_blocked = False
    creator.is_active_flag = False
    db.session.commit()
    assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)

    creator.is_active_flag = True
    organisation.is_active = False
    db.session.commit()
    assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)

    organisation.is_active = True
    db.session.commit()
    assert api_client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_a_key_loses_a_power_its_creator_loses(app, api_client):
    organisation = make_organisation()
    creator = make_user(organisation, ALL_POWERS)
    _key, token = issue_key(organisation, (Power.VIEW_PRICES, Power.ORDER), user=creator)
    me = api_client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["powers"] == ["order", "view_prices"]
    membership = db.session.scalar(select(Membership).where(Membership.user_id == creator.id))
    membership.powers = ALL_POWERS - {Power.VIEW_PRICES}
    db.session.commit()
    me = api_client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["powers"] == ["order"]
    body = assert_problem(api_client.get("/api/v1/catalog/items", headers=bearer(token)), 403)
    assert body["type"].endswith("#problem-missing-power")


def test_refused_uses_are_audited_at_most_once_a_minute_per_key(app, api_client):
    key, token = issue_key()
    keys.revoke_key(key, key.created_by)
    db.session.commit()
    for _ in range(5):
        assert_problem(api_client.get("/api/v1/me", headers=bearer(token)), 401)
    wrong = token[:-4] + "AAAA"
    assert_problem(api_client.get("/api/v1/me", headers=bearer(wrong)), 401)
    refused = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_key.refused")
    ).all()
    assert len(refused) == 1 and refused[0].details["reason"] == "revoked"
    assert refused[0].target_id == str(key.id)


def test_unknown_or_malformed_keys_get_401(api_client):
    for header in ("Bearer sp_0000000000.secret", "Bearer nonsense", "Basic dXNlcjpwYXNz", ""):
        response = api_client.get("/api/v1/me", headers={"Authorization": header})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
