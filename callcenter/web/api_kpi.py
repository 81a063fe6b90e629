"""REST API of the KPIs: history from SQL, live windows from Redis, the dashboard document (leads, admins)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from callcenter.kpi.history import KpiQuery
from callcenter.kpi.service import KpiService, parse_period
from callcenter.web import services
from callcenter.web.app import container
from callcenter.web.openapi import endpoint

bp = Blueprint("api_kpi", __name__, url_prefix="/api/v1/kpi")
LEADS = ("lead", "admin")
_KEY = "callcenter.kpi"


def kpi_service() -> KpiService:
    """The app's KPI service (built once; the ACD snapshot comes from the API's ACD accessor)."""
    cache = current_app.extensions.setdefault(_KEY, {})
    if "service" not in cache:
        c = container()
        cache["service"] = KpiService(c.engine, c.redis.live, c.keys, c.hotline, services.acd(), c.clock)
    return cache["service"]  # type: ignore[no-any-return]


class HistoryQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    start: str = Field(alias="from", description="ISO date or datetime (local to the KPI time zone if naive)")
    end: str = Field(alias="to", description="ISO date (inclusive) or datetime (exclusive)")
    interval: Literal["15min", "hour", "day", "week", "month", "total"] = "hour"
    by: Literal["queue", "operator", "team", "all"] = "queue"
    queue: str = Field("", description="comma-separated queue names (all queues when empty)")


class LiveQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: Literal["today", "15m", "60m"] = "today"


class KpiTableOut(BaseModel):
    start: str
    end: str
    interval: str
    by: str
    definitions: dict[str, Any]
    rows: list[dict[str, Any]]


class LiveOut(BaseModel):
    window: str
    start: str
    end: str
    queues: dict[str, dict[str, Any]]
    all: dict[str, Any]


class DashboardOut(BaseModel):
    generated_at: float
    queues: list[dict[str, Any]]
    operators: list[dict[str, Any]]
    states: dict[str, int]
    totals: dict[str, Any]
    alerts: list[dict[str, str]]
    chart: str


@bp.get("/history")
@endpoint(
    "KPI table of a period per interval and group", roles=LEADS, query=HistoryQuery, response=KpiTableOut, tag="kpi"
)
def history(query: HistoryQuery) -> Any:
    service = kpi_service()
    start, end = parse_period(query.start, query.end, service.hotline.kpi.timezone)
    queues = tuple(q for q in query.queue.split(",") if q)
    interval = None if query.interval == "total" else query.interval
    rows = service.history(KpiQuery(start, end, interval, query.by, queues), container().clock())
    definitions = service.hotline.kpi.model_dump()
    return KpiTableOut(
        start=start.isoformat(),
        end=end.isoformat(),
        interval=query.interval,
        by=query.by,
        definitions=definitions,
        rows=rows,
    )


@bp.get("/live")
@endpoint(
    "Live KPI window (today so far, last 15 or 60 minutes) per queue",
    roles=LEADS,
    query=LiveQuery,
    response=LiveOut,
    tag="kpi",
)
def live(query: LiveQuery) -> Any:
    return LiveOut(**kpi_service().live(query.window, container().clock()))


@bp.get("/dashboard")
@endpoint(
    "The lead dashboard's state: queues, operators, today's KPIs, alerts", roles=LEADS, response=DashboardOut, tag="kpi"
)
def dashboard() -> Any:
    return DashboardOut(**kpi_service().dashboard(container().clock()))
