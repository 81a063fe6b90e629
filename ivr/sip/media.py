"""The caller's side of a call as the session drives it: one frame out, one frame in, every 20 ms.

Everything a session does (prompts, hold music, listening for digits, relaying to the operator) happens on
that fixed schedule in the session's own thread, so timeouts are counted in frames and the unit tests run a
call in milliseconds with a fake sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ivr.sip.audio import FRAME_MS, SILENCE, frames
from ivr.sip.ports import Leg, LegState

Clock = Callable[[], float]
Sleep = Callable[[float], None]
FRAMES_PER_WAKE = 2


class CallerHungUpError(Exception):
    """The caller's leg ended (BYE, or it never got answered)."""


class Pacer:
    """Fixed 20 ms schedule: the next tick is due 20 ms after the previous one was *due*, not after it
    ended, so work does not make the stream drift; after a stall of over 100 ms it resynchronises.

    It sleeps once every ``batch`` ticks, so a session's thread wakes every 40 ms and runs two frames, the
    first one 20 ms ahead of its time (it waits in the stream's send buffer, which holds ~100 ms). Waking a
    thread costs more than the frame's work: with 100 calls, halving the wake-ups saves more CPU than
    anything else in the session, for 20 ms of added delay each way.
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        period: float = FRAME_MS / 1000,
        batch: int = FRAMES_PER_WAKE,
    ):
        self.clock, self.sleep, self.period, self.batch = clock, sleep, period, batch
        self.due = clock()
        self.ticks = 0

    def wait(self) -> None:
        self.due += self.period
        self.ticks += 1
        delay = self.due - self.clock()
        if delay < -0.1:
            self.due = self.clock()
        elif delay > 0 and self.ticks % self.batch == 0:
            self.sleep(delay)


def ticks(seconds: float) -> int:
    """How many 20 ms frames make ``seconds``."""
    return max(1, round(seconds * 1000 / FRAME_MS))


class CallerAudio:
    """The caller leg on the 20 ms schedule; digits accumulate in ``digits`` until taken."""

    def __init__(self, leg: Leg, pacer: Pacer):
        self.leg = leg
        self.pacer = pacer
        self.digits = ""

    def tick(self, frame: bytes = SILENCE) -> bytes:
        """Send one frame, wait for the schedule, return the frame received; raises when the caller left."""
        self.leg.write_frame(frame)
        self.pacer.wait()
        received = self.leg.read_frame()
        self.digits += self.leg.take_dtmf()
        if self.leg.state is LegState.ENDED:
            raise CallerHungUpError(self.leg.sip_call_id)
        return received

    def play(self, audio: bytes, interruptible: bool = False) -> bool:
        """Play ``audio``; with ``interruptible`` a key press stops it. True when it played to the end."""
        for frame in frames(audio):
            if interruptible and self.digits:
                return False
            self.tick(frame)
        return True

    def pause(self, seconds: float) -> None:
        for _ in range(ticks(seconds)):
            self.tick()

    def take_digits(self, count: int) -> str:
        """Up to ``count`` digits (stopping at '#', which is consumed); the rest stay for the next question."""
        taken = ""
        while self.digits and len(taken) < count:
            digit, self.digits = self.digits[0], self.digits[1:]
            if digit == "#":
                break
            taken += digit
        return taken

    def collect(self, count: int, timeout: float, inter_digit: float = 3.0) -> str:
        """Wait for ``count`` digits (or '#'): ``timeout`` for the first, ``inter_digit`` between digits."""
        waited, budget = 0, ticks(timeout)
        seen = len(self.digits)
        while not self._complete(count) and waited < budget:
            self.tick()
            waited += 1
            if len(self.digits) != seen:
                seen, waited, budget = len(self.digits), 0, ticks(inter_digit)
        return self.take_digits(count)

    def _complete(self, count: int) -> bool:
        return len(self.digits) >= count or "#" in self.digits
