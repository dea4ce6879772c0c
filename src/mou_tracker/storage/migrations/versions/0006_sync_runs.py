"""Who ran each sync, and when: the append-only ``sync_run`` log (file name, its SHA-256, what
the sync added and changed). Databases synced before this revision have no rows for those
syncs: nothing recorded them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import mou_tracker.domain.models
from mou_tracker.domain.models import append_only_ddl, history_guard_ddl

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", mou_tracker.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("added", sa.JSON(), nullable=False),
        sa.Column("updated", sa.JSON(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("into_empty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    for statement in append_only_ddl(bind.dialect.name, "sync_run"):
        bind.exec_driver_sql(statement)
    for statement in history_guard_ddl(bind.dialect.name, "sync_run"):  # never replaced
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    op.drop_table("sync_run")
