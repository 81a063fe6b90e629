"""SQL expressions that cut time on the local clock the same way on SQLite and PostgreSQL.

Everything is integer arithmetic on epoch seconds, so one GROUP BY does the bucketing with no per-dialect
date functions beyond "epoch seconds of a timestamp". The UTC offset comes from a CASE over the (rare) DST
changes of the queried period, computed in Python from the tz database, which SQLite lacks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    or_,
)

from callcenter.domain.kpi_table import DAY, FIXED_SECONDS, MONDAY_WALL, Interval


def n(value: float) -> ColumnElement[int]:
    """An integer constant inlined in the SQL text (GROUP BY must see the same expression as SELECT)."""
    return literal_column(str(int(value)), Integer)


def epoch_int(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole epoch seconds (floor) of a stored UTC timestamp."""
    if dialect == "postgresql":
        return cast(func.floor(func.date_part("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), Integer)


def epoch_float(column: Any, dialect: str) -> ColumnElement[float]:
    """Epoch seconds with fractions (durations)."""
    if dialect == "postgresql":
        return func.date_part("epoch", column)
    return (func.julianday(column) - 2440587.5) * cast(86400.0, Float)


def wall(column: Any, dialect: str, segments: Sequence[tuple[float, int]]) -> ColumnElement[int]:
    """Local wall-clock seconds of a stored timestamp: epoch plus the UTC offset in force (segments from
    ``offset_segments``). The offset is chosen by comparing the stored value itself with each change, which
    costs no date parsing per row."""
    epoch = epoch_int(column, dialect)
    if len(segments) == 1:
        return epoch + n(segments[0][1])
    changes = [
        (column < timestamp(segments[i + 1][0], dialect), n(offset)) for i, (_, offset) in enumerate(segments[:-1])
    ]
    return epoch + case(*changes, else_=n(segments[-1][1]))


def wall_of_epoch(epoch: Any, segments: Sequence[tuple[float, int]]) -> ColumnElement[int]:
    """Local wall-clock seconds of a column holding whole epoch seconds (the rollup's buckets)."""
    column: ColumnElement[int] = epoch
    if len(segments) == 1:
        return column + n(segments[0][1])
    changes = [(column < n(segments[i + 1][0]), n(offset)) for i, (_, offset) in enumerate(segments[:-1])]
    return column + case(*changes, else_=n(segments[-1][1]))


def timestamp(ts: float, dialect: str) -> ColumnElement[Any]:
    """A UTC instant inlined in the dialect's stored form (SQLite: SQLAlchemy's text; PostgreSQL: timestamptz)."""
    text = dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return literal_column(f"TIMESTAMPTZ '{text}+00'" if dialect == "postgresql" else f"'{text}'")


def bucket(wall_expr: ColumnElement[int], interval: Interval | None, months: Sequence[int]) -> ColumnElement[int]:
    """Wall start of the interval containing ``wall_expr`` (0 for the whole period)."""
    if interval is None:
        return n(0)
    if interval == "month":
        whens = [(wall_expr < n(months[i + 1]), n(start)) for i, start in enumerate(months[:-1])]
        return case(*whens, else_=n(months[-1])) if whens else n(months[0])
    size = n(FIXED_SECONDS[interval])
    anchor = n(MONDAY_WALL if interval == "week" else 0)
    return (wall_expr - anchor) // size * size + anchor


def business_hours(
    wall_expr: ColumnElement[int], spans: Sequence[tuple[int, int, int]], holidays: Sequence[int]
) -> ColumnElement[bool]:
    """True when the wall instant is inside a weekly span and not on a holiday (see ``in_business_hours``)."""
    if not spans:
        return false()
    day = wall_expr // n(DAY)
    weekday = (day + n(3)) % n(7)
    second = wall_expr - day * n(DAY)
    inside = or_(*[and_(weekday == n(wd), second >= n(begin), second < n(end)) for wd, begin, end in spans])
    return and_(inside, not_(day.in_(holidays))) if holidays else inside
