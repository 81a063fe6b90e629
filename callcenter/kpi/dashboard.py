"""The lead dashboard's state: the ACD snapshot joined with today's live KPIs, targets and alerts (pure)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from callcenter.domain.kpi import KpiTotals
from callcenter.domain.kpi_table import CsatTotals, KpiRow
from callcenter.hotline import Hotline, QueueConfig
from callcenter.kpi.charts import line_chart
from callcenter.kpi.live import Totals, combined

# A caller waiting longer than this raises an alert (or the queue's max wait, when shorter).
WAIT_ALERT_SECONDS = 120
STATES = ("available", "reserved", "on_call", "wrap_up", "break", "offline")
_EMPTY: Totals = (KpiTotals(), CsatTotals())


def state(
    hotline: Hotline,
    snapshot: dict[str, Any],
    today: dict[str, Totals],
    quarters: list[tuple[dt.datetime, dict[str, Totals]]],
    now: float,
) -> dict[str, Any]:
    """One JSON document: queues (live + today's KPIs against targets), operators, alerts, the SL chart."""
    live_queues = snapshot.get("queues", {})
    names = sorted(set(hotline.queues) | set(live_queues))
    queues = [_queue(name, hotline, live_queues.get(name, {}), today.get(name, _EMPTY)) for name in names]
    operators = _operators(hotline, snapshot.get("operators", {}))
    return {
        "generated_at": now,
        "queues": queues,
        "operators": operators,
        "states": dict(Counter(op["state"] for op in operators)),
        "totals": _kpis(combined(today), hotline),
        "alerts": [alert for queue in queues for alert in queue["alerts"]],
        "chart": _chart(quarters, hotline),
    }


def _kpis(totals: Totals, hotline: Hotline) -> dict[str, Any]:
    row = KpiRow(key="", start=None, calls=totals[0], csat=totals[1]).as_dict(hotline.kpi)
    keep = ("offered", "answered", "abandoned", "short_abandoned", "answer_rate", "abandonment_rate")
    more = ("short_abandon_rate", "asa_seconds", "aht_seconds", "service_level", "csat", "survey_response_rate")
    return {name: row[name] for name in keep + more}


def _queue(name: str, hotline: Hotline, live: dict[str, Any], today: Totals) -> dict[str, Any]:
    config = hotline.queues.get(name, QueueConfig())
    kpis = _kpis(today, hotline)
    entry = {
        "name": name,
        "title": config.title.get(hotline.hotline.default_language, name),
        "waiting": int(live.get("waiting", 0)),
        "longest_wait": round(float(live.get("longest_wait", 0.0)), 1),
        "working": int(live.get("working", 0)),
        "available": int(live.get("available", 0)),
        "sl_target": config.service_level_target,
        "wait_limit": min(WAIT_ALERT_SECONDS, config.max_wait_seconds),
        **kpis,
    }
    entry["alerts"] = _alerts(entry)
    return entry


def _alerts(queue: dict[str, Any]) -> list[dict[str, str]]:
    alerts = []
    level = queue["service_level"]
    if level is not None and level < queue["sl_target"]:
        text = f"{queue['title']}: service level {level:.0%} under target {queue['sl_target']:.0%}"
        alerts.append({"queue": queue["name"], "kind": "service_level", "text": text})
    if queue["waiting"] and queue["longest_wait"] > queue["wait_limit"]:
        text = f"{queue['title']}: a caller has waited {queue['longest_wait']:.0f} s (limit {queue['wait_limit']} s)"
        alerts.append({"queue": queue["name"], "kind": "long_wait", "text": text})
    return alerts


def _operators(hotline: Hotline, live: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    names = {seed.username: seed.name for seed in hotline.operators}
    rows = [
        {
            "id": op_id,
            "name": names.get(op_id, op_id),
            "state": op.get("state") or "offline",
            "since": op.get("since"),
            "call": op.get("call"),
            "reason": op.get("reason"),
            "queues": op.get("queues", []),
            "calls_today": op.get("calls_today", 0),
        }
        for op_id, op in live.items()
    ]
    order = {s: i for i, s in enumerate(STATES)}
    return sorted(rows, key=lambda r: (order.get(r["state"], len(STATES)), r["name"]))


def _chart(quarters: list[tuple[dt.datetime, dict[str, Totals]]], hotline: Hotline) -> str:
    labels = [start.strftime("%H:%M") for start, _ in quarters]
    values = [_kpis(combined(per_queue), hotline)["service_level"] for _, per_queue in quarters]
    targets = [q.service_level_target for q in hotline.queues.values()]
    target = sum(targets) / len(targets) if targets else None
    return line_chart("Service level today, by quarter hour", labels, values, target)
