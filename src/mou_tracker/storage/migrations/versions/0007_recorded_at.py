"""When each record of change was recorded in this tracker (issue 12; filled in below).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:05:00
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
