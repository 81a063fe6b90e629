"""The KPI rollup: the call totals per queue and 15-minute UTC bucket of ``enqueued_at`` (table ``kpi_rollup``).

Why: a month of a busy hotline is a million call summaries, and one GROUP BY over them takes SQLite several
seconds; the same month is 2,976 quarter hours per queue. Every ``KpiTotals``/``CsatTotals`` field is a count, a
sum or a maximum, so the totals of any interval made of whole buckets are the sums (and the maximum) of its
buckets'. Fifteen minutes because every local interval (15 min to month) of every zone whose UTC offsets are
whole quarter hours (all of them today, India's +5:30 and Nepal's +5:45 included) is made of whole UTC quarters.

Maintenance (``KpiRollupProjection``, a journal projection in the summaries' transaction): the buckets of the
batch's calls are *recomputed* from the ``calls`` table with the engine's own aggregates
(``callcenter.kpi.aggregates``), never incremented. So a replayed batch rewrites the same numbers, and a call
whose summary moved (an earlier ``ENTER_QUEUE`` arriving late changes its queue and ``enqueued_at``) is taken
out of its old bucket: every bucket holding an ``ENTER_QUEUE`` event of the call is recomputed. On PostgreSQL
a transaction-scoped advisory lock per bucket (taken in sorted order, after the store's per-call locks)
makes a second consumer recompute the bucket only after the first has committed, so it sees both writers'
calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from callcenter.domain.events import CallEvent, EventType
from callcenter.hotline import Hotline, KpiConfig
from callcenter.kpi import sqltime
from callcenter.kpi.aggregates import SUMMED, call_aggregates, count_if, threshold
from callcenter.kpi.conventions import queue_thresholds
from callcenter.storage.event_store import epoch, utc
from callcenter.storage.models import Call, CallEventRecord, KpiRollup

BUCKET = 900
_LOCK_BUCKETS = text(
    "SELECT count(pg_advisory_xact_lock(7312, x)) FROM (SELECT unnest(CAST(:ids AS integer[])) AS x ORDER BY 1) AS s"
)
_COLUMNS = ["queue", "bucket", "threshold_seconds", "short_abandon_seconds", *SUMMED, "max_wait_seconds"]


def bucket_of(ts: float) -> int:
    """The UTC quarter hour (epoch seconds) containing ``ts``."""
    return int(ts // BUCKET) * BUCKET


class CallRollup:
    """Writes and reads ``kpi_rollup`` with one hotline's conventions (T per queue, short abandons)."""

    def __init__(self, config: KpiConfig, thresholds: Mapping[str, int] | None = None):
        self._config = config
        self._thresholds = dict(thresholds or {})

    @classmethod
    def for_hotline(cls, hotline: Hotline) -> CallRollup:
        return cls(hotline.kpi, queue_thresholds(hotline))

    # -- writing ------------------------------------------------------------------------------------------
    def refresh(self, connection: Connection, buckets: Iterable[int]) -> None:
        """Recompute the given buckets (epoch starts) from the calls that entered a queue in them."""
        ordered = sorted(set(buckets))
        if not ordered:
            return
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK_BUCKETS, {"ids": [b // BUCKET for b in ordered]})
        connection.execute(delete(KpiRollup).where(KpiRollup.bucket.in_(ordered)))
        spans = [and_(Call.enqueued_at >= utc(a), Call.enqueued_at < utc(b)) for a, b in _ranges(ordered)]
        self._insert(connection, self._select(connection.dialect.name).where(or_(*spans)))

    def rebuild(self, connection: Connection) -> None:
        """Recompute every bucket (after a change of conventions; the bench's load)."""
        connection.execute(delete(KpiRollup))
        self._insert(connection, self._select(connection.dialect.name).where(Call.enqueued_at.is_not(None)))

    def refresh_stale(self, connection: Connection) -> int:
        """Recompute the buckets counted with other conventions than these; returns how many."""
        stale = connection.scalars(select(KpiRollup.bucket).where(self.stale_condition()).distinct()).all()
        for start in range(0, len(stale), 500):
            self.refresh(connection, stale[start : start + 500])
        return len(stale)

    def _insert(self, connection: Connection, stmt: Select[Any]) -> None:
        connection.execute(insert(KpiRollup).from_select(_COLUMNS, stmt))

    def _select(self, dialect: str) -> Select[Any]:
        bucket = sqltime.epoch_int(Call.enqueued_at, dialect) // sqltime.n(BUCKET) * sqltime.n(BUCKET)
        rules = [
            func.max(threshold(self._config, self._thresholds, Call.queue)).label("threshold_seconds"),
            func.max(literal_column(str(self._config.short_abandon_seconds))).label("short_abandon_seconds"),
        ]
        by_name = {c.name: c for c in call_aggregates(self._config, self._thresholds)}
        stmt = select(Call.queue, bucket.label("bucket"), *rules, *(by_name[n] for n in _COLUMNS[4:]))
        return stmt.group_by(Call.queue, literal_column("bucket"))

    # -- reading ------------------------------------------------------------------------------------------
    def stale_condition(self) -> ColumnElement[bool]:
        """A row counted with another T or short-abandon threshold than these conventions."""
        expected = threshold(self._config, self._thresholds, KpiRollup.queue)
        return or_(
            KpiRollup.threshold_seconds != expected,
            KpiRollup.short_abandon_seconds != self._config.short_abandon_seconds,
        )

    def aggregates(self) -> list[ColumnElement[Any]]:
        """The bucket totals merged, labelled like ``call_aggregates``, plus ``stale`` (rows to distrust)."""
        sums = [func.sum(KpiRollup.__table__.c[name]).label(name) for name in SUMMED]
        stale = count_if(self.stale_condition()).label("stale")
        return [*sums, func.max(KpiRollup.max_wait_seconds).label("max_wait_seconds"), stale]


class KpiRollupProjection:
    """Journal projection: keeps ``kpi_rollup`` equal to the totals of the ``calls`` table."""

    def __init__(self, rollup: CallRollup):
        self._rollup = rollup

    @classmethod
    def for_hotline(cls, hotline: Hotline) -> KpiRollupProjection:
        return cls(CallRollup.for_hotline(hotline))

    def apply(self, events: Sequence[CallEvent], session: Session) -> None:
        """Recompute every bucket in which a call of the batch entered (or had entered) a queue."""
        call_ids = sorted({e.call_id for e in events if e.call_id})
        if not call_ids:
            return
        entered = select(CallEventRecord.ts).where(
            CallEventRecord.call_id.in_(call_ids), CallEventRecord.type == EventType.ENTER_QUEUE.value
        )
        buckets = {bucket_of(epoch(ts)) for ts in session.scalars(entered)}
        self._rollup.refresh(session.connection(), buckets)


def _ranges(ordered: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive buckets merged into [start, end) spans."""
    spans: list[tuple[int, int]] = []
    for start in ordered:
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], start + BUCKET)
        else:
            spans.append((start, start + BUCKET))
    return spans
