"""The ACD's operations on the emulated and the real Redis: lifecycle, operator states, named errors, journal."""

from __future__ import annotations

import pytest

from callcenter.domain.operator import (
    CallAlreadyQueuedError,
    CallNotConnectedError,
    CallNotOfferedError,
    IllegalTransitionError,
    NoSuchCallError,
    NoSuchOperatorError,
    NoSuchQueueError,
)
from tests.support.acd_setup import T0, journal, make_acd, types_of

ONE_QUEUE = {"general": {"wrap_up_seconds": 30}}
TWO_OPS = {"anna": {"queues": ["general"]}, "bela": {"queues": ["general"]}}


@pytest.fixture
def acd(redis_client, keys):
    return make_acd(redis_client, keys, ONE_QUEUE, TWO_OPS)


def states(acd, now):
    return {name: op["state"] for name, op in acd.snapshot(now)["operators"].items()}


def test_answered_call_journals_its_whole_lifecycle_in_order(acd, redis_client, keys):
    assert acd.enqueue("c1", "general", T0 + 1, caller="+3611", channel="twilio").position == 1
    [offer] = acd.offer(T0 + 2)
    assert (offer.call_id, offer.operator, offer.caller, offer.channel) == ("c1", "anna", "+3611", "twilio")
    acd.accept("c1", "anna", T0 + 3)
    assert acd.hangup("c1", T0 + 63, by="operator") == "COMPLETED_BY_OPERATOR"
    assert states(acd, T0 + 64)["anna"] == "wrap_up"
    acd.wrap_up_done("anna", T0 + 70)
    events = journal(redis_client, keys)
    assert types_of(events, "c1") == ["ENTER_QUEUE", "OFFERED", "CONNECTED", "COMPLETED_BY_OPERATOR", "WRAPUP_DONE"]
    connected = next(e for e in events if e.type == "CONNECTED")
    assert (connected.ts, connected.operator, connected.queue, connected.data["wait"]) == (T0 + 3, "anna", "general", 2)
    done = next(e for e in events if e.type == "WRAPUP_DONE")
    assert done.data["seconds"] == 7
    assert len({e.id for e in events}) == len(events)
    assert states(acd, T0 + 71)["anna"] == "available"


def test_operator_state_changes_follow_the_table_and_are_journaled(acd, redis_client, keys):
    acd.set_state("anna", "break", T0 + 5, reason="lunch")
    snap = acd.snapshot(T0 + 6)["operators"]["anna"]
    assert (snap["state"], snap["reason"], snap["since"]) == ("break", "lunch", T0 + 5)
    acd.set_state("anna", "available", T0 + 10)
    acd.logout("anna", T0 + 20)
    moves = [(e.data["from"], e.data["to"]) for e in journal(redis_client, keys) if e.operator == "anna"]
    assert moves == [("offline", "available"), ("available", "break"), ("break", "available"), ("available", "offline")]


def test_illegal_transitions_raise_named_errors_and_change_nothing(acd):
    acd.enqueue("c1", "general", T0 + 1)
    acd.offer(T0 + 2)
    with pytest.raises(IllegalTransitionError):
        acd.logout("anna", T0 + 3)
    with pytest.raises(IllegalTransitionError):
        acd.set_state("bela", "on_call", T0 + 3)
    with pytest.raises(IllegalTransitionError):
        acd.wrap_up_done("bela", T0 + 3)
    with pytest.raises(IllegalTransitionError):
        acd.login("bela", T0 + 3)
    acd.accept("c1", "anna", T0 + 3)
    with pytest.raises(IllegalTransitionError):
        acd.set_state("anna", "available", T0 + 3)  # the call would be orphaned
    assert states(acd, T0 + 4) == {"anna": "on_call", "bela": "available"}


def test_unknown_names_raise_named_errors(acd):
    with pytest.raises(NoSuchOperatorError):
        acd.login("zoltan", T0)
    with pytest.raises(NoSuchQueueError):
        acd.enqueue("c1", "nowhere", T0)
    with pytest.raises(NoSuchCallError):
        acd.accept("ghost", "anna", T0)
    acd.enqueue("c1", "general", T0)
    with pytest.raises(NoSuchQueueError):
        acd.transfer("c1", "nowhere", T0)


def test_a_call_id_can_enter_only_once(acd):
    acd.enqueue("c1", "general", T0)
    with pytest.raises(CallAlreadyQueuedError):
        acd.enqueue("c1", "general", T0 + 1)


def test_accept_by_an_operator_not_ringing_is_refused(acd):
    acd.enqueue("c1", "general", T0)
    acd.offer(T0 + 1)
    with pytest.raises(CallNotOfferedError):
        acd.accept("c1", "bela", T0 + 2)
    with pytest.raises(CallNotConnectedError):
        acd.hangup("c1", T0 + 2, by="operator")


def test_wrap_up_expires_on_tick_after_the_queue_wrap_up_time(acd, redis_client, keys):
    acd.enqueue("c1", "general", T0)
    acd.offer(T0 + 1)
    acd.accept("c1", "anna", T0 + 2)
    acd.hangup("c1", T0 + 10)
    assert acd.tick(T0 + 39) == []
    [action] = acd.tick(T0 + 45)
    assert (action.kind, action.operator, action.call_id) == ("wrap_up_expired", "anna", "c1")
    assert states(acd, T0 + 46)["anna"] == "available"
    done = [e for e in journal(redis_client, keys) if e.type == "WRAPUP_DONE"]
    assert done[0].data["seconds"] == 30


def test_zero_wrap_up_makes_the_operator_available_at_hangup(redis_client, keys):
    acd = make_acd(redis_client, keys, {"general": {"wrap_up_seconds": 0}}, TWO_OPS)
    acd.enqueue("c1", "general", T0)
    acd.offer(T0 + 1)
    acd.accept("c1", "anna", T0 + 2)
    assert acd.hangup("c1", T0 + 10, by="caller") == "COMPLETED_BY_CALLER"
    assert states(acd, T0 + 11)["anna"] == "available"


def test_caller_leaving_while_ringing_frees_the_reserved_operator(acd, redis_client, keys):
    acd.enqueue("c1", "general", T0)
    acd.offer(T0 + 1)
    assert acd.abandon("c1", T0 + 5) is True
    assert states(acd, T0 + 6)["anna"] == "available"
    assert types_of(journal(redis_client, keys), "c1") == ["ENTER_QUEUE", "OFFERED", "ABANDONED"]
    with pytest.raises(NoSuchCallError):
        acd.abandon("c1", T0 + 7)


def test_caller_hanging_up_while_waiting_is_an_abandon(acd, redis_client, keys):
    acd.set_state("anna", "break", T0, reason="x")
    acd.set_state("bela", "break", T0, reason="x")
    acd.enqueue("c1", "general", T0 + 1)
    assert acd.hangup("c1", T0 + 9) == "ABANDONED"
    abandoned = journal(redis_client, keys)[-1]
    assert (abandoned.type, abandoned.data["wait"]) == ("ABANDONED", 8)
    assert acd.snapshot(T0 + 10)["queues"]["general"]["waiting"] == 0


def test_operators_on_break_or_offline_are_not_offered_calls(acd):
    acd.set_state("anna", "break", T0, reason="coffee")
    acd.logout("bela", T0)
    acd.enqueue("c1", "general", T0 + 1)
    assert acd.offer(T0 + 2) == []
    acd.set_state("anna", "available", T0 + 3)
    assert [o.operator for o in acd.offer(T0 + 4)] == ["anna"]


def test_an_operator_never_holds_two_calls(acd):
    for i in range(5):
        acd.enqueue(f"c{i}", "general", T0 + i)
    offers = acd.offer(T0 + 10)
    assert sorted(o.operator for o in offers) == ["anna", "bela"]
    assert acd.offer(T0 + 11) == []
    assert acd.snapshot(T0 + 12)["queues"]["general"]["waiting"] == 3


def test_snapshot_shows_queue_counters_and_operator_calls(acd):
    acd.enqueue("c1", "general", T0)
    acd.enqueue("c2", "general", T0 + 1)
    acd.enqueue("c3", "general", T0 + 2)
    acd.offer(T0 + 3, queue="general")
    acd.accept("c1", "anna", T0 + 4)
    snap = acd.snapshot(T0 + 10)
    queue = snap["queues"]["general"]
    assert (queue["waiting"], queue["longest_wait"], queue["offered"], queue["answered"]) == (1, 8, 3, 1)
    assert (queue["working"], queue["available"]) == (2, 0)
    assert snap["operators"]["anna"]["call"] == "c1"
    assert snap["operators"]["anna"]["calls_today"] == 1


def test_the_journal_of_an_acd_call_summarizes_into_its_calls_row(acd, redis_client, keys):
    from callcenter.domain.call_summary import summarize

    acd.enqueue("c1", "general", T0, channel="twilio")
    acd.offer(T0 + 12)
    acd.no_answer("c1", "anna", T0 + 20)
    [offer] = acd.offer(T0 + 21)
    acd.accept("c1", offer.operator, T0 + 22)
    acd.hangup("c1", T0 + 82, by="caller")
    acd.wrap_up_done(offer.operator, T0 + 97)
    summary = summarize("c1", journal(redis_client, keys))
    assert (summary.outcome, summary.queue, summary.operator, summary.channel) == (
        "answered",
        "general",
        offer.operator,
        "twilio",
    )
    assert (summary.wait_seconds, summary.talk_seconds, summary.wrapup_seconds) == (22, 60, 15)
    assert summary.missed_offers == 1


def test_an_operator_serving_a_queue_removed_from_the_configuration_can_still_change_state(redis_client, keys):
    acd = make_acd(redis_client, keys, {"general": {}, "old": {}}, {"anna": {"queues": ["general", "old"]}})
    acd.set_state("anna", "break", T0 + 1, reason="x")
    redis_client.delete(keys.queue_config("old"))  # as a new hotline file without it would leave it
    redis_client.srem(keys.queues, "old")
    acd.set_state("anna", "available", T0 + 2)
    acd.enqueue("c1", "general", T0 + 3)
    assert [o.operator for o in acd.offer(T0 + 4)] == ["anna"]
