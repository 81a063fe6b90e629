"""Who gets which call: strategies, skills with levels, priority with aging, operators in several queues."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.acd_setup import T0, make_acd

THREE = {"anna": {"queues": ["q"]}, "bela": {"queues": ["q"]}, "csilla": {"queues": ["q"]}}


def serve(acd, call_id, now, talk=10.0):
    """Enqueue, offer, answer and finish one call; return the operator who got it."""
    acd.enqueue(call_id, "q", now)
    [offer] = acd.offer(now)
    acd.accept(call_id, offer.operator, now)
    acd.hangup(call_id, now + talk)
    return offer.operator


def test_longest_idle_operator_is_offered_first(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"wrap_up_seconds": 0}}, THREE)
    assert serve(acd, "c1", T0 + 10) == "anna"
    assert serve(acd, "c2", T0 + 30) == "bela"
    assert serve(acd, "c3", T0 + 50) == "csilla"
    assert serve(acd, "c4", T0 + 70) == "anna"


def test_round_robin_rotates_through_operators_whatever_their_idle_time(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"strategy": "round_robin", "wrap_up_seconds": 0}}, THREE)
    first = serve(acd, "c1", T0 + 10)
    acd.set_state(first, "break", T0 + 20, reason="x")
    acd.set_state(first, "available", T0 + 21)  # longest_idle would now put this operator last too
    got = [serve(acd, f"c{i}", T0 + 30 + 20 * i) for i in range(2, 6)]
    assert len(set([first, *got[:2]])) == 3
    assert got[2] == first


def test_fewest_calls_prefers_the_operator_with_fewer_answered_calls_today(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"strategy": "fewest_calls", "wrap_up_seconds": 0}}, THREE)
    served = Counter(serve(acd, f"c{i}", T0 + 10 + 20 * i) for i in range(9))
    assert served == Counter({"anna": 3, "bela": 3, "csilla": 3})


def test_least_talk_time_prefers_the_operator_who_talked_least(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"strategy": "least_talk_time", "wrap_up_seconds": 0}}, THREE)
    assert serve(acd, "c1", T0 + 10, talk=300) == "anna"
    assert serve(acd, "c2", T0 + 400, talk=5) == "bela"
    assert serve(acd, "c3", T0 + 500, talk=5) == "csilla"
    assert serve(acd, "c4", T0 + 600, talk=5) == "bela"  # 5 s of talk beats csilla's 5 s by idle time


def test_random_is_reproducible_from_the_seed_and_uses_every_operator(redis_client, keys):
    def picks(seed, tag):
        queues = {"q": {"strategy": "random", "wrap_up_seconds": 0}}
        acd = make_acd(redis_client, keys.__class__(tag=tag), queues, THREE, seed=seed)
        return [serve(acd, f"c{i}", T0 + 20 * i) for i in range(12)]

    first, again = picks(11, keys.tag + "a"), picks(11, keys.tag + "b")
    assert first == again
    assert set(first) == {"anna", "bela", "csilla"}
    for tag in (keys.tag + "a", keys.tag + "b"):
        for key in redis_client.scan_iter(f"cc:{{{tag}}}:*"):
            redis_client.delete(key)


def test_ring_all_rings_every_eligible_operator_and_exactly_one_accept_wins(redis_client, keys):
    from callcenter.domain.operator import CallNotOfferedError

    acd = make_acd(redis_client, keys, {"q": {"strategy": "ring_all"}}, THREE)
    acd.enqueue("c1", "q", T0)
    offers = acd.offer(T0 + 1)
    assert sorted(o.operator for o in offers) == ["anna", "bela", "csilla"]
    assert all(o.ring_all for o in offers)
    acd.accept("c1", "bela", T0 + 2)
    with pytest.raises(CallNotOfferedError):
        acd.accept("c1", "anna", T0 + 2)
    ops = acd.snapshot(T0 + 3)["operators"]
    assert {n: o["state"] for n, o in ops.items()} == {"anna": "available", "bela": "on_call", "csilla": "available"}


def test_call_goes_only_to_an_operator_with_the_skill_at_the_required_level(redis_client, keys):
    operators = {
        "anna": {"queues": ["q"], "skills": {"internet": 2}},
        "bela": {"queues": ["q"], "skills": {"internet": 4}},
    }
    acd = make_acd(redis_client, keys, {"q": {"skills": {"internet": 1}}}, operators)
    acd.enqueue("hard", "q", T0, skills={"internet": 3})
    assert [(o.call_id, o.operator) for o in acd.offer(T0)] == [("hard", "bela")]
    acd.enqueue("harder", "q", T0 + 1, skills={"internet": 5})
    acd.enqueue("easy", "q", T0 + 2)
    assert [(o.call_id, o.operator) for o in acd.offer(T0 + 3)] == [("easy", "anna")]
    assert acd.position("harder", T0 + 4).position == 1


def test_prefer_higher_skill_picks_the_most_skilled_eligible_operator(redis_client, keys):
    operators = {
        "anna": {"queues": ["q"], "skills": {"internet": 2}},
        "bela": {"queues": ["q"], "skills": {"internet": 5}},
        "csilla": {"queues": ["q"], "skills": {"internet": 3}},
    }
    acd = make_acd(redis_client, keys, {"q": {"skills": {"internet": 1}, "prefer_higher_skill": True}}, operators)
    acd.enqueue("c1", "q", T0)
    acd.enqueue("c2", "q", T0 + 1)
    assert [(o.call_id, o.operator) for o in acd.offer(T0 + 2)] == [("c1", "bela"), ("c2", "csilla")]


def test_higher_priority_is_served_first_and_ties_by_first_entered_time(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"priority_aging_seconds": 0}}, {"anna": {"queues": ["q"]}})
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("low-old", "q", T0 + 1)
    acd.enqueue("high", "q", T0 + 500, priority=1)
    acd.enqueue("low-new", "q", T0 + 600)
    assert [acd.position(c, T0 + 700).position for c in ("high", "low-old", "low-new")] == [1, 2, 3]


def test_priority_aging_lets_a_long_waiting_low_priority_caller_overtake(redis_client, keys):
    acd = make_acd(redis_client, keys, {"q": {"priority_aging_seconds": 60}}, {"anna": {"queues": ["q"]}})
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("low-old", "q", T0)
    acd.enqueue("high-recent", "q", T0 + 30, priority=1)  # worth T0 - 30: ahead of low-old
    acd.enqueue("high-late", "q", T0 + 90, priority=1)  # worth T0 + 30: behind low-old
    order = sorted(("low-old", "high-recent", "high-late"), key=lambda c: acd.position(c, T0 + 100).position)
    assert order == ["high-recent", "low-old", "high-late"]


def test_operator_in_several_queues_takes_the_higher_priority_queue_first(redis_client, keys):
    queues = {"low": {"priority": 0}, "high": {"priority": 5}}
    acd = make_acd(redis_client, keys, queues, {"anna": {"queues": ["low", "high"]}})
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("old-low", "low", T0 + 1)
    acd.enqueue("new-high", "high", T0 + 50)
    acd.set_state("anna", "available", T0 + 60)
    assert [o.call_id for o in acd.offer(T0 + 61)] == ["new-high"]


def test_same_priority_queues_are_served_by_the_longest_waiting_call(redis_client, keys):
    acd = make_acd(redis_client, keys, {"a": {}, "b": {}}, {"anna": {"queues": ["a", "b"]}})
    acd.set_state("anna", "break", T0, reason="x")
    acd.enqueue("b-old", "b", T0 + 1)
    acd.enqueue("a-new", "a", T0 + 2)
    acd.set_state("anna", "available", T0 + 60)
    assert [o.call_id for o in acd.offer(T0 + 61)] == ["b-old"]


def test_login_with_a_subset_of_queues_limits_what_is_offered(redis_client, keys):
    acd = make_acd(redis_client, keys, {"a": {}, "b": {}}, {"anna": {"queues": ["a", "b"]}}, login=False)
    acd.login("anna", T0, queues=["b"])
    acd.enqueue("in-a", "a", T0 + 1)
    acd.enqueue("in-b", "b", T0 + 2)
    assert [o.call_id for o in acd.offer(T0 + 3)] == ["in-b"]
