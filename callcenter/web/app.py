"""The Flask application factory; blueprints come from the registry in this module."""

from __future__ import annotations

import importlib
import logging

from flask import Flask, current_app

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings
from callcenter.web.errors import register_error_handlers
from callcenter.web.security import register_security_headers
from callcenter.web.sessions import LazyCookieSessionInterface

logger = logging.getLogger(__name__)

# "module:attribute" of every blueprint the app serves. Add yours here.
BLUEPRINTS: list[str] = [
    "callcenter.web.health:bp",
    "callcenter.web.api:bp",  # tickets, KB, auth, operators, queues (issue 6)
    "callcenter.web.api_operators:bp",
    "callcenter.web.api_tickets:bp",
    "callcenter.web.api_kb:bp",
    "callcenter.web.console:bp",
    "webhooks.views:bp",
    "callcenter.web.api_kpi:bp",  # KPIs, metrics, lead dashboard (issue 7)
    "callcenter.web.metrics:bp",
    "callcenter.web.lead:bp",
]

MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    """Build the app around a container (built from ``settings`` when not given)."""
    if container is None:
        if settings is None:
            raise ValueError("create_app needs settings or a container")
        container = build_container(settings)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=container.settings.secret_key, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.extensions["callcenter"] = container
    app.session_interface = LazyCookieSessionInterface()
    register_error_handlers(app)
    register_security_headers(app)
    for target in BLUEPRINTS:
        module_name, attr = target.split(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
    return app


def container() -> Container:
    """The container of the app serving the current request."""
    return current_app.extensions["callcenter"]  # type: ignore[no-any-return]
