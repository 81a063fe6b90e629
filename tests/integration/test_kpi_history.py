"""The SQL KPI engine gives the numbers of the pure formulas, on SQLite and PostgreSQL, for every grouping."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callcenter.bootstrap import Container
from callcenter.domain.kpi_table import Interval
from callcenter.hotline import BusinessHours, Hotline, KpiConfig, QueueConfig
from callcenter.kpi.conventions import queue_thresholds
from callcenter.kpi.history import Dimension, KpiQuery, SqlKpi
from tests.support.kpi_data import Dataset, load_into, make_dataset, reference_table, rows_equal

ZONE = ZoneInfo("Europe/Budapest")
# Three days around the end of summer time (2026-10-25 03:00 CEST -> 02:00 CET).
START = dt.datetime(2026, 10, 24, 0, 0, tzinfo=ZONE)
END = dt.datetime(2026, 10, 27, 0, 0, tzinfo=ZONE)
NOW = END.timestamp() - 3600


@pytest.fixture
def loaded(container: Container) -> tuple[Container, Dataset]:
    data = make_dataset(7, START.timestamp() - 1800, 400, 3 * 86400 + 3600)
    load_into(container, data)
    return container, data


def compare(engine: SqlKpi, data: Dataset, config: KpiConfig, query: KpiQuery) -> None:
    got = {(r.key, r.start): r for r in engine.table(query, NOW)}
    want = reference_table(data, config, query.start.timestamp(), query.end.timestamp(), query.interval, query.by, NOW)
    if query.queues:
        want = {g: r for g, r in want.items() if g[0] in query.queues}
    assert sorted(got, key=str) == sorted(want, key=str)
    diffs = {str(g): rows_equal(got[g], want[g]) for g in got if rows_equal(got[g], want[g])}
    assert diffs == {}


@pytest.mark.parametrize("interval", ["15min", "hour", "day", "week", "month", None])
def test_sql_kpi_by_queue_equals_pure_formulas_across_dst(
    loaded: tuple[Container, Dataset], interval: Interval | None
) -> None:
    container, data = loaded
    config = KpiConfig(timezone="Europe/Budapest")
    compare(SqlKpi(container.engine, config), data, config, KpiQuery(START, END, interval, "queue"))


@pytest.mark.parametrize("by", ["operator", "team", "all"])
@pytest.mark.parametrize("interval", ["hour", "day"])
def test_sql_kpi_by_operator_team_and_all_includes_occupancy_and_tickets(
    loaded: tuple[Container, Dataset], by: Dimension, interval: Interval
) -> None:
    container, data = loaded
    config = KpiConfig(timezone="Europe/Budapest", short_abandon_seconds=10, fcr_window_days=1)
    compare(SqlKpi(container.engine, config), data, config, KpiQuery(START, END, interval, by))


def test_sql_kpi_uses_configured_threshold_and_queue_filter(loaded: tuple[Container, Dataset]) -> None:
    container, data = loaded
    config = KpiConfig(timezone="UTC", service_level_threshold_seconds=45, short_abandon_seconds=0)
    query = KpiQuery(START, END, "day", "queue", queues=("billing",))
    rows = SqlKpi(container.engine, config).table(query, NOW)
    assert {r.key for r in rows} == {"billing"}
    compare(SqlKpi(container.engine, config), data, config, query)


def test_sql_kpi_business_hours_only_counts_calls_entering_queue_in_opening_hours(
    loaded: tuple[Container, Dataset],
) -> None:
    container, data = loaded
    hours = BusinessHours(timezone="Europe/Budapest", weekly={"sat": ("08:00-12:00",), "mon": ("09:00-17:30",)})
    config = KpiConfig(timezone="Europe/Budapest", business_hours_only=True)
    rows = SqlKpi(container.engine, config, hours).table(KpiQuery(START, END, "day", "all"), NOW)
    offered = {r.start.date().isoformat(): r.calls.offered for r in rows if r.calls.offered and r.start}
    from callcenter.domain.kpi_table import holiday_days, in_business_hours, wall_seconds, weekly_spans

    spans = weekly_spans(hours.weekly)
    expected: dict[str, int] = {}
    for s in data.summaries():
        if s.enqueued_at is None or not START.timestamp() <= s.enqueued_at < END.timestamp():
            continue
        if in_business_hours(wall_seconds(s.enqueued_at, ZONE), spans, holiday_days(())):
            day = dt.datetime.fromtimestamp(s.enqueued_at, ZONE).date().isoformat()
            expected[day] = expected.get(day, 0) + 1
    assert offered == expected
    assert set(expected) == {"2026-10-24", "2026-10-26"}


def test_a_queue_with_its_own_threshold_counts_its_service_level_with_it(loaded: tuple[Container, Dataset]) -> None:
    container, data = loaded
    hotline = Hotline(queues={"billing": QueueConfig(service_level_threshold_seconds=45), "general": QueueConfig()})
    assert queue_thresholds(hotline) == {"billing": 45}
    engine = SqlKpi.for_hotline(container.engine, hotline)
    config = hotline.kpi
    query = KpiQuery(START, END, "day", "queue")
    got = {(r.key, r.start): r for r in engine.table(query, NOW)}
    want = reference_table(data, config, START.timestamp(), END.timestamp(), "day", "queue", NOW, {"billing": 45})
    assert {str(g): rows_equal(got[g], want[g]) for g in got if rows_equal(got[g], want[g])} == {}
    plain = {(r.key, r.start): r for r in SqlKpi(container.engine, config).table(query, NOW)}
    billing = [g for g in got if g[0] == "billing"]
    assert sum(got[g].calls.answered_within for g in billing) > sum(plain[g].calls.answered_within for g in billing)
