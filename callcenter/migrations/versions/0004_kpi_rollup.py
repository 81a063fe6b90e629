"""KPI rollup: call totals per queue and 15-minute UTC bucket, backfilled from the call summaries

The table ``kpi_rollup`` is kept by the journal's ``KpiRollupProjection`` (``callcenter/kpi/rollup.py``).
The backfill below is a frozen copy of that projection's SQL with the default conventions (T = 20 s, short
abandons under 5 s), which it records in each row; a hotline with other conventions finds those rows stale
and the KPI engine groups the calls instead until ``callcenter db upgrade`` (which refreshes stale buckets
with the hotline's conventions) has run.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

THRESHOLD, SHORT = 20, 5
INTS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within", "handled")
FLOATS = ("answered_wait_seconds", "handle_seconds", "max_wait_seconds")
CSAT = ("csat_responses", "csat_satisfied")
EPOCH = {
    "postgresql": "CAST(FLOOR(DATE_PART('epoch', enqueued_at)) AS BIGINT)",
    "sqlite": "CAST(STRFTIME('%s', enqueued_at) AS INTEGER)",
}
BACKFILL = """
INSERT INTO kpi_rollup (queue, bucket, threshold_seconds, short_abandon_seconds, offered, answered, abandoned,
    short_abandoned, answered_within, answered_wait_seconds, handled, handle_seconds, csat_responses,
    csat_satisfied, max_wait_seconds)
SELECT queue, {epoch} / 900 * 900 AS bucket, {threshold}, {short}, COUNT(*),
    SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' AND COALESCE(wait_seconds, 0.0) < {short} THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND COALESCE(wait_seconds, 0.0) <= {threshold} THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL THEN COALESCE(wait_seconds, 0.0) ELSE 0.0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN answered_at IS NOT NULL AND talk_seconds IS NOT NULL
        THEN talk_seconds + COALESCE(hold_seconds, 0.0) + COALESCE(wrapup_seconds, 0.0) ELSE 0.0 END),
    COUNT(survey_score), SUM(CASE WHEN survey_score >= 4 THEN 1 ELSE 0 END), MAX(COALESCE(wait_seconds, 0.0))
FROM calls WHERE enqueued_at IS NOT NULL
GROUP BY queue, {epoch} / 900 * 900
"""


def upgrade() -> None:
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("threshold_seconds", sa.Integer(), nullable=False),
        sa.Column("short_abandon_seconds", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in INTS[:5]),
        sa.Column("answered_wait_seconds", sa.Float(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handle_seconds", sa.Float(), nullable=False),
        sa.Column("max_wait_seconds", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in CSAT),
    ]
    op.create_table("kpi_rollup", *columns, sa.PrimaryKeyConstraint("bucket", "queue", name=op.f("pk_kpi_rollup")))
    epoch = EPOCH[op.get_bind().dialect.name]
    op.execute(BACKFILL.format(epoch=epoch, threshold=THRESHOLD, short=SHORT))


def downgrade() -> None:
    op.drop_table("kpi_rollup")
