"""portal/caching.py: two app instances (two workers) sharing one Redis see each other's
invalidations at once; nothing per user is kept but the signed-in user's snapshot (no secrets,
no contact details: portal/accounts/session_cache.py)."""

import os
import secrets

import pytest
import redis

from portal import caching, create_app
from portal.accounts import session_cache
from portal.backoffice import commercial
from portal.catalog.search import SearchFilters, find
from portal.extensions import cache, db
from portal.inventory.warehouses import serving_warehouse_ref
from portal.organisations.models import Organisation
from tests.catalog.builders import make_item, warehouse
from tests.conftest import CSRF_RE, PortalClient
from tests.factories import login

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def workers(app, monkeypatch):
    """Two more app instances on the test database, one Redis cache with its own prefix."""
    if not _redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_URL)
    prefix = f"portal-test-{secrets.token_hex(6)}:"
    settings = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "REPORT_DIR": app.config["REPORT_DIR"],
        "MAIL_OUTBOX": app.config["MAIL_OUTBOX"],
        "CACHE_KEY_PREFIX": prefix,
        "CATALOG_CACHE_SECONDS": 60,
        "USER_CACHE_SECONDS": 60,  # the kept user turned on (off by default)
    }
    pair = (create_app(dict(settings)), create_app(dict(settings)))
    for instance in pair:
        instance.test_client_class = PortalClient
    yield pair
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    for instance in pair:
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


def _ref(instance, organisation_id):
    with instance.test_request_context():
        organisation = db.session.get(Organisation, organisation_id)
        return serving_warehouse_ref(organisation)


def test_a_new_delivery_region_is_seen_by_the_other_worker_at_once(workers, pharmacy):
    first, second = workers
    make_item("Нурофен")  # the Moscow warehouse (central)
    kazan = warehouse("Казань", code="KZN", central=False)
    db.session.commit()
    assert _ref(first, pharmacy.id).name == "Склад Москва"
    assert _ref(second, pharmacy.id).name == "Склад Москва"  # kept by both now
    with first.test_request_context():
        organisation = db.session.get(Organisation, pharmacy.id)
        row = organisation.addresses[0]
        commercial.edit_address(
            organisation, row, address=row.address, region="Казань", is_default=True
        )
        db.session.commit()
    assert _ref(second, pharmacy.id).name == kazan.name
    assert _ref(first, pharmacy.id).name == kazan.name


def test_a_catalogue_change_forgotten_by_one_worker_is_forgotten_by_the_other(workers):
    first, second = workers
    make_item("Лоратадин", sku="L1")
    db.session.commit()
    filters = SearchFilters(text="лоратадин")
    with second.test_request_context():
        assert find(filters, 1).total == 1
    make_item("Лоратадин Экспресс", sku="L2")
    db.session.commit()
    with second.test_request_context():
        assert find(filters, 1).total == 1  # the kept answer, as long as nobody forgets it
    with first.test_request_context():
        caching.forget_catalogue()
    with second.test_request_context():
        assert find(filters, 1).total == 2


def test_nothing_kept_holds_a_user_a_session_or_a_price(workers, buyer, pharmacy):
    """After a buyer's catalogue pages, every cached entry is one of the listed facts and none
    holds their login, form token, page or price."""
    first, _second = workers
    make_item("Нурофен", price="123.45")
    db.session.commit()
    client = first.test_client()
    login(client, buyer)
    for path in ("/catalog/", "/catalog/favourites", "/catalog/?q=нурофен"):
        page = client.get(path)
        assert page.status_code == 200, path
    assert "Нурофен" in page.get_data(as_text=True)
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    prefix = first.config["CACHE_KEY_PREFIX"]
    keys = [k.decode()[len(prefix) :] for k in redis.Redis.from_url(REDIS_URL).keys(f"{prefix}*")]
    names = {fact.name for fact in caching.FACTS} | session_cache.KEY_PREFIXES
    assert {key.split(":")[0] for key in keys} >= {"catalogue-search", "serving-warehouse"}
    assert all(key.split(":")[0] in names for key in keys), keys
    with first.app_context():
        kept = repr([(key, cache.get(key)) for key in keys])
    assert "catalogue-search" in kept and "Склад Москва" in kept  # what a worker may share
    assert "user-snapshot" in kept  # the signed-in user's, without secrets or contacts:
    secrets_ = (buyer.password_hash, buyer.session_token, buyer.phone or buyer.login)
    for personal in (buyer.login, buyer.email, token, "123.45", "123,45", "Нурофен", *secrets_):
        assert personal not in kept
