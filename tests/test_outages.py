"""Redis or the database goes away under a running production-style server (gunicorn with
gunicorn.conf.py, PORTAL_ENV=production, Redis for limits, cache and queue).

Redis down: sign-in, the catalogue, the application form and forgotten password work as usual
(rate limits fall back to the process's memory, cache misses go to the database); a statement
request is refused with a clear message. Database down: every page answers the 503 page, for a
signed-in user as for an anonymous one, and nothing answers 500.
"""

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from portal.billing.models import StatementJob
from portal.extensions import db
from portal.onboarding.models import Application
from tests.catalog.builders import make_item
from tests.factories import PASSWORD, make_organisation, make_user
from tests.onboarding.test_apply import VALID
from tests.outage_server import TEST_REDIS_URL, reachable_redis, redis_url_via, start_server
from tests.tcp_proxy import CuttableProxy

UNAVAILABLE = "Сервис временно недоступен"
STATEMENTS_REFUSED = "Акты сверки сейчас не формируются"


@pytest.fixture(scope="module")
def redis_proxy():
    target = reachable_redis()
    proxy = CuttableProxy(target.hostname, target.port or 6379)
    yield proxy
    proxy.close()


@pytest.fixture
def redis_down(redis_proxy):
    """Cut Redis for one test; it is back for the next."""
    redis_proxy.cut()
    yield redis_proxy
    redis_proxy.restore()


@pytest.fixture(scope="module")
def server_redis_via_proxy(app, database_url, redis_proxy, tmp_path_factory):
    """The database directly, Redis through the proxy."""
    yield from start_server(
        tmp_path_factory.mktemp("outage-redis"),
        database_url,
        redis_url_via(redis_proxy.port),
    )


@pytest.fixture
def customer():
    organisation = make_organisation("pharmacy", name='ООО "Аптека Простой"')
    user = make_user(organisation, login="outage.buyer")
    make_item("Нурофен Экспресс", stock=12)
    db.session.commit()
    return user


def count(model):
    db.session.rollback()  # see what the server committed
    return db.session.scalar(select(func.count(model.id)))


# --- Redis down ---------------------------------------------------------------------------


def test_with_redis_up_the_cache_and_the_rate_limits_live_in_redis(
    server_redis_via_proxy, customer
):
    """The tolerant cache is still a cache: a search answer and the sign-in counter are
    written to Redis while it answers."""
    import redis

    browser = server_redis_via_proxy.browser()
    assert browser.sign_in("outage.buyer", PASSWORD).status == 302
    assert browser.get("/catalog/?" + urlencode({"q": "нурофен"})).status == 200
    prefix = server_redis_via_proxy.env["PORTAL_CACHE_KEY_PREFIX"]
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        keys = [key.decode() for key in client.scan_iter(match=f"*{prefix}*")]
    finally:
        client.close()
    assert any(key.startswith(prefix + "catalogue-search:") for key in keys), keys
    assert any(f"{prefix}limits/127.0.0.1/accounts.login/" in key for key in keys), keys


def test_sign_in_works_while_redis_is_down(server_redis_via_proxy, customer, redis_down):
    browser = server_redis_via_proxy.browser()
    signed_in = browser.sign_in("outage.buyer", PASSWORD)
    assert signed_in.status == 302, signed_in
    assert not signed_in.location.endswith("/login")
    home = browser.get("/")
    assert home.status == 200, home
    assert "Аптека Простой" in home.text


def test_catalogue_works_while_redis_is_down(server_redis_via_proxy, customer, redis_down):
    browser = server_redis_via_proxy.browser()
    assert browser.sign_in("outage.buyer", PASSWORD).status == 302
    for query in ("нурофен", "нурофен"):  # the second one would be a cache hit
        found = browser.get("/catalog/?" + urlencode({"q": query}))
        assert found.status == 200, found
        assert "Нурофен Экспресс" in found.text
    assert browser.get("/catalog/").status == 200


def test_application_form_works_while_redis_is_down(server_redis_via_proxy, redis_down):
    browser = server_redis_via_proxy.browser()
    form = browser.get("/apply")
    assert form.status == 200, form
    sent = browser.post("/apply", VALID)
    assert sent.status == 302, sent
    assert count(Application) == 1


def test_forgotten_password_works_while_redis_is_down(server_redis_via_proxy, customer, redis_down):
    browser = server_redis_via_proxy.browser()
    assert browser.get("/password/forgot").status == 200
    sent = browser.post("/password/forgot", {"identifier": "outage.buyer"})
    assert sent.status == 302 and sent.location.endswith("/login"), sent
    assert list((server_redis_via_proxy.workdir / "outbox").glob("*.eml"))


def test_rate_limits_still_hold_in_memory_while_redis_is_down(
    server_redis_via_proxy, customer, redis_down
):
    """Forgotten password allows 10 requests an hour per address; without Redis the
    process counts them itself (an earlier test may have used some of them)."""
    browser = server_redis_via_proxy.browser()
    browser.get("/password/forgot")
    answers = []
    while len(answers) < 11 and 429 not in answers:
        form = {"identifier": "nobody", "csrf_token": browser.last_csrf}
        answers.append(browser.request("POST", "/password/forgot", form).status)
    assert answers[-1] == 429, answers
    assert set(answers[:-1]) <= {302}


def test_statement_request_is_refused_clearly_while_redis_is_down(
    server_redis_via_proxy, customer, redis_down
):
    browser = server_redis_via_proxy.browser()
    assert browser.sign_in("outage.buyer", PASSWORD).status == 302
    browser.get("/statements/")
    period = {"period_start": "2026-01-01", "period_end": "2026-03-31", "contract_id": ""}
    refused = browser.post("/statements/", period, form_page="/statements/")
    assert refused.status == 503, refused
    assert STATEMENTS_REFUSED in refused.text
    assert count(StatementJob) == 0  # nothing left behind as "queued" or "failed"

    redis_down.restore()
    accepted = browser.post("/statements/", period, form_page="/statements/")
    assert accepted.status == 302, accepted
    assert count(StatementJob) == 1


def test_health_check_reports_redis_down_without_failing(server_redis_via_proxy, redis_down):
    """A load balancer must not take every web process out because the queue is down."""
    health = server_redis_via_proxy.browser().get("/healthz")
    assert health.status == 200, health
    assert '"queue":"unavailable"' in health.text.replace(" ", "")
    assert '"status":"degraded"' in health.text.replace(" ", "")


# --- the database down --------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_proxy(database_url):
    url = make_url(database_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def server_database_via_proxy(app, database_url, database_proxy, tmp_path_factory):
    """Redis directly, the database through the proxy."""
    reachable_redis()
    url = make_url(database_url).set(host="127.0.0.1", port=database_proxy.port)
    yield from start_server(
        tmp_path_factory.mktemp("outage-database"),
        url.render_as_string(hide_password=False),
        redis_url_via(reachable_redis().port or 6379),
    )


def _pages(app):
    """A URL for every GET route (ids filled in with 1)."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static"):
                continue
            values = {}
            for name, converter in rule._converters.items():
                items = getattr(converter, "items", None)
                values[name] = sorted(items)[0] if items else 1
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


@pytest.mark.postgres
def test_every_page_answers_503_to_a_signed_in_user_while_the_database_is_down(
    app, server_database_via_proxy, database_proxy, customer
):
    browser = server_database_via_proxy.browser()
    remembered = server_database_via_proxy.browser()
    assert browser.sign_in("outage.buyer", PASSWORD).status == 302
    assert (
        remembered.post(
            "/login",
            {"login": "outage.buyer", "password": PASSWORD, "remember": "y"},
            form_page="/login",
        ).status
        == 302
    )
    remembered.jar.clear(domain="127.0.0.1", path="/", name="session")
    assert remembered.get("/").status == 200  # signed in by the remember cookie alone
    remembered.jar.clear(domain="127.0.0.1", path="/", name="session")
    # The machine API never takes the browser's cookies: it is not a page of this user.
    pages = [url for url in _pages(app) if not url.startswith("/api/")]
    mark = server_database_via_proxy.log_mark()
    database_proxy.cut()
    try:
        for who in (browser, remembered):
            answers = {url: who.get(url) for url in pages}
            wrong = {url: a.status for url, a in answers.items() if a.status != 503}
            assert wrong == {}
            not_the_page = [
                url for url, a in answers.items() if url != "/healthz" and UNAVAILABLE not in a.text
            ]
            assert not_the_page == []
            assert '"database":"unavailable"' in answers["/healthz"].text.replace(" ", "")
            posted = who.request("POST", "/logout", {"csrf_token": who.last_csrf or "x"})
            assert posted.status == 503, posted
    finally:
        database_proxy.restore()
    assert browser.get("/").status == 200  # back as soon as the database is
    assert remembered.get("/").status == 200  # and nobody was signed out by the outage
    log = server_database_via_proxy.log_text(since=mark)
    assert "/logout" in log  # the outage's requests are in the log read here
    assert "Traceback" not in log


@pytest.mark.postgres
def test_every_page_answers_503_or_its_usual_answer_to_anonymous_users_while_the_database_is_down(
    app, server_database_via_proxy, database_proxy
):
    """Pages that need the database answer the 503 page; the sign-in form (which needs none)
    and the redirects to it answer as usual; nothing answers 500."""
    browser = server_database_via_proxy.browser()
    # The machine API never takes the browser's cookies: it is not a page of this user.
    pages = [url for url in _pages(app) if not url.startswith("/api/")]
    mark = server_database_via_proxy.log_mark()
    database_proxy.cut()
    try:
        answers = {url: browser.get(url) for url in pages}
        posted = browser.post("/login", {"login": "someone", "password": "x"}, form_page="/login")
    finally:
        database_proxy.restore()
    assert {url for url, a in answers.items() if a.status >= 500 and a.status != 503} == set()
    for url, answer in answers.items():
        if answer.status == 503 and url != "/healthz":
            assert UNAVAILABLE in answer.text, url
        if answer.status in (301, 302, 303):
            assert "/login" in answer.location, (url, answer.location)
    assert answers["/healthz"].status == 503
    assert posted.status == 503 and UNAVAILABLE in posted.text
    log = server_database_via_proxy.log_text(since=mark)
    assert "/login" in log  # the outage's requests are in the log read here
    assert "Traceback" not in log
