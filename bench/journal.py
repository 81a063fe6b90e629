"""Journal drain rate: events/s from the Redis stream into PostgreSQL and SQLite, against a bare executemany.

Baseline (same run, same database, same rows): a bare ``executemany`` INSERT of the event rows into the same
call_events table (same indexes), in batches of 2000, with no Redis, no parsing, no summaries. The ratio
says what the journal's safety (reading the stream, idempotent insert, call summaries, ack) costs.
Target: >= 10,000 events/s into PostgreSQL, ratio >= 0.3. Three rates are printed: the journal proper (events
and call summaries), the journal with every projection of the running system but the KPI rollup (tickets,
survey answers, live KPI buckets), and with all of them (the KPI rollup too), each into a fresh database.

    python -m bench.journal [--events 50000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from sqlalchemy import text

from bench.common import REDIS_URL, delete_tag, fresh_tag, pg_database, sqlite_database
from callcenter.bootstrap import build_container
from callcenter.config import Settings
from callcenter.journal import JournalWriter
from callcenter.kpi.rollup import KpiRollupProjection
from callcenter.storage.event_store import SqlEventStore, _event_row
from callcenter.storage.models import CallEventRecord
from queueing.connection import connect
from tests.support.events import answered_call

T0 = 1_800_000_000.0


def make_events(n_events: int):
    per_call = len(answered_call("x", T0))
    # Distinct callers, with one in ten calling again, as on a real hotline (repeat calls join their ticket).
    calls = n_events // per_call
    return [
        e
        for i in range(calls)
        for e in answered_call(f"bench-{i}", T0 + i, caller=f"+3630{(i if i % 10 else i // 10):07d}")
    ]


def journal_rate(url: str, redis_url: str | None, events, batch: int, projections: bool, rollup: bool = True) -> float:
    """Drain rate of the journal writer; without ``projections`` only events and call summaries are written,
    without ``rollup`` every projection but the KPI rollup's."""
    clients = connect(redis_url)
    settings = replace(
        Settings(), database_url=url, redis_url=redis_url, hotline_tag=fresh_tag(), journal_batch_size=batch
    )
    container = build_container(settings, redis_clients=clients)
    try:
        for start in range(0, len(events), 5000):
            container.journal.append_many(events[start : start + 5000])
        writer = container.journal_writer
        if not projections or not rollup:
            kept = [p for p in writer.projections if projections and not isinstance(p, KpiRollupProjection)]
            writer = JournalWriter(
                container.journal, SqlEventStore(container.sessions), container.sessions, kept, batch_size=batch
            )
        started = time.perf_counter()
        written = writer.drain_all()
        elapsed = time.perf_counter() - started
        assert written == len(events), (written, len(events))
        return written / elapsed
    finally:
        clients.live.delete(container.keys.journal)
        delete_tag(clients.live, container.keys)
        container.engine.dispose()
        clients.close()


def executemany_rate(url: str, events) -> float:
    """Bare executemany of the same rows into the same (indexed) call_events table, then emptied again."""
    from callcenter.storage.db import make_engine

    engine = make_engine(url)
    rows = [_event_row(e) for e in events]
    insert = CallEventRecord.__table__.insert()
    try:
        started = time.perf_counter()
        with engine.begin() as connection:
            for start in range(0, len(rows), 2000):
                connection.execute(insert, rows[start : start + 2000])
        return len(rows) / (time.perf_counter() - started)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM call_events"))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    events = make_events(args.events)
    print(f"journal drain benchmark: {len(events)} events, batch {args.batch}")
    for name, database, redis_url in (
        ("postgresql+redis", pg_database, REDIS_URL),
        ("sqlite+embedded", sqlite_database, None),
    ):
        with database() as url:
            baseline = executemany_rate(url, events)
            core = journal_rate(url, redis_url, events, args.batch, projections=False)
        with database() as url:
            without = journal_rate(url, redis_url, events, args.batch, projections=True, rollup=False)
        with database() as url:
            full = journal_rate(url, redis_url, events, args.batch, projections=True)
        print(f"  {name:<18} bare executemany                 {baseline:>9,.0f} rows/s")
        print(f"  {'':<18} journal: events + call summaries  {core:>9,.0f} events/s   ratio {core / baseline:.2f}")
        share = without / baseline
        print(f"  {'':<18} + tickets, surveys, live KPIs     {without:>9,.0f} events/s   ratio {share:.2f}")
        print(f"  {'':<18} + the KPI rollup (all)            {full:>9,.0f} events/s   ratio {full / baseline:.2f}")


if __name__ == "__main__":
    main()
