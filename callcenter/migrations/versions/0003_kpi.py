"""KPI: indexes for the KPI engine's period scans

- ``calls.enqueued_at``: every KPI groups calls by the interval they entered a queue; the live-window check,
  the report of a day and the dashboard's "today" read one time range of it.
- ``tickets.resolved_at`` and ``tickets.closed_at``: resolved and closed tickets per interval.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_calls_enqueued_at", "calls", ["enqueued_at"]),
    ("ix_tickets_resolved_at", "tickets", ["resolved_at"]),
    ("ix_tickets_closed_at", "tickets", ["closed_at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
