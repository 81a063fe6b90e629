"""The watchdog: heals stuck states the ACD's own timers cannot see, and notices that Redis lost its data.

The ACD's ``tick`` (run by each channel's dispatcher) already returns operators ringing past the ring timeout
(RONA) and in wrap-up past its time, and ends waits past max wait; those need no watchdog. What remains:

* Redis came back empty (no persistence, failover to an empty replica): :class:`RecoveryService` rebuilds.
* An operator ``on_call`` for a call that ended on the channel while we missed the hang-up (a lost webhook):
  the channel is asked (:class:`CallProbe`, e.g. Twilio's ``calls(sid).fetch()``) and the call hung up in the
  ACD (operator to wrap-up, ``COMPLETED_BY_CALLER``), with ``CALL_ENDED`` ``reason=reconciled`` in the record.
* A call whose caller leg ended but whose record never did: ended from the leg (``CALL_ENDED``).

One sweep at a time per hotline (a Redis lock), so any number of workers may run the loop.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.operator import AcdError
from callcenter.recovery import CallProbe, RecoveryReport, RecoveryService
from queueing.acd import Acd
from queueing.journal import RedisJournal
from queueing.keys import Keys

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0
LEG_GRACE_SECONDS = 60.0
_NS = uuid.UUID("8a0b9f55-0f59-4c0a-b1a7-3c2f6f1e4d21")


@dataclass
class SweepReport:
    rebuilt: RecoveryReport | None = None
    reconciled: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)


class Watchdog:
    """One sweep heals what can be healed now; :meth:`run` sweeps every few seconds until stopped."""

    def __init__(
        self,
        acd: Acd,
        client: redis.Redis,
        keys: Keys,
        journal: RedisJournal,
        recovery: RecoveryService,
        probe: CallProbe | None = None,
        after_rebuild: Callable[[], None] | None = None,
    ):
        self.acd, self.redis, self.keys, self.journal = acd, client, keys, journal
        self.recovery, self.probe, self.after_rebuild = recovery, probe, after_rebuild

    @property
    def lock_key(self) -> str:
        return self.keys.watchdog_lock

    def sweep(self, now: float) -> SweepReport | None:
        """Rebuild if Redis lost its state, reconcile operators on call, end calls whose leg ended.

        None when another process holds the sweep lock.
        """
        token = uuid.uuid4().hex
        if not self.redis.set(self.lock_key, token, nx=True, ex=120):
            return None
        try:
            report = SweepReport()
            if self.recovery.needed():
                report.rebuilt = self.recovery.rebuild(now)
                if self.after_rebuild is not None:
                    self.after_rebuild()
            report.reconciled = self.reconcile_operators(now)
            report.ended = self.recovery.end_finished_calls(now, grace_seconds=LEG_GRACE_SECONDS)
            return report
        finally:
            if self.redis.get(self.lock_key) == token:
                self.redis.delete(self.lock_key)

    def reconcile_operators(self, now: float) -> list[str]:
        """Operators on call for a call the channel says has ended are hung up (a lost hang-up webhook)."""
        if self.probe is None:
            return []
        healed = []
        for operator, row in self.acd.snapshot(now)["operators"].items():
            call = row.get("call")
            if row.get("state") != "on_call" or not call or self.probe.is_live(call) is not False:
                continue
            try:
                self.acd.hangup(call, now, by="caller")
            except AcdError as exc:
                logger.warning("call %s: operator %s not reconciled: %s", call, operator, exc)
                continue
            self.journal.append(
                CallEvent(
                    id=uuid.uuid5(_NS, f"{call}|reconciled").hex,
                    type=EventType.CALL_ENDED,
                    ts=now,
                    call_id=call,
                    operator=operator,
                    data={"reason": "reconciled", "by": "watchdog"},
                )  # fmt: skip
            )
            logger.warning("call %s ended on the channel without a hang-up reaching us; %s freed", call, operator)
            healed.append(call)
        return healed

    def run(self, stop: threading.Event, clock: Callable[[], float], every: float = SWEEP_SECONDS) -> None:
        """Sweep at once, then every ``every`` seconds until ``stop`` is set; a failing sweep is retried."""
        while True:
            try:
                self.sweep(clock())
            except Exception:
                logger.exception("watchdog sweep failed; retrying in %.0f s", every)
            if stop.wait(every):
                return


def build_watchdog(container: Any, probe: CallProbe | None = None) -> Watchdog:
    """The watchdog of a bootstrap container; Twilio calls are probed by REST when an account is configured."""
    if probe is None and container.settings.twilio.account_sid:
        from webhooks.call_probe import TwilioCallProbe  # the channel adapter, only where Twilio is used

        probe = TwilioCallProbe(container.settings.twilio)
    recovery = RecoveryService(
        container.acd, container.redis.live, container.keys, container.sessions, container.journal, probe
    )
    after_rebuild = None
    if container.settings.twilio.account_sid:  # callers Twilio holds that SQL did not know: TWILIO.md step 5

        def after_rebuild() -> None:
            container.jobs.enqueue("webhooks.jobs.reconcile_queue_members", container.keys.tag)

    return Watchdog(container.acd, container.redis.live, container.keys, container.journal, recovery, probe,
                    after_rebuild)  # fmt: skip
