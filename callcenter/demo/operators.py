"""Simulated operators: they log in through the ACD, finish wrap-up with a disposition on the call's ticket, take
breaks and come back. Ringing and talking are the virtual Twilio's part (the operator's leg of a Dial).

Every ``check`` reads the ACD's snapshot and moves each simulated operator on from the state it is in, so the
demo also recovers from what it did not cause (a break for missed calls, a Redis rebuild that logged
everybody out).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from callcenter.bootstrap import Container
from callcenter.demo.profile import DemoProfile
from callcenter.domain.access import Principal
from callcenter.domain.operator import AcdError
from callcenter.tickets import TicketService

logger = logging.getLogger(__name__)

BREAK_REASONS = ("coffee", "personal", "training")
BREAK_AFTER_CALL = 0.08
BACK_OFFICE = "back_office"  # the break that makes room for the console's operator
ESCALATED = "escalated"  # the demo hotline's disposition that hands the ticket to second level


class SimulatedOperators:
    """The demo's team (every ACD operator except the human's)."""

    def __init__(
        self,
        container: Container,
        names: list[str],
        profile: DemoProfile,
        rng: random.Random,
        poke: Callable[[], None],
        humans: list[str] | None = None,
    ):
        self.c, self.names, self.profile, self.rng, self.poke = container, names, profile, rng, poke
        self.humans = humans or []
        self.seeds = {op.username: op for op in container.hotline.operators if op.username in names}
        self.tickets = TicketService(container.sessions, container.hotline, container.clock)
        self._due: dict[str, float] = {}  # when the operator leaves wrap-up or break
        self._last_check = container.clock()

    def check(self) -> None:
        """Move every simulated operator on from its current state."""
        now = self.c.clock()
        elapsed, self._last_check = now - self._last_check, now
        operators = self.c.acd.snapshot(now)["operators"]
        changed = self._make_room(operators, now)
        for name in self.names:
            row = operators.get(name) or {"state": "offline"}
            changed |= self._step(name, row, now, elapsed)
        if changed:
            self.poke()

    def _make_room(self, operators: dict[str, dict[str, Any]], now: float) -> bool:
        """The console's operator has waited for a call a while: those idle longer step away briefly, so that
        the ACD's longest-idle order gives the next call to the person trying the demo."""
        rows = [operators[name] for name in self.humans if name in operators]
        since = [float(row["since"] or now) for row in rows if row["state"] == "available"]
        waiting = [t for t in since if now - t > self.profile.human_wait_seconds]
        if not waiting:
            return False
        oldest, moved = min(waiting), False
        for name in self.names:
            row = operators.get(name)
            if row and row["state"] == "available" and float(row["since"] or now) <= oldest:
                if self._set(name, "break", now, reason=BACK_OFFICE):
                    self._due[name] = now + self.rng.uniform(*self.profile.make_room_seconds)
                    moved = True
        return moved

    def _step(self, name: str, row: dict[str, object], now: float, elapsed: float) -> bool:
        state = row["state"]
        if state == "offline":
            self.c.acd.login(name, now)
            return True
        if state in ("wrap_up", "break"):
            return self._when_due(name, str(state), row, now)
        self._due.pop(name, None)
        if state == "available" and self.rng.random() < self.profile.break_per_hour * elapsed / 3600:
            return self._take_break(name, now)
        return False

    def _when_due(self, name: str, state: str, row: dict[str, object], now: float) -> bool:
        due = self._due.get(name)
        if due is None:
            span = self.profile.wrap_up_seconds if state == "wrap_up" else self.profile.break_seconds
            self._due[name] = now + self.rng.uniform(*span)
            return False
        if now < due:
            return False
        del self._due[name]
        if state == "wrap_up":
            return self._finish_wrap_up(name, str(row.get("call") or ""), now)
        return self._set(name, "available", now)

    def _finish_wrap_up(self, name: str, call_id: str, now: float) -> bool:
        if call_id:
            self._dispose(name, call_id)
        try:
            self.c.acd.wrap_up_done(name, now)
        except AcdError:
            return False  # the queue's wrap-up time ended first
        if self.rng.random() < BREAK_AFTER_CALL:
            self._take_break(name, now)
        return True

    def _take_break(self, name: str, now: float) -> bool:
        return self._set(name, "break", now, reason=self.rng.choice(BREAK_REASONS))

    def _set(self, name: str, state: str, now: float, reason: str | None = None) -> bool:
        try:
            self.c.acd.set_state(name, state, now, reason=reason)
        except AcdError as exc:
            logger.debug("demo: %s cannot go %s: %s", name, state, exc)
            return False
        self._due.pop(name, None)
        return True

    def _dispose(self, name: str, call_id: str) -> None:
        """The after-call work: a disposition on the call's ticket, resolved when the disposition resolves."""
        seed = self.seeds.get(name)
        who = Principal(name, "operator", seed.team if seed else "", tuple(seed.queues) if seed else ())
        dispositions = self.c.hotline.tickets.dispositions
        if not dispositions:
            return
        try:
            ticket = self.tickets.for_call(who, call_id)
            if ticket is None or ticket.disposition:
                return
            weights = [4.0 if d.resolves else 0.5 for d in dispositions]
            chosen = self.rng.choices(dispositions, weights)[0]
            self.tickets.set_disposition(who, ticket.id, chosen.code)
            if chosen.resolves:
                self.tickets.resolve(who, ticket.id)
            elif chosen.code == ESCALATED:
                self.tickets.escalate(who, ticket.id, "demo: needs second-level support")
        except Exception as exc:  # the ticket may not be in SQL yet, or the database is away: skip the paperwork
            logger.info("demo: %s left the ticket of call %s as it was (%s)", name, call_id, exc)

    def log_out(self) -> None:
        """At the end of the demo: every simulated operator who is free to goes offline."""
        now = self.c.clock()
        for name in self.names:
            try:
                self.c.acd.logout(name, now)
            except AcdError:
                pass
