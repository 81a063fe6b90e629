"""The lead dashboard page and its Server-Sent Events stream (one shared publisher per process)."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import redis
from flask import Blueprint, Response, current_app, redirect, request, session, url_for

from callcenter.bootstrap import Container
from callcenter.kpi.publisher import DashboardPublisher
from callcenter.kpi.service import KpiService
from callcenter.web import lead_render
from callcenter.web.api_kpi import LEADS, kpi_service
from callcenter.web.app import container
from callcenter.web.auth import SESSION_USER, auth_required

bp = Blueprint("lead", __name__, static_folder="lead_static", static_url_path="/lead/static")
KEEPALIVE_SECONDS = 15.0
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_KEY = "callcenter.lead_publisher"


def publisher() -> DashboardPublisher:
    """The process's one publisher (created with the first viewer)."""
    existing = current_app.extensions.get(_KEY)
    if existing is None:
        existing = current_app.extensions[_KEY] = _make_publisher(container(), kpi_service())
    return existing  # type: ignore[no-any-return,unused-ignore]


def _make_publisher(c: Container, service: KpiService) -> DashboardPublisher:
    def token() -> Hashable:
        return _journal_head(c), service.change_token()

    return DashboardPublisher(lambda: lead_render.message(service.dashboard(c.clock())), token)


def _journal_head(c: Container) -> str:
    """The id of the newest journal event ever appended (entries are deleted once written to SQL)."""
    try:
        return str(c.redis.live.xinfo_stream(c.keys.journal)["last-generated-id"])
    except redis.ResponseError:  # no journal yet
        return ""


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.get("/lead")
def page() -> Any:
    """The dashboard, rendered with the current state; the script then follows the stream. A browser without
    a session is sent to the console's login page."""
    if not session.get(SESSION_USER) and "Authorization" not in request.headers:
        return redirect(url_for("console.login_form")) if "console" in current_app.blueprints else _page()
    return _page()


@auth_required(*LEADS)
def _page() -> str:
    state = kpi_service().dashboard(container().clock())
    script, style = url_for("lead.static", filename="lead.js"), url_for("lead.static", filename="lead.css")
    return lead_render.page(state, container().hotline.hotline.name, script, style)


@bp.get("/lead/stream")
@auth_required(*LEADS)
def stream() -> Response:
    """Server-Sent Events: the current state at once, then every change (keep-alive comments between)."""
    subscription = publisher().subscribe()

    def events() -> Iterator[str]:
        try:
            while True:
                message = subscription.get(timeout=KEEPALIVE_SECONDS)
                yield f"data: {message}\n\n" if message is not None else ": keep-alive\n\n"
        finally:
            subscription.close()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(events(), mimetype="text/event-stream", headers=headers)
