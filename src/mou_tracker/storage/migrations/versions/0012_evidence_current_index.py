"""Replace ``ix_evidence_commitment_published`` (commitment_id, published) with
``ix_evidence_commitment_current`` (commitment_id, published, confidence).

The list's evidence columns (how many current records, the newest publication date) leave
withdrawn records out since migration 0011, so the aggregate read ``confidence`` from every
evidence row, a random read of the table per record. With ``confidence`` in the index the
aggregate reads the index alone. The new index leads with the same two columns, so every lookup
the old one served it serves too, and the table still carries the same number of indexes (each
is paid for on every insert).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 03:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE/DROP INDEX on both backends: no table copy, so the table's triggers stay.
    op.create_index(
        "ix_evidence_commitment_current",
        "evidence",
        ["commitment_id", "published", "confidence"],
        unique=False,
    )
    op.drop_index("ix_evidence_commitment_published", table_name="evidence")


def downgrade() -> None:
    op.create_index(
        "ix_evidence_commitment_published", "evidence", ["commitment_id", "published"], unique=False
    )
    op.drop_index("ix_evidence_commitment_current", table_name="evidence")
