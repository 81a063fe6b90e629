"""Ringing an operator's SIP softphone for a waiting caller, and relaying audio once they answer.

The dial runs in its own thread (``phone.call`` blocks up to a few seconds) while the caller keeps hearing
hold music; the session polls the attempt every 20 ms.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

from ivr.sip.media import CallerAudio
from ivr.sip.ports import DialError, Leg, LegState, Phone

logger = logging.getLogger(__name__)

BUSY_STATUSES = (486, 600)


class Ring(StrEnum):
    """How a ring of an operator is going (or went)."""

    RINGING = "ringing"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"


class OperatorAttempt:
    """One ring of one operator: dial, wait up to ``ring_timeout`` seconds, then answered or why not."""

    def __init__(self, phone: Phone, uri: str, ring_timeout: float, clock: Callable[[], float]):
        self.uri = uri
        self.leg: Leg | None = None
        self.error: str | None = None
        self._phone, self._ring_timeout, self._clock = phone, ring_timeout, clock
        self._started = clock()
        self._cancelled = threading.Event()
        self._dialled = threading.Event()
        self._thread = threading.Thread(target=self._dial, name=f"sip-ring-{uri}", daemon=True)
        self._thread.start()

    def _dial(self) -> None:
        try:
            self.leg = self._phone.dial(self.uri)
        except DialError as exc:
            self.error = str(exc)
        except Exception as exc:  # a pyVoIP surprise is a failed ring, not a dead gateway
            logger.exception("dialling %s failed", self.uri)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._dialled.set()
            if self._cancelled.is_set() and self.leg is not None:
                self.leg.hangup()

    def poll(self) -> Ring:
        """The ring's state now; NO_ANSWER once the ring timeout has passed (the caller then cancels)."""
        if self.error is not None:
            return Ring.FAILED
        leg = self.leg
        if leg is not None and leg.state is LegState.ANSWERED:
            return Ring.ANSWERED
        if leg is not None and leg.state is LegState.ENDED:
            return Ring.BUSY if leg.final_status in BUSY_STATUSES else Ring.FAILED
        if self._clock() - self._started >= self._ring_timeout:
            return Ring.NO_ANSWER
        return Ring.RINGING

    def cancel(self) -> None:
        """Stop ringing (or hang up, if the operator answered just now)."""
        self._cancelled.set()
        if self.leg is not None:
            self.leg.hangup()

    @property
    def leg_sid(self) -> str:
        return self.leg.sip_call_id if self.leg is not None else ""


def bridge(caller: CallerAudio, operator: Leg) -> str:
    """Relay audio both ways on the caller's 20 ms schedule until one side hangs up: returns "operator"
    (the caller stays for the survey) or raises CallerHungUpError. Queued audio never exceeds ~100 ms per
    direction (bounded send buffers), so a stalled side costs dropped frames, not growing delay."""
    while True:
        received = caller.tick(operator.read_frame())
        operator.write_frame(received)
        caller.digits = ""  # keys pressed while talking belong to the conversation, not the survey
        if operator.state is LegState.ENDED:
            return "operator"
