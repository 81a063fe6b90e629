"""KPI definitions over call summaries: which call counts where, and the three service-level variants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.call_summary import CallSummary
from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.kpi import (
    KpiTotals,
    call_totals,
    report,
    service_level,
    staffed_seconds,
    tally,
    tally_by_queue,
)
from callcenter.hotline import KpiConfig

CONVENTIONS = KpiConfig(service_level_threshold_seconds=20, short_abandon_seconds=5)


def answered(
    wait: float, talk: float = 100.0, hold: float = 0.0, wrapup: float | None = 30.0, queue: str = "q"
) -> CallSummary:
    return CallSummary(
        call_id=f"a{wait}-{talk}",
        queue=queue,
        outcome="answered",
        enqueued_at=1000.0,
        answered_at=1000.0 + wait,
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=hold,
        wrapup_seconds=wrapup,
    )


def unanswered(wait: float, outcome: str = "abandoned", queue: str = "q") -> CallSummary:
    return CallSummary(
        call_id=f"u{wait}-{outcome}", queue=queue, outcome=outcome, enqueued_at=1000.0, wait_seconds=wait
    )


CALLS = [
    answered(0.0),
    answered(20.0),  # exactly T: within
    answered(21.0, talk=200.0, hold=10.0, wrapup=None),
    unanswered(4.9),  # short abandon
    unanswered(5.0),  # long abandon: the short threshold is strict
    unanswered(60.0),
    unanswered(600.0, outcome="timeout"),
    CallSummary(call_id="ivr", outcome="ivr"),  # never entered a queue
]


def test_counts_follow_the_documented_definitions() -> None:
    totals = tally(CALLS, CONVENTIONS)
    assert (totals.offered, totals.answered, totals.abandoned, totals.short_abandoned) == (7, 3, 3, 1)
    assert totals.answered_within == 2
    assert totals.max_wait_seconds == 600.0


def test_ratios_of_the_report() -> None:
    kpis = report(tally(CALLS, CONVENTIONS).with_staffed_time(1000.0), CONVENTIONS)
    assert kpis.answer_rate == pytest.approx(3 / 7)
    assert kpis.abandonment_rate == pytest.approx(3 / 7)
    assert kpis.short_abandon_rate == pytest.approx(1 / 7)
    assert kpis.asa_seconds == pytest.approx(41 / 3)
    # handle = talk + hold + wrap-up; a missing wrap-up counts 0
    assert kpis.aht_seconds == pytest.approx((130 + 130 + 210) / 3)
    assert kpis.occupancy == pytest.approx(470 / 1000)


def test_service_level_variants_differ_only_in_their_denominator() -> None:
    totals = tally(CALLS, CONVENTIONS)
    assert service_level(totals, "answered_and_long_abandoned") == pytest.approx(2 / (3 + 2))
    assert service_level(totals, "offered") == pytest.approx(2 / 7)
    assert service_level(totals, "answered_only") == pytest.approx(2 / 3)


def test_no_calls_give_no_ratios_rather_than_zeros() -> None:
    kpis = report(KpiTotals(), CONVENTIONS)
    assert (kpis.answer_rate, kpis.asa_seconds, kpis.service_level, kpis.occupancy) == (None, None, None, None)


def test_a_call_still_talking_is_answered_but_not_yet_handled() -> None:
    talking = CallSummary(call_id="t", queue="q", outcome="answered", enqueued_at=0.0, answered_at=3.0, wait_seconds=3)
    totals = call_totals(talking, CONVENTIONS)
    assert (totals.answered, totals.handled, totals.handle_seconds) == (1, 0, 0.0)


def test_totals_split_by_queue_add_up_to_the_whole() -> None:
    calls = [answered(1, queue="a"), unanswered(30, queue="b"), answered(50, queue="b")]
    per_queue = tally_by_queue(calls, CONVENTIONS)
    assert set(per_queue) == {"a", "b"}
    assert per_queue["a"] + per_queue["b"] == tally(calls, CONVENTIONS)


@dataclass(frozen=True)
class Row:
    """Any record with the protocol's fields will do (the SQL ``calls`` rows, a test double...)."""

    queue: str
    outcome: str
    enqueued_at: object
    answered_at: object
    wait_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float | None
    wrapup_seconds: float | None


waits = st.floats(min_value=0, max_value=3600)
rows = st.builds(
    Row,
    queue=st.sampled_from(["a", "b"]),
    outcome=st.sampled_from(["answered", "abandoned", "timeout"]),
    enqueued_at=st.just(0.0),
    answered_at=st.none() | st.just(1.0),
    wait_seconds=waits,
    talk_seconds=st.none() | waits,
    hold_seconds=st.none() | waits,
    wrapup_seconds=st.none() | waits,
)


@given(st.lists(rows, max_size=30), st.lists(rows, max_size=30))
def test_totals_of_two_sets_of_calls_merge_by_addition(first: list[Row], second: list[Row]) -> None:
    merged = tally(first, CONVENTIONS) + tally(second, CONVENTIONS)
    whole = tally(first + second, CONVENTIONS)
    assert merged.offered == whole.offered and merged.answered_within == whole.answered_within
    assert merged.handle_seconds == pytest.approx(whole.handle_seconds)
    assert merged.max_wait_seconds == whole.max_wait_seconds
    kpis = report(whole, CONVENTIONS)
    for ratio in (kpis.answer_rate, kpis.abandonment_rate, kpis.service_level):
        assert ratio is None or 0 <= ratio <= 1


def state(operator: str, ts: float, to: str) -> CallEvent:
    return CallEvent(f"{operator}-{ts}", EventType.OPERATOR_STATE, ts, operator=operator, data={"to": to})


def test_staffed_time_counts_logged_in_time_off_break_within_the_window() -> None:
    events = [
        state("anna", 0, "available"),  # logged in before the window
        state("anna", 150, "break"),
        state("anna", 170, "available"),
        state("bela", 120, "available"),
        state("bela", 180, "offline"),
        state("csilla", 300, "available"),  # after the window
        CallEvent("x", EventType.CONNECTED, 130, call_id="c1", operator="anna"),
    ]
    # anna: 100-150 and 170-200; bela: 120-180; csilla: nothing
    assert staffed_seconds(events, 100, 200) == pytest.approx(50 + 30 + 60)
