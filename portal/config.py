"""Settings from environment variables (PORTAL_*), with safe defaults for a laptop."""

import hashlib
import os
import secrets
from pathlib import Path

from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """Raised when production settings are missing or unsafe."""


def _env(name, default=None):
    return os.environ.get(f"PORTAL_{name}", default)


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path, production: bool) -> str:
    key = _env("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigurationError(
            "PORTAL_SECRET_KEY must be set in production (PORTAL_ENV=production)."
        )
    # Development: generate once and keep it in instance/ so sessions survive restarts.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _translation_directories() -> str:
    # Each domain keeps its own catalogue folder (translations/<domain>/<lang>/...);
    # Flask-Babel merges them.
    root = BASE_DIR / "translations"
    dirs = sorted(str(p) for p in root.iterdir() if p.is_dir()) if root.exists() else []
    return ";".join(dirs) or str(root)


# PgBouncer keeps prepared statements across transaction-pooled connections from 1.21 on
# (with max_prepared_statements > 0); before that a statement prepared on one server connection
# is missing on the next ("prepared statement _pg3_0 does not exist").
PGBOUNCER_KEEPS_PREPARED = (1, 21)


def prepared_statements(mode: str | None, pgbouncer_version: str | None) -> bool:
    """Whether psycopg may prepare statements: PORTAL_DB_PREPARE (on | off | auto) and
    PORTAL_DB_PGBOUNCER (the PgBouncer version in front of PostgreSQL, empty when none)."""
    mode = (mode or "auto").strip().lower()
    if mode in {"on", "off"}:
        return mode == "on"
    if mode != "auto":
        raise ConfigurationError(f"PORTAL_DB_PREPARE must be on, off or auto, not {mode!r}")
    if not (pgbouncer_version or "").strip():
        return True  # PostgreSQL itself
    try:
        version = tuple(int(part) for part in pgbouncer_version.strip().split(".")[:2])
    except ValueError as error:
        raise ConfigurationError(
            f"PORTAL_DB_PGBOUNCER must be a version such as 1.18, not {pgbouncer_version!r}"
        ) from error
    return version >= PGBOUNCER_KEEPS_PREPARED


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config dict from the environment, then apply explicit overrides."""
    instance = Path(instance_path)
    overrides = overrides or {}
    production = (overrides.get("PORTAL_ENV") or _env("ENV", "development")) == "production"
    https = _env_bool("HTTPS", production)
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    redis_url = _env("REDIS_URL")

    # Redis clients give up quickly: while Redis is down a page falls back (in-memory rate
    # limits, cache misses) instead of waiting on a connection (docs/OPERATIONS.md, "Outages").
    redis_timeout = float(_env("REDIS_TIMEOUT_SECONDS", "0.5"))
    redis_options = {
        "socket_connect_timeout": redis_timeout,
        "socket_timeout": redis_timeout,
        "retry": Retry(NoBackoff(), 1),  # redis-py's default: 10 retries with back-off
    }
    key_prefix = (
        _env("CACHE_KEY_PREFIX")
        or "portal-" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"
    )

    config = {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance, production),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pre-ping round trip before every request: a connection idle for at least
        # DATABASE_PING_IDLE_SECONDS is pinged at checkout (portal/pool.py), and none is kept
        # longer than 30 minutes.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "DATABASE_PING_IDLE_SECONDS": float(_env("DATABASE_PING_IDLE_SECONDS", "1")),
        "REDIS_URL": redis_url,
        "REDIS_TIMEOUT_SECONDS": redis_timeout,
        # After a Redis error the cache leaves Redis alone this long (pages read the database).
        "REDIS_RETRY_SECONDS": float(_env("REDIS_RETRY_SECONDS", "10")),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": redis_options if redis_url else {},
        # Redis unreachable: count in this process's memory (limits then apply per process)
        # and log it, never fail the request; back to Redis once it answers.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_KEY_PREFIX": key_prefix + "limits",
        # Cache (catalogue search answers, filter lists): Redis when configured, else per process.
        # The prefix keeps two portals (or test runs) sharing one Redis apart. A Redis error is
        # a cache miss (portal/outages.py).
        "CACHE_TYPE": "portal.outages.TolerantRedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_OPTIONS": redis_options if redis_url else None,
        "CACHE_KEY_PREFIX": key_prefix,
        # Entries one process keeps without Redis (a search answer is ~0.2 KB).
        "CACHE_THRESHOLD": int(_env("CACHE_THRESHOLD", "2000")),
        "CATALOG_CACHE_SECONDS": int(_env("CATALOG_CACHE_SECONDS", "60")),
        # Items whose next batch has less than this share of its shelf life left are flagged
        # in the catalogue and the cart (portal/inventory/shelf_life.py).
        "SHORT_SHELF_LIFE_SHARE": float(_env("SHORT_SHELF_LIFE_SHARE", "0.5")),
        # The signed-in user, memberships and menu counts kept between requests
        # (portal/accounts/session_cache.py): only with a shared cache, which every worker
        # hears a change through; the lifetime bounds writes made around the portal. Off by
        # default: one quiet A/B run showed no throughput gain (docs/PERFORMANCE.md).
        "USER_CACHE_SECONDS": int(_env("USER_CACHE_SECONDS", "0")),  # opt-in: see OPERATIONS.md
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_APPLICATION_FORM": _env("RATELIMIT_APPLICATION_FORM", "5 per hour"),
        "RATELIMIT_LOGIN": _env("RATELIMIT_LOGIN", "30 per minute"),
        # The machine API (/api/v1): requests per key (per address without a valid key),
        # and the largest request body it reads.
        "API_RATE_LIMIT": _env("API_RATE_LIMIT", "120 per minute"),
        "API_MAX_BODY_BYTES": int(_env("API_MAX_BODY_KB", "1024")) * 1024,
        # Orders through the API, and webhooks (portal.api.orders, portal.api.webhooks).
        "API_ORDER_MAX_LINES": int(_env("API_ORDER_MAX_LINES", "5000")),
        "WEBHOOK_MAX_ATTEMPTS": int(_env("WEBHOOK_MAX_ATTEMPTS", "8")),
        "WEBHOOK_TIMEOUT_SECONDS": float(_env("WEBHOOK_TIMEOUT_SECONDS", "10")),
        "WEBHOOK_RETRY_BASE_SECONDS": int(_env("WEBHOOK_RETRY_BASE_SECONDS", "60")),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "PORTAL_HTTPS": https,
        # Links in e-mails: without PORTAL_BASE_URL they point at the port `make run` serves on.
        "PORTAL_BASE_URL": _env("BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}"),
        "LOG_FORMAT": _env("LOG_FORMAT", "json" if production else "text"),
        "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
        # Login throttling: N failures per account within the window lock it for the window.
        "LOGIN_MAX_FAILURES": int(_env("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(_env("LOGIN_LOCK_MINUTES", "15")),
        # Every page checks the current offer version; processes re-read it this often.
        "OFFER_CACHE_SECONDS": int(_env("OFFER_CACHE_SECONDS", "30")),
        # Likewise the current version of the consent to processing for using the portal.
        "CONSENT_CACHE_SECONDS": int(_env("CONSENT_CACHE_SECONDS", "30")),
        "PASSWORD_TOKEN_MAX_AGE": int(_env("PASSWORD_TOKEN_HOURS", "48")) * 3600,
        # An applicant's answer link ("ask for more information") expires after this.
        "APPLICATION_REPLY_MAX_AGE": int(_env("APPLICATION_REPLY_DAYS", "14")) * 86400,
        # An organisation administrator's invitation of a colleague can be accepted this long.
        "INVITATION_MAX_AGE": int(_env("INVITATION_DAYS", "14")) * 86400,
        "ACCESS_CODE_MAX_AGE": int(_env("ACCESS_CODE_DAYS", "14")) * 86400,
        # Mail: SMTP when PORTAL_SMTP_HOST is set, otherwise .eml files in the outbox folder.
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": int(_env("SMTP_PORT", "587")),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SMTP_SSL": _env_bool("SMTP_SSL", False),
        "MAIL_FROM": _env("MAIL_FROM", "Портал поставщика <portal@supplier.example>"),
        "MAIL_OUTBOX": _env("MAIL_OUTBOX", str(instance / "outbox")),
        "MANAGER_NOTIFY_EMAIL": _env("MANAGER_NOTIFY_EMAIL"),
        # Locale and time
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Europe/Moscow"),
        "BABEL_TRANSLATION_DIRECTORIES": _translation_directories(),
        "LANGUAGES": ["ru", "en"],
        # Files
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(BASE_DIR / "uploads")),
        "REPORT_DIR": _env("REPORT_DIR", str(BASE_DIR / "reports")),
        "MAX_UPLOAD_MB": int(_env("MAX_UPLOAD_MB", "20")),
        # The file store (portal/files/store.py, docs/STORAGE.md): the disk folders above unless
        # PORTAL_STORAGE_URL=s3://bucket/prefix; credentials from AWS_ACCESS_KEY_ID and co.
        "STORAGE_URL": _env("STORAGE_URL"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_REGION": _env("S3_REGION", os.environ.get("AWS_DEFAULT_REGION")),
        "S3_ADDRESSING_STYLE": _env("S3_ADDRESSING_STYLE", "path"),
        "STORAGE_TIMEOUT_SECONDS": float(_env("STORAGE_TIMEOUT_SECONDS", "10")),
        "STORAGE_PRESIGNED": _env_bool("STORAGE_PRESIGNED", False),
        "STORAGE_PRESIGNED_SECONDS": int(_env("STORAGE_PRESIGNED_SECONDS", "60")),
        "STORAGE_ORPHAN_GRACE_HOURS": float(_env("STORAGE_ORPHAN_GRACE_HOURS", "24")),
        # Uploaded tables (portal/files/tables.py): checked while reading, a refusal names the
        # limit. UPLOAD_* for customers' files (order files, readings template), IMPORT_* for
        # the staff imports (catalogue, bank statements); columns, cells and ratio for both.
        "UPLOAD_MAX_ROWS": int(_env("UPLOAD_MAX_ROWS", "5000")),
        "UPLOAD_MAX_COLUMNS": int(_env("UPLOAD_MAX_COLUMNS", "100")),
        "UPLOAD_MAX_CELL_CHARS": int(_env("UPLOAD_MAX_CELL_CHARS", "10000")),
        "UPLOAD_MAX_UNCOMPRESSED_MB": float(_env("UPLOAD_MAX_UNCOMPRESSED_MB", "20")),
        "UPLOAD_MAX_COMPRESSION_RATIO": int(_env("UPLOAD_MAX_COMPRESSION_RATIO", "100")),
        "UPLOAD_MAX_SECONDS": float(_env("UPLOAD_MAX_SECONDS", "10")),
        "IMPORT_MAX_ROWS": int(_env("IMPORT_MAX_ROWS", "100000")),
        "IMPORT_MAX_UNCOMPRESSED_MB": float(_env("IMPORT_MAX_UNCOMPRESSED_MB", "200")),
        "IMPORT_MAX_SECONDS": float(_env("IMPORT_MAX_SECONDS", "60")),
        "BOOTSTRAP_SERVE_LOCAL": True,
        # Gas meter readings: the monthly submission window (days of the month, inclusive),
        # the share of deviation from the same month last year that triggers a warning, and
        # how many days before the window closes the reminder e-mail goes out.
        "READING_WINDOW_START": int(_env("READING_WINDOW_START", "20")),
        "READING_WINDOW_END": int(_env("READING_WINDOW_END", "25")),
        "READING_DEVIATION_SHARE": float(_env("READING_DEVIATION_SHARE", "0.5")),
        "READING_REMINDER_DAYS": int(_env("READING_REMINDER_DAYS", "2")),
        # Planned gas volumes: a month's volume may be asked for until this day of the month
        # before; a month running over the plan by more than this share is warned of.
        "GAS_PLAN_CHANGE_DEADLINE_DAY": int(_env("GAS_PLAN_CHANGE_DEADLINE_DAY", "20")),
        "GAS_PLAN_TOLERANCE": float(_env("GAS_PLAN_TOLERANCE", "0.05")),
        # Retention of personal data, in days (`flask privacy retention`, docs/OPERATIONS.md):
        # rejected applications from the decision, sign-in attempts with their IP addresses,
        # meter reading photos from the reading date.
        "RETENTION_REJECTED_APPLICATION_DAYS": int(
            _env("RETENTION_REJECTED_APPLICATION_DAYS", "365")
        ),
        "RETENTION_LOGIN_ATTEMPT_DAYS": int(_env("RETENTION_LOGIN_ATTEMPT_DAYS", "365")),
        "RETENTION_READING_PHOTO_DAYS": int(_env("RETENTION_READING_PHOTO_DAYS", "1095")),
        # Payment terms (portal/billing/terms.py): a prepayment order is due this many banking
        # days after the order date (weekends and the holidays of portal.calendar_ru skipped);
        # a deferred one the contract's deferral (or this default) in calendar days after it
        # ships; a gas month on this day of the next month. Reminders go this many days before
        # a due date and on the listed days after.
        "PREPAYMENT_BANKING_DAYS": int(_env("PREPAYMENT_BANKING_DAYS", "3")),
        "DEFERRED_PAYMENT_DAYS": int(_env("DEFERRED_PAYMENT_DAYS", "30")),
        "GAS_PAYMENT_DAY": int(_env("GAS_PAYMENT_DAY", "25")),
        # Delivery dates (portal/catalog/delivery.py): an order placed after this local time
        # (or on a day off) is taken into work on the next working day; the buyer chooses
        # among this many working days from the earliest one.
        "ORDER_CUTOFF": _env("ORDER_CUTOFF", "15:00"),
        "DELIVERY_DATE_CHOICES": int(_env("DELIVERY_DATE_CHOICES", "10")),
        "REMINDER_DAYS_BEFORE": int(_env("REMINDER_DAYS_BEFORE", "3")),
        "REMINDER_DAYS_AFTER": _env("REMINDER_DAYS_AFTER", "1,7,14,30"),
        # A statement job running (or waiting) longer than this is taken as lost with its worker.
        "STATEMENT_JOB_TIMEOUT_MINUTES": float(_env("STATEMENT_JOB_TIMEOUT_MINUTES", "10")),
        # The supplier's requisites for invoices, УПД and statements. The defaults are a
        # fictional company (checksum-valid INN, KPP, OGRN; a fictional bank whose accounts
        # pass the control key with its БИК): set the real ones in production.
        "SUPPLIER": {
            "name": _env("SUPPLIER_NAME", "ООО «Фарма-Газ Снабжение»"),
            "inn": _env("SUPPLIER_INN", "7729012342"),
            "kpp": _env("SUPPLIER_KPP", "772901001"),
            "ogrn": _env("SUPPLIER_OGRN", "1027700123450"),
            "address": _env(
                "SUPPLIER_ADDRESS", "119415, г. Москва, пр-т Вернадского, д. 41, стр. 1, оф. 305"
            ),
            "phone": _env("SUPPLIER_PHONE", "+7 (495) 120-45-67"),
            "bank": _env("SUPPLIER_BANK", "АО «Банк Примерный», г. Москва"),
            "bik": _env("SUPPLIER_BIK", "044525987"),
            "account": _env("SUPPLIER_ACCOUNT", "40702810238000012345"),
            "corr_account": _env("SUPPLIER_CORR_ACCOUNT", "30101810900000000987"),
            "director_position": _env("SUPPLIER_DIRECTOR_POSITION", "Генеральный директор"),
            "director_name": _env("SUPPLIER_DIRECTOR_NAME", "Соколов А. В."),
            "accountant_position": _env("SUPPLIER_ACCOUNTANT_POSITION", "Главный бухгалтер"),
            "accountant_name": _env("SUPPLIER_ACCOUNTANT_NAME", "Мельникова Е. П."),
            # The supplier's ЭДО participant identifier from its operator: the ИдОтпр of the
            # ФНС XML of every УПД and УКД (empty: the XML download is refused, naming it).
            "edo_id": _env("SUPPLIER_EDO_ID", "2BM-7729012342-772901001-201912050000000000001"),
        },
    }
    # Several nodes and workers (docs/SCALING.md): the connection pooler in front of
    # PostgreSQL, and the queue's per-kind limits (portal/jobs).
    config["DB_PGBOUNCER"] = _env("DB_PGBOUNCER", "").strip() or None
    config["DB_PREPARE"] = _env("DB_PREPARE", "auto")
    # A job kind's limit: jobs of that kind running at once across all workers.
    config["QUEUE_LIMITS"] = _env("QUEUE_LIMITS", "")
    # A slot of a killed worker is free again after this (longer than the longest job).
    config["QUEUE_LEASE_SECONDS"] = float(_env("QUEUE_LEASE_SECONDS", "900"))
    # A job whose kind is full waits this long before a worker looks at it again.
    config["QUEUE_DEFER_SECONDS"] = float(_env("QUEUE_DEFER_SECONDS", "2"))
    # Mail as queue jobs: auto = when the queue is on Redis (several nodes), else sent by the
    # process that committed (as before); on/off force it.
    mail_queue = _env("MAIL_QUEUE", "auto").strip().lower()
    config["MAIL_QUEUE"] = bool(redis_url) if mail_queue == "auto" else mail_queue == "on"
    # Imports and documents asked for on a page (portal/jobs/background.py): auto = queue jobs
    # for any worker when the queue is on Redis, else done by the process, after the commit
    # of the job's row (`make run`); on/off force it.
    jobs_queue = _env("JOBS_QUEUE", "auto").strip().lower()
    config["JOBS_QUEUE"] = bool(redis_url) if jobs_queue == "auto" else jobs_queue == "on"
    config["MAX_CONTENT_LENGTH"] = (config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    config.update(overrides)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        engine_options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = dict(engine_options.get("connect_args", {}))
        if not prepared_statements(config["DB_PREPARE"], config["DB_PGBOUNCER"]):
            connect_args.setdefault("prepare_threshold", None)  # psycopg never prepares
        engine_options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and not config["DB_PGBOUNCER"]:
        # (PgBouncer refuses the `options` start-up parameter: behind it, set the value on the
        # database instead: ALTER DATABASE portal SET random_page_cost = 1.1.)
        # The planner's default (4) prices a random read as four sequential ones, as on a
        # spinning disk; the catalogue then reads all 50,000 items instead of its trigram
        # index (55 ms instead of 7 for «ибупрофен»). 1.1 is the usual value for SSD or a
        # database in memory; set per connection, so no server change is needed.
        page_cost = _env("PG_RANDOM_PAGE_COST", "1.1")
        engine_options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = dict(engine_options.get("connect_args", {}))
        connect_args.setdefault("options", f"-c random_page_cost={float(page_cost)}")
        engine_options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    return config
