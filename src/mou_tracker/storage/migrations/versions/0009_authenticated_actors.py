"""Who did it, stamped by the database (issue 19).

* ``db_user`` on every table that records a change made by someone (history, evidence,
  evidence_revision, commitment_revision, note, target_change, sync_run): on PostgreSQL a
  ``BEFORE INSERT`` trigger sets it to ``session_user``, the authenticated login role, whatever
  the insert says, so a row written with plain SQL is attributed too. The display actor
  (``actor``, ``by``, ``author``, ``added_by``) is kept beside it. SQLite has no users: the
  column stays NULL there.
* ``tracker_user``: display names for login roles (``mou-tracker users set ROLE NAME``).

Rows written before this revision keep ``db_user`` NULL: who connected then was never
recorded and cannot be recovered. Group roles, grants and row-level security are not made
here (they are cluster-wide and need a role that may create roles): ``mou-tracker roles
setup`` makes them, and until then the database works as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from mou_tracker.domain.models import STAMPED, UTCDateTime, db_user_ddl

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in STAMPED:
        op.add_column(table, sa.Column("db_user", AutoString(length=63), nullable=True))
    op.create_table(
        "tracker_user",
        sa.Column("role_name", AutoString(length=63), nullable=False),
        sa.Column("display_name", AutoString(length=100), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_by", AutoString(length=63), nullable=False),
        sa.PrimaryKeyConstraint("role_name"),
        sa.UniqueConstraint("display_name"),
    )
    bind = op.get_bind()
    for table in STAMPED:
        for statement in db_user_ddl(bind.dialect.name, table):
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in STAMPED:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_db_user ON {table}")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS mou_stamp_db_user()")
    op.drop_table("tracker_user")
    for table in STAMPED:
        op.drop_column(table, "db_user")
