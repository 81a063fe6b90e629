"""Live KPI windows (today so far, last 15 and 60 minutes, the day by quarter hour) from Redis counters.

Decision: the counters are our own, kept by a projection of the journal writer, not the ACD's per-event
counters. After the writer has stored a batch and re-derived the touched calls' summaries, the projection
reads those summaries, computes each call's totals with the pure formulas (``kpi.call_totals``,
``kpi_table.csat_of``) and adds the difference to what that call had contributed before into three buckets
of the minute, the quarter hour and the local day in which the call entered its queue. So the live
windows and the SQL history are sums of the same per-call totals: they agree by construction (a test proves
it), replays add nothing (the difference is zero), and the buckets heal on the call's next event if a
crash fell between the SQL commit and the Redis write. The ACD snapshot (waiting, longest wait, operators)
stays live even while SQL is down; these KPI counters pause and catch up when the journal drains.

Windows are whole minutes: "last 15 minutes" at 10:07:30 covers calls that entered a queue from 09:53:00
to now, the same as the SQL history over [09:53, 10:08).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import fields
from importlib import resources
from typing import Any, Literal

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.domain.events import CallEvent
from callcenter.domain.kpi import KpiTotals, call_totals
from callcenter.domain.kpi_table import CsatTotals, csat_of, wall_label, wall_seconds, zone_of
from callcenter.hotline import Hotline, KpiConfig
from callcenter.kpi.conventions import for_queue, queue_thresholds
from callcenter.storage.event_store import epoch
from callcenter.storage.models import Call
from queueing.keys import Keys

logger = logging.getLogger(__name__)

Window = Literal["today", "15m", "60m"]
WINDOWS: tuple[Window, ...] = ("today", "15m", "60m")
Totals = tuple[KpiTotals, CsatTotals]
_MINUTES = {"15m": 15, "60m": 60}
_TTL = {"m": 3 * 3600, "q": 2 * 86400, "d": 3 * 86400}
_CALL_TTL = 3 * 86400
_KPI_FIELDS = [f.name for f in fields(KpiTotals) if f.name != "logged_in_seconds"]
_INT_FIELDS = {"offered", "answered", "abandoned", "short_abandoned", "answered_within", "handled"}


class LiveBuckets:
    """Where a call's totals go, and how windows are read back (the key layout of the live counters)."""

    def __init__(self, keys: Keys, config: KpiConfig):
        self.keys, self.zone = keys, zone_of(config.timezone)

    def day_of(self, ts: float) -> int:
        """Wall start of the local day containing ``ts``."""
        return wall_seconds(ts, self.zone) // 86400 * 86400

    def of_call(self, enqueued: float) -> list[tuple[str, int]]:
        minute, quarter = int(enqueued // 60) * 60, int(enqueued // 900) * 900
        starts = {"m": minute, "q": quarter, "d": self.day_of(enqueued)}
        return [(self.keys.kpi_bucket(res, start), _TTL[res]) for res, start in starts.items()]

    def window_keys(self, window: Window, now: float) -> list[str]:
        if window == "today":
            return [self.keys.kpi_bucket("d", self.day_of(now))]
        last = int(now // 60) * 60
        return [self.keys.kpi_bucket("m", last - 60 * i) for i in range(_MINUTES[window])]

    def window_bounds(self, window: Window, now: float) -> tuple[dt.datetime, dt.datetime]:
        """The period of a window, for the same query on the SQL history."""
        end = dt.datetime.fromtimestamp(int(now // 60) * 60 + 60, dt.UTC)
        if window == "today":
            return wall_label(self.day_of(now), self.zone), end
        return end - dt.timedelta(minutes=_MINUTES[window]), end

    def quarters_today(self, now: float) -> list[tuple[dt.datetime, str]]:
        """(local start, key) of each quarter hour of today up to now."""
        start = wall_label(self.day_of(now), self.zone).timestamp()
        return [
            (dt.datetime.fromtimestamp(t, self.zone), self.keys.kpi_bucket("q", int(t)))
            for t in range(int(start), int(now) + 1, 900)
        ]


class LiveKpiProjection:
    """Journal projection: keeps the live KPI buckets equal to the sum of the touched calls' totals."""

    def __init__(self, client: redis.Redis, keys: Keys, config: KpiConfig, thresholds: Mapping[str, int] | None = None):
        self._redis, self._keys, self._config = client, keys, config
        self._thresholds = dict(thresholds or {})
        self._buckets = LiveBuckets(keys, config)
        self._script = client.register_script(resources.files("callcenter.kpi").joinpath("live_apply.lua").read_text())

    @classmethod
    def for_hotline(cls, client: redis.Redis, keys: Keys, hotline: Hotline) -> LiveKpiProjection:
        """The projection with the hotline's conventions and per-queue thresholds."""
        return cls(client, keys, hotline.kpi, queue_thresholds(hotline))

    def apply(self, events: Sequence[CallEvent], session: Session) -> None:
        """Count the new state of every call the batch touched (its summary is already re-derived)."""
        call_ids = sorted({e.call_id for e in events if e.call_id})
        if not call_ids:
            return
        rows = session.scalars(select(Call).where(Call.id.in_(call_ids), Call.enqueued_at.is_not(None)))
        payload = [self._entry(call) for call in rows]
        if payload:
            self._script(keys=[self._keys.kpi_version], args=[json.dumps(payload)])

    def _entry(self, call: Call) -> dict[str, Any]:
        conventions = for_queue(self._config, self._thresholds, call.queue)
        totals, enqueued = call_totals(call, conventions), epoch(call.enqueued_at)  # type: ignore[arg-type]
        csat = csat_of(call.survey_score, call.answered_at is not None)
        values: dict[str, float] = {name: getattr(totals, name) for name in _KPI_FIELDS}
        values.update(csat_responses=csat.responses, csat_satisfied=csat.satisfied)
        return {
            "call": self._keys.kpi_call(call.id),
            "v": call.event_count,
            "ttl": _CALL_TTL,
            "q": call.queue,
            "buckets": [list(b) for b in self._buckets.of_call(enqueued)],
            "t": values,
        }


class LiveKpi:
    """Reads the live windows: per queue totals summed over a window's buckets."""

    def __init__(self, client: redis.Redis, keys: Keys, config: KpiConfig):
        self._redis, self.buckets = client, LiveBuckets(keys, config)
        self._version_key = keys.kpi_version

    def version(self) -> int:
        """Bumped whenever a call's counted totals change (the dashboard publisher watches it)."""
        return int(self._redis.get(self._version_key) or 0)

    def window(self, window: Window, now: float) -> dict[str, Totals]:
        """Totals per queue of the calls that entered a queue in the window."""
        return self._sum(self.buckets.window_keys(window, now))

    def quarters(self, now: float) -> list[tuple[dt.datetime, dict[str, Totals]]]:
        """Today's totals per quarter hour and queue (the service-level chart over the day)."""
        slots = self.buckets.quarters_today(now)
        pipe = self._redis.pipeline(transaction=False)
        for _, key in slots:
            pipe.hgetall(key)
        return [(start, _parse([flat])) for (start, _), flat in zip(slots, pipe.execute(), strict=True)]

    def _sum(self, keys: list[str]) -> dict[str, Totals]:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return _parse(pipe.execute())


def _parse(hashes: list[dict[str, str]]) -> dict[str, Totals]:
    raw: dict[str, dict[str, float]] = {}
    for flat in hashes:
        for name, value in flat.items():
            queue, total = name.rsplit("|", 1)
            into = raw.setdefault(queue, {})
            number = float(value)
            into[total] = (
                max(into.get(total, 0.0), number) if total == "max_wait_seconds" else into.get(total, 0.0) + number
            )
    return {queue: _totals(values) for queue, values in raw.items()}


def _totals(values: dict[str, float]) -> Totals:
    def get(name: str) -> Any:
        value = values.get(name, 0.0)
        return round(value) if name in _INT_FIELDS else round(value, 6)

    totals = KpiTotals(**{name: get(name) for name in _KPI_FIELDS})
    csat = CsatTotals(
        responses=round(values.get("csat_responses", 0.0)),
        satisfied=round(values.get("csat_satisfied", 0.0)),
        answered=totals.answered,
    )
    return totals, csat


def combined(per_queue: dict[str, Totals]) -> Totals:
    """The totals of all queues together."""
    totals, csat = KpiTotals(), CsatTotals()
    for queue_totals, queue_csat in per_queue.values():
        totals, csat = totals + queue_totals, csat + queue_csat
    return totals, csat
