"""Alembic environment: runs on the engine bootstrap hands over (no URL in an ini file)."""

from __future__ import annotations

from alembic import context

from callcenter.storage.models import Base


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate leaves alone the full-text search objects 0002 manages by hand (FTS5 tables and triggers on
    SQLite, the generated ``kb_articles.search_vector`` column on PostgreSQL)."""
    return not (name or "").startswith("kb_articles_fts") and name not in ("search_vector", "ix_kb_articles_search")


engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    context.run_migrations()
