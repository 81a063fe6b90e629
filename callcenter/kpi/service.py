"""KPI use cases: the history table, the live windows, and the lead dashboard's state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import redis
from sqlalchemy import Engine

from callcenter.domain.kpi_table import KpiRow
from callcenter.hotline import Hotline
from callcenter.kpi import dashboard
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.kpi.live import LiveKpi, Totals, Window, combined
from queueing.keys import Keys

ALL = ""  # the key of the row of all queues together


class Snapshotter(Protocol):
    """The ACD's read side (``queueing.acd.Acd.snapshot``)."""

    def snapshot(self, now: float) -> dict[str, Any]: ...


class KpiService:
    """KPIs of the hotline: SQL history, Redis live windows, and the dashboard built from both plus the ACD."""

    def __init__(
        self,
        engine: Engine,
        client: redis.Redis,
        keys: Keys,
        hotline: Hotline,
        acd: Snapshotter | None = None,
        clock: Callable[[], float] | None = None,
    ):
        self.hotline = hotline
        self.history_engine = SqlKpi.for_hotline(engine, hotline)
        self.live_kpi = LiveKpi(client, keys, hotline.kpi)
        self._acd = acd
        self._clock = clock

    def history(self, query: KpiQuery, now: float) -> list[dict[str, Any]]:
        """The KPI table of a period: counts and ratios per group and interval (DESIGN.md definitions)."""
        return [row.as_dict(self.hotline.kpi) for row in self.history_engine.table(query, now)]

    def history_rows(self, query: KpiQuery, now: float) -> list[KpiRow]:
        return self.history_engine.table(query, now)

    def live(self, window: Window, now: float) -> dict[str, Any]:
        """A live window: per queue and for all queues together, same fields as a history row."""
        per_queue = self.live_kpi.window(window, now)
        start, end = self.live_kpi.buckets.window_bounds(window, now)
        rows = {queue: _row(queue, totals, self.hotline) for queue, totals in sorted(per_queue.items())}
        return {
            "window": window,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "queues": rows,
            "all": _row(ALL, combined(per_queue), self.hotline),
        }

    def snapshot(self, now: float) -> dict[str, Any]:
        """The ACD's live state (empty when no ACD is wired)."""
        return self._acd.snapshot(now) if self._acd is not None else {"queues": {}, "operators": {}}

    def dashboard(self, now: float) -> dict[str, Any]:
        """Everything the lead dashboard shows, as one JSON-ready document."""
        snapshot = self.snapshot(now)
        today = self.live_kpi.window("today", now)
        quarters = self.live_kpi.quarters(now)
        return dashboard.state(self.hotline, snapshot, today, quarters, now)

    def change_token(self) -> int:
        """Changes whenever the live KPI counters change."""
        return self.live_kpi.version()


def _row(key: str, totals: Totals, hotline: Hotline) -> dict[str, Any]:
    return KpiRow(key=key, start=None, calls=totals[0], csat=totals[1]).as_dict(hotline.kpi)


def parse_period(start: str, end: str, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """ISO dates or datetimes; naive ones are local to the KPI time zone; a date as ``end`` includes the day."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)

    def parse(text: str, is_end: bool) -> dt.datetime:
        value = dt.datetime.fromisoformat(text)
        if len(text) == 10 and is_end:
            value += dt.timedelta(days=1)
        return value if value.tzinfo else value.replace(tzinfo=tz)

    return parse(start, False), parse(end, True)


def operator_names(hotline: Hotline) -> Mapping[str, str]:
    return {seed.username: seed.name for seed in hotline.operators}
