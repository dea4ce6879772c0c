"""A search index kept by the database (issues 16 and 17).

``commitment_search`` holds one document per commitment: ref, title, summary, owners' codes and
names, evidence titles. SQLite: an FTS5 table with the trigram tokenizer; PostgreSQL: a table
with a ``pg_trgm`` GIN index (the extension is created if missing). Triggers on commitment,
owner, party and evidence rebuild the document of each commitment a write touches. The upgrade
fills the index from the rows already there, so an existing database searches the same way as a
new one from the first command after ``migrate``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 00:05:00
"""

from __future__ import annotations

from alembic import op

from mou_tracker.storage import search_index

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search_index.install(op.get_bind(), fill=True)


def downgrade() -> None:
    search_index.remove(op.get_bind())
