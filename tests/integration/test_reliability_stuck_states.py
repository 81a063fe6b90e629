"""Stuck states are healed: by the ACD's own deadlines (``tick``), by the Twilio dispatcher when a caller's
channel vanished, and by the watchdog's reconciliation when a hang-up never reached us. Each is journalled."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from callcenter.bootstrap import Container
from callcenter.domain.events import CallEvent, EventType
from callcenter.storage.models import Call, CallLeg
from callcenter.watchdog import build_watchdog
from tests.support.events import event
from webhooks.channel import TwilioChannel
from webhooks.dispatcher import Dispatcher

T0 = 1_800_000_000.0
RING, WRAP = 20, 30  # the demo hotline's general queue


def journal(c: Container) -> list[CallEvent]:
    entries: list[tuple[str, dict[str, str]]] = c.redis.live.xrange(c.keys.journal)  # type: ignore[assignment]
    return [CallEvent.from_fields(f) for _id, f in entries]


def state(c: Container, operator: str, now: float) -> dict[str, Any]:
    return dict(c.acd.snapshot(now)["operators"][operator])


def answered(c: Container, call: str, now: float) -> str:
    """A call answered by the only operator logged in (anna); returns her name."""
    c.acd.enqueue(call, "general", now, channel="twilio", caller="+36301")
    offer = c.acd.offer(now)[0]
    c.acd.accept(call, offer.operator, now + 1)
    return offer.operator


@pytest.fixture
def c(container: Container) -> Container:
    container.acd.sync_config(T0)
    container.acd.login("anna", T0)
    return container


def test_operator_ringing_past_the_ring_timeout_is_available_again_and_it_is_journalled(c: Container) -> None:
    c.acd.enqueue("CA1", "general", T0 + 1, channel="twilio")
    assert [o.operator for o in c.acd.offer(T0 + 2)] == ["anna"]
    assert c.acd.tick(T0 + 2 + RING - 1) == []  # not yet
    actions = c.acd.tick(T0 + 2 + RING + 1)
    assert [(a.kind, a.call_id, a.operator) for a in actions] == [("ring_timeout", "CA1", "anna")]
    assert state(c, "anna", T0 + 30)["state"] == "available"
    assert c.acd.position("CA1", T0 + 30).state == "waiting"  # the caller keeps the place
    assert "RING_NO_ANSWER" in [e.type.value for e in journal(c) if e.call_id == "CA1"]


def test_operator_in_wrap_up_past_its_time_is_available_again_and_it_is_journalled(c: Container) -> None:
    answered(c, "CA2", T0)
    c.acd.hangup("CA2", T0 + 60, by="operator")
    assert state(c, "anna", T0 + 61)["state"] == "wrap_up"
    actions = c.acd.tick(T0 + 60 + WRAP + 1)
    assert [a.kind for a in actions] == ["wrap_up_expired"]
    assert state(c, "anna", T0 + 100)["state"] == "available"
    done = [e for e in journal(c) if e.type is EventType.WRAPUP_DONE]
    assert [(e.operator, e.call_id) for e in done] == [("anna", "CA2")]


class VanishedCaller:
    """Twilio's REST API for a caller who hung up unnoticed: every update of their call is refused (404)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _gone(self, kind: str, sid: str) -> None:
        self.calls.append((kind, sid))
        raise TwilioRestException(404, f"/Calls/{sid}", "The requested resource was not found", 20404)

    def push_to_bridge(self, queue_sid: str, call_sid: str, url: str) -> None:
        self._gone("push", call_sid)

    def redirect(self, call_sid: str, url: str) -> None:
        self._gone("redirect", call_sid)


def test_operator_is_not_left_ringing_for_a_caller_whose_channel_vanished(c: Container) -> None:
    rest = VanishedCaller()
    channel = TwilioChannel(c, rest=rest)  # type: ignore[arg-type]
    channel.store.create("CA3", {"kind": "caller", "from": "+36301", "queue_sid": "QU1"})
    c.acd.enqueue("CA3", "general", c.clock(), channel="twilio")
    Dispatcher(channel).run()
    assert rest.calls == [("push", "CA3"), ("redirect", "CA3")]
    assert state(c, "anna", c.clock())["state"] == "available"
    assert [e.type.value for e in journal(c) if e.call_id == "CA3"][-1] == "ABANDONED"


def test_caller_whose_channel_vanished_leaves_the_queue_at_max_wait(c: Container) -> None:
    rest = VanishedCaller()
    channel = TwilioChannel(c, rest=rest)  # type: ignore[arg-type]
    channel.store.create("CA4", {"kind": "caller"})
    now = c.clock()
    c.acd.enqueue("CA4", "general", now - 601, channel="twilio")  # waited past max wait (600 s)
    c.acd.set_state("anna", "break", now - 600, "meeting")  # nobody free meanwhile
    Dispatcher(channel).run()
    assert c.acd.snapshot(now)["queues"]["general"]["waiting"] == 0
    types = [e.type.value for e in journal(c) if e.call_id == "CA4"]
    assert types[-1] == "EXIT_TIMEOUT" and rest.calls == [("redirect", "CA4")]


class Probe:
    def __init__(self, ended: set[str]):
        self.ended, self.asked = ended, []  # type: ignore[var-annotated]

    def is_live(self, call_id: str) -> bool | None:
        self.asked.append(call_id)
        return call_id not in self.ended


def test_operator_on_call_for_a_call_ended_on_the_channel_is_freed_by_reconciliation(c: Container) -> None:
    now = c.clock()
    c.journal.append(event(EventType.CALL_STARTED, "CA5", now - 300, channel="twilio"))
    answered(c, "CA5", now - 200)
    watchdog = build_watchdog(c, probe=Probe(ended={"CA5"}))
    report = watchdog.sweep(now)
    assert report is not None and report.reconciled == ["CA5"]
    assert state(c, "anna", now)["state"] == "wrap_up"
    c.journal_writer.drain_all()
    with c.sessions() as session:
        call = session.get(Call, "CA5")
        assert call is not None and call.ended_at is not None and call.outcome == "answered"
    ended = [e for e in journal(c) if e.type is EventType.CALL_ENDED]
    assert ended == [] or ended[0].data["reason"] == "reconciled"  # drained already: the record proves it
    assert watchdog.sweep(now + 1).reconciled == []  # type: ignore[union-attr]


def test_operator_on_a_live_call_is_left_alone(c: Container) -> None:
    now = c.clock()
    answered(c, "CA6", now - 100)
    probe = Probe(ended=set())
    assert build_watchdog(c, probe=probe).sweep(now).reconciled == []  # type: ignore[union-attr]
    assert probe.asked == ["CA6"] and state(c, "anna", now)["state"] == "on_call"


def test_call_whose_caller_leg_ended_without_its_events_is_ended_from_the_leg(c: Container) -> None:
    now = c.clock()
    c.journal.append(event(EventType.CALL_STARTED, "CA7", now - 400, channel="twilio"))
    c.journal_writer.drain_all()
    with c.sessions.begin() as session:
        session.add(CallLeg(call_id="CA7", leg_sid="CA7", kind="caller", channel="twilio", status="completed",
                            status_seq=3, ended_at=dt.datetime.fromtimestamp(now - 30, dt.UTC)))  # fmt: skip
    watchdog = build_watchdog(c, probe=Probe(ended=set()))
    assert watchdog.sweep(now).ended == []  # type: ignore[union-attr]  # the channel's own events may still come
    assert watchdog.sweep(now + 60).ended == ["CA7"]  # type: ignore[union-attr]
    c.journal_writer.drain_all()
    with c.sessions() as session:
        row = session.scalars(select(Call).where(Call.id == "CA7")).one()
    assert row.outcome == "ended" and row.ended_at is not None
    assert abs(row.ended_at.replace(tzinfo=dt.UTC).timestamp() - (now - 30)) < 1e-3
    assert build_watchdog(c).sweep(now + 120).ended == []  # type: ignore[union-attr]


def test_watchdog_rebuilds_once_when_redis_has_no_state_of_ours(c: Container) -> None:
    watchdog = build_watchdog(c)
    first, second = watchdog.sweep(c.clock()), watchdog.sweep(c.clock())
    assert first is not None and first.rebuilt is not None
    assert second is not None and second.rebuilt is None


def test_only_one_watchdog_sweeps_at_a_time(c: Container) -> None:
    watchdog = build_watchdog(c)
    c.redis.live.set(watchdog.lock_key, "another-worker", ex=60)
    assert watchdog.sweep(c.clock()) is None
