"""Batch writes of the journal: ``INSERT ... ON CONFLICT`` on both databases, through COPY on PostgreSQL.

On PostgreSQL a multi-row VALUES statement with thousands of parameters is re-parsed by the driver for every
batch (psycopg caches only small statements), which costs more than the insert itself. So rows are COPYed into
a temporary staging table (emptied at commit) and merged with one ``INSERT ... SELECT ... ON CONFLICT``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from callcenter.storage.event_store_sql import upsert


def insert_new(connection: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> set[Any]:
    """Insert rows whose ``key`` is not in ``table`` yet; return the keys actually inserted."""
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        stage = _stage(connection, table, columns, rows)
        sql = (
            f"INSERT INTO {table.name} ({_cols(columns)}) SELECT {_cols(columns)} FROM {stage} "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
        )
        return {row[0] for row in connection.exec_driver_sql(sql)}
    stmt = upsert(connection.engine, table).on_conflict_do_nothing(index_elements=[key])
    return set(connection.execute(stmt.returning(table.c[key]), list(rows)).scalars())


def upsert_rows(connection: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace rows by ``key`` (only the given columns are written)."""
    columns = list(rows[0])
    if connection.dialect.name == "postgresql":
        stage = _stage(connection, table, columns, rows)
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c != key)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({_cols(columns)}) SELECT {_cols(columns)} FROM {stage} "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )
        return
    stmt = upsert(connection.engine, table)
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in columns if c != key})
    connection.execute(stmt, list(rows))


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _stage(connection: Connection, table: Table, columns: list[str], rows: Sequence[dict[str, Any]]) -> str:
    """COPY rows into a per-session temporary table shaped like ``table``'s columns; returns its name."""
    stage = f"_stage_{table.name}_{len(columns)}"
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
        f"SELECT {_cols(columns)} FROM {table.name} WITH NO DATA"
    )
    json_columns = {c for c in columns if table.c[c].type.__class__.__name__ == "JSON"}
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {stage} ({_cols(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])
    return stage
