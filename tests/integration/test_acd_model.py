"""Hypothesis drives the Lua ACD and the pure reference model with the same operations and compares them.

Invariants checked after every step: same results and named errors, same operator states, same waiting order,
same journal (type, call, queue, operator), counters equal to the journal, an operator never holds two calls,
a call rings at one operator except in ring_all queues, every ended call has exactly one terminal event.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from callcenter.domain.operator import AcdError, OperatorState
from queueing.keys import Keys
from queueing.routing import ReferenceAcd
from queueing.routing_state import ModelOperator
from tests.support.acd_setup import T0, counts_by_queue, hotline, journal, make_acd

QUEUES: dict[str, dict[str, Any]] = {
    "a": {
        "wrap_up_seconds": 5,
        "max_wait_seconds": 60,
        "on_max_wait": "overflow",
        "overflow_queue": "b",
        "max_missed": 2,
        "priority_aging_seconds": 30,
        "ring_timeout_seconds": 10,
    },
    "b": {
        "strategy": "ring_all",
        "priority": 1,
        "wrap_up_seconds": 0,
        "on_max_wait": "voicemail",
        "max_wait_seconds": 90,
        "ring_timeout_seconds": 10,
    },
    "c": {
        "strategy": "fewest_calls",
        "skills": {"internet": 2},
        "prefer_higher_skill": True,
        "on_max_wait": "callback",
        "max_wait_seconds": 45,
        "when_empty": "overflow",
        "overflow_queue": "a",
        "priority_aging_seconds": 0,
    },
    "d": {"strategy": "round_robin", "when_empty": "voicemail", "wrap_up_seconds": 3},
}
OPERATORS: dict[str, dict[str, Any]] = {
    "anna": {"queues": ["a", "b", "d"]},
    "bela": {"queues": ["a", "c"], "skills": {"internet": 3}},
    "csilla": {"queues": ["b", "c", "d"], "skills": {"internet": 2, "tv": 1}},
    "dora": {"queues": ["a", "d"], "skills": {"tv": 2}},
}
NAMES = sorted(OPERATORS)
TERMINAL = {"COMPLETED_BY_CALLER", "COMPLETED_BY_OPERATOR", "ABANDONED"}


def reference() -> ReferenceAcd:
    config = hotline(QUEUES, OPERATORS)
    operators = {o.username: ModelOperator(configured=o.queues, skills=dict(o.skills)) for o in config.operators}
    return ReferenceAcd(config.queues, operators)


def outcome(fn, *args, **kwargs):
    try:
        return "ok", fn(*args, **kwargs)
    except AcdError as exc:
        return "error", type(exc).__name__


class AcdVersusModel(RuleBasedStateMachine):
    client: redis.Redis

    def __init__(self) -> None:
        super().__init__()
        self.keys = Keys(tag="m" + uuid.uuid4().hex[:12])
        self.acd = make_acd(self.client, self.keys, QUEUES, OPERATORS, login=False)
        self.model = reference()
        self.now = T0
        self.seen = 0
        self.next_call = 0
        for name in NAMES:
            self.acd.login(name, self.now)
            self.model.set_state(name, OperatorState.AVAILABLE, self.now)

    def teardown(self) -> None:
        batch = list(self.client.scan_iter(match=self.keys.prefix + "*", count=1000))
        if batch:
            self.client.delete(*batch)

    def same(self, real, model):
        assert real == model, f"acd {real!r} != model {model!r}"

    def live_calls(self, state):
        return sorted(c for c, call in self.model.calls.items() if call.state == state)

    # -- rules ---------------------------------------------------------------------------------------------
    @rule(seconds=st.integers(1, 25))
    def advance(self, seconds):
        self.now += seconds

    @rule(
        name=st.sampled_from(NAMES),
        state=st.sampled_from(["available", "break", "offline"]),
        queues=st.sampled_from(["", "a", "b,c", "d"]),
    )
    def change_state(self, name, state, queues):
        target = state
        if target == "available" and self.model.operators[name].state is OperatorState.OFFLINE:
            real = outcome(self.acd.login, name, self.now, queues=[q for q in queues.split(",") if q])
        else:
            real = outcome(self.acd.set_state, name, target, self.now, reason="x" if target == "break" else None)
            queues = ""
        model = outcome(
            self.model.set_state, name, OperatorState(target), self.now, "x" if target == "break" else "", queues
        )
        self.same(real[0], model[0])
        if real[0] == "error":
            self.same(real[1], model[1])

    @rule(
        queue=st.sampled_from(sorted(QUEUES)),
        priority=st.integers(0, 2),
        skills=st.sampled_from([{}, {"internet": 3}, {"tv": 1}]),
    )
    def enqueue(self, queue, priority, skills):
        self.next_call += 1
        call = f"c{self.next_call}"
        real = outcome(self.acd.enqueue, call, queue, self.now, priority=priority, skills=skills, caller="+36")
        model = outcome(self.model.enqueue, call, queue, self.now, priority, skills, "+36")
        if real[0] == "ok":
            real = ("ok", (real[1].position, real[1].action, real[1].queue))
        self.same(real, model)
        self.offer()

    @rule()
    def offer(self):
        real = [(o.call_id, o.operator) for o in self.acd.offer(self.now)]
        self.same(real, self.model.offer(self.now))

    @precondition(lambda self: self.live_calls("ringing"))
    @rule()
    def first_ringing_answers(self):
        call = self.live_calls("ringing")[0]
        name = self.model.calls[call].ringing[-1]
        self.same(outcome(self.acd.accept, call, name, self.now), outcome(self.model.accept, call, name, self.now))

    @precondition(lambda self: self.live_calls("ringing"))
    @rule(data=st.data(), accept=st.booleans())
    def answer_or_miss(self, data, accept):
        call = data.draw(st.sampled_from(self.live_calls("ringing")))
        ringing = self.model.calls[call].ringing
        name = data.draw(st.sampled_from(ringing) | st.sampled_from(NAMES))
        real_fn, model_fn = (
            (self.acd.accept, self.model.accept) if accept else (self.acd.no_answer, self.model.no_answer)
        )
        self.same(outcome(real_fn, call, name, self.now), outcome(model_fn, call, name, self.now))

    @precondition(lambda self: self.live_calls("connected") or self.live_calls("waiting"))
    @rule(data=st.data(), by=st.sampled_from(["caller", "operator"]))
    def hangup(self, data, by):
        call = data.draw(st.sampled_from(self.live_calls("connected") + self.live_calls("waiting")))
        self.same(outcome(self.acd.hangup, call, self.now, by=by), outcome(self.model.hangup, call, self.now, by))

    @rule(name=st.sampled_from(NAMES))
    def wrap_up_done(self, name):
        self.same(outcome(self.acd.wrap_up_done, name, self.now), outcome(self.model.wrap_up_done, name, self.now))

    @precondition(lambda self: self.live_calls("waiting") or self.live_calls("ringing"))
    @rule(data=st.data())
    def abandon(self, data):
        call = data.draw(st.sampled_from(self.live_calls("waiting") + self.live_calls("ringing")))
        self.same(outcome(self.acd.abandon, call, self.now), outcome(self.model.abandon, call, self.now))

    @precondition(lambda self: any(c.state != "ended" for c in self.model.calls.values()))
    @rule(data=st.data(), to=st.sampled_from(sorted(QUEUES)), escalate=st.booleans())
    def transfer(self, data, to, escalate):
        call = data.draw(st.sampled_from(sorted(c for c, v in self.model.calls.items() if v.state != "ended")))
        real = outcome(self.acd.transfer, call, to, self.now, escalate=escalate)
        self.same(real, outcome(self.model.transfer, call, to, self.now, escalate))

    @precondition(lambda self: self.live_calls("waiting"))
    @rule(data=st.data())
    def request_callback(self, data):
        call = data.draw(st.sampled_from(self.live_calls("waiting")))
        real = outcome(self.acd.request_callback, call, "+3630", self.now)
        self.same(real, outcome(self.model.request_callback, call, "+3630", self.now))

    @rule()
    def tick(self):
        real = [(a.kind, a.call_id, a.operator, a.queue, a.action) for a in self.acd.tick(self.now)]
        self.same(real, self.model.tick(self.now))
        self.offer()

    # -- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def same_operator_states(self):
        snap = self.acd.snapshot(self.now)["operators"]
        real = {name: (op["state"], op["reason"] or "") for name, op in snap.items()}
        model = {name: (o.state.value, o.reason) for name, o in self.model.operators.items()}
        self.same(real, model)
        holders = Counter(op["call"] for op in snap.values() if op["state"] in ("reserved", "on_call") and op["call"])
        for call, count in holders.items():
            assert count == 1 or self.model.calls[call].queue == "b" and self.model.calls[call].state == "ringing"

    @invariant()
    def same_waiting_order(self):
        for queue in QUEUES:
            real = self.client.zrange(self.keys.queue_waiting(queue), 0, -1)
            model = sorted(self.model.waiting[queue], key=lambda c: (self.model.waiting[queue][c], c))
            self.same(real, model)

    @invariant()
    def same_journal_and_counters(self):
        events = journal(self.client, self.keys)
        self.same([(e.type.value, e.call_id, e.queue, e.operator) for e in events], self.model.events)
        snap = self.acd.snapshot(self.now)["queues"]
        for queue, counts in counts_by_queue(events).items():
            self.same(snap[queue]["counters"], dict(counts))
        ends = Counter(e.call_id for e in events if e.type.value in TERMINAL or _final_exit(e))
        for call_id, call in self.model.calls.items():
            assert ends[call_id] == (1 if call.state == "ended" else 0), call_id


def _final_exit(event) -> bool:
    return event.type.value in ("EXIT_TIMEOUT", "EXIT_EMPTY") and event.data.get("action") in ("voicemail", "hangup")


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_lua_acd_behaves_like_the_reference_model(redis_client, keys):
    AcdVersusModel.client = redis_client
    run_state_machine_as_test(
        AcdVersusModel,
        settings=settings(
            max_examples=25, stateful_step_count=50, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
