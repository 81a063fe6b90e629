"""Call events: the one log every ticket, summary and KPI is derived from.

Names follow Asterisk's queue_log so that its users recognise them. An event travels as a flat string map
(a Redis stream entry) with the fields ``id, type, ts, call_id, channel, queue, operator, data``; ``data`` is a
JSON object with whatever else the event carries. ``id`` is unique and makes every write idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# One encoder for every event (json.dumps with options builds a new one per call; events are a hot path).
_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class EventType(StrEnum):
    """Every event of the call lifecycle (DESIGN.md)."""

    CALL_STARTED = "CALL_STARTED"
    IVR_INPUT = "IVR_INPUT"
    IVR_EXIT = "IVR_EXIT"
    ENTER_QUEUE = "ENTER_QUEUE"
    OFFERED = "OFFERED"
    RING_NO_ANSWER = "RING_NO_ANSWER"
    CONNECTED = "CONNECTED"
    HOLD = "HOLD"
    UNHOLD = "UNHOLD"
    TRANSFERRED = "TRANSFERRED"
    ESCALATED = "ESCALATED"
    COMPLETED_BY_CALLER = "COMPLETED_BY_CALLER"
    COMPLETED_BY_OPERATOR = "COMPLETED_BY_OPERATOR"
    ABANDONED = "ABANDONED"
    EXIT_TIMEOUT = "EXIT_TIMEOUT"
    EXIT_EMPTY = "EXIT_EMPTY"
    CALLBACK_REQUESTED = "CALLBACK_REQUESTED"
    CALLBACK_DIALLED = "CALLBACK_DIALLED"
    VOICEMAIL = "VOICEMAIL"
    WRAPUP_DONE = "WRAPUP_DONE"
    SURVEY_ANSWERED = "SURVEY_ANSWERED"
    RECORDING = "RECORDING"
    CALL_ENDED = "CALL_ENDED"
    DATA_PURGED = "DATA_PURGED"  # the retention period passed: the call's personal data and recordings erased
    # Operator events carry no call (call_id is empty) but share the journal.
    OPERATOR_STATE = "OPERATOR_STATE"


class MalformedEventError(ValueError):
    """A journal entry that cannot be read as a call event."""


@dataclass(frozen=True)
class CallEvent:
    """One immutable fact about a call or an operator, at time ``ts`` (epoch seconds)."""

    id: str
    type: EventType
    ts: float
    call_id: str = ""
    channel: str = ""
    queue: str = ""
    operator: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_fields(self) -> dict[str, str]:
        """The flat string map written to the Redis stream."""
        return {
            "id": self.id,
            "type": self.type.value,
            "ts": repr(self.ts),
            "call_id": self.call_id,
            "channel": self.channel,
            "queue": self.queue,
            "operator": self.operator,
            "data": _compact_json(dict(self.data)),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> CallEvent:
        """Parse a stream entry; raises MalformedEventError naming what is wrong."""
        try:
            raw_data = fields.get("data") or "{}"
            data = json.loads(raw_data)
            if not isinstance(data, dict):
                raise MalformedEventError(f"data is not a JSON object: {raw_data[:80]!r}")
            return cls(
                id=_required(fields, "id"),
                type=EventType(_required(fields, "type")),
                ts=float(_required(fields, "ts")),
                call_id=fields.get("call_id", ""),
                channel=fields.get("channel", ""),
                queue=fields.get("queue", ""),
                operator=fields.get("operator", ""),
                data=data,
            )
        except (ValueError, TypeError) as exc:
            if isinstance(exc, MalformedEventError):
                raise
            raise MalformedEventError(f"bad journal entry {dict(fields)!r}: {exc}") from exc


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise MalformedEventError(f"journal entry lacks {name!r}")
    return value
