"""REST API v1: authentication, the OpenAPI document, queues. Tickets, KB and operators have their modules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from callcenter.auth import TooManyLoginAttemptsError
from callcenter.web import services
from callcenter.web.api_schemas import (
    LoginIn,
    MeOut,
    QueueListOut,
    QueueLiveOut,
    QueueOut,
    TokenInfoOut,
    TokenListOut,
    TokenOut,
)
from callcenter.web.app import container
from callcenter.web.auth import current_principal
from callcenter.web.errors import problem
from callcenter.web.openapi import build_spec, endpoint

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


@bp.after_app_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401 and request.path.startswith("/api/"):
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="callcenter"')
    return response


@bp.get("/openapi.json")
@endpoint("This document", roles=None, tag="meta")
def openapi() -> Any:
    return jsonify(build_spec(current_app))


@bp.post("/auth/login")
@endpoint(
    "Log in: a new API token (shown once)", roles=None, body=LoginIn, response=TokenOut, tag="auth", errors=(401, 429)
)
def login(body: LoginIn) -> Any:
    try:
        issued = services.auth().login(body.username, body.password, request.remote_addr or "", body.token_name)
    except TooManyLoginAttemptsError as exc:
        answer = problem(429, "Too Many Requests", str(exc))
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    me = MeOut.model_validate(issued.principal, from_attributes=True)
    return TokenOut(token=issued.token, expires_at=issued.expires_at, operator=me)


@bp.post("/auth/logout")
@endpoint("Revoke the token of this request", tag="auth")
def logout() -> Any:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        services.auth().revoke_token(header[7:].strip())
    return None


@bp.get("/auth/tokens")
@endpoint("My API tokens", response=TokenListOut, tag="auth")
def tokens() -> Any:
    return TokenListOut(items=[TokenInfoOut.model_validate(t) for t in services.auth().tokens(current_principal())])


@bp.delete("/auth/tokens/<int:token_id>")
@endpoint("Revoke a token (one's own; admins: any)", tag="auth")
def revoke(token_id: int) -> Any:
    services.auth().revoke(current_principal(), token_id)
    return None


@bp.get("/queues")
@endpoint("Queue configuration from the hotline file", response=QueueListOut, tag="queues")
def queues() -> Any:
    items = [
        QueueOut(name=name, **q.model_dump(include=set(QueueOut.model_fields) - {"name"}))
        for name, q in container().hotline.queues.items()
    ]
    return QueueListOut(items=items)


@bp.get("/queues/live")
@endpoint("Live queue and operator state from the ACD", roles=("lead", "admin"), response=QueueLiveOut, tag="queues")
def queues_live() -> Any:
    acd = services.acd()
    if acd is None:
        return problem(503, "Service Unavailable", "the ACD is not installed")
    return QueueLiveOut.model_validate(acd.snapshot(container().clock()))
