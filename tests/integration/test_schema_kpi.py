"""Migration 0003 and the models agree: autogenerate proposes nothing about the KPI indexes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from callcenter.storage import db
from callcenter.storage.models import Base

OWNED = ("ix_calls_enqueued_at", "ix_tickets_resolved_at", "ix_tickets_closed_at")


def test_migration_0003_indexes_match_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        differences = [str(d) for d in compare_metadata(MigrationContext.configure(connection), Base.metadata)]
    engine.dispose()
    assert [d for d in differences if any(name in d for name in OWNED)] == []
