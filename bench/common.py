"""Helpers shared by the benchmarks: throwaway databases and Redis tags, created and removed by the run."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator

from sqlalchemy import text

from callcenter.storage import db

PG_ADMIN_URL = os.environ.get("CALLCENTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS", "redis://127.0.0.1:6379/0")


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A migrated PostgreSQL database that exists for the duration of the block."""
    name = "cc_bench_" + uuid.uuid4().hex[:10]
    admin = db.make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url


def fresh_tag() -> str:
    return "bench" + uuid.uuid4().hex[:10]


def delete_tag(client, keys) -> None:  # noqa: ANN001
    """Remove every key of one hotline tag (what the benchmark created), nothing else."""
    batch = list(client.scan_iter(match=keys.prefix + "*", count=1000))
    if batch:
        client.delete(*batch)
