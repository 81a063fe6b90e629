"""A SIP caller session driven through in-memory fakes of our Phone/Leg port (no pyVoIP, no network): the call
logic alone, on the real ACD scripts (embedded Redis) and the real 20 ms pacing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from callcenter.domain.events import CallEvent
from callcenter.hotline import load_hotline
from ivr.flow import flow_from_hotline
from ivr.sip.audio import FRAME_BYTES, SILENCE
from ivr.sip.gateway import SipGateway
from ivr.sip.ports import DialError, LegState
from ivr.sip.session import SessionDeps
from queueing.acd import Acd
from queueing.connection import RedisClients
from queueing.keys import Keys
from tests.sip import harness

CALLER_VOICE = b"\x90" * FRAME_BYTES
OPERATOR_VOICE = b"\x70" * FRAME_BYTES


@pytest.fixture
def backend() -> str:
    return "embedded"


class FakeLeg:
    """A leg whose digits arrive at given frames (counted by reads, one per 20 ms tick)."""

    def __init__(self, sid: str, digits: dict[int, str] | None = None, *, voice: bytes = CALLER_VOICE,
                 state: LegState = LegState.RINGING, hangup_after: int | None = None,
                 final: int | None = None) -> None:  # fmt: skip
        self.sip_call_id, self.remote, self.remote_name, self.local = sid, "3611111111", "Ann", "hotline"
        self.digits, self.voice, self._state, self.final_status = dict(digits or {}), voice, state, final
        self.hangup_after, self.frames, self.received, self.cancelled = hangup_after, 0, bytearray(), False
        self._pending = ""

    @property
    def state(self) -> LegState:
        return self._state

    def answer(self) -> bool:
        if self.cancelled:
            return False
        self._state = LegState.ANSWERED
        return True

    def hangup(self) -> None:
        self._state = LegState.ENDED

    def read_frame(self) -> bytes:
        self.frames += 1
        self._pending += self.digits.pop(self.frames, "")
        if self.hangup_after is not None and self.frames >= self.hangup_after:
            self._state = LegState.ENDED
        return self.voice if self._state is LegState.ANSWERED else SILENCE

    def write_frame(self, frame: bytes) -> None:
        self.received += frame

    def take_dtmf(self) -> str:
        digits, self._pending = self._pending, ""
        return digits


class FakePhone:
    """Operators by user: a leg factory each (busy ones raise or end at once)."""

    def __init__(self, operators: dict[str, Any]):
        self.operators = operators
        self.dialled: list[str] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def healthy(self) -> bool:
        return True

    def dial(self, uri: str) -> FakeLeg:
        user = uri.split(":", 1)[1].split("@", 1)[0]
        self.dialled.append(user)
        leg: FakeLeg = self.operators[user]()
        return leg


class Journal:
    def __init__(self, acd_journal: Any) -> None:
        self.events: list[CallEvent] = []

    def append(self, event: CallEvent) -> str:
        self.events.append(event)
        return event.id


class Legs:
    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {}

    def record(self, leg_sid: str, call_id: str, status: str, at: float, **kw: Any) -> None:
        self.rows.setdefault(kw.get("operator") or "caller", []).append(status)


class Voices:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def say(self, text: str, language: str) -> bytes:
        self.said.append((text, language))
        return SILENCE * 5

    def play(self, url: str, language: str, text: str = "") -> bytes:
        return SILENCE * 5


@pytest.fixture
def rig(redis_clients: tuple[RedisClients, Keys]) -> Iterator[tuple[SipGateway, Journal, Legs, Any]]:
    hotline = load_hotline(harness.HERE / "hotline.yaml")
    acd = Acd(redis_clients[0].live, redis_clients[1], hotline)
    acd.sync_config(0)
    journal, legs = Journal(None), Legs()
    deps = SessionDeps(flow=flow_from_hotline(hotline), hotline=hotline, acd=acd, journal=journal, legs=legs,  # type: ignore[arg-type]
                       voices=Voices(), phone=None, softphone_of=lambda op: f"sip:{op}@pbx",  # type: ignore[arg-type]
                       first_announce=5.0)  # fmt: skip
    phones: dict[str, Any] = {}
    gateway = SipGateway(deps, lambda handler: FakePhone(phones), interval=0.05)
    gateway.start()
    yield gateway, journal, legs, phones
    gateway.stop()


def acd_events(gateway: SipGateway) -> list[str]:
    keys = gateway.deps.acd.keys
    entries: Any = gateway.deps.acd.redis.xrange(keys.journal)
    return [f["type"] for _, f in entries if f["type"] not in ("OPERATOR_STATE", "WRAPUP_DONE")]


def test_session_plays_the_call_from_menu_to_survey_without_pyvoip(rig: Any) -> None:
    gateway, journal, legs, phones = rig
    operator = FakeLeg("op-leg", voice=OPERATOR_VOICE, state=LegState.DIALING, hangup_after=50)

    def ring() -> FakeLeg:
        threading.Timer(0.2, lambda: setattr(operator, "_state", LegState.ANSWERED)).start()
        return operator

    phones["op1"] = ring
    gateway.deps.acd.login("op1", gateway.deps.clock())
    caller = FakeLeg("caller-leg", {10: "2", 20: "1", 250: "5"})
    gateway.handle(caller)

    assert [e.type for e in journal.events] == ["CALL_STARTED", "IVR_INPUT", "IVR_INPUT", "SURVEY_ANSWERED",
                                                "CALL_ENDED"]  # fmt: skip
    assert acd_events(gateway)[:4] == ["ENTER_QUEUE", "OFFERED", "CONNECTED", "COMPLETED_BY_OPERATOR"]
    assert journal.events[3].data == {"question": "satisfaction", "answer": 5, "via": "voice"}
    assert legs.rows == {"caller": ["in-progress", "completed"], "op1": ["ringing", "in-progress", "completed"]}
    assert OPERATOR_VOICE * 10 in caller.received and CALLER_VOICE * 10 in operator.received


def test_busy_and_failing_operators_are_rona_and_the_caller_keeps_waiting(rig: Any) -> None:
    gateway, journal, legs, phones = rig

    def unreachable() -> FakeLeg:
        raise DialError("no answer to INVITE")

    phones["op1"] = lambda: FakeLeg("busy", state=LegState.ENDED, final=486)
    phones["op2"] = unreachable
    clock = gateway.deps.clock
    gateway.deps.acd.login("op1", clock())
    gateway.deps.acd.login("op2", clock())
    caller = FakeLeg("caller-leg", {10: "2", 20: "1"}, hangup_after=200)
    gateway.handle(caller)

    assert legs.rows["op1"][-1] == "busy" and legs.rows["op2"][-1] == "failed"
    events = acd_events(gateway)
    assert events[:5] == ["ENTER_QUEUE", "OFFERED", "RING_NO_ANSWER", "OFFERED", "RING_NO_ANSWER"]
    assert events[-1] == "ABANDONED"
    assert [e.type for e in journal.events][-1] == "CALL_ENDED"


def test_caller_who_cancelled_before_the_answer_is_not_answered(rig: Any) -> None:
    gateway, journal, legs, _ = rig
    caller = FakeLeg("caller-leg")
    caller.cancelled = True
    gateway.handle(caller)
    assert caller.state is LegState.RINGING and journal.events == [] and legs.rows == {"caller": ["canceled"]}


def test_caller_hanging_up_mid_conversation_ends_the_operator_leg(rig: Any) -> None:
    gateway, journal, legs, phones = rig
    operator = FakeLeg("op-leg", voice=OPERATOR_VOICE, state=LegState.ANSWERED)
    phones["op1"] = lambda: operator
    gateway.deps.acd.login("op1", gateway.deps.clock())
    caller = FakeLeg("caller-leg", {10: "2", 20: "1"}, hangup_after=100)
    gateway.handle(caller)

    assert "COMPLETED_BY_CALLER" in acd_events(gateway)
    assert operator.state is LegState.ENDED
    assert legs.rows["op1"][-1] == "completed" and journal.events[-1].data == {"by": "caller"}


@pytest.mark.parametrize(("action", "outcome"), [("hangup", "done"), ("callback", "done"), ("overflow", "waiting")])
def test_max_wait_carries_out_the_queue_action(rig: Any, action: str, outcome: str) -> None:
    from ivr.sip.session import CallerSession
    from queueing.acd_types import TickAction

    gateway, _, _, _ = rig
    caller = FakeLeg("caller-leg")
    caller.answer()
    session = CallerSession(caller, gateway.deps)
    assert session._deadline(TickAction("max_wait", session.call_id, "", "general", action)) == outcome
    assert (session.phase == "timed_out") is (outcome == "done")
    assert (len(caller.received) > 0) is (outcome == "done")  # goodbye or callback confirmation was played


def test_an_offer_computed_by_one_gateway_reaches_the_gateway_holding_the_call(rig: Any) -> None:
    import queue as queues
    import time

    holder, _, _, _ = rig
    other = SipGateway(holder.deps, lambda handler: FakePhone({}), interval=3600)
    holder.dispatch_once = lambda now: None  # only the other gateway offers

    class Waiting:
        inbox: queues.Queue[Any] = queues.Queue()

    holder.sessions["sip-elsewhere"] = Waiting()
    acd, clock = holder.deps.acd, holder.deps.clock
    acd.enqueue("sip-elsewhere", "general", clock(), channel="sip")
    acd.login("op1", clock())
    time.sleep(0.2)  # the holder's handoff subscription is up
    other.dispatch_once(clock())
    offer = Waiting.inbox.get(timeout=2)
    assert (offer.call_id, offer.operator) == ("sip-elsewhere", "op1")


def test_caller_hears_an_apology_when_the_acd_is_unreachable(rig: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    gateway, journal, legs, _ = rig

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise redis.ConnectionError("Redis is away")

    monkeypatch.setattr(gateway.deps.acd, "enqueue", unreachable)
    caller = FakeLeg("caller-leg", {10: "2", 20: "1"})
    gateway.handle(caller)
    assert caller.state is LegState.ENDED and legs.rows["caller"] == ["in-progress", "completed"]
    assert journal.events[-1].data == {"by": "gateway"}


def test_waiting_caller_hears_position_wait_callback_offer_and_hold_music(rig: Any) -> None:
    from ivr.sip.audio import frames

    gateway, _, _, _ = rig
    gateway.deps.first_announce = 0.3
    caller = FakeLeg("caller-leg", {10: "2", 20: "1"}, hangup_after=120)
    gateway.handle(caller)
    said = [text for text, language in gateway.deps.voices.said if language == "en"]
    assert any(t.startswith("You are caller number one.") and t.endswith("press nine.") for t in said), said
    assert frames(gateway.deps.hold_audio)[0] in bytes(caller.received)
    assert acd_events(gateway)[-2:] == ["ENTER_QUEUE", "ABANDONED"]


def test_ring_all_queue_rings_its_operators_one_after_the_other(redis_clients: tuple[RedisClients, Keys]) -> None:
    from callcenter.hotline import parse_hotline

    text = (
        (harness.HERE / "hotline.yaml")
        .read_text()
        .replace("when_empty: wait", "when_empty: wait\n    strategy: ring_all")
    )
    hotline = parse_hotline(text, "ring_all.yaml")
    acd = Acd(redis_clients[0].live, redis_clients[1], hotline)
    acd.sync_config(0)
    phones: dict[str, Any] = {
        "op1": lambda: FakeLeg("busy", state=LegState.ENDED, final=486),
        "op2": lambda: FakeLeg("op2-leg", voice=OPERATOR_VOICE, state=LegState.ANSWERED, hangup_after=20),
    }
    journal, legs = Journal(None), Legs()
    deps = SessionDeps(flow=flow_from_hotline(hotline), hotline=hotline, acd=acd, journal=journal, legs=legs,  # type: ignore[arg-type]
                       voices=Voices(), phone=None, softphone_of=lambda op: f"sip:{op}@pbx",  # type: ignore[arg-type]
                       first_announce=5.0)  # fmt: skip
    gateway = SipGateway(deps, lambda handler: FakePhone(phones), interval=0.05)
    for operator in ("op1", "op2"):
        acd.login(operator, deps.clock())
    gateway.start()
    try:
        gateway.handle(FakeLeg("caller-leg", {10: "2", 20: "1"}, hangup_after=300))
    finally:
        gateway.stop()
    entries: Any = acd.redis.xrange(redis_clients[1].journal)
    rings = [(f["type"], f["operator"]) for _, f in entries if f["type"] in ("OFFERED", "RING_NO_ANSWER", "CONNECTED")]
    assert sorted(rings[:2]) == [("OFFERED", "op1"), ("OFFERED", "op2")]  # both reserved at once
    assert rings[2:] == [("RING_NO_ANSWER", "op1"), ("CONNECTED", "op2")]
    assert [leg[-1] for leg in (legs.rows["op1"], legs.rows["op2"])] == ["busy", "completed"]
