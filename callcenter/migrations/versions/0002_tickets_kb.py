"""tickets and knowledge base: call-derived ticket fields, token expiry, KB full-text search

Full-text search uses each engine's own machinery:
- SQLite: an FTS5 external-content table ``kb_articles_fts`` (tokenizer ``unicode61 remove_diacritics 2``)
  kept in step with ``kb_articles`` by triggers.
- PostgreSQL: a generated ``search_vector`` tsvector column (GIN index) over ``cc_fold(...)``, an IMMUTABLE
  lower-case and accent-folding function: ``unaccent`` when the extension can be created, else translate().
  The ``cc_search`` text search configuration (simple + unaccent when available) is used for snippets.

Revision ID: 0002
Revises: 0001
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACCENTED = "áàâäãåāăąéèêëēėęěíìîïīįóòôöõőøōúùûüűūůųýÿčćçďđğłľĺňńñřŕšśşťţžźż"
_SPECIAL = {"ø": "o", "đ": "d", "ł": "l"}
_PLAIN = "".join(_SPECIAL.get(c) or unicodedata.normalize("NFKD", c)[0] for c in _ACCENTED)

_SQLITE_FTS = [
    """CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
        title, body, tags, ivr_topic,
        content='kb_articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER kb_articles_fts_ai AFTER INSERT ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(rowid, title, body, tags, ivr_topic)
        VALUES (new.id, new.title, new.body, new.tags, new.ivr_topic);
    END""",
    """CREATE TRIGGER kb_articles_fts_ad AFTER DELETE ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body, tags, ivr_topic)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.ivr_topic);
    END""",
    """CREATE TRIGGER kb_articles_fts_au AFTER UPDATE ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body, tags, ivr_topic)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.ivr_topic);
        INSERT INTO kb_articles_fts(rowid, title, body, tags, ivr_topic)
        VALUES (new.id, new.title, new.body, new.tags, new.ivr_topic);
    END""",
    "INSERT INTO kb_articles_fts(kb_articles_fts) VALUES ('rebuild')",
]

_PG_VECTOR = """
    setweight(to_tsvector('simple'::regconfig, cc_fold(title)), 'A') ||
    setweight(to_tsvector('simple'::regconfig, cc_fold(CAST(tags AS text) || ' ' || ivr_topic)), 'B') ||
    setweight(to_tsvector('simple'::regconfig, cc_fold(body)), 'C')
"""


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("operators", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("ivr_path", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("last_call_id", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reopened_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("wait_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("talk_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("hold_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("wrapup_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("recording_url", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("survey_score", sa.Integer(), nullable=True))
        batch.create_index("ix_tickets_operator", ["operator"])
        batch.create_index("ix_tickets_assigned_group", ["assigned_group"])
        batch.create_index("ix_tickets_solved_by_article_id", ["solved_by_article_id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("kb_articles") as batch:
        batch.add_column(sa.Column("ivr_text", sa.Text(), nullable=False, server_default=""))
        batch.create_index("ix_kb_articles_ivr_topic", ["ivr_topic"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_search()
    else:
        for statement in _SQLITE_FTS:
            op.execute(statement)


def _postgresql_search() -> None:
    bind = op.get_bind()
    if _create_unaccent(bind):
        op.execute(
            "CREATE OR REPLACE FUNCTION cc_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
            "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, lower($1)) $$"
        )
        op.execute("CREATE TEXT SEARCH CONFIGURATION cc_search (COPY = simple)")
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION cc_search "
            "ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, simple"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION cc_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
            f"AS $$ SELECT translate(lower($1), '{_ACCENTED}', '{_PLAIN}') $$"
        )
        op.execute("CREATE TEXT SEARCH CONFIGURATION cc_search (COPY = simple)")
    op.execute(f"ALTER TABLE kb_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_PG_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search_vector)")


def _create_unaccent(bind: sa.engine.Connection) -> bool:
    """The extension needs a trusted-extension-capable role; without it the translate() fallback is used."""
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public"))
        savepoint.commit()
        return True
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
        op.execute("ALTER TABLE kb_articles DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS cc_search")
        op.execute("DROP FUNCTION IF EXISTS cc_fold(text)")
    else:
        for name in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS kb_articles_fts_{name}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_index("ix_kb_articles_ivr_topic")
        batch.drop_column("ivr_text")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    with op.batch_alter_table("tickets") as batch:
        for index in ("ix_tickets_operator", "ix_tickets_assigned_group", "ix_tickets_solved_by_article_id"):
            batch.drop_index(index)
        for column in (
            "survey_score", "recording_url", "wrapup_seconds", "hold_seconds", "talk_seconds", "wait_seconds",
            "escalated_at", "last_contact_at", "reopened_count", "contact_count", "last_call_id", "ivr_path",
            "operators",
        ):
            batch.drop_column(column)
