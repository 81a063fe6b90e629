"""Plain results of the ACD adapter (what the channels, the simulator and the dashboards consume)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EnqueueResult:
    """Where a call went: ``action`` is queued, overflow (into ``queue``), callback (queued as a callback to
    the caller's number: tell the caller and hang up), voicemail (not queued: record a message) or full (not
    queued: the queue holds ``max_waiting`` calls and its ``on_max_wait`` is hangup: apologise, hang up)."""

    position: int
    action: str
    queue: str


@dataclass(frozen=True)
class Offer:
    """An operator reserved (ringing) for a call. ``callback_number`` set: dial it once the operator accepts."""

    call_id: str
    operator: str
    queue: str
    callback_number: str | None
    channel: str
    caller: str
    language: str
    ring_all: bool
    waited: float
    priority: int

    @property
    def callback(self) -> bool:
        """The caller asked to be called back: the operator's accept is followed by dialling the number."""
        return self.callback_number is not None

    @classmethod
    def from_row(cls, row: list[Any]) -> Offer:
        """Build from the flat row the offer script returns."""
        call_id, operator, queue, number, channel, caller, language, ring_all, waited, priority = row
        return cls(
            call_id=call_id,
            operator=operator,
            queue=queue,
            callback_number=number or None,
            channel=channel,
            caller=caller,
            language=language,
            ring_all=bool(int(ring_all)),
            waited=float(waited),
            priority=int(priority),
        )


@dataclass(frozen=True)
class Position:
    """A call's place in its queue (0 when it is not waiting) and the estimated wait in seconds (None:
    unknown because nobody is working the queue)."""

    position: int
    estimated_wait: float | None
    state: str
    queue: str


@dataclass(frozen=True)
class TickAction:
    """One deadline handled by ``tick``: kind is ring_timeout, wrap_up_expired or max_wait (with the
    queue's ``action``: overflow, voicemail, callback or hangup, which the channel must carry out)."""

    kind: str
    call_id: str
    operator: str
    queue: str
    action: str
