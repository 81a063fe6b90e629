"""The KPI table: intervals on the local clock, and the totals beyond calls (CSAT, tickets) beside ``kpi.KpiTotals``.

Conventions every engine (SQL history, Redis live windows, this pure reference) follows:

- A call belongs to the interval in which it **entered a queue** (``enqueued_at``); its answer, abandon or
  handle time count there even when they happen later.
- Intervals are cut on the wall clock of the KPI time zone: ``wall = floor(epoch) + utc_offset(epoch)``
  seconds since 1970-01-01 00:00 local. The repeated hour of the autumn DST change is one hour bucket.
  Weeks start on Monday.
- CSAT: satisfaction answers (1-5) of 4 or 5 / all satisfaction answers, attributed to the call's interval;
  response rate: answered calls with a satisfaction answer / answered calls.
- Tickets count in the interval of the change: ``resolved_at`` for resolved, ``closed_at`` for closed. A
  resolved ticket is first-contact resolved (FCR) when no call from its caller started in the
  ``fcr_window_days`` after ``resolved_at``; resolved without escalation when it was never escalated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal
from zoneinfo import ZoneInfo

from callcenter.domain.kpi import KpiConventions, KpiTotals, report

Interval = Literal["15min", "hour", "day", "week", "month"]
INTERVALS: tuple[Interval, ...] = ("15min", "hour", "day", "week", "month")
FIXED_SECONDS: Mapping[str, int] = {"15min": 900, "hour": 3600, "day": 86400, "week": 7 * 86400}
MONDAY_WALL = 4 * 86400  # 1970-01-05 00:00, the first Monday of the epoch
DAY = 86400
_EPOCH = dt.datetime(1970, 1, 1)
SATISFIED_FROM = 4


def _add(a: Any, b: Any) -> Any:
    return type(a)(**{f.name: getattr(a, f.name) + getattr(b, f.name) for f in fields(a)})


@dataclass(frozen=True)
class CsatTotals:
    """Satisfaction answers of a set of calls; ``answered`` is the response-rate denominator."""

    responses: int = 0  # COUNT(survey_score)
    satisfied: int = 0  # SUM(survey_score >= 4)
    answered: int = 0  # answered calls (the invitations' upper bound)

    def __add__(self, other: CsatTotals) -> CsatTotals:
        return _add(self, other)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TicketTotals:
    """Ticket outcomes of an interval."""

    closed: int = 0
    resolved: int = 0
    first_contact: int = 0  # resolved with no new call from the caller within the FCR window
    without_escalation: int = 0  # resolved and never escalated

    def __add__(self, other: TicketTotals) -> TicketTotals:
        return _add(self, other)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class KpiRow:
    """One line of the KPI table: a group (queue, operator, team or '' for all) in one interval."""

    key: str
    start: dt.datetime | None  # local start of the interval; None for the whole period
    calls: KpiTotals = KpiTotals()
    csat: CsatTotals = CsatTotals()
    tickets: TicketTotals = TicketTotals()

    def as_dict(self, conventions: KpiConventions) -> dict[str, Any]:
        """Counts and ratios, flat (JSON and CSV rows)."""
        ratios = report(self.calls, conventions)
        row: dict[str, Any] = {"key": self.key, "start": self.start.isoformat() if self.start else None}
        row.update({f.name: getattr(self.calls, f.name) for f in fields(self.calls)})
        row.update({f"csat_{f.name}": getattr(self.csat, f.name) for f in fields(self.csat)})
        row.update({f"tickets_{f.name}": getattr(self.tickets, f.name) for f in fields(self.tickets)})
        row.update(
            answer_rate=ratios.answer_rate,
            abandonment_rate=ratios.abandonment_rate,
            short_abandon_rate=ratios.short_abandon_rate,
            asa_seconds=ratios.asa_seconds,
            aht_seconds=ratios.aht_seconds,
            service_level=ratios.service_level,
            occupancy=ratios.occupancy,
            csat=ratio(self.csat.satisfied, self.csat.responses),
            survey_response_rate=ratio(self.csat.responses, self.csat.answered),
            fcr_rate=ratio(self.tickets.first_contact, self.tickets.resolved),
            resolved_without_escalation_rate=ratio(self.tickets.without_escalation, self.tickets.resolved),
        )
        return row


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


# -- the local clock ----------------------------------------------------------------------------------------


def wall_seconds(ts: float, zone: dt.tzinfo) -> int:
    """Seconds since 1970-01-01 00:00 on the wall clock of ``zone`` at epoch time ``ts``."""
    offset = dt.datetime.fromtimestamp(ts, zone).utcoffset() or dt.timedelta()
    return math.floor(ts) + int(offset.total_seconds())


def bucket_wall(wall: int, interval: Interval) -> int:
    """The wall-clock start of the interval containing ``wall``."""
    if interval == "month":
        day = (_EPOCH + dt.timedelta(seconds=wall)).date().replace(day=1)
        return (day - _EPOCH.date()).days * DAY
    size = FIXED_SECONDS[interval]
    anchor = MONDAY_WALL if interval == "week" else 0
    return (wall - anchor) // size * size + anchor


def wall_label(wall: int, zone: dt.tzinfo) -> dt.datetime:
    """The aware local datetime of a wall-clock instant."""
    return (_EPOCH + dt.timedelta(seconds=wall)).replace(tzinfo=zone)


def bucket_start(ts: float, interval: Interval, zone: dt.tzinfo) -> dt.datetime:
    """The local start of the interval an event at ``ts`` falls in."""
    return wall_label(bucket_wall(wall_seconds(ts, zone), interval), zone)


def month_starts(first_wall: int, last_wall: int) -> list[int]:
    """Wall starts of every month touching [first_wall, last_wall]."""
    starts, wall = [], bucket_wall(first_wall, "month")
    while wall <= last_wall:
        starts.append(wall)
        wall = bucket_wall(wall + 32 * DAY, "month")
    return starts


def offset_segments(zone: dt.tzinfo, start_ts: float, end_ts: float) -> list[tuple[float, int]]:
    """[(from_ts, utc offset seconds)] covering [start_ts, end_ts); the first segment also covers before."""

    def offset(ts: float) -> int:
        value = dt.datetime.fromtimestamp(ts, zone).utcoffset() or dt.timedelta()
        return int(value.total_seconds())

    segments = [(start_ts, offset(start_ts))]
    ts = start_ts
    while ts < end_ts:
        step = min(ts + 3600, end_ts)
        if offset(step) != segments[-1][1]:
            low, high = ts, step
            while high - low > 1:
                mid = math.floor((low + high) / 2)
                low, high = (mid, high) if offset(mid) == segments[-1][1] else (low, mid)
            segments.append((float(high), offset(high)))
        ts = step
    return segments


def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# -- business hours ------------------------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_spans(weekly: Mapping[str, Sequence[str]]) -> list[tuple[int, int, int]]:
    """(weekday Monday=0, from second of day, to second of day) of each business-hours span."""
    spans = []
    for day, texts in weekly.items():
        for text in texts:
            begin, end = text.split("-")
            spans.append((WEEKDAYS.index(day), _second_of_day(begin), _second_of_day(end)))
    return spans


def _second_of_day(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def holiday_days(holidays: Iterable[dt.date]) -> list[int]:
    """Wall day numbers (days since 1970-01-01) of the holidays."""
    return [(day - _EPOCH.date()).days for day in holidays]


def in_business_hours(wall: int, spans: Sequence[tuple[int, int, int]], holidays: Sequence[int]) -> bool:
    """Whether a wall-clock instant falls in a weekly span and not on a holiday."""
    day = wall // DAY
    if day in holidays:
        return False
    weekday, second = (day + 3) % 7, wall - day * DAY
    return any(weekday == wd and begin <= second < end for wd, begin, end in spans)


# -- the pure reference of CSAT and tickets ------------------------------------------------------------------


def csat_of(survey_score: int | None, answered: bool) -> CsatTotals:
    """CSAT totals of one offered call."""
    responded = survey_score is not None
    return CsatTotals(
        responses=int(responded),
        satisfied=int(responded and survey_score is not None and survey_score >= SATISFIED_FROM),
        answered=int(answered),
    )


def resolved_ticket_totals(
    escalated: bool, resolved_ts: float, caller_calls: Iterable[float], window_days: int
) -> TicketTotals:
    """Totals of one resolved ticket given the start times of its caller's calls."""
    horizon = resolved_ts + window_days * DAY
    repeat = any(resolved_ts < started <= horizon for started in caller_calls)
    return TicketTotals(resolved=1, first_contact=int(not repeat), without_escalation=int(not escalated))
