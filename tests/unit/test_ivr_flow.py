"""The flow language: what a valid flow reads as, and every validation error with its file and line."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.hotline import load_hotline, parse_hotline
from callcenter.yamlsrc import ConfigError
from ivr import engine
from ivr.flow import (
    BusinessHoursNode,
    EnqueueNode,
    MenuNode,
    SelfServiceNode,
    TransferNode,
    check_flow,
    flow_from_hotline,
)

HEAD = """\
hotline:
  languages: [hu, en]
skills: [billing, internet, level2]
queues:
  general: {}
  level2: {second_level: true, skills: {level2: 1}}
business_hours:
  weekly: {mon: ["08:00-20:00"]}
"""

MENU = """\
ivr:
  start: main
  nodes:
    main:
      type: menu
      prompt: {hu: Válasszon., en: Choose.}
      choices:
        "1": {next: queue, set: {skill: billing}, speech: {hu: [számla], en: [bill]}}
        "2": bye
      on_failure: queue
    queue: {type: enqueue, queue: general}
    bye: {type: hangup}
"""


def hotline_text(ivr: str, head: str = HEAD) -> str:
    return head + textwrap.dedent(ivr)


def errors_of(ivr: str, head: str = HEAD) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_hotline(hotline_text(ivr, head), "h.yaml")
    return str(caught.value)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def test_demo_flow_loads_with_every_node_typed() -> None:
    flow = flow_from_hotline(load_hotline(None))
    assert flow is not None
    assert flow.start == "language"
    assert isinstance(flow.nodes["language"], MenuNode) and flow.nodes["language"].all_languages
    assert isinstance(flow.nodes["hours"], BusinessHoursNode)
    assert isinstance(flow.nodes["outage"], SelfServiceNode)
    assert isinstance(flow.nodes["to_level2"], TransferNode)
    assert flow.languages == ("hu", "en")


def test_menu_choices_read_keys_targets_assignments_and_phrases() -> None:
    flow = flow_from_hotline(parse_hotline(hotline_text(MENU), "h.yaml"))
    assert flow is not None
    menu = flow.nodes["main"]
    assert isinstance(menu, MenuNode)
    first, second = menu.choices
    assert (first.key, first.next, first.assign.skill) == ("1", "queue", "billing")
    assert first.speech == {"hu": ("számla",), "en": ("bill",)}
    assert (second.key, second.next) == ("2", "bye")
    assert (menu.timeout_seconds, menu.retries) == (5, 2)


def test_hotline_without_ivr_section_has_no_flow() -> None:
    assert flow_from_hotline(parse_hotline(HEAD, "h.yaml")) is None


def test_unknown_node_is_reported_at_the_reference() -> None:
    ivr = MENU.replace('"2": bye', '"2": nowhere')
    text = hotline_text(ivr)
    assert f"h.yaml:{line_of(text, 'nowhere')}: ivr.nodes.main.choices.2.next: unknown node 'nowhere'" in (
        errors_of(ivr)
    )


def test_unreachable_node_is_reported_at_the_node() -> None:
    ivr = MENU + "    orphan: {type: hangup}\n"
    text = hotline_text(ivr)
    message = errors_of(ivr)
    assert f"h.yaml:{line_of(text, 'orphan')}: ivr.nodes.orphan: unreachable node 'orphan'" in message


def test_missing_prompt_for_a_hotline_language() -> None:
    ivr = MENU.replace("prompt: {hu: Válasszon., en: Choose.}", "prompt: {hu: Válasszon.}")
    text = hotline_text(ivr)
    message = errors_of(ivr)
    assert f"h.yaml:{line_of(text, 'prompt:')}: ivr.nodes.main.prompt: missing prompt for language 'en'" in message


def test_prompt_in_a_language_the_hotline_does_not_speak() -> None:
    ivr = MENU.replace("en: Choose.}", "en: Choose., de: Wählen.}")
    assert "ivr.nodes.main.prompt.de: prompt for 'de', which is not a hotline language" in errors_of(ivr)


def test_digit_used_twice_even_when_once_quoted_and_once_not() -> None:
    ivr = MENU.replace('"2": bye', "1: bye")
    text = hotline_text(ivr)
    assert f"h.yaml:{line_of(text, '1: bye')}: ivr.nodes.main.choices.1: digit used twice" in errors_of(ivr)


def test_key_that_starts_a_longer_key_is_a_digit_used_twice() -> None:
    ivr = MENU.replace('"2": bye', '"12": bye')
    assert "ivr.nodes.main.choices.12: digit used twice: key '12' and key '1' start alike" in errors_of(ivr)


def test_a_key_must_be_a_phone_key() -> None:
    ivr = MENU.replace('"2": bye', '"x": bye')
    assert "ivr.nodes.main.choices.x: 'x' is not a phone key" in errors_of(ivr)


def test_speech_phrase_equal_after_removing_accents_is_used_twice() -> None:
    ivr = MENU.replace('"2": bye', "2: {next: bye, speech: {hu: [szamla]}}")
    text = hotline_text(ivr)
    expected = f"h.yaml:{line_of(text, 'hu: [szamla]')}: ivr.nodes.main.choices.2.speech.hu: phrase 'szamla' is used"
    assert expected in errors_of(ivr)


LOOP = """\
ivr:
  start: a
  nodes:
    a:
      type: menu
      prompt: {hu: A, en: A}
      choices: {"1": b}
      on_failure: b
    b:
      type: menu
      prompt: {hu: B, en: B}
      choices: {"1": a}
      on_failure: a
"""


def test_menus_that_only_lead_to_each_other_are_a_loop_with_no_exit() -> None:
    text = hotline_text(LOOP)
    message = errors_of(LOOP)
    assert f"h.yaml:{line_of(text, '    a:')}: ivr.nodes.a: loop with no exit: a, b lead only to each other" in message


def test_nodes_that_pass_the_call_round_without_asking_are_a_loop() -> None:
    ivr = """\
    ivr:
      start: s1
      nodes:
        s1: {type: set, set: {topic: x}, next: s2}
        s2:
          type: business_hours
          open: s1
          closed: bye
        bye: {type: hangup}
    """
    text = hotline_text(ivr)
    message = errors_of(ivr)
    assert f"h.yaml:{line_of(text, 's1: {')}: ivr.nodes.s1: loop with no exit: s1 -> s2 -> s1" in message


def test_unknown_queue_and_unknown_skill() -> None:
    ivr = MENU.replace("queue: general", "queue: sales").replace("skill: billing", "skill: cooking")
    text = hotline_text(ivr)
    message = errors_of(ivr)
    assert f"h.yaml:{line_of(text, 'queue: sales')}: ivr.nodes.queue.queue: unknown queue 'sales'" in message
    assert "ivr.nodes.main.choices.1.set.skill: unknown skill 'cooking'" in message


def test_enqueue_skills_must_be_declared_and_levels_in_range() -> None:
    ivr = MENU.replace("queue: general}", "queue: general, skills: {internet: 11, tv: 1}}")
    message = errors_of(ivr)
    assert "ivr.nodes.queue.skills.internet: level must be 1..10, got 11" in message
    assert "ivr.nodes.queue.skills.tv: unknown skill 'tv'" in message


def test_transfer_needs_a_second_level_queue_or_an_e164_number() -> None:
    ivr = MENU.replace("bye: {type: hangup}", "bye: {type: transfer, queue: general}")
    assert "ivr.nodes.bye.queue: queue 'general' is not second level" in errors_of(ivr)
    ivr = MENU.replace("bye: {type: hangup}", "bye: {type: transfer, number: '06 1 234'}")
    assert "ivr.nodes.bye.number: number '06 1 234' is not in E.164 form" in errors_of(ivr)
    ivr = MENU.replace("bye: {type: hangup}", "bye: {type: transfer}")
    assert "ivr.nodes.bye: a transfer needs exactly one of 'queue' (second level) or 'number'" in errors_of(ivr)


HOURS = """\
ivr:
  start: hours
  nodes:
    hours:
      type: business_hours
      open: queue
      closed: bye
      hours:
        timezone: Europe/Budapest
        weekly:
          mon: ["08:00-20:00"]
        holidays: [2026-12-24]
    queue: {type: enqueue, queue: general}
    bye: {type: hangup}
"""


@pytest.mark.parametrize(
    ("span", "problem"),
    [
        ("20:00-08:00", "the start must come before the end"),
        ("8-20", "write HH:MM-HH:MM"),
        ("08:00-24:30", "no such time of day"),
        ("25:00-26:00", "no such time of day"),
    ],
)
def test_bad_time_span_in_a_node_override(span: str, problem: str) -> None:
    ivr = HOURS.replace('"08:00-20:00"', f'"{span}"')
    text = hotline_text(ivr)
    expected = f"h.yaml:{line_of(text, span)}: ivr.nodes.hours.hours.weekly.mon.0: bad time span {span!r}: {problem}"
    assert expected in errors_of(ivr)


def test_overlapping_spans_unknown_weekday_zone_and_bad_holiday() -> None:
    ivr = (
        HOURS.replace('mon: ["08:00-20:00"]', 'mon: ["08:00-12:00", "11:00-13:00"]\n          sunday: []')
        .replace("Europe/Budapest", "Europe/Atlantis")
        .replace("[2026-12-24]", "[24 Dec]")
    )
    message = errors_of(ivr)
    assert "ivr.nodes.hours.hours.weekly.mon: bad time span: spans of one day overlap" in message
    assert "ivr.nodes.hours.hours.weekly.sunday: unknown weekday 'sunday'" in message
    assert "ivr.nodes.hours.hours.timezone: unknown time zone 'Europe/Atlantis'" in message
    assert "ivr.nodes.hours.hours.holidays.0: bad holiday '24 Dec'" in message


def test_reversed_span_in_the_hotline_business_hours_is_reported_there() -> None:
    head = HEAD.replace('mon: ["08:00-20:00"]', 'mon: ["20:00-08:00"]')
    text = hotline_text(MENU, head)
    message = errors_of(MENU, head)
    assert f"h.yaml:{line_of(text, '20:00-08:00')}: business_hours.weekly.mon.0: bad time span" in message


def test_unknown_node_type_and_unknown_field() -> None:
    ivr = MENU.replace("bye: {type: hangup}", "bye: {type: goodbye}").replace("on_failure: queue", "on_fail: queue")
    message = errors_of(ivr)
    assert "ivr.nodes.bye.type: unknown node type 'goodbye'" in message
    assert "ivr.nodes.main.on_fail: unknown field 'on_fail'" in message


def test_out_of_range_numbers_are_reported() -> None:
    ivr = MENU.replace("on_failure: queue", "on_failure: queue\n      retries: 20\n      timeout_seconds: 0")
    message = errors_of(ivr)
    assert "ivr.nodes.main.retries: retries must be a whole number from 0 to 9, got 20" in message
    assert "ivr.nodes.main.timeout_seconds: timeout_seconds must be a whole number from 1 to 60, got 0" in message


def test_language_node_needs_hotline_languages() -> None:
    ivr = """\
    ivr:
      start: lang
      nodes:
        lang:
          type: language
          prompt: {hu: Magyar egyes., en: English two.}
          choices: {"1": hu, "2": de}
          next: bye
        bye: {type: hangup}
    """
    assert "ivr.nodes.lang.choices.2: 'de' is not a hotline language (hu, en)" in errors_of(ivr)


def test_every_problem_is_listed_one_per_line_in_file_order() -> None:
    ivr = MENU.replace('"2": bye', '"2": nowhere').replace("queue: general", "queue: sales")
    ivr = ivr.replace("prompt: {hu: Válasszon., en: Choose.}", "prompt: {hu: Válasszon.}")
    lines = errors_of(ivr).splitlines()
    assert len(lines) == 3
    numbers = [int(line.split(":")[1]) for line in lines]
    assert numbers == sorted(numbers)
    assert all(line.startswith("h.yaml:") for line in lines)


def test_config_check_path_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(hotline_text(MENU.replace('"2": bye', '"2": nowhere')), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: ivr.nodes.main.choices.2.next: unknown node"):
        load_hotline(path)


def test_enqueue_node_keeps_callback_key_as_text() -> None:
    ivr = MENU.replace("queue: general}", "queue: general, callback_key: 9, priority: 3}")
    flow = flow_from_hotline(parse_hotline(hotline_text(ivr), "h.yaml"))
    assert flow is not None
    node = flow.nodes["queue"]
    assert isinstance(node, EnqueueNode)
    assert (node.callback_key, node.priority) == ("9", 3)


def test_start_must_name_a_node() -> None:
    ivr = MENU.replace("start: main", "start: welcome")
    text = hotline_text(ivr)
    assert f"h.yaml:{line_of(text, 'start: welcome')}: ivr.start: unknown node 'welcome'" in errors_of(ivr)


def test_a_node_without_type_is_reported() -> None:
    ivr = MENU.replace("bye: {type: hangup}", "bye: {prompt: {hu: Szia, en: Bye}}")
    assert "ivr.nodes.bye: missing 'type' (menu, language" in errors_of(ivr)


def test_business_hours_without_any_opening_hours_would_always_be_closed() -> None:
    head = HEAD.replace('business_hours:\n  weekly: {mon: ["08:00-20:00"]}\n', "")
    ivr = """\
    ivr:
      start: hours
      nodes:
        hours: {type: business_hours, open: bye, closed: bye}
        bye: {type: hangup}
    """
    text = hotline_text(ivr, head)
    assert f"h.yaml:{line_of(text, 'hours: {')}: ivr.nodes.hours: no opening hours" in errors_of(ivr, head)


def test_callback_offer_needs_a_decline_target() -> None:
    ivr = MENU.replace("bye: {type: hangup}", "bye: {type: callback, queue: general, offer: {hu: Kér, en: Want}}")
    assert "ivr.nodes.bye: missing 'decline' (the node to go to)" in errors_of(ivr)


def test_a_menu_whose_failure_leads_back_to_itself_traps_a_silent_caller() -> None:
    ivr = (
        MENU.replace("on_failure: queue", "on_failure: again") + "    again: {type: set, set: {topic: x}, next: main}\n"
    )
    text = hotline_text(ivr)
    expected = (
        f"h.yaml:{line_of(text, '    main:')}: ivr.nodes.main: loop with no exit: "
        "a caller who never answers goes round main -> again -> main"
    )
    assert expected in errors_of(ivr)


def test_a_menu_may_offer_to_repeat_itself_when_its_failure_path_exits() -> None:
    ivr = MENU.replace('"2": bye', '"0": main\n        "2": bye')
    assert flow_from_hotline(parse_hotline(hotline_text(ivr), "h.yaml")) is not None


# --- any input: the validator reports, never crashes; what it accepts, the engine runs --------------------

NODE_TYPES = ["menu", "language", "business_hours", "set", "message", "self_service", "enqueue", "callback",
              "voicemail", "transfer", "hangup", "bogus"]  # fmt: skip
FIELDS = ["prompt", "choices", "on_failure", "next", "after", "open", "closed", "holiday", "hours", "set",
          "queue", "skills", "priority", "number", "retries", "timeout_seconds", "invalid", "key", "offer",
          "decline", "callback_key", "max_seconds", "topic", "reason", "speech"]  # fmt: skip
NAMES = st.sampled_from(["a", "b", "c", "hu", "en", "general", "level2", "billing", "1", "2", "08:00-20:00"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 30), NAMES, st.text(max_size=6))
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(scalars, inner, max_size=3)),
    max_leaves=8,
)  # fmt: skip
node_specs = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(NODE_TYPES),
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(NAMES, values), max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(nodes=st.dictionaries(st.sampled_from(["a", "b", "c"]), node_specs, min_size=1, max_size=3))
def test_any_ivr_section_is_reported_or_accepted_and_an_accepted_flow_runs(nodes: dict[str, object]) -> None:
    hotline = parse_hotline(HEAD, "h.yaml").model_copy(update={"ivr": {"start": "a", "nodes": nodes}})
    flow, problems = check_flow(hotline)
    assert (flow is None) == bool(problems)
    assert all(isinstance(p.message, str) and p.path[0] in ("ivr", "business_hours") for p in problems)
    if flow is not None:
        result = engine.start(flow, None, dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC))
        assert result.finished or result.waiting_at in flow.nodes
