"""KPI API and /metrics: history and live windows over calls driven through the real ACD and journal."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callcenter.bootstrap import Container
from tests.support.api import bearer, make_token, seed_operators

ZONE = ZoneInfo("Europe/Budapest")
T0 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=ZONE).timestamp()


def drive_calls(container: Container, t0: float) -> None:
    """anna answers c1 after 8 s and talks 60 s; c2 hangs up after 30 s of waiting; c3 waits still."""
    acd = container.acd
    acd.sync_config(t0)
    acd.login("anna", t0)
    acd.enqueue("c1", "general", t0 + 1, channel="twilio", caller="+3611")
    acd.offer(t0 + 5)
    acd.accept("c1", "anna", t0 + 9)
    acd.enqueue("c2", "general", t0 + 10, channel="twilio", caller="+3622")
    acd.abandon("c2", t0 + 40)
    acd.hangup("c1", t0 + 69, by="operator")
    acd.enqueue("c3", "general", t0 + 70, channel="twilio", caller="+3633")
    container.journal_writer.drain_all()


@pytest.fixture
def lead(container: Container) -> dict[str, str]:
    ids = seed_operators(container)
    make_token(container, ids["csilla"], "tok-lead")
    make_token(container, ids["anna"], "tok-op")
    container.clock = lambda: T0 + 75
    drive_calls(container, T0)
    return bearer("tok-lead")


def test_live_window_counts_answered_and_abandoned_calls(client: Any, lead: dict[str, str]) -> None:
    body = client.get("/api/v1/kpi/live?window=15m", headers=lead).json
    general = body["queues"]["general"]
    assert (general["offered"], general["answered"], general["abandoned"]) == (3, 1, 1)
    assert general["asa_seconds"] == pytest.approx(8)
    assert general["service_level"] == pytest.approx(1 / 2)  # c1 within 20 s; c2 a long abandon
    assert body["all"]["offered"] == 3


def test_history_by_hour_matches_live_today(client: Any, lead: dict[str, str]) -> None:
    query = "from=2026-11-27&to=2026-11-27&interval=hour&by=queue"
    body = client.get(f"/api/v1/kpi/history?{query}", headers=lead).json
    rows = [r for r in body["rows"] if r["key"] == "general"]
    assert [(r["start"][:16], r["offered"], r["answered"]) for r in rows] == [("2026-11-27T10:00", 3, 1)]
    today = client.get("/api/v1/kpi/live?window=today", headers=lead).json["queues"]["general"]
    assert {k: today[k] for k in ("offered", "answered", "abandoned")} == {
        k: rows[0][k] for k in ("offered", "answered", "abandoned")
    }
    assert body["definitions"]["service_level_threshold_seconds"] == 20


def test_kpi_api_is_for_leads_and_validates_the_query(client: Any, lead: dict[str, str]) -> None:
    assert client.get("/api/v1/kpi/live").status_code == 401
    assert client.get("/api/v1/kpi/live", headers=bearer("tok-op")).status_code == 403
    bad = client.get("/api/v1/kpi/history?from=2026-11-27&to=2026-11-28&interval=year", headers=lead)
    assert bad.status_code == 422


def test_dashboard_document_shows_waiting_caller_and_operator_on_wrap_up(client: Any, lead: dict[str, str]) -> None:
    body = client.get("/api/v1/kpi/dashboard", headers=lead).json
    general = next(q for q in body["queues"] if q["name"] == "general")
    assert general["waiting"] == 1 and general["longest_wait"] == pytest.approx(5)
    anna = next(o for o in body["operators"] if o["id"] == "anna")
    assert anna["state"] == "wrap_up"
    assert body["chart"].startswith("<svg")


def test_metrics_expose_gauges_and_todays_counters(client: Any, lead: dict[str, str]) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    assert 'callcenter_queue_waiting_calls{queue="general"} 1.0' in text
    assert 'callcenter_calls_offered_total{queue="general"} 3.0' in text
    assert 'callcenter_calls_abandoned_total{queue="general"} 1.0' in text
    assert 'callcenter_operators{state="wrap_up"} 1.0' in text


def test_lead_page_is_for_leads_with_a_strict_content_policy(client: Any, lead: dict[str, str]) -> None:
    assert client.get("/lead").headers["Location"].endswith("/console/login")
    assert client.get("/lead", headers=bearer("tok-op")).status_code == 403
    page = client.get("/lead", headers=lead)
    assert page.status_code == 200 and 'data-queue="general"' in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    with client.get("/lead/static/lead.css") as style:
        assert style.status_code == 200
