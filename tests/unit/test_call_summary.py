import random

from callcenter.domain.call_summary import summarize
from callcenter.domain.events import EventType
from tests.support.events import abandoned_call, answered_call, event

T0 = 1_800_000_000.0


def test_answered_call_summary_has_wait_talk_wrapup_and_ivr_path():
    s = summarize("c1", answered_call("c1", T0, wait=12, talk=60, wrap=15))
    assert s.outcome == "answered"
    assert s.wait_seconds == 12
    assert s.talk_seconds == 60
    assert s.wrapup_seconds == 15
    assert s.operator == "anna" and s.queue == "general" and s.channel == "twilio"
    assert s.ivr_path == ("main:1",) and s.topic == "billing"
    assert s.caller == "+36301234567"
    assert s.ended_at == T0 + 5 + 12 + 60


def test_summary_is_the_same_whatever_the_order_and_repetition_of_events():
    events = answered_call("c1", T0)
    shuffled = events + events[:3]
    random.Random(7).shuffle(shuffled)
    assert summarize("c1", shuffled) == summarize("c1", events)


def test_abandoned_call_counts_its_wait_until_hang_up():
    s = summarize("c2", abandoned_call("c2", T0, waited=30))
    assert s.outcome == "abandoned"
    assert s.wait_seconds == 30
    assert s.answered_at is None and s.talk_seconds is None


def test_hold_time_is_taken_out_of_talk_time():
    events = answered_call("c3", T0, talk=100)
    connected = next(e for e in events if e.type is EventType.CONNECTED).ts
    events += [event(EventType.HOLD, "c3", connected + 10), event(EventType.UNHOLD, "c3", connected + 40)]
    s = summarize("c3", events)
    assert s.hold_seconds == 30
    assert s.talk_seconds == 70


def test_missed_rings_escalation_and_survey_are_recorded():
    events = answered_call("c4", T0)
    events += [
        event(EventType.RING_NO_ANSWER, "c4", T0 + 8, operator="bela"),
        event(EventType.ESCALATED, "c4", T0 + 200, queue="level2"),
        event(EventType.SURVEY_ANSWERED, "c4", T0 + 300, data={"question": "satisfaction", "answer": 4}),
    ]
    s = summarize("c4", events)
    assert s.missed_offers == 1 and s.escalated and s.survey_score == 4
    assert s.final_queue == "level2"


def test_events_of_other_calls_are_ignored():
    s = summarize("c5", answered_call("c5", T0) + abandoned_call("other", T0))
    assert s.event_count == 7
