"""A withdrawal names the note it withdraws (issue 18, item 10 follow-up).

``note.withdraws``: the id of the note (same commitment, checked by the domain) that this note
withdraws, or NULL. Until now a withdrawal was recognised by its text (``Withdrawn: note #N``),
so anyone could type one; from this revision only the column decides, and a body that starts
that way is ordinary text.

Rows written before this revision are left as they are: the note table is append-only (its
triggers refuse UPDATE), and nothing in a body proves that the undo path wrote it rather than a
person typing, so no old note is turned into a withdrawal. The column has no foreign key so that
SQLite can add it without rebuilding the table (which would drop its triggers); it is indexed
for the look-up of "is this note withdrawn".

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 01:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("note", sa.Column("withdraws", sa.Integer(), nullable=True))
    op.create_index("ix_note_withdraws", "note", ["withdraws"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_note_withdraws", table_name="note")
    with op.batch_alter_table("note") as batch_op:
        batch_op.drop_column("withdraws")
