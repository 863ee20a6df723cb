"""The JSON API under /api/v1, and the page where people make their API tokens.

``init_app`` registers the blueprints and wires the token authentication in:
the login manager's request loader reads the bearer token (``auth``), API
paths take and set no cookie, and the API blueprints are exempt from CSRF
(they authenticate by a header that a cross-site page cannot make a browser send).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..sessions import login_manager
from . import auth, cases, documents, fhir, meta, reference, tokens_page

API_BLUEPRINTS = (meta.bp, cases.bp, documents.bp, reference.bp, fhir.bp)


def init_app(app: Flask, csrf: Any) -> None:
    """Register the API and the tokens page on the application."""
    for blueprint in API_BLUEPRINTS:
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
        # No login page for the API: an unauthenticated request is answered 401 (JSON).
        login_manager.blueprint_login_views[blueprint.name] = None
    app.register_blueprint(tokens_page.bp)
    login_manager.request_loader(auth.load_from_bearer)
    app.wsgi_app = auth.without_cookies(app.wsgi_app)  # type: ignore[method-assign]
