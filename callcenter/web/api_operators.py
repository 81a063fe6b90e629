"""REST API v1: operators (me, my state via the ACD, my current call card, accept, wrap-up, a live SSE stream
of my state) and, for leads and admins, the operators they manage."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response

from callcenter.call_card import CallCardService
from callcenter.domain.access import PermissionDeniedError, Principal
from callcenter.domain.operator import NoSuchOperatorError
from callcenter.operators import OperatorService, OperatorView
from callcenter.web import services
from callcenter.web.api_schemas import (
    AcceptIn,
    CallCardOut,
    CurrentCallOut,
    EventsQuery,
    MeOut,
    OperatorListOut,
    OperatorStateOut,
    StateIn,
    WrapUpQuery,
)
from callcenter.web.app import container
from callcenter.web.auth import current_principal
from callcenter.web.openapi import endpoint

bp = Blueprint("api_v1_operators", __name__, url_prefix="/api/v1/operators")
TAG = "operators"
STREAM_SECONDS = 300
POLL_SECONDS = 0.5


class AcdUnavailableError(Exception):
    """The ACD package is not installed in this deployment."""


def _acd() -> Any:
    acd = services.acd()
    if acd is None:
        raise AcdUnavailableError("the ACD is not available")
    return acd


def live_state(username: str) -> dict[str, Any]:
    """The operator's row of the ACD snapshot (offline when the ACD does not know them yet)."""
    acd = services.acd()
    row = acd.snapshot(container().clock())["operators"].get(username) if acd is not None else None
    return row or {"state": "offline", "since": None, "reason": None, "call": None, "queues": []}


def _me(view: OperatorView) -> MeOut:
    state = live_state(view.username)
    sip = view.softphone if view.softphone.startswith("sip:") else None
    return MeOut(
        username=view.username,
        name=view.name,
        role=view.role,
        team=view.team,
        queues=list(view.queues),
        softphone=view.softphone,
        sip_uri=sip,
        state=state["state"],
        state_since=state["since"],
        state_reason=state["reason"],
        call_id=state["call"],
    )


def _state_out(username: str) -> OperatorStateOut:
    return OperatorStateOut(username=username, **live_state(username))


@bp.get("/me")
@endpoint("Who I am, my softphone and my live ACD state", response=MeOut, tag=TAG)
def me() -> Any:
    return _me(OperatorService(container().sessions).get(current_principal().username))


@bp.post("/me/state")
@endpoint("Go available, on break (with a reason) or offline", body=StateIn, response=OperatorStateOut, tag=TAG)
def my_state(body: StateIn) -> Any:
    who = current_principal()
    acd, now = _acd(), container().clock()
    try:
        acd.set_state(who.username, body.state, now, body.reason or None)
    except NoSuchOperatorError:  # Redis lost its data: the operator re-announces before the watchdog rebuilt
        view = OperatorService(container().sessions).get(who.username)
        if not view.queues:
            raise  # not an operator of any queue (an admin): unknown to the ACD, as before
        acd.sync_config(now)
        acd.configure_operator(who.username, view.queues, view.skills, now, softphone=view.softphone)
        acd.set_state(who.username, body.state, now, body.reason or None)
    return _state_out(who.username)


@bp.get("/me/call")
@endpoint("The call card of the call ringing or connected at me", response=CurrentCallOut, tag=TAG)
def my_call() -> Any:
    who = current_principal()
    state = live_state(who.username)
    if not state["call"]:
        return CurrentCallOut(card=None)
    cards = CallCardService(container().sessions, services.tickets())
    card = cards.card(who, state["call"], state["state"], container().clock())
    return CurrentCallOut(card=CallCardOut.model_validate(card))


@bp.post("/me/accept")
@endpoint("Accept the call ringing at me", body=AcceptIn, response=OperatorStateOut, tag=TAG)
def accept(body: AcceptIn) -> Any:
    who = current_principal()
    _acd().accept(body.call_id, who.username, container().clock())
    return _state_out(who.username)


@bp.post("/me/wrap-up-done")
@endpoint(
    "Finish wrap-up (the call's ticket needs a disposition)", query=WrapUpQuery, response=OperatorStateOut, tag=TAG
)
def wrap_up_done(query: WrapUpQuery) -> Any:
    who = current_principal()
    last_call = query.call_id or live_state(who.username)["call"]
    if last_call:
        services.tickets().check_wrap_up(who, last_call)
    _acd().wrap_up_done(who.username, container().clock())
    return _state_out(who.username)


@bp.get("/me/events")
@endpoint(
    "My live ACD state as Server-Sent Events (event 'state')",
    query=EventsQuery,
    tag=TAG,
    media_type="text/event-stream",
)
def my_events(query: EventsQuery) -> Any:
    username = current_principal().username
    seconds = min(query.seconds, STREAM_SECONDS)
    app_container = container()
    acd = services.acd()

    def read() -> dict[str, Any]:
        row = acd.snapshot(app_container.clock())["operators"].get(username) if acd is not None else None
        return row or {"state": "offline", "since": None, "reason": None, "call": None}

    return Response(
        _stream(read, seconds),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _stream(read: Any, seconds: float) -> Iterator[str]:
    yield "retry: 2000\n\n"
    last, started, beat = None, time.monotonic(), time.monotonic()
    while time.monotonic() - started < seconds:
        row = read()
        if row != last:
            yield f"event: state\ndata: {json.dumps(row)}\n\n"
            last, beat = row, time.monotonic()
        elif time.monotonic() - beat > 15:
            yield ": keepalive\n\n"
            beat = time.monotonic()
        time.sleep(POLL_SECONDS)


@bp.get("")
@endpoint(
    "Operators I manage (leads: my team; admins: all)", roles=("lead", "admin"), response=OperatorListOut, tag=TAG
)
def list_operators() -> Any:
    who = current_principal()
    views = [v for v in OperatorService(container().sessions).list() if _manages(who, v)]
    return OperatorListOut(items=[_me(v) for v in views])


@bp.post("/<username>/state")
@endpoint(
    "Change an operator's state (leads: their team)",
    roles=("lead", "admin"),
    body=StateIn,
    response=OperatorStateOut,
    tag=TAG,
)
def operator_state(username: str, body: StateIn) -> Any:
    view = OperatorService(container().sessions).get(username)
    if not _manages(current_principal(), view):
        raise PermissionDeniedError(f"{username} is not in your team")
    _acd().set_state(username, body.state, container().clock(), body.reason or None)
    return _state_out(username)


def _manages(who: Principal, view: OperatorView) -> bool:
    return who.is_admin or (who.is_lead and view.team == who.team)
