"""The KPI report of a period: tables by interval, per queue and per operator, CSAT distribution, staffing.

Staffing per interval: the measured arrival rate (offered / interval length) and AHT (of the interval, or
of the period when the interval handled no call) give the operators Erlang C needs for the target service
level (the mean of the reported queues' targets, at the KPI threshold T), and Erlang A with the callers'
patience estimated from the period (total waiting time of offered calls / abandons, the maximum-likelihood
estimate for exponential patience).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from callcenter import staffing
from callcenter.domain.kpi_table import FIXED_SECONDS, Interval, KpiRow
from callcenter.hotline import Hotline
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.storage.models import Call


@dataclass
class Report:
    """Everything a report shows, ready to render."""

    hotline: str
    start: dt.datetime
    end: dt.datetime
    interval: Interval
    queues: tuple[str, ...]
    definitions: dict[str, Any]
    by_interval: list[dict[str, Any]] = field(default_factory=list)  # all reported queues together
    by_queue_interval: list[dict[str, Any]] = field(default_factory=list)
    by_queue: list[dict[str, Any]] = field(default_factory=list)
    by_operator: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    csat_distribution: dict[int, int] = field(default_factory=dict)
    staffing: list[dict[str, Any]] = field(default_factory=list)
    staffing_basis: dict[str, Any] = field(default_factory=dict)


def default_interval(start: dt.datetime, end: dt.datetime) -> Interval:
    """Hours for up to two days, days up to two months, weeks beyond."""
    days = (end - start).total_seconds() / 86400
    return "hour" if days <= 2 else "day" if days <= 62 else "week"


def build_report(
    engine: Engine,
    hotline: Hotline,
    start: dt.datetime,
    end: dt.datetime,
    now: float,
    interval: Interval | None = None,
    queues: tuple[str, ...] = (),
) -> Report:
    """Query every table of the report (a handful of GROUP BY queries, whatever the number of calls)."""
    interval = interval or default_interval(start, end)
    kpi = SqlKpi.for_hotline(engine, hotline)
    config = hotline.kpi

    def table(by: str, step: Interval | None) -> list[KpiRow]:
        return kpi.table(KpiQuery(start, end, step, by, queues), now)  # type: ignore[arg-type]

    report = Report(hotline.hotline.name, start, end, interval, queues, _definitions(hotline))
    all_rows = table("all", interval)
    report.by_interval = [r.as_dict(config) for r in all_rows]
    report.by_queue_interval = [r.as_dict(config) for r in table("queue", interval)]
    report.by_queue = [r.as_dict(config) for r in table("queue", None)]
    report.by_operator = [r.as_dict(config) for r in table("operator", None) if r.key]
    totals = table("all", None)
    report.total = totals[0].as_dict(config) if totals else KpiRow("", None).as_dict(config)
    report.csat_distribution = csat_distribution(engine, start, end, queues)
    patience = _patience(engine, start, end, queues, report.total["abandoned"])
    report.staffing_basis = {
        "target": _target(hotline, queues),
        "threshold": config.service_level_threshold_seconds,
        "patience_seconds": patience,
        "period_aht_seconds": report.total["aht_seconds"],
    }
    report.staffing = [_staffing(row, interval, report.staffing_basis) for row in report.by_interval]
    return report


def csat_distribution(engine: Engine, start: dt.datetime, end: dt.datetime, queues: tuple[str, ...]) -> dict[int, int]:
    """How many satisfaction answers of each score (1-5) the calls of the period got."""
    stmt = select(Call.survey_score, func.count()).where(
        Call.enqueued_at >= start.astimezone(dt.UTC),
        Call.enqueued_at < end.astimezone(dt.UTC),
        Call.survey_score.is_not(None),
    )
    stmt = stmt.where(Call.queue.in_(queues)) if queues else stmt
    with engine.connect() as connection:
        counts = {int(score or 0): int(n) for score, n in connection.execute(stmt.group_by(Call.survey_score))}
    return {score: int(counts.get(score, 0)) for score in range(1, 6)}


def _patience(
    engine: Engine, start: dt.datetime, end: dt.datetime, queues: tuple[str, ...], abandoned: int
) -> float | None:
    if not abandoned:
        return None
    stmt = select(func.sum(Call.wait_seconds)).where(
        Call.enqueued_at >= start.astimezone(dt.UTC), Call.enqueued_at < end.astimezone(dt.UTC)
    )
    stmt = stmt.where(Call.queue.in_(queues)) if queues else stmt
    with engine.connect() as connection:
        waited = connection.execute(stmt).scalar() or 0.0
    return float(waited) / abandoned if waited > 0 else None


def _target(hotline: Hotline, queues: tuple[str, ...]) -> float:
    targets = [q.service_level_target for name, q in hotline.queues.items() if not queues or name in queues]
    return sum(targets) / len(targets) if targets else 0.8


def _interval_seconds(row: dict[str, Any], interval: Interval) -> float:
    if interval != "month":
        return float(FIXED_SECONDS[interval])
    start = dt.datetime.fromisoformat(row["start"])
    following = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return (following - start).total_seconds()


def _staffing(row: dict[str, Any], interval: Interval, basis: dict[str, Any]) -> dict[str, Any]:
    rate = row["offered"] / _interval_seconds(row, interval)
    aht = row["aht_seconds"] or basis["period_aht_seconds"]
    entry: dict[str, Any] = {
        "start": row["start"],
        "offered": row["offered"],
        "arrival_per_hour": rate * 3600,
        "aht_seconds": aht,
    }
    if not rate or not aht:
        return {**entry, "erlangs": 0.0, "erlang_c": 0, "erlang_a": 0}
    entry["erlangs"] = staffing.offered_load(rate, aht)
    for model, patience in (("erlang_c", None), ("erlang_a", basis["patience_seconds"])):
        if model == "erlang_a" and patience is None:
            entry[model] = None
            continue
        try:
            entry[model] = staffing.required_staff(rate, aht, basis["threshold"], basis["target"], patience)
        except staffing.UnreachableTargetError:
            entry[model] = None
    return entry


def _definitions(hotline: Hotline) -> dict[str, Any]:
    k = hotline.kpi
    return {
        "conventions": k.model_dump(),
        "offered": "calls that entered a queue, counted in the interval they entered it",
        "answer rate": "answered / offered",
        "abandonment": f"abandoned / offered (short abandons, under {k.short_abandon_seconds} s, reported apart)",
        "ASA": "mean wait of answered calls",
        "AHT": "mean talk + hold + wrap-up of handled calls",
        "service level": f"answered within {k.service_level_threshold_seconds} s / {k.service_level_variant}",
        "FCR": f"resolved tickets whose caller did not call again within {k.fcr_window_days} days / resolved tickets",
        "resolved without escalation": "resolved tickets never escalated / resolved tickets",
        "CSAT": "satisfaction answers of 4-5 / all answers; response rate: answers / answered calls",
        "occupancy": "handle time / logged-in time (available, ringing, on call, wrap-up) of the operators",
        "staffing": "Erlang C (and Erlang A, patience from the period) operators for the target at threshold T",
    }
