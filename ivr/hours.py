"""Business hours and holidays, evaluated in the hotline's time zone (Europe/Budapest by default).

Spans are local wall-clock times, so the opening hours stay 08:00-20:00 across daylight-saving changes;
``now`` is converted to the zone before comparing. A span ends before its end minute (08:00-20:00 is
open at 19:59, closed at 20:00); ``24:00`` closes at midnight. Spans do not cross midnight: write
``22:00-24:00`` on one day and ``00:00-06:00`` on the next.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.problems import Problem, YamlPath

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Europe/Budapest"
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")

Span = tuple[int, int]


@dataclass(frozen=True)
class Hours:
    """Weekly opening spans (minutes after local midnight, Monday is 0) and closed dates."""

    timezone: str = DEFAULT_TIMEZONE
    weekly: Mapping[int, tuple[Span, ...]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()

    def local(self, now: dt.datetime) -> dt.datetime:
        """``now`` on the wall clock of the hotline; naive datetimes are refused (time must be explicit)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("business hours need an aware datetime (with a time zone)")
        return now.astimezone(ZoneInfo(self.timezone))

    def is_holiday(self, now: dt.datetime) -> bool:
        """True on a listed holiday (by local date)."""
        return self.local(now).date() in self.holidays

    def is_open(self, now: dt.datetime) -> bool:
        """Open when not a holiday and the local time falls in one of the day's spans."""
        local = self.local(now)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly.get(local.weekday(), ()))


def parse_hours(raw: Any, path: YamlPath, problems: list[Problem], base: Hours | None = None) -> Hours | None:
    """Read a ``{timezone, weekly, holidays}`` mapping, adding a Problem for each bad part.

    A part that is left out comes from ``base`` (the hotline's hours, for a node's override).
    """
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "must be a mapping with timezone, weekly and holidays"))
        return None
    before, base = len(problems), base or Hours()
    for key in raw:
        if key not in ("timezone", "weekly", "holidays"):
            problems.append(Problem((*path, key), f"unknown field {key!r}"))
    timezone = _timezone(raw["timezone"], (*path, "timezone"), problems) if "timezone" in raw else base.timezone
    weekly = _weekly(raw["weekly"] or {}, (*path, "weekly"), problems) if "weekly" in raw else base.weekly
    holidays = _holidays(raw["holidays"] or (), (*path, "holidays"), problems) if "holidays" in raw else None
    if len(problems) > before:
        return None
    return Hours(timezone=timezone, weekly=weekly, holidays=base.holidays if holidays is None else holidays)


def _timezone(name: Any, path: YamlPath, problems: list[Problem]) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(path, f"unknown time zone {name!r} (e.g. Europe/Budapest)"))
    return str(name)


def _weekly(raw: Any, path: YamlPath, problems: list[Problem]) -> dict[int, tuple[Span, ...]]:
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "must map weekdays (mon..sun) to lists of HH:MM-HH:MM spans"))
        return {}
    weekly: dict[int, tuple[Span, ...]] = {}
    for day, spans in raw.items():
        if day not in WEEKDAYS:
            problems.append(Problem((*path, day), f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}"))
            continue
        items = spans if isinstance(spans, list | tuple) else [spans]
        parsed = [_span(s, (*path, day, i), problems) for i, s in enumerate(items)]
        weekly[WEEKDAYS.index(day)] = tuple(sorted(p for p in parsed if p is not None))
        _overlaps(weekly[WEEKDAYS.index(day)], (*path, day), problems)
    return weekly


def _span(text: Any, path: YamlPath, problems: list[Problem]) -> Span | None:
    """``"08:00-20:00"`` as minutes after midnight; start must come before end, end at most 24:00."""
    found = _SPAN.match(str(text).strip())
    if not found:
        problems.append(Problem(path, f"bad time span {text!r}: write HH:MM-HH:MM, e.g. 08:00-20:00"))
        return None
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        problems.append(Problem(path, f"bad time span {text!r}: no such time of day"))
        return None
    if start >= end:
        problems.append(
            Problem(
                path,
                f"bad time span {text!r}: the start must come before the end "
                "(split spans that cross midnight over two days)",
            )
        )
        return None
    return start, end


def _overlaps(spans: tuple[Span, ...], path: YamlPath, problems: list[Problem]) -> None:
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            problems.append(Problem(path, "bad time span: spans of one day overlap"))


def _holidays(raw: Any, path: YamlPath, problems: list[Problem]) -> frozenset[dt.date]:
    if not isinstance(raw, list | tuple):
        problems.append(Problem(path, "must be a list of dates (YYYY-MM-DD)"))
        return frozenset()
    days = set()
    for i, item in enumerate(raw):
        day = _date(item)
        if day is None:
            problems.append(Problem((*path, i), f"bad holiday {item!r}: write a date as YYYY-MM-DD"))
        else:
            days.add(day)
    return frozenset(days)


def _date(item: Any) -> dt.date | None:
    if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
        return item
    try:
        return dt.date.fromisoformat(str(item))
    except ValueError:
        return None
