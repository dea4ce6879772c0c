"""Who ran each sync, and when (filled in by the dump/sync work of issue 20).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:00:01
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
