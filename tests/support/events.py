"""Builders of call events for tests."""

from __future__ import annotations

import uuid
from typing import Any

from callcenter.domain.events import CallEvent, EventType


def event(type_: EventType, call_id: str, ts: float, **kwargs: Any) -> CallEvent:
    return CallEvent(id=uuid.uuid4().hex, type=type_, ts=ts, call_id=call_id, **kwargs)


def answered_call(
    call_id: str,
    t0: float,
    *,
    wait: float = 12,
    talk: float = 60,
    wrap: float = 15,
    queue: str = "general",
    operator: str = "anna",
    channel: str = "twilio",
    caller: str = "+36301234567",
) -> list[CallEvent]:
    """The events of a call that waited, was answered, talked and wrapped up."""
    E = EventType
    answered = t0 + 5 + wait
    ended = answered + talk
    return [
        event(E.CALL_STARTED, call_id, t0, channel=channel, data={"from": caller, "to": "+3612345678"}),
        event(E.IVR_INPUT, call_id, t0 + 3, channel=channel, data={"node": "main", "input": "1", "topic": "billing"}),
        event(E.ENTER_QUEUE, call_id, t0 + 5, channel=channel, queue=queue),
        event(E.OFFERED, call_id, answered - 2, channel=channel, queue=queue, operator=operator),
        event(E.CONNECTED, call_id, answered, channel=channel, queue=queue, operator=operator),
        event(E.COMPLETED_BY_OPERATOR, call_id, ended, channel=channel, queue=queue, operator=operator),
        event(E.WRAPUP_DONE, call_id, ended + wrap, channel=channel, queue=queue, operator=operator),
    ]


def abandoned_call(call_id: str, t0: float, *, waited: float = 30, queue: str = "general") -> list[CallEvent]:
    E = EventType
    return [
        event(E.CALL_STARTED, call_id, t0, channel="sip", data={"from": "+36209876543"}),
        event(E.ENTER_QUEUE, call_id, t0 + 4, channel="sip", queue=queue),
        event(E.ABANDONED, call_id, t0 + 4 + waited, channel="sip", queue=queue),
    ]
