"""The IVR engine: each node type, retries, business hours, language, speech, and the demo flow end to end."""

from __future__ import annotations

import datetime as dt
import textwrap
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from callcenter.domain.call_summary import summarize
from callcenter.domain.events import CallEvent, EventType
from callcenter.hotline import load_hotline, parse_hotline
from ivr import engine
from ivr.flow import Flow, MenuNode, flow_from_hotline
from ivr.flowcheck import check_graph
from ivr.flowparse import Catalogue, FlowReader
from ivr.hours import Hours
from ivr.steps import (
    TERMINAL_STEPS,
    CallContext,
    Digits,
    Enqueue,
    Gather,
    Hangup,
    NoInput,
    Play,
    Record,
    RequestCallback,
    Result,
    Say,
    Speech,
    Transfer,
    UserInput,
)

BUDAPEST = ZoneInfo("Europe/Budapest")
UTC = dt.UTC
MONDAY_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=BUDAPEST)
SUNDAY_10 = dt.datetime(2026, 11, 29, 10, 0, tzinfo=BUDAPEST)
CHRISTMAS_EVE_10 = dt.datetime(2026, 12, 24, 10, 0, tzinfo=BUDAPEST)  # a Thursday, listed as a holiday

HEAD = """\
hotline:
  languages: [hu, en]
skills: [billing, internet, level2]
queues:
  general: {}
  level2: {second_level: true, skills: {level2: 1}}
business_hours:
  weekly: {mon: ["08:00-20:00"]}
  holidays: [2026-12-24]
ivr:
"""


def flow_of(ivr: str) -> Flow:
    flow = flow_from_hotline(parse_hotline(HEAD + textwrap.indent(textwrap.dedent(ivr), "  "), "t.yaml"))
    assert flow is not None
    return flow


def demo() -> Flow:
    flow = flow_from_hotline(load_hotline(None))
    assert flow is not None
    return flow


class FakeKnowledgeBase:
    """Published IVR messages by (topic, language); remembers what was asked."""

    def __init__(self, messages: dict[tuple[str, str], str]) -> None:
        self.messages = messages
        self.asked: list[tuple[str, str]] = []

    def message_for(self, topic: str, language: str) -> str | None:
        self.asked.append((topic, language))
        return self.messages.get((topic, language))


OUTAGE = FakeKnowledgeBase(
    {
        ("internet", "hu"): "Budapesten internetkimaradás van, a hibát javítjuk.",
        ("internet", "en"): "There is an internet outage in Budapest; we are fixing it.",
    }
)


def call(
    flow: Flow, inputs: list[UserInput], now: dt.datetime = MONDAY_10, kb: FakeKnowledgeBase | None = None
) -> list[Result]:
    """Start a call and answer each pending Gather with the next input."""
    results = [engine.start(flow, None, now, kb)]
    for user_input in inputs:
        last = results[-1]
        assert last.waiting_at is not None, "the IVR finished before all inputs were used"
        results.append(engine.advance(flow, last.waiting_at, user_input, last.context, now, kb))
    return results


def facts(results: list[Result]) -> list[tuple[EventType, dict[str, object]]]:
    return [(f.type, f.data) for r in results for f in r.facts]


def gather(result: Result) -> Gather:
    step = result.steps[-1]
    assert isinstance(step, Gather)
    return step


# --- language ----------------------------------------------------------------------------------------


def test_language_menu_speaks_each_language_in_its_own_voice() -> None:
    first = engine.start(demo(), None, MONDAY_10)
    assert first.waiting_at == "language"
    assert [p.language for p in gather(first).prompts] == ["hu", "en"]
    assert "For English, press two" in gather(first).prompts[1].text


def test_english_chosen_at_the_start_follows_the_call_into_the_queue() -> None:
    results = call(demo(), [Digits("2"), Digits("1")])
    assert all(p.language == "en" for p in gather(results[1]).prompts)
    assert results[-1].steps == (Enqueue("general", 0, {"billing": 1}, "9", language="en", topic="billing"),)
    assert results[-1].context.language == "en"


def test_no_answer_at_the_language_menu_keeps_the_default_language() -> None:
    results = call(demo(), [NoInput()])
    assert results[-1].context.language == "hu"
    assert results[-1].waiting_at == "main"
    assert all(p.language == "hu" for p in gather(results[-1]).prompts)


def test_saying_the_language_name_chooses_it() -> None:
    results = call(demo(), [Speech("English please")])
    assert results[-1].context.language == "en"


# --- speech ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["szamla", "SZÁMLA", "a számlámról... számla kérdés", "Számlázás"])
def test_speech_matches_without_regard_to_accents_or_case(said: str) -> None:
    results = call(demo(), [Digits("1"), Speech(said)])
    assert results[-1].context.topic == "billing"


def test_speech_of_a_key_name_selects_that_key() -> None:
    results = call(demo(), [Digits("1"), Speech("kettő")])
    assert results[-1].context.topic == "internet"


def test_the_phrase_said_first_wins() -> None:
    results = call(demo(), [Digits("2"), Speech("TV and also internet")])
    assert results[-1].context.topic == "tv"


def test_menu_listens_for_speech_in_the_caller_language_with_hints() -> None:
    results = call(demo(), [Digits("2")])
    step = gather(results[-1])
    assert step.speech_language == "en"
    assert "billing" in step.hints and "számla" not in step.hints


def test_speech_that_matches_nothing_is_invalid() -> None:
    results = call(demo(), [Digits("1"), Speech("időjárás")])
    assert results[-1].waiting_at == "main"
    assert results[-1].context.retries == 1


# --- retries ----------------------------------------------------------------------------------------------


def test_invalid_key_says_the_invalid_prompt_and_asks_again() -> None:
    results = call(demo(), [Digits("1"), Digits("7")])
    last = results[-1]
    assert last.steps[0] == Say("Érvénytelen választás.", "hu")
    assert gather(last).node == "main"
    assert last.context.retries == 1
    assert last.facts[0].data == {
        "node": "main", "attempt": 1, "choice": None, "kind": "dtmf", "input": "7", "language": "hu", "topic": None,
    }  # fmt: skip


def test_after_the_last_retry_the_call_goes_to_on_failure() -> None:
    results = call(demo(), [Digits("1"), Digits("7"), Digits("8"), Digits("0")])
    last = results[-1]
    assert last.steps[0] == Say("Érvénytelen választás.", "hu")
    assert isinstance(last.steps[-1], Enqueue) and last.steps[-1].queue == "general"
    assert [f.data["attempt"] for f in last.facts] == [3]


def test_timeout_asks_again_without_the_invalid_prompt() -> None:
    results = call(demo(), [Digits("1"), NoInput()])
    assert isinstance(results[-1].steps[0], Gather)
    assert results[-1].facts[0].data["kind"] == "timeout"


@pytest.mark.parametrize("nothing", [Digits(""), Digits("#"), Speech("  ")])
def test_empty_digits_or_blank_speech_count_as_no_input(nothing: UserInput) -> None:
    results = call(demo(), [Digits("1"), nothing])
    assert isinstance(results[-1].steps[0], Gather)
    assert results[-1].facts[0].data["kind"] == "timeout"


MENU_WITHOUT_INVALID = """\
start: main
nodes:
  main:
    type: menu
    prompt: {hu: Válasszon., en: Choose.}
    no_input: {hu: Nem hallottuk., en: We did not hear you.}
    choices: {"1": bye}
    retries: 1
    on_failure: bye
  bye: {type: hangup}
"""


def test_menu_without_invalid_prompt_uses_the_standard_one() -> None:
    results = call(flow_of(MENU_WITHOUT_INVALID), [Digits("5")])
    assert results[-1].steps[0] == Say("Érvénytelen választás.", "hu")


def test_no_input_prompt_is_said_on_timeout() -> None:
    results = call(flow_of(MENU_WITHOUT_INVALID), [NoInput()])
    assert results[-1].steps[0] == Say("Nem hallottuk.", "hu")


def test_zero_retries_go_to_on_failure_at_the_first_failure() -> None:
    results = call(flow_of(MENU_WITHOUT_INVALID.replace("retries: 1", "retries: 0")), [NoInput()])
    assert results[-1].finished and isinstance(results[-1].steps[-1], Hangup)


# --- business hours ---------------------------------------------------------------------------------------

HOURS = """\
start: hours
nodes:
  hours:
    type: business_hours
    open: queue
    closed: bye
  queue: {type: enqueue, queue: general}
  bye: {type: hangup}
"""


def opened(flow: Flow, now: dt.datetime) -> bool:
    return isinstance(engine.start(flow, None, now).steps[-1], Enqueue)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (dt.datetime(2026, 11, 30, 7, 59, tzinfo=BUDAPEST), False),
        (dt.datetime(2026, 11, 30, 8, 0, tzinfo=BUDAPEST), True),
        (dt.datetime(2026, 11, 30, 19, 59, tzinfo=BUDAPEST), True),
        (dt.datetime(2026, 11, 30, 20, 0, tzinfo=BUDAPEST), False),
        (SUNDAY_10, False),
        (dt.datetime(2026, 12, 21, 10, 0, tzinfo=BUDAPEST), True),
        # 06:30 UTC is 08:30 in summer (CEST) but 07:30 in winter (CET).
        (dt.datetime(2026, 3, 30, 6, 30, tzinfo=UTC), True),
        (dt.datetime(2026, 11, 30, 6, 30, tzinfo=UTC), False),
        # The Monday after the clocks went back (25 October): 08:00 local is 07:00 UTC.
        (dt.datetime(2026, 10, 26, 6, 59, tzinfo=UTC), False),
        (dt.datetime(2026, 10, 26, 7, 0, tzinfo=UTC), True),
        # Monday evening in winter: 18:59 UTC is 19:59 CET, 19:00 UTC is 20:00 CET.
        (dt.datetime(2026, 11, 30, 18, 59, tzinfo=UTC), True),
        (dt.datetime(2026, 11, 30, 19, 0, tzinfo=UTC), False),
    ],
)
def test_business_hours_follow_budapest_wall_clock(now: dt.datetime, is_open: bool) -> None:
    assert opened(flow_of(HOURS), now) is is_open


def test_holiday_is_closed_all_day() -> None:
    all_thursday = "    closed: bye\n    hours: {weekly: {thu: ['00:00-24:00']}, holidays: [2026-12-24]}"
    flow = flow_of(HOURS.replace("    closed: bye", all_thursday))
    assert not opened(flow, CHRISTMAS_EVE_10)
    assert opened(flow, dt.datetime(2026, 12, 31, 10, 0, tzinfo=BUDAPEST))


def test_a_node_override_keeps_the_hotline_parts_it_does_not_give() -> None:
    flow = flow_of(HOURS.replace("    closed: bye", "    closed: bye\n    hours: {holidays: [2026-11-30]}"))
    assert not opened(flow, MONDAY_10)
    assert opened(flow, dt.datetime(2026, 12, 7, 10, 0, tzinfo=BUDAPEST))


def test_a_node_override_in_another_time_zone() -> None:
    flow = flow_of(HOURS.replace("    closed: bye", "    closed: bye\n    hours: {timezone: Europe/London}"))
    assert opened(flow, dt.datetime(2026, 11, 30, 8, 30, tzinfo=UTC))
    assert not opened(flow, dt.datetime(2026, 11, 30, 7, 30, tzinfo=UTC))


SPRING_FORWARD = HOURS.replace("    closed: bye", "    closed: bye\n    hours: {weekly: {sun: ['01:00-04:00']}}")
FALL_BACK = HOURS.replace("    closed: bye", "    closed: bye\n    hours: {weekly: {sun: ['02:00-03:00']}}")


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), True),  # 01:30 CET
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), True),  # 03:30 CEST: 02:00-03:00 never happened
        (dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC), False),  # 04:00 CEST
    ],
)
def test_spring_forward_day_uses_local_time(utc: dt.datetime, is_open: bool) -> None:
    assert opened(flow_of(SPRING_FORWARD), utc) is is_open


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), True),  # 02:30 CEST
        (dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), True),  # 02:30 CET, the repeated hour
        (dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC), False),  # 03:00 CET
    ],
)
def test_fall_back_day_is_open_in_both_repeated_hours(utc: dt.datetime, is_open: bool) -> None:
    assert opened(flow_of(FALL_BACK), utc) is is_open


def test_holiday_branch_is_taken_when_the_node_has_one() -> None:
    flow = flow_of(
        HOURS.replace("    closed: bye", "    closed: bye\n    holiday: greeting")
        + """\
  greeting:
    type: message
    prompt: {hu: Boldog karácsonyt!, en: Merry Christmas!}
    next: bye
"""
    )
    result = engine.start(flow, None, CHRISTMAS_EVE_10)
    assert result.steps == (Say("Boldog karácsonyt!", "hu"), Hangup())
    assert result.context.path == ("hours", "greeting", "bye")


def test_hanging_up_after_hours_exits_with_reason_closed() -> None:
    result = engine.start(flow_of(HOURS), None, SUNDAY_10)
    assert result.context.after_hours
    assert result.facts[0].type is EventType.IVR_EXIT
    assert result.facts[0].data["reason"] == "closed"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        engine.start(flow_of(HOURS), None, dt.datetime(2026, 11, 30, 10, 0))


# --- the other node types ---------------------------------------------------------------------------------

NODES = """\
start: pick
nodes:
  pick:
    type: menu
    prompt: {hu: Válasszon., en: Choose.}
    choices:
      "1": vip
      "2": info
      "3": kb
      "4": cb
      "5": vm
      "6": l2
      "7": out
      "8": {next: kb, set: {topic: internet}}
    on_failure: bye
  vip: {type: set, set: {priority: 5, skill: internet, topic: vip}, next: queue}
  queue: {type: enqueue, queue: general, skills: {billing: 2}, callback_key: "*"}
  info: {type: message, prompt: {hu: Nyitva vagyunk., en: We are open.}}
  kb: {type: self_service, after: bye, next: queue}
  cb: {type: callback, queue: general, priority: 2}
  vm: {type: voicemail, max_seconds: 60, queue: general, prompt: {hu: Sípszó után., en: After the tone.}}
  l2: {type: transfer, queue: level2, prompt: {hu: Kapcsoljuk., en: Transferring.}}
  out: {type: transfer, number: "+3612345678"}
  bye: {type: hangup, prompt: {hu: Viszlát., en: Bye.}}
"""


def pressing(key: str, kb: FakeKnowledgeBase | None = None) -> Result:
    return call(flow_of(NODES), [Digits(key)], kb=kb)[-1]


def exits(result: Result) -> list[str]:
    return [str(f.data["reason"]) for f in result.facts if f.type is EventType.IVR_EXIT]


def test_set_node_records_priority_skill_and_topic_for_the_queue() -> None:
    result = pressing("1")
    assert result.steps == (Enqueue("general", 5, {"internet": 1, "billing": 2}, "*", "hu", "vip"),)
    assert (result.context.priority, result.context.skill, result.context.topic) == (5, "internet", "vip")
    assert exits(result) == []


def test_message_without_next_hangs_up_as_self_served() -> None:
    result = pressing("2")
    assert result.steps == (Say("Nyitva vagyunk.", "hu"), Hangup())
    assert exits(result) == ["self_served"]
    assert result.finished


def test_self_service_reads_the_knowledge_base_message_then_goes_on() -> None:
    kb = FakeKnowledgeBase({("internet", "hu"): "Internetkimaradás."})
    result = pressing("8", kb)
    assert result.steps == (Say("Internetkimaradás.", "hu"), Say("Viszlát.", "hu"), Hangup())
    assert kb.asked == [("internet", "hu")]


def test_self_service_without_a_message_falls_through() -> None:
    result = pressing("8", FakeKnowledgeBase({}))
    assert isinstance(result.steps[-1], Enqueue)


def test_self_service_without_a_topic_asks_nothing_and_falls_through() -> None:
    kb = FakeKnowledgeBase({})
    assert isinstance(pressing("3", kb).steps[-1], Enqueue)
    assert kb.asked == []


def test_callback_node_registers_the_callback_confirms_and_hangs_up() -> None:
    result = pressing("4")
    assert result.steps[0] == RequestCallback("general", 2, {}, "hu", None)
    assert isinstance(result.steps[1], Say) and "visszahív" in result.steps[1].text
    assert result.steps[-1] == Hangup()


def test_voicemail_records_and_exits_the_ivr() -> None:
    result = pressing("5")
    assert result.steps == (Say("Sípszó után.", "hu"), Record(60, "general"))
    assert exits(result) == ["voicemail"]


def test_voicemail_without_a_prompt_says_the_standard_one() -> None:
    flow = flow_of(NODES.replace(", prompt: {hu: Sípszó után., en: After the tone.}}", "}"))
    result = call(flow, [Digits("5")])[-1]
    assert result.steps == (
        Say("Kérjük, a sípszó után hagyjon üzenetet, és visszahívjuk.", "hu"),
        Record(60, "general"),
    )


def test_transfer_to_second_level_stays_in_our_queues() -> None:
    result = pressing("6")
    assert result.steps == (Say("Kapcsoljuk.", "hu"), Transfer("level2", None, 0, {}, "hu", None))
    assert exits(result) == []


def test_transfer_to_a_number_leaves_the_ivr() -> None:
    result = pressing("7")
    assert result.steps == (Transfer(None, "+3612345678", 0, {}, "hu", None),)
    assert exits(result) == ["transferred"]


def test_every_exit_carries_the_path_and_language() -> None:
    (exit_fact,) = [f for f in pressing("2").facts if f.type is EventType.IVR_EXIT]
    assert exit_fact.data["path"] == ["pick", "info"]
    assert exit_fact.data["language"] == "hu"


def test_recorded_prompt_is_played_with_its_transcript() -> None:
    recorded = "prompt: {hu: {text: Válasszon., audio: /p/hu.wav}, en: Choose.}"
    flow = flow_of(MENU_WITHOUT_INVALID.replace("prompt: {hu: Válasszon., en: Choose.}", recorded))
    assert gather(engine.start(flow, None, MONDAY_10)).prompts == (Play("/p/hu.wav", "hu", "Válasszon."),)


def test_input_for_an_unknown_node_or_a_node_without_input_is_refused() -> None:
    flow = flow_of(NODES)
    context = CallContext(language="hu")
    with pytest.raises(engine.NoSuchNodeError):
        engine.advance(flow, "nope", Digits("1"), context, MONDAY_10)
    with pytest.raises(engine.NotWaitingForInputError):
        engine.advance(flow, "queue", Digits("1"), context, MONDAY_10)


def test_a_caller_who_hangs_up_in_the_ivr_is_an_exit() -> None:
    result = engine.start(demo(), None, MONDAY_10)
    fact = engine.caller_hung_up("language", result.context)
    assert fact.type is EventType.IVR_EXIT
    assert fact.data["reason"] == "caller_hung_up" and fact.data["path"] == ["language"]


def test_context_survives_a_round_trip_between_requests() -> None:
    context = call(demo(), [Digits("2"), Digits("7")])[-1].context
    assert CallContext.from_dict(context.to_dict()) == context


# --- the demo flow, end to end ------------------------------------------------------------------------------


def test_demo_in_hungarian_outage_message_then_technical_queue() -> None:
    results = call(demo(), [Digits("1"), Digits("2"), Digits("1")], kb=OUTAGE)
    assert results[2].steps[0] == Say("Budapesten internetkimaradás van, a hibát javítjuk.", "hu")
    assert results[-1].steps == (Enqueue("technical", 0, {"internet": 1}, "9", "hu", "internet"),)
    assert results[-1].context.path == ("language", "hours", "main", "outage", "outage_menu", "to_technical")
    assert [d["node"] for t, d in facts(results)] == ["language", "main", "outage_menu"]
    assert [d["topic"] for t, d in facts(results)] == [None, "internet", "internet"]
    assert all(t is EventType.IVR_INPUT for t, _ in facts(results))


def test_demo_in_english_self_served_caller_hangs_up_after_the_outage_message() -> None:
    results = call(demo(), [Digits("2"), Speech("my internet is down"), NoInput()], kb=OUTAGE)
    assert results[-1].steps == (Say("Thank you for calling. Goodbye!", "en"), Hangup())
    assert exits(results[-1]) == ["self_served"]


def test_demo_without_an_outage_goes_straight_to_the_technical_queue() -> None:
    results = call(demo(), [Digits("1"), Digits("2")], kb=FakeKnowledgeBase({}))
    assert results[-1].steps == (Enqueue("technical", 0, {"internet": 1}, "9", "hu", "internet"),)


def test_demo_after_hours_in_english_leaves_a_voicemail() -> None:
    results = call(demo(), [Digits("2"), Digits("2")], now=SUNDAY_10)
    assert gather(results[1]).prompts[0].text.startswith("Our hotline is closed now.")
    assert results[-1].steps[-1] == Record(120, "general")
    (exit_fact,) = [f for f in results[-1].facts if f.type is EventType.IVR_EXIT]
    assert exit_fact.data["reason"] == "voicemail" and exit_fact.data["after_hours"] is True


def test_demo_on_a_holiday_offers_a_callback() -> None:
    results = call(demo(), [Digits("1"), Digits("1")], now=CHRISTMAS_EVE_10)
    assert results[-1].steps[0] == RequestCallback("general", 0, {}, "hu", None)
    assert results[-1].steps[-1] == Hangup()


def test_demo_second_level_caller_is_transferred_with_raised_priority() -> None:
    results = call(demo(), [Digits("1"), Digits("9")])
    assert results[-1].steps == (Transfer("level2", None, 1, {}, "hu", None),)


# --- any caller, any input ---------------------------------------------------------------------------------

PHRASES = ["számla", "internet", "tévé", "billing", "tv", "english", "magyar", "operator", "üzenet", "visszahívás"]
inputs = st.one_of(
    st.builds(Digits, st.sampled_from(["1", "2", "3", "9", "0", "*", "#", "12", ""])),
    st.builds(Digits, st.text(alphabet="0123456789*#", max_size=4)),
    st.builds(Speech, st.one_of(st.sampled_from(PHRASES), st.text(max_size=20))),
    st.just(NoInput()),
)
MOMENTS = [MONDAY_10, SUNDAY_10, CHRISTMAS_EVE_10, dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]


FLOWS = {"demo": demo(), "every node type": flow_of(NODES), "menu": flow_of(MENU_WITHOUT_INVALID)}


@pytest.mark.parametrize("name", FLOWS)
@settings(max_examples=200, deadline=None)
@given(
    sequence=st.lists(inputs, max_size=30),
    now=st.sampled_from(MOMENTS),
    kb=st.sampled_from([None, OUTAGE, FakeKnowledgeBase({})]),
)
def test_any_input_sequence_ends_in_a_terminal_step_within_bounded_steps(
    name: str, sequence: list[UserInput], now: dt.datetime, kb: FakeKnowledgeBase | None
) -> None:
    flow = FLOWS[name]
    result = engine.start(flow, None, now, kb)
    answered = 0
    while not result.finished:
        assert answered < 12, "these flows end within a dozen answers"
        user_input = sequence[answered] if answered < len(sequence) else NoInput()
        assert result.waiting_at is not None
        result = engine.advance(flow, result.waiting_at, user_input, result.context, now, kb)
        answered += 1
    assert isinstance(result.steps[-1], TERMINAL_STEPS)
    assert not any(isinstance(s, Gather) for s in result.steps)


# --- the journal -------------------------------------------------------------------------------------------


def journal(results: list[Result]) -> list[CallEvent]:
    """The facts as the channel would append them: with an id, a time, the call and the channel."""
    return [
        CallEvent(id=f"e{i}", type=fact.type, ts=1_800_000_000.0 + i, call_id="c1", channel="twilio", data=fact.data)
        for i, fact in enumerate(f for r in results for f in r.facts)
    ]


def test_the_call_summary_shows_the_ivr_path_topic_and_language_from_the_facts() -> None:
    summary = summarize("c1", journal(call(demo(), [Digits("2"), Speech("billing")])))
    assert summary.ivr_path == ("language:2", "main:billing")
    assert (summary.topic, summary.language) == ("billing", "en")


def test_a_self_served_call_counts_as_ended_in_the_ivr() -> None:
    results = call(demo(), [Digits("1"), Digits("2"), NoInput()], kb=OUTAGE)
    assert summarize("c1", journal(results)).outcome == "ivr"


# --- callback offer ----------------------------------------------------------------------------------------

OFFER = """\
start: offer
nodes:
  offer:
    type: callback
    queue: general
    offer: {hu: Visszahívásért nyomja meg az egyest., en: "For a callback, press one."}
    decline: queue
  queue: {type: enqueue, queue: general}
"""


def test_callback_offer_asks_first_and_books_on_its_key() -> None:
    first = engine.start(flow_of(OFFER), None, MONDAY_10)
    assert gather(first).prompts == (Say("Visszahívásért nyomja meg az egyest.", "hu"),)
    booked = call(flow_of(OFFER), [Digits("1")])[-1]
    assert booked.steps[0] == RequestCallback("general", 0, {}, "hu", None)
    assert booked.steps[-1] == Hangup()
    assert booked.context.path == ("offer", "offer.accepted")


@pytest.mark.parametrize("answer", [Digits("5"), NoInput(), Speech("nem")])
def test_declining_the_callback_offer_goes_on_without_complaint(answer: UserInput) -> None:
    result = call(flow_of(OFFER), [answer])[-1]
    assert result.steps == (Enqueue("general", 0, {}, None, "hu", None),)


# --- any valid flow: a caller who falls silent always leaves -----------------------------------------------

BOTH = {"hu": "Szöveg.", "en": "Text."}


def node_template(kind: str, targets: list[int], retries: int) -> dict[str, object]:
    t = [f"n{i}" for i in targets]
    templates: dict[str, dict[str, object]] = {
        "menu": {"prompt": BOTH, "choices": {"1": t[0], "2": {"next": t[1], "set": {"topic": "internet"}}},
                 "on_failure": t[2], "retries": retries},
        "language": {"prompt": BOTH, "choices": {"1": "hu", "2": "en"}, "next": t[0], "retries": retries},
        "business_hours": {"open": t[0], "closed": t[1]},
        "set": {"set": {"priority": 1, "skill": "billing"}, "next": t[0]},
        "message": {"prompt": BOTH, "next": t[0]},
        "self_service": {"topic": "internet", "next": t[0], "after": t[1]},
        "offer": {"queue": "general", "offer": BOTH, "decline": t[0]},
        "enqueue": {"queue": "general"},
        "voicemail": {},
        "transfer": {"queue": "level2"},
        "hangup": {},
    }  # fmt: skip
    return {"type": "callback" if kind == "offer" else kind, **templates[kind]}


@st.composite
def valid_flows(draw: st.DrawFn) -> Flow:
    size = draw(st.integers(2, 7))
    kinds = st.sampled_from(["menu", "language", "business_hours", "set", "message", "self_service", "offer",
                             "enqueue", "voicemail", "transfer", "hangup"])  # fmt: skip
    nodes = {
        f"n{i}": node_template(
            draw(kinds), draw(st.lists(st.integers(0, size - 1), min_size=3, max_size=3)), draw(st.integers(0, 2))
        )  # fmt: skip
        for i in range(size)
    }
    catalogue = Catalogue(("hu", "en"), "hu", {"general": False, "level2": True}, frozenset({"billing"}),
                          Hours(weekly={0: ((480, 1200),)}))  # fmt: skip
    parsed = FlowReader(catalogue).read({"start": "n0", "nodes": nodes})
    problems = parsed.problems + check_graph(parsed)
    assume(parsed.flow is not None and all("unreachable" in p.message for p in problems))
    assert parsed.flow is not None
    return parsed.flow


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(flow=valid_flows(), sequence=st.lists(inputs, max_size=8), now=st.sampled_from(MOMENTS))
def test_in_any_valid_flow_a_caller_who_falls_silent_always_leaves(
    flow: Flow, sequence: list[UserInput], now: dt.datetime
) -> None:
    bound = len(sequence) + sum(n.retries + 1 for n in flow.nodes.values() if isinstance(n, MenuNode)) + 1
    result = engine.start(flow, None, now, OUTAGE)
    for answered in range(bound + 1):
        if result.finished:
            break
        user_input = sequence[answered] if answered < len(sequence) else NoInput()
        assert result.waiting_at is not None
        result = engine.advance(flow, result.waiting_at, user_input, result.context, now, OUTAGE)
    assert result.finished, f"still in the IVR after {bound} answers"
    assert isinstance(result.steps[-1], TERMINAL_STEPS)
