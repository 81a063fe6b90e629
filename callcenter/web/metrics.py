"""Prometheus metrics at ``/metrics``: live gauges from the ACD snapshot, today's counters from the live KPIs.

The counters are today's totals (they restart at local midnight, which Prometheus' ``rate``/``increase``
treat as a counter reset) and count calls by the interval they entered a queue, like every KPI here.
Public like ``/healthz``: scrape it on the internal network and keep it off the public proxy. A registry is
built per scrape from current state, so the web processes keep no metric state of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callcenter.web.api_kpi import kpi_service
from callcenter.web.app import container

bp = Blueprint("metrics", __name__)

COUNTERS = {
    "offered": "Calls that entered a queue today",
    "answered": "Offered calls an operator answered",
    "abandoned": "Offered calls the caller hung up while waiting",
    "short_abandoned": "Abandoned calls that waited less than the short-abandon threshold",
    "answered_within": "Calls answered within the service-level threshold",
    "handled": "Answered calls whose conversation ended",
    "answered_wait_seconds": "Total wait of answered calls (ASA = this / answered)",
    "handle_seconds": "Total talk + hold + wrap-up of handled calls (AHT = this / handled)",
}


class _Collector(Collector):
    def __init__(self, snapshot: dict[str, Any], today: dict[str, Any], backlog: int):
        self._snapshot, self._today, self._backlog = snapshot, today, backlog

    def collect(self) -> Iterator[Metric]:
        yield from self._queue_gauges()
        yield from self._operator_gauges()
        yield from self._counters()
        yield GaugeMetricFamily("callcenter_journal_backlog", "Events not yet written to SQL", value=self._backlog)

    def _queue_gauges(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("callcenter_queue_waiting_calls", "Calls waiting", labels=["queue"])
        longest = GaugeMetricFamily("callcenter_queue_longest_wait_seconds", "Longest current wait", labels=["queue"])
        staffed = GaugeMetricFamily("callcenter_queue_operators", "Operators of the queue", labels=["queue", "kind"])
        for name, queue in sorted(self._snapshot.get("queues", {}).items()):
            waiting.add_metric([name], queue["waiting"])
            longest.add_metric([name], queue["longest_wait"])
            staffed.add_metric([name, "working"], queue["working"])
            staffed.add_metric([name, "available"], queue["available"])
        yield from (waiting, longest, staffed)

    def _operator_gauges(self) -> Iterator[Metric]:
        states = Counter(op["state"] or "offline" for op in self._snapshot.get("operators", {}).values())
        family = GaugeMetricFamily("callcenter_operators", "Operators by state", labels=["state"])
        for state in ("available", "reserved", "on_call", "wrap_up", "break", "offline"):
            family.add_metric([state], states.get(state, 0))
        yield family

    def _counters(self) -> Iterator[Metric]:
        for field, text in COUNTERS.items():
            family = CounterMetricFamily(f"callcenter_calls_{field}", text, labels=["queue"])
            for queue, (totals, _) in sorted(self._today.items()):
                family.add_metric([queue], asdict(totals)[field])
            yield family
        responses = CounterMetricFamily(
            "callcenter_survey_responses", "Satisfaction answers", labels=["queue", "satisfied"]
        )
        for queue, (_, csat) in sorted(self._today.items()):
            responses.add_metric([queue, "yes"], csat.satisfied)
            responses.add_metric([queue, "no"], csat.responses - csat.satisfied)
        yield responses


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of the live state and today's counters."""
    c, service = container(), kpi_service()
    now = c.clock()
    snapshot = service.snapshot(now)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snapshot, service.live_kpi.window("today", now), c.journal.backlog()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
