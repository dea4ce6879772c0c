"""``recorded_at``: when each record of change was entered in this tracker (issue 12).

History entries, reviews, target changes, evidence, evidence corrections and notes each carry
the time they take effect (``at``; for evidence, ``added_at``) and, from this revision, the
time the tracker recorded them. Nothing before this revision kept the second time, so the
migration fills it with the best lower bound it has: the row's own time (``at``, or
``added_at`` for evidence). For a change made through the command line or the terminal UI the
two were the same moment; for an entry that arrived back-dated through ``sync`` the real
recording time is later and cannot be recovered. The append-only triggers are lifted for this
one backfill inside the migration's transaction and put back at once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mou_tracker.domain.models import UTCDateTime, append_only_ddl

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> the column whose time fills recorded_at; append-only tables need the trigger lifted
TABLES = {
    "history": "at",
    "target_change": "at",
    "note": "at",
    "evidence_revision": "at",
    "evidence": "added_at",
}
APPEND_ONLY = ("history", "target_change", "note", "evidence_revision")


def upgrade() -> None:
    bind = op.get_bind()
    for table, source in TABLES.items():
        op.add_column(table, sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=True))
        op.create_index(f"ix_{table}_recorded_at", table, ["recorded_at"], unique=False)
        fill = f"UPDATE {table} SET recorded_at = {source} WHERE recorded_at IS NULL"
        if table not in APPEND_ONLY:
            bind.exec_driver_sql(fill)
        elif bind.dialect.name == "sqlite":
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            bind.exec_driver_sql(fill)
            for ddl in append_only_ddl("sqlite", table):
                bind.exec_driver_sql(ddl)  # IF NOT EXISTS: puts back only the one lifted
        else:
            bind.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            bind.exec_driver_sql(fill)
            bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_recorded_at", table_name=table)
        op.drop_column(table, "recorded_at")
