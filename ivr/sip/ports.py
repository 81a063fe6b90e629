"""The small interface the call logic sees instead of pyVoIP: a phone that dials, and call legs.

``ivr.sip.phone`` implements it on pyVoIP; the unit tests implement it with in-memory fakes, so the whole call
logic (IVR, queue, bridge, survey) runs without a network.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol


class LegState(StrEnum):
    """Where a leg is: an incoming call RINGING, an outgoing one DIALING, then ANSWERED, then ENDED."""

    RINGING = "ringing"
    DIALING = "dialing"
    ANSWERED = "answered"
    ENDED = "ended"


class DialError(RuntimeError):
    """The operator leg could not be placed (no answer to the INVITE, the phone is down)."""


class Leg(Protocol):
    """One SIP call leg carrying 8 kHz 8-bit unsigned audio in 20 ms frames."""

    @property
    def sip_call_id(self) -> str: ...

    @property
    def remote(self) -> str: ...

    @property
    def remote_name(self) -> str: ...

    @property
    def local(self) -> str: ...

    @property
    def state(self) -> LegState: ...

    @property
    def final_status(self) -> int | None:
        """The SIP status that ended an unanswered outgoing leg (486 busy, 480, 603...), if any."""
        ...

    def answer(self) -> bool:
        """Answer a ringing incoming leg; False when the caller has cancelled meanwhile."""
        ...

    def hangup(self) -> None:
        """End the leg whatever its state (BYE, 486 or CANCEL); idempotent."""
        ...

    def read_frame(self) -> bytes:
        """The next 20 ms received (silence when nothing came); never blocks."""
        ...

    def write_frame(self, frame: bytes) -> None:
        """Queue 20 ms to send; beyond ~100 ms queued the oldest audio is dropped."""
        ...

    def take_dtmf(self) -> str:
        """Digits received since the last call (RFC 2833), oldest first."""
        ...


IncomingHandler = Callable[[Leg], None]


class Phone(Protocol):
    """A registered SIP account: answers calls through ``on_incoming`` and places operator legs."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def healthy(self) -> bool:
        """False once the account failed (registration lost, a wedged transaction): restart it."""
        ...

    def dial(self, uri: str) -> Leg:
        """Place a call to ``uri`` through the registrar/proxy; returns a DIALING (or ended) leg."""
        ...
