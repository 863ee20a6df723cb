"""The web application: a Flask application factory and one blueprint per area."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from priorauth.domain.quantities import plain_number
from priorauth.paths import PACKAGE_DIR, forms_dir, templates_dir
from priorauth.rules.library import load_library
from priorauth.store import anchors, audit
from priorauth.store.db import default_database_url, for_writing, make_engine, session_factory
from priorauth.store.models import ROLE_LABELS

from . import (
    admin,
    api,
    appeals,
    attachments,
    auth,
    cases,
    context,
    costs,
    dashboard,
    denials,
    directory,
    documents,
    errors,
    exception_request,
    guided,
    health,
    intake,
    letters,
    packet,
    payer_profiles,
    permissions,
    reference,
    sessions,
    signing,
    workflow,
)

# One blueprint per area, each in the module named for it; what two of them share
# lives in a shared module (casefile, pages, fields, intake, ...), never in a blueprint.
BLUEPRINTS = (
    auth.bp,
    dashboard.bp,
    cases.bp,
    guided.bp,
    letters.bp,
    costs.bp,
    documents.bp,
    workflow.bp,
    signing.bp,
    exception_request.bp,
    denials.bp,
    appeals.bp,
    attachments.bp,
    directory.bp,
    packet.bp,
    reference.bp,
    admin.bp,
    payer_profiles.bp,
    health.bp,
)

STATIC_DIR = PACKAGE_DIR / "static"
SECRET_KEY_FILE = "secret_key"

csrf = CSRFProtect()

# Pages show patient data: only this site may load anything, nothing may frame
# them, and no page is kept in a shared cache.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# When cookies are Secure the site is served over HTTPS: browsers are told to use
# nothing else for a year (Flask-Talisman's default, reference/perf-security.md).
HSTS = "max-age=31536000; includeSubDomains"
# The largest id any table holds (INTEGER, 32 bits on PostgreSQL): a larger number in a
# URL is no such page, not a database error.
MAX_ID = 2**31 - 1

DEFAULTS: dict[str, Any] = {
    # Far above a full intake form (~30 kB); refuses floods before they are parsed.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 2000,
    "SESSION_COOKIE_NAME": "priorauth_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Automatic logoff after 15 minutes without a request (HIPAA §164.312(a)(2)(iii)):
    # checked on the server on every request (sessions.enforce_session); the
    # cookie expires at the same time.
    "PRIORAUTH_IDLE_MINUTES": 15,
    # However active, a session ends this many hours after its login (a long shift).
    "PRIORAUTH_SESSION_MAX_HOURS": 12,
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=15),
    "SESSION_REFRESH_EACH_REQUEST": True,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # Failed password checks before a pause, counted in the database (all workers).
    "PRIORAUTH_LOGIN_MAX_FAILURES_ACCOUNT": 5,
    "PRIORAUTH_LOGIN_MAX_FAILURES_ADDRESS": 20,
    "PRIORAUTH_LOGIN_WINDOW_MINUTES": 15,
    # A submission without a decision after this many days shows in the work queue.
    "PRIORAUTH_DECISION_DAYS": 14,
    "PRIORAUTH_TODAY": None,
    # Renders run in this many processes per web worker, each stopped after
    # PRIORAUTH_RENDER_SECONDS (documents/deadline.py); 0 renders in the request's
    # own process without a limit (the default under TESTING).
    "PRIORAUTH_RENDER_WORKERS": 1,
    "PRIORAUTH_RENDER_SECONDS": 60,
    # How many proxies in front of the app add X-Forwarded-For/-Proto/-Host (0: none,
    # the headers are ignored). Behind one TLS proxy: 1, so the login throttle and
    # the audit trail see each client's address, not the proxy's.
    "PRIORAUTH_TRUSTED_PROXIES": 0,
}


# Settings a deployment gives through the environment (overrides still win).
ENVIRONMENT_SETTINGS = (
    "PRIORAUTH_DATABASE_URL",
    "PRIORAUTH_FORMS_DIR",
    "PRIORAUTH_IDLE_MINUTES",
    "PRIORAUTH_SESSION_MAX_HOURS",
    "PRIORAUTH_TRUSTED_PROXIES",
    "PRIORAUTH_SIGNING_KEY",
    "PRIORAUTH_SIGNING_CERT",
)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` up to MAX_ID: a longer number is answered 404."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # werkzeug passes these by name
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(
            url_map,
            fixed_digits=fixed_digits,
            min=min,
            max=MAX_ID if max is None else max,
            signed=signed,
        )


class PriorauthFlask(Flask):
    """Flask, with unhandled errors logged without their messages (no patient data)."""

    def log_exception(self, exc_info: Any) -> None:
        _type, error, _tb = exc_info
        if error is None:
            return
        self.logger.error(
            "unhandled exception on %s %s: %s",
            request.method,
            request.url_rule.rule if request.url_rule else "(no route)",
            errors.describe_exception(error),
        )


def _secret_key(instance_path: Path) -> str:
    """The key from PRIORAUTH_SECRET_KEY, else one generated once and kept in instance/."""
    from_env = os.environ.get("PRIORAUTH_SECRET_KEY")
    if from_env:
        return from_env
    path = instance_path / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created readable by the owner only; O_EXCL so two workers cannot both write.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _audit_key(app: Flask) -> bytes:
    """PRIORAUTH_AUDIT_KEY (configuration, then environment), else instance/audit_key."""
    configured = app.config.get("PRIORAUTH_AUDIT_KEY")
    if configured:
        return str(configured).encode("utf-8")
    if app.testing and not os.environ.get(anchors.KEY_ENV):
        # Tests leave no key file behind in the source tree's instance/.
        return secrets.token_hex(32).encode("utf-8")
    key = anchors.key_from(app.instance_path, create=True)
    assert key is not None
    return key


def _configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    for key in ENVIRONMENT_SETTINGS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if overrides:
        app.config.from_mapping(overrides)
    for key in ("PRIORAUTH_RENDER_WORKERS", "PRIORAUTH_RENDER_SECONDS"):
        if os.environ.get(key, "").strip().isdigit():
            app.config[key] = int(os.environ[key])
    if app.testing and "PRIORAUTH_RENDER_WORKERS" not in (overrides or {}):
        app.config["PRIORAUTH_RENDER_WORKERS"] = 0
    if "PERMANENT_SESSION_LIFETIME" not in (overrides or {}):
        app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(
            minutes=int(app.config["PRIORAUTH_IDLE_MINUTES"])
        )
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    if not app.config.get("PRIORAUTH_DATABASE_URL"):
        app.config["PRIORAUTH_DATABASE_URL"] = default_database_url(instance)
    # Cookies travel over HTTPS only, except while developing or testing on http://.
    # PRIORAUTH_SECURE_COOKIES=0 is for a browser that refuses Secure cookies from
    # http://127.0.0.1 (most accept them there).
    if "SESSION_COOKIE_SECURE" not in (overrides or {}):
        secure = os.environ.get("PRIORAUTH_SECURE_COOKIES", "").strip().lower()
        app.config["SESSION_COOKIE_SECURE"] = (
            False if secure in ("0", "false", "no") else not (app.debug or app.testing)
        )


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _plain(value: Any) -> str:
    """A number as the documents write it (``plain_number``); anything else as text."""
    if isinstance(value, Decimal) and value.is_finite():
        return plain_number(value)
    return "" if value is None else str(value)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; ``overrides`` replace configuration (tests, the CLI)."""
    app = PriorauthFlask(
        __name__,
        instance_path=os.environ.get("PRIORAUTH_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(templates_dir()),
        static_folder=str(STATIC_DIR),
    )
    _configure(app, overrides)
    proxies = int(app.config["PRIORAUTH_TRUSTED_PROXIES"])
    if proxies > 0:
        # Only the headers the trusted proxies set are believed, counted from the right.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.url_map.converters["int"] = BoundedIntConverter

    forms = app.config.get("PRIORAUTH_FORMS_DIR")
    library = load_library(Path(forms) if forms else forms_dir())
    engine = make_engine(app.config["PRIORAUTH_DATABASE_URL"])
    sessions_made = session_factory(engine)
    # Every session may append to the audit trail, and so signs its head (store.anchors).
    sessions_made.configure(info={audit.KEY_INFO: _audit_key(app)})
    app.extensions[context.EXTENSION_KEY] = context.AppState(
        library=library,
        engine=engine,
        sessions=sessions_made,
        write_engine=for_writing(engine),
    )
    app.teardown_appcontext(context.close_db)

    # Before CSRF reads the form: an upload may be larger than any other request.
    app.before_request(attachments.upload_limit)
    app.before_request(payer_profiles.form_limit)
    csrf.init_app(app)
    sessions.login_manager.init_app(app)
    # Before any view: end an idle session, then require a login (permissions.py
    # decides the rest, per endpoint).
    app.before_request(sessions.enforce_session)
    app.before_request(permissions.check_login)
    app.after_request(permissions.audit_unrecorded_case_request)
    app.after_request(_security_headers)
    app.jinja_env.filters["plain"] = _plain
    app.jinja_env.globals.update(
        request_type_labels=intake.REQUEST_TYPE_LABELS,
        role_labels=ROLE_LABELS,
        may=permissions.may,
        Permission=permissions.Permission,
    )

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    api.init_app(app, csrf)  # the JSON API (/api/v1) and the API tokens page
    errors.register(app)
    app.register_error_handler(413, attachments.too_large)
    permissions.check_every_endpoint_declares(app)
    return app
