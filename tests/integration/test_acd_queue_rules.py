"""Queue rules: no answer, callbacks, max wait, empty queues, transfers, estimated wait, counters vs journal."""

from __future__ import annotations

import pytest

from callcenter.domain.operator import CallNotWaitingError, NoSuchCallError, NotACallbackError
from tests.support.acd_setup import T0, counts_by_queue, journal, make_acd, types_of

ANNA = {"anna": {"queues": ["q"]}}


def op_state(acd, name, now):
    return acd.snapshot(now)["operators"][name]


def test_no_answer_puts_the_call_back_at_its_original_place(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, {"anna": {"queues": ["q"]}, "bela": {"queues": ["q"]}})
    acd.set_state("bela", "break", T0, reason="x")
    acd.enqueue("first", "q", T0 + 1)
    acd.enqueue("second", "q", T0 + 2)
    [offer] = acd.offer(T0 + 3)
    assert offer.call_id == "first"
    acd.enqueue("third", "q", T0 + 4)
    acd.no_answer("first", "anna", T0 + 10)
    assert acd.position("first", T0 + 11).position == 1
    acd.set_state("bela", "available", T0 + 12)
    assert [o.call_id for o in acd.offer(T0 + 13)] == ["first", "second"]
    assert "RING_NO_ANSWER" in types_of(journal(redis_client, keys), "first")


def test_ring_timeout_on_tick_is_a_ring_no_answer(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"ring_timeout_seconds": 15}}, ANNA)
    acd.enqueue("c1", "q", T0)
    acd.offer(T0 + 1)
    assert acd.tick(T0 + 15) == []
    [action] = acd.tick(T0 + 16)
    assert (action.kind, action.call_id, action.operator) == ("ring_timeout", "c1", "anna")
    assert acd.position("c1", T0 + 17).position == 1
    assert op_state(acd, "anna", T0 + 17)["state"] == "available"


def test_consecutive_missed_rings_send_the_operator_to_break(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"max_missed": 2}}, ANNA)
    acd.enqueue("c1", "q", T0)
    acd.offer(T0 + 1)
    acd.no_answer("c1", "anna", T0 + 20)
    acd.offer(T0 + 21)
    acd.no_answer("c1", "anna", T0 + 40)
    anna = op_state(acd, "anna", T0 + 41)
    assert (anna["state"], anna["reason"]) == ("break", "missed_calls")
    assert acd.offer(T0 + 42) == []
    assert acd.position("c1", T0 + 43).position == 1


def test_an_answered_call_resets_the_missed_ring_count(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"max_missed": 2, "wrap_up_seconds": 0}}, ANNA)
    for i, answer in enumerate([False, True, False, True]):
        call = f"c{i}"
        acd.enqueue(call, "q", T0 + 100 * i)
        acd.offer(T0 + 100 * i)
        if answer:
            acd.accept(call, "anna", T0 + 100 * i + 1)
            acd.hangup(call, T0 + 100 * i + 2)
        else:
            acd.no_answer(call, "anna", T0 + 100 * i + 1)
            acd.abandon(call, T0 + 100 * i + 1)
    assert op_state(acd, "anna", T0 + 500)["state"] == "available"


def test_callback_keeps_the_place_and_is_offered_as_a_callback(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, ANNA)
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("c1", "q", T0 + 1, caller="+3611")
    acd.enqueue("c2", "q", T0 + 2)
    assert acd.request_callback("c1", "+36301111111", T0 + 5) == 1
    assert acd.abandon("c1", T0 + 6) is False  # the caller hangs up after asking: not an abandon
    assert acd.tick(T0 + 10_000) != []  # c2 times out, c1 (a callback) does not
    acd.set_state("anna", "available", T0 + 10_001)
    [offer] = acd.offer(T0 + 10_002)
    assert (offer.call_id, offer.callback, offer.callback_number) == ("c1", True, "+36301111111")
    acd.accept("c1", "anna", T0 + 10_003)
    acd.callback_dialled("c1", T0 + 10_004)
    assert types_of(journal(redis_client, keys), "c1") == [
        "ENTER_QUEUE",
        "CALLBACK_REQUESTED",
        "OFFERED",
        "CONNECTED",
        "CALLBACK_DIALLED",
    ]


def test_callback_dialled_is_refused_for_a_call_without_callback(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {}}, ANNA)
    acd.enqueue("c1", "q", T0)
    with pytest.raises(NotACallbackError):
        acd.callback_dialled("c1", T0 + 1)
    acd.offer(T0 + 1)
    with pytest.raises(CallNotWaitingError):
        acd.request_callback("c1", "+36", T0 + 2)


@pytest.mark.parametrize("action", ["voicemail", "hangup"])
def test_max_wait_ends_the_call_with_exit_timeout(redis_client, keys, action):
    acd = make_acd(redis_client, keys, {"q": {"max_wait_seconds": 60, "on_max_wait": action}}, ANNA)
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("c1", "q", T0)
    [tick] = acd.tick(T0 + 60)
    assert (tick.kind, tick.call_id, tick.action) == ("max_wait", "c1", action)
    timeout = journal(redis_client, keys)[-1]
    assert (timeout.type, timeout.data["action"]) == ("EXIT_TIMEOUT", action)
    assert acd.snapshot(T0 + 61)["queues"]["q"]["waiting"] == 0


def test_max_wait_overflow_moves_the_call_keeping_its_first_entered_time(redis_client, keys):
    queues = {"q": {"max_wait_seconds": 60, "on_max_wait": "overflow", "overflow_queue": "spill"}, "spill": {}}
    operators = {"anna": {"queues": ["q"]}, "bela": {"queues": ["spill"]}}
    acd = make_acd(redis_client, keys, queues, operators)
    acd.set_state("bela", "break", T0, reason="x")
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("old", "q", T0)
    acd.enqueue("spill-1", "spill", T0 + 30)
    [tick] = acd.tick(T0 + 61)
    assert (tick.kind, tick.action) == ("max_wait", "overflow")
    assert acd.position("old", T0 + 62).queue == "spill"
    assert acd.position("old", T0 + 62).position == 1
    assert types_of(journal(redis_client, keys), "old") == ["ENTER_QUEUE", "EXIT_TIMEOUT", "ENTER_QUEUE"]


def test_max_wait_callback_turns_the_call_into_a_callback_in_place(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"max_wait_seconds": 60, "on_max_wait": "callback"}}, ANNA)
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("c1", "q", T0, caller="+3612")
    acd.enqueue("c2", "q", T0 + 1)
    acd.tick(T0 + 60)
    assert acd.position("c1", T0 + 60).position == 1
    acd.set_state("anna", "available", T0 + 61)
    [offer] = acd.offer(T0 + 62)
    assert (offer.call_id, offer.callback_number) == ("c1", "+3612")


@pytest.mark.parametrize(
    ("when_empty", "expected"),
    [("wait", ("queued", "q")), ("voicemail", ("voicemail", "q")), ("callback", ("callback", "q"))],
)
def test_nobody_logged_in_follows_when_empty(redis_client, keys, when_empty, expected):
    acd = make_acd(redis_client, keys, {"q": {"when_empty": when_empty}}, ANNA, login=False)
    result = acd.enqueue("c1", "q", T0, caller="+3613")
    assert (result.action, result.queue) == expected
    events = types_of(journal(redis_client, keys), "c1")
    assert (
        events
        == {
            "wait": ["ENTER_QUEUE"],
            "voicemail": ["EXIT_EMPTY"],
            "callback": ["ENTER_QUEUE", "CALLBACK_REQUESTED"],
        }[when_empty]
    )


def test_nobody_with_the_skill_overflows_to_the_overflow_queue(redis_client, keys):
    queues = {"q": {"when_empty": "overflow", "overflow_queue": "general"}, "general": {}}
    operators = {"anna": {"queues": ["q", "general"], "skills": {"internet": 1}}}
    acd = make_acd(redis_client, keys, queues, operators)
    result = acd.enqueue("c1", "q", T0, skills={"internet": 3})
    assert (result.action, result.queue, result.position) == ("overflow", "general", 1)
    assert acd.enqueue("c2", "q", T0, skills={"internet": 1}).action == "queued"


def test_operators_on_break_do_not_count_as_staffing(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"when_empty": "voicemail"}}, ANNA)
    acd.set_state("anna", "break", T0, reason="lunch")
    assert acd.enqueue("c1", "q", T0 + 1).action == "voicemail"


def test_transfer_keeps_the_first_entered_time_in_the_new_queue(redis_client, keys):
    queues = {"first": {}, "second": {"second_level": True}}
    operators = {"anna": {"queues": ["first"]}, "bela": {"queues": ["second"]}}
    acd = make_acd(redis_client, keys, queues, operators)
    acd.set_state("bela", "break", T0, reason="x")
    acd.enqueue("c1", "first", T0)
    acd.offer(T0 + 1)
    acd.accept("c1", "anna", T0 + 2)
    acd.enqueue("c2", "second", T0 + 30)
    assert acd.transfer("c1", "second", T0 + 60, escalate=True) == 1
    assert op_state(acd, "anna", T0 + 61)["state"] == "wrap_up"
    acd.set_state("bela", "available", T0 + 62)
    assert [o.call_id for o in acd.offer(T0 + 63)] == ["c1"]
    events = [e for e in journal(redis_client, keys) if e.call_id == "c1"]
    assert [e.type.value for e in events][3:5] == ["ESCALATED", "ENTER_QUEUE"]
    assert events[3].data["to"] == "second"


def test_transfer_of_a_waiting_call_moves_it(redis_client, keys):
    acd = make_acd(redis_client, keys, {"a": {}, "b": {}}, {"anna": {"queues": ["a"]}}, login=False)
    acd.enqueue("c1", "a", T0)
    acd.transfer("c1", "b", T0 + 5)
    snap = acd.snapshot(T0 + 6)["queues"]
    assert (snap["a"]["waiting"], snap["b"]["waiting"]) == (0, 1)
    assert types_of(journal(redis_client, keys), "c1") == ["ENTER_QUEUE", "TRANSFERRED", "ENTER_QUEUE"]


def test_estimated_wait_follows_handle_time_and_staffing(redis_client, keys):
    names = ("anna", "bela", "csilla", "dora")
    acd = make_acd(redis_client, keys, {"q": {"wrap_up_seconds": 0}}, {n: {"queues": ["q"]} for n in names})
    now = T0 + 10
    for i in range(4):  # four handled calls of 100 s: the queue's handle time becomes 100 s
        acd.enqueue(f"h{i}", "q", now)
        [offer] = acd.offer(now)
        acd.accept(f"h{i}", offer.operator, now)
        acd.hangup(f"h{i}", now + 100)
        now += 101
    acd.set_state("csilla", "break", now, reason="x")
    acd.set_state("dora", "break", now, reason="x")
    for i in range(6):
        acd.enqueue(f"w{i}", "q", now)
    for offer in acd.offer(now):
        acd.accept(offer.call_id, offer.operator, now)
    two_staffed = acd.position("w5", now + 1)
    assert (two_staffed.position, two_staffed.estimated_wait) == (4, 4 * 100 / 2)
    acd.set_state("csilla", "available", now + 2)
    acd.set_state("dora", "available", now + 2)
    for offer in acd.offer(now + 2):
        acd.accept(offer.call_id, offer.operator, now + 2)
    four_staffed = acd.position("w5", now + 3)
    assert (four_staffed.position, four_staffed.estimated_wait) == (2, 2 * 100 / 4)
    acd.hangup("w0", now + 1000)  # a long call raises the handle time (weighted 0.2): 100 + 0.2 * 900
    acd.offer(now + 1000)
    slower = acd.position("w5", now + 1001)
    assert slower.estimated_wait is not None and four_staffed.estimated_wait is not None
    assert (slower.position, slower.estimated_wait) == (1, 280 / 4)
    assert slower.estimated_wait > four_staffed.estimated_wait / 2


def test_queue_counters_equal_what_the_journal_says(redis_client, keys):
    queues = {"q": {"max_wait_seconds": 60, "wrap_up_seconds": 5}, "r": {}}
    operators = {"anna": {"queues": ["q", "r"]}, "bela": {"queues": ["q"]}}
    acd = make_acd(redis_client, keys, queues, operators)
    for i in range(6):
        acd.enqueue(f"c{i}", "q", T0 + i)
    acd.offer(T0 + 10)
    acd.accept("c0", "anna", T0 + 11)
    acd.no_answer("c1", "bela", T0 + 12)
    acd.abandon("c2", T0 + 13)
    acd.transfer("c0", "r", T0 + 20)
    acd.request_callback("c3", "+36", T0 + 21)
    acd.tick(T0 + 100)
    snap = acd.snapshot(T0 + 101)["queues"]
    for queue, counts in counts_by_queue(journal(redis_client, keys)).items():
        assert snap[queue]["counters"] == dict(counts)


def test_an_inconsistent_deadline_does_not_stall_housekeeping(redis_client, keys, caplog):
    acd = make_acd(redis_client, keys, {"q": {"wrap_up_seconds": 10, "max_wait_seconds": 60}}, ANNA)
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("c1", "q", T0)
    acd.enqueue("c2", "q", T0 + 1)
    redis_client.hset(keys.call("c1"), "q", "vanished")  # corrupt one call: its queue is unknown
    actions = acd.tick(T0 + 100)
    assert [(a.kind, a.call_id) for a in actions] == [("max_wait", "c2")]
    assert "c1" in caplog.text


@pytest.mark.parametrize(
    ("on_max_wait", "action", "queued_in"),
    [("hangup", "full", None), ("voicemail", "voicemail", None), ("overflow", "overflow", "o"),
     ("callback", "callback", "q")],
)  # fmt: skip
def test_a_full_queue_sends_the_next_caller_to_its_on_max_wait_action(
    redis_client, keys, on_max_wait, action, queued_in
):
    rules = {"max_waiting": 2, "on_max_wait": on_max_wait, "overflow_queue": "o"}
    acd = make_acd(redis_client, keys, {"q": rules, "o": {}}, {"anna": {"queues": ["o"]}})
    acd.enqueue("c1", "q", T0)
    acd.enqueue("c2", "q", T0 + 1)
    result = acd.enqueue("c3", "q", T0 + 2)
    assert (result.action, result.queue if queued_in else None) == (action, queued_in)
    events = [e for e in journal(redis_client, keys) if e.call_id == "c3"]
    assert events[0].type.value == "EXIT_EMPTY" or on_max_wait == "callback"
    assert any(e.data.get("reason") == "queue_full" for e in events)
    waiting_in_q = acd.snapshot(T0 + 3)["queues"]["q"]["waiting"]
    assert waiting_in_q == (3 if on_max_wait == "callback" else 2)  # a callback holds no phone line
    if queued_in is None:
        with pytest.raises(NoSuchCallError):
            acd.abandon("c3", T0 + 4)


def test_a_queue_below_max_waiting_queues_the_caller_as_usual(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"max_waiting": 2, "on_max_wait": "hangup"}}, ANNA)
    assert [acd.enqueue(f"c{i}", "q", T0 + i).action for i in range(2)] == ["queued", "queued"]
    acd.abandon("c0", T0 + 5)
    assert acd.enqueue("c2", "q", T0 + 6).action == "queued"
