"""Operators' logged-in time per interval, from the OPERATOR_STATE events of the log (occupancy's denominator).

A state lasts from its event to the operator's next state event (a window function, LEAD); the open last
state lasts until ``now``. Logged-in means any state but ``offline`` and ``break``. A state is looked for at
most one day before the period: an operator whose last change is older than that counts from the period
start only if that change falls in the lookback (a day without any state change does not happen while
taking calls). Spans are clipped to each interval on real (UTC) time, so DST changes cost no hour.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, text

from callcenter.domain.kpi_table import DAY, bucket_wall, wall_label, wall_seconds
from callcenter.storage.models import UtcDateTime

if TYPE_CHECKING:
    from callcenter.kpi.history import _Frame

LOGGED_IN = ("available", "reserved", "on_call", "wrap_up")
LOOKBACK_SECONDS = DAY

_DIALECT = {
    "postgresql": {
        "epoch": "date_part('epoch', {0})",
        "state": "({0}->>'to')",
        "least": "LEAST({0}, {1})",
        "greatest": "GREATEST({0}, {1})",
        "buckets": "SELECT (e->>0)::float8 AS b0, (e->>1)::float8 AS b1, (e->>2)::bigint AS label "
        "FROM json_array_elements(CAST(:buckets AS json)) AS e",
    },
    "sqlite": {
        "epoch": "((julianday({0}) - 2440587.5) * 86400.0)",
        "state": "json_extract({0}, '$.to')",
        "least": "MIN({0}, {1})",
        "greatest": "MAX({0}, {1})",
        "buckets": "SELECT json_extract(value, '$[0]') AS b0, json_extract(value, '$[1]') AS b1, "
        "json_extract(value, '$[2]') AS label FROM json_each(:buckets)",
    },
}
_KEYS = {
    "operator": ("s.operator", ""),
    "all": ("''", ""),
    "team": ("COALESCE(o.team, '')", "LEFT JOIN operators o ON o.username = s.operator"),
}


def staffed_seconds(connection: Connection, frame: _Frame, now: float) -> dict[tuple[str, int], float]:
    """Logged-in seconds per (group, interval wall start) in the frame's period, up to ``now``."""
    sql = _statement(connection.dialect.name, frame.query.by)
    start, end = frame.query.start.timestamp(), frame.query.end.timestamp()
    params = {
        "buckets": json.dumps(interval_bounds(frame, start, end)),
        "since": dt.datetime.fromtimestamp(start - LOOKBACK_SECONDS, dt.UTC),
        "until": dt.datetime.fromtimestamp(end, dt.UTC),
        "clip": min(now, end),
    }
    rows = connection.execute(sql, params)
    return {(str(r.k), int(r.b)): float(r.secs) for r in rows if r.secs and r.secs > 0}


def interval_bounds(frame: _Frame, start: float, end: float) -> list[tuple[float, float, int]]:
    """[(utc start, utc end, wall label)] of every interval of the period, clipped to it."""
    interval = frame.query.interval
    if interval is None:
        return [(start, end, 0)]
    bounds: list[tuple[float, float, int]] = []
    wall = bucket_wall(wall_seconds(start, frame.zone), interval)
    while True:
        following = bucket_wall(wall + _longest(interval), interval)
        lo, hi = wall_label(wall, frame.zone).timestamp(), wall_label(following, frame.zone).timestamp()
        if lo >= end:
            return bounds
        bounds.append((max(lo, start), min(hi, end), wall))
        wall = following


def _longest(interval: str) -> int:
    return {"15min": 900, "hour": 3600, "day": DAY + 3600, "week": 7 * DAY + 3600, "month": 32 * DAY}[interval]


def _statement(dialect: str, by: str) -> Any:
    d = _DIALECT["postgresql" if dialect == "postgresql" else "sqlite"]
    epoch = d["epoch"].format("ts")
    key, join = _KEYS[by]
    stop = "COALESCE(s.t1, :clip)"
    overlap = f"{d['least'].format(stop, 'b.b1')} - {d['greatest'].format('s.t0', 'b.b0')}"
    states = ", ".join(f"'{state}'" for state in LOGGED_IN)
    sql = f"""
        WITH b AS ({d["buckets"]}),
        s AS (
            SELECT operator, {epoch} AS t0,
                   LEAD({epoch}) OVER (PARTITION BY operator ORDER BY ts, id) AS t1,
                   {d["state"].format("data")} AS st
            FROM call_events WHERE type = 'OPERATOR_STATE' AND ts >= :since AND ts < :until
        )
        SELECT {key} AS k, b.label AS b, SUM({overlap}) AS secs
        FROM s JOIN b ON s.t0 < b.b1 AND {stop} > b.b0 {join}
        WHERE s.st IN ({states})
        GROUP BY 1, 2
    """
    return text(sql).bindparams(bindparam("since", type_=UtcDateTime), bindparam("until", type_=UtcDateTime))
