"""Intervals on the local clock, business hours, CSAT and FCR: the pure definitions the engines follow."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callcenter.domain.kpi import KpiTotals
from callcenter.domain.kpi_table import (
    CsatTotals,
    KpiRow,
    TicketTotals,
    bucket_start,
    csat_of,
    holiday_days,
    in_business_hours,
    month_starts,
    offset_segments,
    resolved_ticket_totals,
    wall_seconds,
    weekly_spans,
)
from callcenter.hotline import KpiConfig

BUD = ZoneInfo("Europe/Budapest")


def ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=BUD).timestamp()  # type: ignore[misc,arg-type]


@pytest.mark.parametrize(
    ("moment", "interval", "start"),
    [
        (ts(2026, 11, 27, 10, 14, 59), "15min", dt.datetime(2026, 11, 27, 10, 0)),
        (ts(2026, 11, 27, 10, 15), "15min", dt.datetime(2026, 11, 27, 10, 15)),
        (ts(2026, 11, 27, 23, 59), "day", dt.datetime(2026, 11, 27)),
        (ts(2026, 11, 29, 23, 0), "week", dt.datetime(2026, 11, 23)),  # Sunday belongs to Monday's week
        (ts(2026, 11, 30, 0, 0), "week", dt.datetime(2026, 11, 30)),
        (ts(2026, 12, 31, 23, 59), "month", dt.datetime(2026, 12, 1)),
    ],
)
def test_intervals_start_on_the_local_clock(moment: float, interval: str, start: dt.datetime) -> None:
    assert bucket_start(moment, interval, BUD).replace(tzinfo=None) == start  # type: ignore[arg-type]


def test_the_repeated_autumn_hour_is_one_bucket_and_the_day_has_25_hours_of_calls() -> None:
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC).timestamp()  # 02:30 CEST
    second = first + 3600  # 02:30 CET
    assert bucket_start(first, "hour", BUD) == bucket_start(second, "hour", BUD)
    assert bucket_start(first, "day", BUD) == bucket_start(first + 22 * 3600, "day", BUD)


def test_offset_segments_find_the_dst_changes_of_a_period_to_the_second() -> None:
    segments = offset_segments(BUD, ts(2026, 3, 1), ts(2026, 11, 1))
    assert [(dt.datetime.fromtimestamp(t, dt.UTC).isoformat(), o) for t, o in segments[1:]] == [
        ("2026-03-29T01:00:00+00:00", 7200),
        ("2026-10-25T01:00:00+00:00", 3600),
    ]
    assert segments[0][1] == 3600


def test_month_starts_cover_every_month_touched() -> None:
    starts = month_starts(wall_seconds(ts(2026, 1, 15), BUD), wall_seconds(ts(2026, 3, 2), BUD))
    assert [dt.date(1970, 1, 1) + dt.timedelta(days=s // 86400) for s in starts] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]


def test_business_hours_follow_weekday_spans_and_holidays() -> None:
    spans = weekly_spans({"fri": ("08:00-16:30",)})
    holidays = holiday_days([dt.date(2026, 12, 25)])
    assert in_business_hours(wall_seconds(ts(2026, 11, 27, 8, 0), BUD), spans, holidays)
    assert not in_business_hours(wall_seconds(ts(2026, 11, 27, 16, 30), BUD), spans, holidays)
    assert not in_business_hours(wall_seconds(ts(2026, 11, 28, 9, 0), BUD), spans, holidays)
    assert not in_business_hours(wall_seconds(ts(2026, 12, 25, 9, 0), BUD), spans, holidays)


def test_csat_counts_four_and_five_as_satisfied_and_unanswered_as_no_response() -> None:
    assert csat_of(4, True) + csat_of(3, True) + csat_of(None, True) == CsatTotals(responses=2, satisfied=1, answered=3)


def test_fcr_fails_only_when_the_caller_calls_again_within_the_window() -> None:
    resolved = 1_800_000_000.0
    assert resolved_ticket_totals(False, resolved, [resolved - 10, resolved + 8 * 86400], 7).first_contact == 1
    assert resolved_ticket_totals(True, resolved, [resolved + 3600], 7) == TicketTotals(resolved=1)


def test_row_ratios_are_none_without_a_denominator() -> None:
    row = KpiRow("q", None, KpiTotals(), CsatTotals(), TicketTotals()).as_dict(KpiConfig())
    assert row["answer_rate"] is None and row["csat"] is None and row["fcr_rate"] is None
