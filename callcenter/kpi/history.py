"""KPI history computed by the database: one GROUP BY per source (calls, tickets, operator states).

The definitions are those of ``callcenter.domain.kpi`` (calls) and ``callcenter.domain.kpi_table`` (intervals,
CSAT, tickets); every aggregate below is the SQL twin of a ``KpiTotals``/``CsatTotals``/``TicketTotals`` field.
Nothing loads rows into Python: only one row per (group, interval) comes back. The calls' totals come from
the quarter-hour rollup (``callcenter.kpi.rollup``) instead of the ``calls`` table when the engine is built
with ``rollup=True`` (``for_hotline``) and ``rollup_covers`` the query; both give the same table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    case,
    exists,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from callcenter.domain.kpi import KpiTotals
from callcenter.domain.kpi_table import (
    CsatTotals,
    Interval,
    KpiRow,
    TicketTotals,
    holiday_days,
    month_starts,
    offset_segments,
    wall_label,
    wall_seconds,
    weekly_spans,
    zone_of,
)
from callcenter.hotline import BusinessHours, Hotline, KpiConfig
from callcenter.kpi import sqltime
from callcenter.kpi.aggregates import call_aggregates
from callcenter.kpi.conventions import queue_thresholds
from callcenter.kpi.occupancy import staffed_seconds
from callcenter.kpi.rollup import BUCKET, CallRollup
from callcenter.storage.models import Call, KpiRollup, Operator, Ticket

Dimension = Literal["queue", "operator", "team", "all"]
DIMENSIONS: tuple[Dimension, ...] = ("queue", "operator", "team", "all")
Group = tuple[str, int]
WORK_MEM = "256MB"


@dataclass(frozen=True)
class KpiQuery:
    """Which KPI table: the period [start, end), the interval, the grouping, optionally some queues."""

    start: dt.datetime
    end: dt.datetime
    interval: Interval | None = "hour"
    by: Dimension = "queue"
    queues: tuple[str, ...] = ()


@dataclass
class _Frame:
    """The query's time frame on the local clock, shared by every expression."""

    query: KpiQuery
    config: KpiConfig
    dialect: str
    zone: dt.tzinfo = field(init=False)
    segments: list[tuple[float, int]] = field(init=False)
    months: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.zone = zone_of(self.config.timezone)
        start, end = self.query.start.timestamp(), self.query.end.timestamp()
        self.segments = offset_segments(self.zone, start, end)
        self.months = month_starts(wall_seconds(start, self.zone), wall_seconds(end, self.zone))

    @property
    def utc_range(self) -> tuple[dt.datetime, dt.datetime]:
        return self.query.start.astimezone(dt.UTC), self.query.end.astimezone(dt.UTC)

    def wall(self, column: Any) -> ColumnElement[int]:
        return sqltime.wall(column, self.dialect, self.segments)

    def bucket(self, column: Any) -> ColumnElement[int]:
        return sqltime.bucket(self.wall(column), self.query.interval, self.months).label("b")


class SqlKpi:
    """The KPI table of a period from the calls, tickets and operator-state events in SQL."""

    def __init__(
        self,
        engine: Engine,
        config: KpiConfig,
        hours: BusinessHours | None = None,
        thresholds: Mapping[str, int] | None = None,
        rollup: bool = False,
    ):
        self._engine = engine
        self._config = config
        self._hours = hours or BusinessHours()
        self._thresholds = dict(thresholds or {})
        self._rollup = CallRollup(config, thresholds) if rollup else None

    @classmethod
    def for_hotline(cls, engine: Engine, hotline: Hotline) -> SqlKpi:
        """The engine with the hotline's conventions, business hours and per-queue thresholds, reading the
        rollup its journal maintains (``KpiRollupProjection``) where the query allows."""
        return cls(engine, hotline.kpi, hotline.business_hours, queue_thresholds(hotline), rollup=True)

    def table(self, query: KpiQuery, now: float) -> list[KpiRow]:
        """Rows per (group, interval) with any activity, ordered by interval then group."""
        frame = _Frame(query, self._config, self._engine.dialect.name)
        with self._engine.connect() as connection:
            if frame.dialect == "postgresql":
                # The planner cannot estimate the number of (group, interval) pairs of a computed key and
                # assumes one per row; with the default work_mem it then sorts on disk instead of hashing.
                connection.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            calls = self._calls(connection, frame)
            tickets = self._tickets(connection, frame)
            staffed = staffed_seconds(connection, frame, now) if query.by != "queue" else {}
        groups = sorted(set(calls) | set(tickets) | set(staffed), key=lambda g: (g[1], g[0]))
        return [self._row(frame, g, calls.get(g), tickets.get(g), staffed.get(g)) for g in groups]

    def _row(
        self, frame: _Frame, group: Group, calls: Any, tickets: TicketTotals | None, staffed: float | None
    ) -> KpiRow:
        totals, csat = calls or (KpiTotals(), CsatTotals())
        if staffed is not None:
            totals = totals.with_staffed_time(staffed)
        start = wall_label(group[1], frame.zone) if frame.query.interval else None
        return KpiRow(key=group[0], start=start, calls=totals, csat=csat, tickets=tickets or TicketTotals())

    # -- calls --------------------------------------------------------------------------------------------
    def _calls(self, connection: Connection, frame: _Frame) -> dict[Group, tuple[KpiTotals, CsatTotals]]:
        if self._rollup and self.rollup_covers(frame):
            rows = list(connection.execute(self.rollup_statement(frame, self._rollup)))
            if not any(r.stale for r in rows):
                return {(str(r.k), int(r.b)): _call_totals(r) for r in rows}
        stmt = self.calls_statement(frame)
        return {(str(r.k), int(r.b)): _call_totals(r) for r in connection.execute(stmt)}

    def reads_rollup(self, query: KpiQuery) -> bool:
        """Whether ``table(query)`` reads the rollup (unless rows of the period were counted otherwise)."""
        return self._rollup is not None and self.rollup_covers(_Frame(query, self._config, self._engine.dialect.name))

    def rollup_covers(self, frame: _Frame) -> bool:
        """Whether the rollup's quarter-hour buckets can answer the query (else the calls are grouped):
        grouping by queue or all, no business-hours filter, the period and every DST change on a UTC quarter
        hour, every UTC offset a whole number of quarter hours."""
        instants = [frame.query.start.timestamp(), frame.query.end.timestamp(), *(t for t, _ in frame.segments)]
        return (
            frame.query.by in ("queue", "all")
            and not self._config.business_hours_only
            and all(t % BUCKET == 0 for t in instants)
            and all(offset % BUCKET == 0 for _, offset in frame.segments)
        )

    def rollup_statement(self, frame: _Frame, rollup: CallRollup) -> Select[Any]:
        """SELECT k, b, <the same fields>, stale FROM kpi_rollup ... GROUP BY k, b."""
        start, end = (int(t.timestamp()) for t in frame.utc_range)
        key = KpiRollup.queue if frame.query.by == "queue" else literal_column("''")
        wall = sqltime.wall_of_epoch(KpiRollup.bucket, frame.segments)
        bucket = sqltime.bucket(wall, frame.query.interval, frame.months).label("b")
        stmt = select(key.label("k"), bucket, *rollup.aggregates())
        stmt = stmt.where(KpiRollup.bucket >= start, KpiRollup.bucket < end)
        if frame.query.queues:
            stmt = stmt.where(KpiRollup.queue.in_(frame.query.queues))
        return stmt.group_by(literal_name("k"), literal_name("b"))

    def calls_statement(self, frame: _Frame) -> Select[Any]:
        """SELECT k, b, <KpiTotals and CsatTotals fields> FROM calls ... GROUP BY k, b."""
        start, end = frame.utc_range
        key, joined = _dimension(frame.query.by, Call.operator)
        stmt = select(key.label("k"), frame.bucket(Call.enqueued_at), *call_aggregates(self._config, self._thresholds))
        stmt = stmt.select_from(joined(Call)) if joined else stmt
        stmt = stmt.where(Call.enqueued_at >= start, Call.enqueued_at < end)
        if frame.query.queues:
            stmt = stmt.where(Call.queue.in_(frame.query.queues))
        if self._config.business_hours_only:
            stmt = stmt.where(self._business_hours(frame))
        return stmt.group_by(literal_name("k"), literal_name("b"))

    def _business_hours(self, frame: _Frame) -> ColumnElement[bool]:
        zone = zone_of(self._hours.timezone)
        start, end = frame.query.start.timestamp(), frame.query.end.timestamp()
        wall = sqltime.wall(Call.enqueued_at, frame.dialect, offset_segments(zone, start, end))
        spans = weekly_spans(self._hours.weekly)
        return sqltime.business_hours(wall, spans, holiday_days(self._hours.holidays))

    # -- tickets ------------------------------------------------------------------------------------------
    def _tickets(self, connection: Connection, frame: _Frame) -> dict[Group, TicketTotals]:
        parts = union_all(self._resolved(frame), self._closed(frame)).subquery()
        sums = [func.sum(parts.c[name]).label(name) for name in ("closed", "resolved", "fcr", "noesc")]
        stmt = select(parts.c.k, parts.c.b, *sums).group_by(parts.c.k, parts.c.b)
        return {
            (str(r.k), int(r.b)): TicketTotals(int(r.closed), int(r.resolved), int(r.fcr), int(r.noesc))
            for r in connection.execute(stmt)
        }

    def _resolved(self, frame: _Frame) -> Select[Any]:
        start, end = frame.utc_range
        key, joined = _dimension(frame.query.by, Ticket.operator, Ticket.queue)
        repeat = self._repeat_contact(frame)
        stmt = select(
            key.label("k"),
            frame.bucket(Ticket.resolved_at),
            literal_column("0").label("closed"),
            literal_column("1").label("resolved"),
            case((repeat, literal_column("0")), else_=literal_column("1")).label("fcr"),
            case((Ticket.escalated, literal_column("0")), else_=literal_column("1")).label("noesc"),
        )
        stmt = stmt.select_from(joined(Ticket)) if joined else stmt
        return self._ticket_filter(stmt.where(Ticket.resolved_at >= start, Ticket.resolved_at < end), frame)

    def _closed(self, frame: _Frame) -> Select[Any]:
        start, end = frame.utc_range
        key, joined = _dimension(frame.query.by, Ticket.operator, Ticket.queue)
        zero: ColumnElement[Any] = literal_column("0")
        stmt = select(
            key.label("k"),
            frame.bucket(Ticket.closed_at),
            literal_column("1").label("closed"),
            zero.label("resolved"),
            zero.label("fcr"),
            zero.label("noesc"),
        )
        stmt = stmt.select_from(joined(Ticket)) if joined else stmt
        return self._ticket_filter(stmt.where(Ticket.closed_at >= start, Ticket.closed_at < end), frame)

    def _ticket_filter(self, stmt: Select[Any], frame: _Frame) -> Select[Any]:
        return stmt.where(Ticket.queue.in_(frame.query.queues)) if frame.query.queues else stmt

    def _repeat_contact(self, frame: _Frame) -> ColumnElement[bool]:
        """A call from the ticket's caller started within the FCR window after the resolution."""
        later = aliased(Call)
        resolved, started = (sqltime.epoch_float(c, frame.dialect) for c in (Ticket.resolved_at, later.started_at))
        window = self._config.fcr_window_days * 86400
        return exists().where(
            later.caller == Ticket.caller, Ticket.caller != "", started > resolved, started <= resolved + window
        )


def literal_name(name: str) -> ColumnElement[Any]:
    return literal_column(name)


def _dimension(
    by: Dimension, operator: Any, queue: Any = None
) -> tuple[ColumnElement[str], Callable[[Any], Any] | None]:
    """The grouping column, and how to join the operators table when grouping by team."""
    if by == "team":
        return func.coalesce(Operator.team, ""), lambda model: model.__table__.outerjoin(
            Operator.__table__, Operator.username == operator
        )
    columns = {"queue": queue if queue is not None else Call.queue, "operator": operator, "all": literal_column("''")}
    return columns[by], None


def _call_totals(row: Any) -> tuple[KpiTotals, CsatTotals]:
    totals = KpiTotals(
        offered=int(row.offered),
        answered=int(row.answered or 0),
        abandoned=int(row.abandoned or 0),
        short_abandoned=int(row.short_abandoned or 0),
        answered_within=int(row.answered_within or 0),
        answered_wait_seconds=float(row.answered_wait_seconds or 0.0),
        handled=int(row.handled or 0),
        handle_seconds=float(row.handle_seconds or 0.0),
        max_wait_seconds=float(row.max_wait_seconds or 0.0),
    )
    csat = CsatTotals(
        responses=int(row.csat_responses), satisfied=int(row.csat_satisfied or 0), answered=totals.answered
    )
    return totals, csat
