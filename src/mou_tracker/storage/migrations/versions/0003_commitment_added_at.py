"""When tracking of a commitment began: ``commitment.added_at``. NULL (every existing row) means
"since the memorandum was signed", which is true of every clause of a memorandum's text, so no
backfill is needed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:46:54.911232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mou_tracker.domain.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "added_at", mou_tracker.domain.models.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("commitment", schema=None) as batch_op:
        batch_op.drop_column("added_at")
