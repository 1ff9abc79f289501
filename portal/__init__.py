"""The supplier portal: create_app() builds a configured Flask application."""

import contextlib
import importlib
import importlib.util
import os

from flask import Flask, g, has_request_context, render_template, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from portal import errors, logging_setup, transactions
from portal.api import problems as api_problems
from portal.api.problems import is_api_request
from portal.config import load_config
from portal.extensions import babel, bootstrap, cache, csrf, db, limiter, login_manager, migrate
from portal.jobs import queue as jobs_queue
from portal.outages import (
    DATABASE_UNREACHABLE,
    database_unavailable_page,
    note_database_unavailable,
)

# Each domain is one package with a `bp` blueprint; order matters only for the menu.
BLUEPRINT_MODULES = [
    "portal.system",
    "portal.accounts",
    "portal.dashboard",
    "portal.organisations",
    "portal.onboarding",
    "portal.notifications",
    "portal.backoffice",
    "portal.metering",
    "portal.catalog",
    "portal.orders",
    "portal.pharmacy",  # series per shipped line, recalls (after orders: it extends them)
    "portal.documents",
    "portal.tickets",
    "portal.billing",
    "portal.privacy",
    "portal.privacy.rights_views",  # a module with its own `bp` (the person's rights)
    "portal.jobs",  # after billing: its queue gets the per-kind limits
]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        # Each node of several keeps its own instance folder (PORTAL_INSTANCE_PATH, absolute).
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path, config))
    _configure_logging(app)

    db.init_app(app)
    _install_pool_checks(app)
    transactions.install(app, db)  # a request commits once, at its end (see the module)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _install_template_gettext(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)

    _import_models()
    jobs_queue.init_queue(app)  # the one job queue, before the domains add their tasks
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_error_handlers(app)
    errors.register(app)
    _register_template_helpers(app)
    _register_commands(app)
    return app


def _install_pool_checks(app):
    from portal import pool

    with app.app_context():
        for engine in db.engines.values():
            pool.install(engine, app.config["DATABASE_PING_IDLE_SECONDS"])


def _configure_logging(app):
    if not app.testing:
        logging_setup.configure(app, app.config["LOG_FORMAT"])


def _import_models():
    # Import every model module so metadata (and Alembic autogenerate) sees all tables.
    import portal.accounts.models
    import portal.audit
    import portal.billing.models
    import portal.catalog.models
    import portal.documents.models
    import portal.jobs.models
    import portal.metering.models
    import portal.notifications.models
    import portal.onboarding.models
    import portal.orders.models
    import portal.organisations.models
    import portal.privacy.models
    import portal.privacy.requests
    import portal.tickets.models  # noqa: F401


# A domain's views: one module, or the customer's and the staff's pages apart.
VIEW_MODULES = ("views", "customer_views", "staff_views")


def _register_blueprints(app):
    for name in BLUEPRINT_MODULES:
        package = importlib.import_module(name)
        if hasattr(package, "__path__"):
            for module in VIEW_MODULES:
                if importlib.util.find_spec(f"{name}.{module}"):
                    importlib.import_module(f"{name}.{module}")  # attaches the routes
        app.register_blueprint(package.bp)
        if hasattr(package, "staff_bp"):  # the staff's pages, under /backoffice/<domain>/
            app.register_blueprint(package.staff_bp)
    from portal import api

    api.register(app)  # /api/v1 and the API key pages (flask-smorest)


# Packages with flask commands besides the domains (each has a commands.py with register(app)).
COMMAND_PACKAGES = ["portal.demo", "portal.files"]


def _register_commands(app):
    """One way of adding flask commands: `portal/<package>/commands.py` with `register(app)`,
    for every domain package in BLUEPRINT_MODULES and the packages in COMMAND_PACKAGES."""
    for name in [*BLUEPRINT_MODULES, *COMMAND_PACKAGES]:
        package = importlib.import_module(name)
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{name}.commands"):
            importlib.import_module(f"{name}.commands").register(app)


def _install_template_gettext(app):
    """Templates call _() dozens of times a page (a search page ~60), and Flask-Babel finds
    the locale and its merged catalogue anew on every call. Here the catalogue is found once
    per request, and again whenever the locale changes (force_locale for an e-mail)."""

    def translations():
        if not g:  # no application context: Flask-Babel answers untranslated
            return get_translations()
        locale = get_locale()
        cached = g.get("template_translations")
        if cached is None or cached[0] is not locale:
            cached = g.template_translations = (locale, get_translations())
        return cached[1]

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def select_locale():
    if g.get("database_unavailable"):
        return session.get("language") or "ru"  # the user row cannot be read now
    if current_user and current_user.is_authenticated:
        return current_user.language
    chosen = session.get("language")
    if chosen in ("ru", "en"):
        return chosen
    return "ru"


def select_timezone():
    return None  # BABEL_DEFAULT_TIMEZONE (Europe/Moscow unless configured)


def _register_request_hooks(app):
    from portal.request_guard import refuse_malformed_requests
    from portal.security import apply_security_headers, enforce_access_declarations_and_setup

    app.before_request(refuse_malformed_requests)
    app.before_request(enforce_access_declarations_and_setup)
    app.after_request(apply_security_headers)
    from portal.accounts import session_cache

    app.after_request(session_cache.store_if_changed)  # the user's snapshot, when read anew
    from portal import partials

    partials.init_app(app)  # htmx: a redirect to an htmx request becomes HX-Redirect


def _register_error_handlers(app):
    def render_error(code):
        def handler(error):
            if code >= 500:  # a broken session; a refusal's writes are undone at the request's
                # end (portal/transactions.py), except the security facts it keeps
                with contextlib.suppress(*DATABASE_UNREACHABLE):
                    db.session.rollback()
            if has_request_context() and is_api_request():
                return api_problems.from_exception(error)  # JSON, never a page, under /api
            if has_request_context():
                current_user.is_authenticated  # noqa: B018 - loads the user (softly) first
            if g.get("database_unavailable"):
                return database_unavailable_page()  # these pages show the menu: not now
            return render_template(f"errors/{code}.html", error=error), code

        return handler

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error(code))

    def database_unavailable(error):
        # The connection may be gone; the pool replaces it when the database is back.
        note_database_unavailable(error)
        if has_request_context() and is_api_request():
            return api_problems.problem_response(503)
        return database_unavailable_page()  # the page queries nothing, not even the user

    for error_class in DATABASE_UNREACHABLE:
        app.register_error_handler(error_class, database_unavailable)


def _register_template_helpers(app):
    from portal import formatting, navigation, security
    from portal.notifications.services import unread_count

    app.jinja_env.filters.update(formatting.FILTERS)

    @app.context_processor
    def portal_context():
        if not has_request_context() or g.get("database_unavailable"):
            # E-mail rendered by a CLI command or the worker, or the database-down page.
            return {"supplier": app.config["SUPPLIER"], "locale": str(get_locale() or "ru")}
        user = current_user._get_current_object()  # not the proxy: the menu asks it a lot
        membership = security.current_membership() if user.is_authenticated else None
        menu = navigation.menu_for(user, membership)
        return {
            "current_membership": membership,
            "current_organisation": membership.organisation if membership else None,
            "menu": menu,
            "menu_groups": lambda: navigation.grouped(menu),
            "menu_current": lambda: navigation.current_url(menu, request.path),
            "menu_badges": lambda: navigation.badges_for(menu, membership),
            "has_power": security.has_power,
            "unread_notifications": unread_count(user) if user.is_authenticated else 0,
            "supplier": app.config["SUPPLIER"],
            "locale": str(get_locale() or "ru"),
        }
