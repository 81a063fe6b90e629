"""The KPI rollup (quarter-hour totals kept by the journal) gives exactly the KPI table of the call summaries."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, event, select

from callcenter.bootstrap import Container
from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.kpi_table import Interval
from callcenter.hotline import KpiConfig
from callcenter.kpi.history import Dimension, KpiQuery, SqlKpi
from callcenter.kpi.live import LiveKpi
from callcenter.kpi.rollup import CallRollup, KpiRollupProjection
from callcenter.storage import db
from callcenter.storage.event_store import SqlEventStore, epoch
from callcenter.storage.models import Call, KpiRollup
from tests.integration.test_kpi_live import flat, journal_in_batches
from tests.support.events import answered_call
from tests.support.events import event as make_event
from tests.support.kpi_data import Dataset, make_dataset, rows_equal

E = EventType
ZONE = ZoneInfo("Europe/Budapest")
# Three days around the end of summer time (2026-10-25 03:00 CEST -> 02:00 CET).
START = dt.datetime(2026, 10, 24, 0, 0, tzinfo=ZONE)
END = dt.datetime(2026, 10, 27, 0, 0, tzinfo=ZONE)
NOW = END.timestamp() - 3600
EDGE = dt.datetime(2026, 10, 25, 9, 0, tzinfo=ZONE).timestamp()


def edge_calls() -> list[list[CallEvent]]:
    """Calls whose events reach the journal one batch at a time, in this order."""
    twilio = {"channel": "twilio"}
    late = [  # the later queue entry arrives first; the earlier one, in another hour and queue, moves the call
        make_event(E.CALL_STARTED, "moved", EDGE + 49 * 60, data={"from": "+3630111"}, **twilio),
        make_event(E.ENTER_QUEUE, "moved", EDGE + 80 * 60, queue="billing", **twilio),
        make_event(E.CONNECTED, "moved", EDGE + 81 * 60, queue="billing", operator="anna", **twilio),
    ]
    across = [  # enters at 09:59:50, answered, handled and rated in the next hour, event by event
        make_event(E.ENTER_QUEUE, "across", EDGE + 3590, queue="general", **twilio),
        make_event(E.CONNECTED, "across", EDGE + 3630, queue="general", operator="bela", **twilio),
        make_event(E.COMPLETED_BY_OPERATOR, "across", EDGE + 4800, queue="general", operator="bela", **twilio),
        make_event(E.WRAPUP_DONE, "across", EDGE + 4820, queue="general", operator="bela", data={"seconds": 20}),
        make_event(E.SURVEY_ANSWERED, "across", EDGE + 4830, data={"question": "satisfaction", "answer": 5}),
    ]
    callback = [  # waits, asks for a callback, is dialled back and answered in a later quarter hour
        make_event(E.ENTER_QUEUE, "cb", EDGE + 2 * 3600 + 890, queue="technical", **twilio),
        make_event(E.CALLBACK_REQUESTED, "cb", EDGE + 2 * 3600 + 920, queue="technical", **twilio),
        make_event(E.CALLBACK_DIALLED, "cb", EDGE + 2 * 3600 + 1900, queue="technical", operator="cili"),
        make_event(E.CONNECTED, "cb", EDGE + 2 * 3600 + 1910, queue="technical", operator="cili"),
    ]
    again = [  # abandons at the turn of the hour, then calls again and is answered
        make_event(E.ENTER_QUEUE, "gone", EDGE + 3 * 3600 - 4, queue="general", **twilio),
        make_event(E.ABANDONED, "gone", EDGE + 3 * 3600 + 40, queue="general", **twilio),
        make_event(E.ENTER_QUEUE, "back", EDGE + 3 * 3600 + 300, queue="general", **twilio),
        make_event(E.CONNECTED, "back", EDGE + 3 * 3600 + 310, queue="general", operator="anna", **twilio),
    ]
    earlier = [make_event(E.ENTER_QUEUE, "moved", EDGE + 50 * 60, queue="general", **twilio)]
    return [[e] for e in late + across + callback + again] + [earlier]


@pytest.fixture
def journalled(container: Container) -> tuple[Container, Dataset]:
    """A random dataset journalled out of order with replays, then the edge calls batch by batch."""
    data = make_dataset(7, START.timestamp() - 1800, 400, 3 * 86400 + 3600)
    data.tickets = []
    journal_in_batches(container, [e for e in data.events if e.call_id])
    for batch in edge_calls():
        data.events += batch
        container.journal.append_many(batch)
        container.journal_writer.drain_all()
    return container, data


@pytest.fixture
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL the engine sends."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(container.engine, "before_cursor_execute", record)
    yield seen
    event.remove(container.engine, "before_cursor_execute", record)


def table(engine: Engine, config: KpiConfig, query: KpiQuery, rollup: bool) -> dict[Any, Any]:
    return {(r.key, r.start): r for r in SqlKpi(engine, config, rollup=rollup).table(query, NOW)}


def assert_same(got: dict[Any, Any], want: dict[Any, Any]) -> None:
    assert sorted(got, key=str) == sorted(want, key=str)
    assert {str(g): rows_equal(got[g], want[g]) for g in got if rows_equal(got[g], want[g])} == {}


def used_rollup(statements: list[str]) -> bool:
    reads = [s for s in statements if "kpi_rollup" in s and "SELECT" in s]
    return bool(reads) and not any("calls.enqueued_at" in s for s in statements)


def test_rollup_gives_the_call_summaries_table_for_every_interval_across_dst(
    journalled: tuple[Container, Dataset], statements: list[str]
) -> None:
    container, _ = journalled
    intervals: list[Interval | None] = ["15min", "hour", "day", "week", "month", None]
    by: Dimension
    for interval in intervals:
        for by in ("queue", "all"):
            config, query = container.hotline.kpi, KpiQuery(START, END, interval, by)
            plain = table(container.engine, config, query, rollup=False)
            statements.clear()
            rolled = table(container.engine, config, query, rollup=True)
            assert used_rollup(statements), (interval, by)
            assert_same(rolled, plain)


def test_edge_calls_are_counted_once_in_their_final_quarter_hour(journalled: tuple[Container, Dataset]) -> None:
    container, _ = journalled
    with container.engine.connect() as connection:
        moved = connection.execute(select(Call.queue, Call.enqueued_at).where(Call.id == "moved")).one()
    assert (moved.queue, epoch(moved.enqueued_at)) == ("general", EDGE + 50 * 60)
    start, end = dt.datetime(2026, 10, 25, 9, 0, tzinfo=ZONE), dt.datetime(2026, 10, 25, 13, 15, tzinfo=ZONE)
    query = KpiQuery(start, end, "15min", "queue")
    rolled = table(container.engine, container.hotline.kpi, query, rollup=True)
    assert_same(rolled, table(container.engine, container.hotline.kpi, query, rollup=False))
    at_10_15 = ("billing", dt.datetime(2026, 10, 25, 10, 15, tzinfo=ZONE))
    assert at_10_15 not in rolled or rolled[at_10_15].calls.answered == 0  # "moved" left billing at 10:20


def test_replayed_batches_and_a_second_projection_run_change_no_bucket(journalled: tuple[Container, Dataset]) -> None:
    container, data = journalled
    before = rollup_rows(container.engine)
    container.journal.append_many([e for e in data.events if e.call_id][:500])
    container.journal_writer.drain_all()
    with container.sessions.begin() as session:
        KpiRollupProjection.for_hotline(container.hotline).apply(data.events[:800], session)
    assert_rows_equal(rollup_rows(container.engine), before)


def test_other_conventions_group_the_calls_until_the_stale_quarters_are_recounted(
    journalled: tuple[Container, Dataset], statements: list[str]
) -> None:
    container, _ = journalled
    config = KpiConfig(timezone="Europe/Budapest", service_level_threshold_seconds=30, short_abandon_seconds=10)
    query = KpiQuery(START, END, "day", "queue")
    plain = table(container.engine, config, query, rollup=False)
    statements.clear()
    assert_same(table(container.engine, config, query, rollup=True), plain)
    assert not used_rollup(statements)
    with container.engine.begin() as connection:
        assert CallRollup(config).refresh_stale(connection) > 0
    statements.clear()
    assert_same(table(container.engine, config, query, rollup=True), plain)
    assert used_rollup(statements)


@pytest.mark.parametrize(
    ("zone", "start", "by", "business_hours_only", "covered"),
    [
        ("Asia/Kathmandu", dt.datetime(2026, 10, 24, 0, 0), "queue", False, True),  # +5:45
        ("America/St_Johns", dt.datetime(2026, 10, 24, 0, 0), "all", False, True),  # -2:30, DST on 1 Nov
        ("Europe/Budapest", dt.datetime(2026, 10, 24, 0, 7), "queue", False, False),  # not on a quarter hour
        ("Europe/Budapest", dt.datetime(2026, 10, 24, 0, 0), "operator", False, False),
        ("Europe/Budapest", dt.datetime(2026, 10, 24, 0, 0), "queue", True, False),
    ],
)
def test_the_rollup_answers_only_queries_made_of_whole_quarter_hours(
    journalled: tuple[Container, Dataset],
    statements: list[str],
    zone: str,
    start: dt.datetime,
    by: Dimension,
    business_hours_only: bool,
    covered: bool,
) -> None:
    container, _ = journalled
    config = KpiConfig(timezone=zone, business_hours_only=business_hours_only)
    query = KpiQuery(start.replace(tzinfo=ZoneInfo(zone)), END.astimezone(ZoneInfo(zone)), "15min", by)
    assert SqlKpi(container.engine, config, rollup=True).reads_rollup(query) is covered
    plain = table(container.engine, config, query, rollup=False)
    statements.clear()
    assert_same(table(container.engine, config, query, rollup=True), plain)
    assert used_rollup(statements) is covered
    if covered:
        day = KpiQuery(query.start, query.end, "day", by)
        assert_same(table(container.engine, config, day, rollup=True), table(container.engine, config, day, False))


def test_migration_backfill_equals_the_projection(journalled: tuple[Container, Dataset]) -> None:
    container, _ = journalled
    projected = rollup_rows(container.engine)
    assert projected
    command.downgrade(db.alembic_config(container.engine), "0003")
    db.upgrade(container.engine)
    assert_rows_equal(rollup_rows(container.engine), projected)


def test_live_today_equals_the_rollup_history(journalled: tuple[Container, Dataset], statements: list[str]) -> None:
    container, _ = journalled
    now = dt.datetime(2026, 10, 25, 23, 59, 30, tzinfo=ZONE).timestamp()  # the whole DST day of 25 hours
    live = LiveKpi(container.redis.live, container.keys, container.hotline.kpi)
    start, end = live.buckets.window_bounds("today", now)
    statements.clear()
    history = SqlKpi.for_hotline(container.engine, container.hotline).table(KpiQuery(start, end, None), now)
    assert used_rollup(statements)
    assert flat(live.window("today", now)) == pytest.approx(flat({r.key: (r.calls, r.csat) for r in history}))


def rollup_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(select(KpiRollup).order_by(KpiRollup.bucket, KpiRollup.queue))
        return [tuple(row) for row in rows]


def assert_rows_equal(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    """Same keys and counts; sums of seconds equal up to float rounding (summation order)."""
    assert [[v for v in row if not isinstance(v, float)] for row in got] == [
        [v for v in row if not isinstance(v, float)] for row in want
    ]
    floats = [[v for row in rows for v in row if isinstance(v, float)] for rows in (got, want)]
    assert floats[0] == pytest.approx(floats[1])


@pytest.mark.real
@pytest.mark.parametrize("backend", ["real"], indirect=True)
def test_two_consumers_writing_calls_of_one_quarter_hour_at_once_both_count(container: Container) -> None:
    t0 = dt.datetime(2026, 10, 25, 9, 0, tzinfo=ZONE).timestamp()
    store, projection = SqlEventStore(container.sessions), KpiRollupProjection.for_hotline(container.hotline)
    stored, failures = threading.Event(), []

    def write(events: list[CallEvent], hold: float) -> None:
        with container.sessions.begin() as session:
            projection.apply(store.store(events, session), session)
            stored.set()
            time.sleep(hold)  # the other consumer writes meanwhile

    def slow_consumer() -> None:
        try:
            write(answered_call("CAfirst", t0), 0.5)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
            stored.set()

    thread = threading.Thread(target=slow_consumer)
    thread.start()
    assert stored.wait(10)
    write(answered_call("CAsecond", t0 + 60), 0)
    thread.join(10)
    assert failures == []
    with container.engine.connect() as connection:
        offered = connection.scalars(select(KpiRollup.offered)).all()
    assert offered == [2]
