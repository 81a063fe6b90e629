"""Recovery: the live state rebuilt from the records after Redis lost its data, and calls ended by their legs.

Redis without persistence (or a failover to an empty replica) forgets waiting callers, operator states and the
journal entries not yet in SQL. SQL still holds the call events written so far and the call legs Twilio
reported, so :meth:`RecoveryService.rebuild` restores, in this order:

1. the ACD's configuration (queues, membership, skills) from the hotline file;
2. conversations in progress: the operator is logged in to the call's queue and the call connected to them
   again (events journalled with ``data.recovered``), so a hang-up later finds its call and the operator is not
   offered a second one;
3. every other operator's last announced state (available, or break with its reason; wrap-up and ringing
   become available, offline stays offline);
4. waiting callers, at the time they first entered the queue (so they keep their place and their max wait),
   and pending callbacks.

Calls whose caller leg has ended (SQL leg, or the channel says so) are not restored but ended: ``CALL_ENDED``
with ``data.reason = "channel_ended"`` at the leg's end. What cannot be recovered: events the journal held but
had not written to SQL yet (at most one consumer batch on a healthy system), IVR positions (the caller's next
request falls back to the number's fallback URL, which queues them), a call that was ringing an operator (it
is re-queued at its place), wrap-up timers (the operator is available at once).

:meth:`RecoveryService.end_finished_calls` is also run periodically by the watchdog: a call whose channel
ended without us hearing of it (a lost status callback) is ended from its leg, so every call gets an end.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.operator import AcdError
from callcenter.storage.models import Call, CallEventRecord, CallLeg
from queueing.acd import Acd
from queueing.journal import RedisJournal
from queueing.keys import Keys

logger = logging.getLogger(__name__)

E = EventType
FINAL_LEG = ("completed", "busy", "failed", "no-answer", "canceled")
MAX_AGE_SECONDS = 4 * 3600
_NS = uuid.UUID("0d3f4c1e-5b7a-4f0e-8c2d-9a6b1e7f3c55")


class CallProbe(Protocol):
    """The channel's view of a call: True live, False ended, None unknown (e.g. Twilio ``calls(sid).fetch()``)."""

    def is_live(self, call_id: str) -> bool | None: ...


@dataclass
class OpenCall:
    """A call SQL has not seen end, with its events in time order."""

    call_id: str
    events: list[CallEvent]
    leg_ended_at: float | None

    def last(self, *types: EventType) -> CallEvent | None:
        return next((e for e in reversed(self.events) if e.type in types), None)

    @property
    def state(self) -> str:
        """``connected``, ``callback``, ``waiting`` or ``other`` (in the IVR, or done with the queue)."""
        entered = self.last(E.ENTER_QUEUE)
        after = [e for e in self.events if entered and e.ts >= entered.ts and e is not entered]
        if entered is None or any(e.type in _LEFT_QUEUE for e in after):
            return "other"
        if any(e.type is E.CONNECTED for e in after):
            return "connected"
        if any(e.type is E.CALLBACK_REQUESTED for e in after) or entered.data.get("callback"):
            return "callback"
        return "waiting"


_LEFT_QUEUE = (E.ABANDONED, E.EXIT_TIMEOUT, E.EXIT_EMPTY, E.VOICEMAIL, E.COMPLETED_BY_CALLER,
               E.COMPLETED_BY_OPERATOR, E.CALLBACK_DIALLED, E.IVR_EXIT, E.CALL_ENDED)  # fmt: skip


@dataclass
class RecoveryReport:
    connected: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    operators: dict[str, str] = field(default_factory=dict)


class RecoveryService:
    """Rebuilds the ACD from SQL after Redis lost its data; ends calls whose channel has ended."""

    def __init__(
        self,
        acd: Acd,
        client: redis.Redis,
        keys: Keys,
        sessions: sessionmaker[Session],
        journal: RedisJournal,
        probe: CallProbe | None = None,
        max_age_seconds: float = MAX_AGE_SECONDS,
    ):
        self.acd, self.redis, self.keys, self.sessions, self.journal = acd, client, keys, sessions, journal
        self.probe, self.max_age = probe, max_age_seconds

    @property
    def mark_key(self) -> str:
        """Set after every rebuild: its absence means this Redis has lost (or never had) our live state."""
        return self.keys.recovery_mark

    def needed(self) -> bool:
        """True when Redis holds no live state of ours (a restart without persistence, or a first start)."""
        return not self.redis.exists(self.mark_key)

    def rebuild(self, now: float) -> RecoveryReport:
        """Restore configuration, conversations, operator states and waiting callers from SQL (see module doc)."""
        report = RecoveryReport()
        self.acd.sync_config(now)
        calls = self._open_calls(now)
        live = [c for c in calls if not self._end_if_finished(c, now, report)]
        for call in (c for c in live if c.state == "connected"):
            self._reconnect(call, now, report)
        self._restore_operators(now, report)
        for call in sorted((c for c in live if c.state in ("waiting", "callback")), key=_first_entered):
            self._requeue(call, now, report)
        self.redis.set(self.mark_key, repr(now))
        logger.warning(
            "recovery after Redis lost its state: %d connected, %d re-queued, %d callbacks, %d ended, operators %s",
            len(report.connected), len(report.requeued), len(report.callbacks), len(report.ended), report.operators,
        )  # fmt: skip
        return report

    def end_finished_calls(self, now: float, grace_seconds: float = 0.0) -> list[str]:
        """End (``CALL_ENDED``) the open calls whose caller leg ended on the channel over ``grace_seconds`` ago.

        The grace leaves the channel's own events time to reach SQL first (the usual way a call ends).
        """
        since = dt.datetime.fromtimestamp(now - self.max_age, dt.UTC)
        cutoff = dt.datetime.fromtimestamp(now - grace_seconds, dt.UTC)
        query = (  # one query per sweep: only open calls whose own (caller) leg has ended
            select(Call.id, Call.channel, CallLeg.ended_at)
            .join(CallLeg, CallLeg.leg_sid == Call.id)
            .where(Call.ended_at.is_(None), Call.started_at >= since, CallLeg.status.in_(FINAL_LEG))
            .where(CallLeg.ended_at.is_not(None), CallLeg.ended_at <= cutoff)
        )
        report = RecoveryReport()
        with self.sessions() as session:
            rows = session.execute(query).all()
        for call_id, channel, ended_at in rows:
            if ended_at is None:
                continue
            first = [CallEvent(id="", type=E.CALL_STARTED, ts=0.0, call_id=call_id, channel=channel)]
            self._end_if_finished(OpenCall(call_id, first, _epoch(ended_at)), now, report, probe=False)
        return report.ended

    # -- calls ---------------------------------------------------------------------------------------------
    def _open_calls(self, now: float) -> list[OpenCall]:
        since = dt.datetime.fromtimestamp(now - self.max_age, dt.UTC)
        with self.sessions() as session:
            ids = list(session.scalars(select(Call.id).where(Call.ended_at.is_(None), Call.started_at >= since)))
            return [OpenCall(i, self._events(session, i), self._leg_end(session, i)) for i in ids]

    def _events(self, session: Session, call_id: str) -> list[CallEvent]:
        rows = session.scalars(select(CallEventRecord).where(CallEventRecord.call_id == call_id))
        events = [
            CallEvent(
                id=r.event_id,
                type=E(r.type),
                ts=_epoch(r.ts),
                call_id=r.call_id,
                channel=r.channel,
                queue=r.queue,
                operator=r.operator,
                data=r.data or {},
            )  # fmt: skip
            for r in rows
        ]
        return sorted(events, key=lambda e: e.ts)

    def _leg_end(self, session: Session, call_id: str) -> float | None:
        legs = session.scalars(
            select(CallLeg).where(CallLeg.call_id == call_id, CallLeg.leg_sid == call_id, CallLeg.status.in_(FINAL_LEG))
        ).all()
        ended = [leg.ended_at for leg in legs if leg.ended_at is not None]
        return _epoch(ended[0]) if ended else None

    def _end_if_finished(self, call: OpenCall, now: float, report: RecoveryReport, probe: bool = True) -> bool:
        ended_at = call.leg_ended_at
        if ended_at is None and probe and self.probe is not None and self.probe.is_live(call.call_id) is False:
            ended_at = now
        if ended_at is None:
            return False
        first = call.events[0] if call.events else None
        self.journal.append(
            CallEvent(
                id=uuid.uuid5(_NS, f"{call.call_id}|ended").hex,
                type=E.CALL_ENDED,
                ts=ended_at,
                call_id=call.call_id,
                channel=first.channel if first else "",
                data={"reason": "channel_ended", "by": "recovery"},
            )  # fmt: skip
        )
        self._forget(call.call_id, now)
        report.ended.append(call.call_id)
        return True

    def _forget(self, call_id: str, now: float) -> None:
        """The ACD may still hold the call (a lost hang-up): end it there too, so its operator is freed."""
        try:
            self.acd.hangup(call_id, now, by="caller")
        except AcdError:
            pass

    def _reconnect(self, call: OpenCall, now: float, report: RecoveryReport) -> None:
        connected = call.last(E.CONNECTED)
        assert connected is not None
        operator, queue = connected.operator, connected.queue or _queue(call)
        try:
            self.acd.login(operator, now, queues=[queue])
            self._enqueue(call, queue, now)
            offers = [o for o in self.acd.offer(now, queue=queue) if o.call_id == call.call_id]
            if not offers or offers[0].operator != operator:
                raise AcdError(f"{call.call_id} was not offered back to {operator}")
            self.acd.accept(call.call_id, operator, now)
            report.connected.append(call.call_id)
            report.operators[operator] = "on_call"
        except AcdError as exc:
            logger.error("call %s: conversation with %s not restored: %s", call.call_id, operator, exc)

    def _requeue(self, call: OpenCall, now: float, report: RecoveryReport) -> None:
        queue = _queue(call)
        try:
            self._enqueue(call, queue, _first_entered(call))
            if call.state == "callback":
                number = _data(call, "number") or _data(call, "caller") or _data(call, "from")
                self.acd.request_callback(call.call_id, number, now)
                report.callbacks.append(call.call_id)
            else:
                report.requeued.append(call.call_id)
        except AcdError as exc:
            logger.error("call %s: not re-queued in %s: %s", call.call_id, queue, exc)

    def _enqueue(self, call: OpenCall, queue: str, at: float) -> None:
        entered = call.last(E.ENTER_QUEUE)
        data = dict(entered.data) if entered else {}
        self.acd.enqueue(
            call.call_id,
            queue,
            at,
            priority=int(data.get("priority") or 0),
            channel=entered.channel if entered else "",
            caller=str(data.get("caller") or _data(call, "from")),
            language=str(data.get("language") or ""),
            data={"recovered": True},
        )

    # -- operators -----------------------------------------------------------------------------------------
    def _restore_operators(self, now: float, report: RecoveryReport) -> None:
        for operator, (state, reason) in self._last_operator_states(now).items():
            if operator in report.operators or state == "offline":
                continue
            try:
                self.acd.login(operator, now)
                if state == "break":
                    self.acd.set_state(operator, "break", now, reason or "recovered")
                report.operators[operator] = "break" if state == "break" else "available"
            except AcdError as exc:
                logger.error("operator %s: state %s not restored: %s", operator, state, exc)

    def _last_operator_states(self, now: float) -> dict[str, tuple[str, str]]:
        since = dt.datetime.fromtimestamp(now - self.max_age, dt.UTC)
        query = (
            select(CallEventRecord.operator, CallEventRecord.data)
            .where(CallEventRecord.type == E.OPERATOR_STATE.value, CallEventRecord.ts >= since)
            .order_by(CallEventRecord.ts, CallEventRecord.id)
        )
        states: dict[str, tuple[str, str]] = {}
        with self.sessions() as session:
            for operator, data in session.execute(query):
                states[operator] = (str((data or {}).get("to", "")), str((data or {}).get("reason") or ""))
        return states


def _first_entered(call: OpenCall) -> float:
    first = next((e for e in call.events if e.type is E.ENTER_QUEUE), None)
    return first.ts if first else call.events[0].ts


def _queue(call: OpenCall) -> str:
    entered = call.last(E.ENTER_QUEUE)
    return entered.queue if entered else ""


def _data(call: OpenCall, key: str) -> str:
    return next((str(e.data[key]) for e in reversed(call.events) if e.data.get(key)), "")


def _epoch(value: dt.datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


def recovery_for(container: Any, probe: CallProbe | None = None) -> RecoveryService:
    """The recovery service of a bootstrap container."""
    c = container
    return RecoveryService(c.acd, c.redis.live, c.keys, c.sessions, c.journal, probe)
