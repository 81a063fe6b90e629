"""Dialect-aware INSERT ... ON CONFLICT (SQLite and PostgreSQL are both first-class)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite


def upsert(engine: Engine, model: Any) -> Any:
    """An Insert with on_conflict_do_nothing/do_update and ``excluded`` for the engine's dialect.

    Typed ``Any``: the two dialects' Insert classes share that API but no common type.
    """
    if engine.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
