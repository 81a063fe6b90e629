"""Migration 0002 and the models agree (autogenerate would propose nothing for what 0002 owns)."""

from __future__ import annotations

from importlib import resources

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from callcenter.storage import db
from callcenter.storage.models import Base

OWNED = (
    "kb_articles",
    "api_tokens",
    "ix_tickets_operator",
    "ix_tickets_assigned_group",
    "ix_tickets_solved_by_article_id",
    "operators",
    "ivr_path",
    "last_call_id",
    "contact_count",
    "reopened_count",
    "last_contact_at",
    "escalated_at",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrapup_seconds",
    "recording_url",
    "survey_score",
)


def _include_object():
    """env.py's autogenerate filter (env.py itself runs migrations on import, so only its top is executed)."""
    source = (resources.files("callcenter") / "migrations" / "env.py").read_text(encoding="utf-8")
    namespace: dict = {}
    exec(source.split("engine = context.config")[0].replace("from alembic import context", ""), namespace)
    return namespace["include_object"]


def test_migration_0002_matches_the_models(database_url):
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _include_object()}
        )
        differences = [str(d) for d in compare_metadata(context, Base.metadata)]
    engine.dispose()
    assert [d for d in differences if any(name in d for name in OWNED)] == []
