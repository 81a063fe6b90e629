"""KPI engine benchmark: a month of calls (1,000,000 by default) with their events, in PostgreSQL and SQLite.

For each database: generate the calls and their events (COPY on PostgreSQL, executemany in large
transactions on SQLite), then time the day-by-hour KPI table per queue of the month with the KPI engine
(``SqlKpi``: local-time intervals, every KPI field, tickets) and a single hand-written GROUP BY over the call
summary table computing the same aggregates by UTC hour, in the same run; print both and their ratio.
Targets: under 1 s on PostgreSQL, under 3 s on SQLite, ratio at most 2. Everything created is removed.

    .venv/bin/python bench/kpi.py                 # 1,000,000 calls, both databases
    .venv/bin/python bench/kpi.py --calls 100000 --only sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from callcenter.hotline import KpiConfig
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.kpi.rollup import CallRollup
from callcenter.storage import db
from callcenter.storage.models import Call

ZONE = ZoneInfo("Europe/Budapest")
START = dt.datetime(2026, 3, 1, tzinfo=ZONE)
END = dt.datetime(2026, 4, 1, tzinfo=ZONE)  # a month with the spring DST change
QUEUES = ("general", "billing", "technical", "sales", "level2")
OPERATORS = tuple(f"op{i:03d}" for i in range(120))
TARGETS = {"postgresql": 1.0, "sqlite": 3.0}
RATIO_TARGET = 2.0
CONFIG = KpiConfig(timezone="Europe/Budapest")
CHUNK = 50_000

BASELINE_SELECT = """
    {key} AS k, {hour} AS h, COUNT(*) AS offered,
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered,
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,
    SUM(CASE WHEN outcome = 'abandoned' AND COALESCE(wait_seconds, 0) < 5 THEN 1 ELSE 0 END) AS short_abandoned,
    SUM(CASE WHEN answered_at IS NOT NULL AND COALESCE(wait_seconds, 0) <= 20 THEN 1 ELSE 0 END) AS within,
    SUM(CASE WHEN answered_at IS NOT NULL THEN COALESCE(wait_seconds, 0) ELSE 0 END) AS wait,
    SUM(CASE WHEN answered_at IS NOT NULL AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END) AS handled,
    SUM(CASE WHEN answered_at IS NOT NULL AND talk_seconds IS NOT NULL
        THEN talk_seconds + COALESCE(hold_seconds, 0) + COALESCE(wrapup_seconds, 0) ELSE 0 END) AS handle,
    MAX(COALESCE(wait_seconds, 0)) AS max_wait, COUNT(survey_score) AS responses,
    SUM(CASE WHEN survey_score >= 4 THEN 1 ELSE 0 END) AS satisfied
"""
BASELINE_HOUR = {"postgresql": "date_trunc('hour', enqueued_at)", "sqlite": "strftime('%Y-%m-%d %H', enqueued_at)"}


# -- generation -------------------------------------------------------------------------------------------


def generate(calls: int, seed: int = 1) -> Iterator[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    """Each call's summary row and its events (type, ts, queue, operator, data), spread over the month."""
    rng = random.Random(seed)
    span = END.timestamp() - START.timestamp()
    for i in range(calls):
        t0 = START.timestamp() + rng.random() * span
        yield _call(rng, f"b{i:08d}", t0)


def _call(rng: random.Random, call_id: str, t0: float) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    queue, operator = QUEUES[int(rng.random() ** 2 * len(QUEUES))], rng.choice(OPERATORS)
    enq, wait = t0 + 4.0, rng.expovariate(1 / 25)
    row: dict[str, Any] = {"id": call_id, "queue": queue, "final_queue": queue, "started_at": t0, "enqueued_at": enq}
    row.update(caller=f"+36{rng.randrange(10**8)}", outcome="abandoned", event_count=3, operator="")
    events: list[tuple[Any, ...]] = [("CALL_STARTED", t0, "", "", {}), ("ENTER_QUEUE", enq, queue, "", {})]
    if rng.random() < 0.12:
        row.update(wait_seconds=wait, ended_at=enq + wait)
        return row, events + [("ABANDONED", enq + wait, queue, "", {})]
    talk, wrap = rng.expovariate(1 / 180), 15.0
    answered, ended = enq + wait, enq + wait + talk
    score = rng.choice((None, None, 1, 2, 3, 4, 4, 5, 5, 5))
    row.update(
        outcome="answered",
        event_count=4,
        operator=operator,
        answered_at=answered,
        ended_at=ended,
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=0.0,
        wrapup_seconds=wrap,
        survey_score=score,
    )
    events += [("CONNECTED", answered, queue, operator, {}), ("COMPLETED_BY_OPERATOR", ended, queue, operator, {})]
    return row, events


def _defaults() -> dict[str, Any]:
    """A value for every column of the calls table the generator does not set (the schema may grow)."""
    return {column.name: _default(column) for column in Call.__table__.columns}


def _default(column: Any) -> Any:
    if column.default is not None:
        arg = column.default.arg
        return arg(None) if callable(arg) else arg
    if column.nullable:
        return None
    kind = _python_type(column)
    return {bool: False, int: 0, float: 0.0, dt.datetime: END.timestamp(), list: [], dict: {}}.get(kind, "")


def _python_type(column: Any) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


TIME_COLUMNS = {c.name for c in Call.__table__.columns if _python_type(c) is dt.datetime}
SET = (
    "id",
    "caller",
    "queue",
    "final_queue",
    "operator",
    "outcome",
    "started_at",
    "enqueued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrapup_seconds",
    "survey_score",
    "event_count",
)
_DATES: dict[int, str] = {}


def _iso(ts: float) -> str:
    """UTC 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite format), by arithmetic: strftime is too slow here."""
    day = int(ts // 86400)
    date = _DATES.get(day)
    if date is None:
        date = _DATES[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
    rest = ts - day * 86400
    whole = int(rest)
    hours, seconds = divmod(whole, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{date} {hours:02d}:{minutes:02d}:{seconds:02d}.{int((rest - whole) * 1e6):06d}"


def _constant_columns() -> tuple[list[str], list[Any]]:
    """The columns the generator leaves at their default, and those defaults."""
    defaults = _defaults()
    names = [name for name in defaults if name not in SET]
    return names, [defaults[name] for name in names]


# -- loading ----------------------------------------------------------------------------------------------


BULK_TABLES = ("calls", "call_events")
PG_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('calls', 'call_events')
    AND indexname NOT IN (SELECT conname FROM pg_constraint)
"""
SQLITE_INDEXES = """
    SELECT name, sql FROM sqlite_master
    WHERE type = 'index' AND tbl_name IN ('calls', 'call_events') AND sql IS NOT NULL
"""


def without_indexes(execute: Callable[[str], list[Any]], query: str, load: Callable[[], None]) -> None:
    """Bulk-load practice: drop the secondary indexes, load, build them again (faster than row by row)."""
    indexes = [(name, sql) for name, sql in execute(query)]
    for name, _ in indexes:
        execute(f'DROP INDEX "{name}"')
    load()
    for _, sql in indexes:
        execute(sql)


def load_postgresql(engine: Engine, calls: int) -> None:
    """COPY the calls and their events in text format (one pass of the generator), indexes built after."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:

        def execute(sql: str) -> list[Any]:
            result = connection.execute(text(sql))
            return list(result) if result.returns_rows else []

        without_indexes(execute, PG_INDEXES, lambda: _copy_postgresql(engine, calls))


def _copy_postgresql(engine: Engine, calls: int) -> None:
    names, values = _constant_columns()
    tail = "\t".join(_pg_value(name, value) for name, value in zip(names, values, strict=True))
    calls_sql = f"COPY calls ({', '.join((*SET, *names))}) FROM STDIN"
    events_sql = "COPY call_events (event_id, type, ts, call_id, channel, queue, operator, data) FROM STDIN"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        call_text, event_text = io.StringIO(), io.StringIO()
        for row, events in generate(calls):
            call_text.write("\t".join(_pg_value(name, row.get(name)) for name in SET) + "\t" + tail + "\n")
            for n, (kind, ts, queue, operator, _) in enumerate(events):
                event_text.write(
                    f"{row['id']}:{n}\t{kind}\t{_iso(ts)}+00\t{row['id']}\ttwilio\t{queue}\t{operator}\t{{}}\n"
                )
        with cursor.copy(calls_sql) as copy:
            copy.write(call_text.getvalue())
        with cursor.copy(events_sql) as copy:
            copy.write(event_text.getvalue())
        raw.commit()
    finally:
        raw.close()


def _pg_value(name: str, value: Any) -> str:
    if value is None:
        return "\\N"
    if name in TIME_COLUMNS:
        return _iso(value) + "+00"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def load_sqlite(path: Path, calls: int) -> None:
    """executemany in transactions of CHUNK calls, journal off while loading (the file is thrown away)."""
    names, values = _constant_columns()
    constants = tuple(json.dumps(v) if isinstance(v, (list, dict)) else v for v in values)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-200000")

    def execute(sql: str) -> list[Any]:
        return list(connection.execute(sql))

    without_indexes(execute, SQLITE_INDEXES, lambda: _insert_sqlite(connection, calls, names, constants))
    connection.execute("ANALYZE")
    connection.close()


def _insert_sqlite(connection: sqlite3.Connection, calls: int, names: list[str], constants: tuple[Any, ...]) -> None:
    columns = (*SET, *names)
    insert_call = f"INSERT INTO calls ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    insert_event = (
        "INSERT INTO call_events (event_id, type, ts, call_id, channel, queue, operator, data) VALUES (?,?,?,?,?,?,?,?)"
    )
    call_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    for row, events in generate(calls):
        call_rows.append(tuple(_sqlite_value(name, row.get(name)) for name in SET) + constants)
        event_rows += [
            (f"{row['id']}:{n}", k, _iso(ts), row["id"], "twilio", q, o, "{}")
            for n, (k, ts, q, o, _) in enumerate(events)
        ]
        if len(call_rows) >= CHUNK:
            _flush(connection, insert_call, call_rows, insert_event, event_rows)
    _flush(connection, insert_call, call_rows, insert_event, event_rows)


def _sqlite_value(name: str, value: Any) -> Any:
    return _iso(value) if value is not None and name in TIME_COLUMNS else value


def _flush(
    connection: sqlite3.Connection, calls_sql: str, calls: list[Any], events_sql: str, events: list[Any]
) -> None:
    connection.execute("BEGIN")
    connection.executemany(calls_sql, calls)
    connection.executemany(events_sql, events)
    connection.execute("COMMIT")
    calls.clear()
    events.clear()


# -- measuring --------------------------------------------------------------------------------------------


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``runs`` runs (the first warms the cache) and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def fill_rollup(engine: Engine) -> float:
    """The KPI rollup of the loaded calls, with the projection's own SQL (``CallRollup.rebuild``); seconds."""
    started = time.perf_counter()
    with engine.begin() as connection:
        CallRollup(CONFIG).rebuild(connection)
    return time.perf_counter() - started


def measure(engine: Engine, runs: int) -> dict[str, Any]:
    dialect = engine.dialect.name
    kpi = SqlKpi(engine, CONFIG, rollup=True)  # as SqlKpi.for_hotline builds it
    query = KpiQuery(START, END, "hour", "queue")
    rollup_used = kpi.reads_rollup(query)
    engine_time, rows = best_of(runs, lambda: kpi.table(query, END.timestamp()))
    plain = SqlKpi(engine, CONFIG)
    plain_time, plain_rows = best_of(runs, lambda: plain.table(query, END.timestamp()))
    baseline_sql = text(
        f"SELECT {BASELINE_SELECT.format(key='queue', hour=BASELINE_HOUR[dialect])} FROM calls "
        "WHERE enqueued_at >= :start AND enqueued_at < :end GROUP BY 1, 2"
    )
    params = {"start": _iso(START.timestamp()), "end": _iso(END.timestamp())}
    if dialect == "postgresql":
        params = {"start": START, "end": END}  # type: ignore[dict-item]

    def baseline() -> list[Any]:
        with engine.connect() as connection:
            return list(connection.execute(baseline_sql, params))

    baseline_time, base_rows = best_of(runs, baseline)
    offered = sum(r.calls.offered for r in rows)
    return {
        "engine": engine_time,
        "rollup_used": rollup_used,
        "same_table": _same(rows, plain_rows),
        "engine_calls": plain_time,
        "baseline": baseline_time,
        "rows": len(rows),
        "offered": offered,
        "baseline_offered": sum(r.offered for r in base_rows),
    }


def _same(rows: list[Any], plain: list[Any]) -> bool:
    """The rollup's table equals the call summaries' (counts exactly, sums of seconds to 1e-9)."""

    def key(row: Any) -> tuple[Any, ...]:
        return (row.key, row.start, row.calls.offered, row.calls.answered, row.calls.answered_within, row.csat)

    close = all(
        abs(a.calls.handle_seconds - b.calls.handle_seconds) <= 1e-9 * max(1.0, b.calls.handle_seconds)
        for a, b in zip(rows, plain, strict=True)
    )
    return [key(r) for r in rows] == [key(r) for r in plain] and close


def report(name: str, calls: int, generation: float, rollup: float, result: dict[str, Any]) -> None:
    ratio = result["engine"] / result["baseline"]
    ok = result["engine"] < TARGETS[name] and ratio <= RATIO_TARGET
    print(f"{name}: {calls:,} calls generated and loaded in {generation:.1f} s; KPI rollup filled in {rollup:.1f} s")
    print(
        f"  KPI engine, day-by-hour per queue over the month: {result['engine'] * 1000:.0f} ms "
        f"({result['rows']} rows, {result['offered']:,} offered calls; "
        f"{'from the rollup' if result['rollup_used'] else 'grouping the calls'}"
        f"{', same table as grouping the calls' if result['same_table'] else ', TABLE DIFFERS from the calls'})"
    )
    print(f"  KPI engine without the rollup (grouping the calls): {result['engine_calls'] * 1000:.0f} ms")
    print(
        f"  hand-written GROUP BY over calls (same aggregates): {result['baseline'] * 1000:.0f} ms "
        f"({result['baseline_offered']:,} offered calls)"
    )
    print(
        f"  ratio engine / baseline: {ratio:.2f}  (targets: < {TARGETS[name]:.0f} s, ratio <= {RATIO_TARGET:g})"
        f"  {'OK' if ok else 'MISSED'}"
    )


def run_postgresql(admin_url: str, calls: int, runs: int) -> None:
    name = "cc_bench_" + uuid.uuid4().hex[:8]
    admin = db.make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = db.make_engine(admin_url.rsplit("/", 1)[0] + "/" + name)
    try:
        db.upgrade(engine)
        started = time.perf_counter()
        load_postgresql(engine, calls)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE calls"))
        generation = time.perf_counter() - started
        rollup = fill_rollup(engine)
        report("postgresql", calls, generation, rollup, measure(engine, runs))
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_sqlite(calls: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as directory:
        path = Path(directory) / "bench.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        load_sqlite(path, calls)
        generation = time.perf_counter() - started
        engine = db.make_engine(f"sqlite:///{path}")
        try:
            rollup = fill_rollup(engine)
            report("sqlite", calls, generation, rollup, measure(engine, runs))
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each query (the best counts)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test", help="an existing database")
    args = parser.parse_args()
    if args.only in (None, "postgresql"):
        run_postgresql(args.pg, args.calls, args.runs)
    if args.only in (None, "sqlite"):
        run_sqlite(args.calls, args.runs)


if __name__ == "__main__":
    main()
