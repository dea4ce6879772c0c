"""A public corrections log for commitments, and restatements counted once (issue 14).

* ``commitment_revision``: append-only, one row per correction of how a commitment is recorded
  (wording, summary, strength, owners, origin, text basis, section, source, theme): when it
  takes effect (``at``), when the tracker recorded it (``recorded_at``), who, why, and the old
  and new value of each field changed. It gets the same triggers as the other append-only
  tables: no UPDATE or DELETE, no REPLACE (SQLite), no TRUNCATE (PostgreSQL).
* ``commitment.restates``: the refs of the clauses a commitment restates, as a JSON list (NULL
  for every existing row: nothing restates anything until a file says so).

Databases made before this revision corrected no commitment through the tracker, so there is
nothing to backfill.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:05:01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import mou_tracker.domain.models
from mou_tracker.domain.models import append_only_ddl, history_guard_ddl

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commitment_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("at", mou_tracker.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at", mou_tracker.domain.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_commitment_revision_commitment_id", "commitment_revision", ["commitment_id"]
    )
    op.create_index("ix_commitment_revision_recorded_at", "commitment_revision", ["recorded_at"])
    op.add_column("commitment", sa.Column("restates", sa.JSON(none_as_null=True), nullable=True))
    bind = op.get_bind()
    for statement in append_only_ddl(bind.dialect.name, "commitment_revision"):
        bind.exec_driver_sql(statement)
    for statement in history_guard_ddl(bind.dialect.name, "commitment_revision"):
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_column("restates")
    op.drop_index("ix_commitment_revision_recorded_at", table_name="commitment_revision")
    op.drop_index("ix_commitment_revision_commitment_id", table_name="commitment_revision")
    op.drop_table("commitment_revision")
