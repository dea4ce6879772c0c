"""History that cannot be replaced or bypassed (issue 20).

* ``history.chain_prev`` and ``history.chain``: the hash chain over each commitment's history
  (``mou_tracker.domain.chain``), filled in here for every existing entry, in (at, id) order.
* SQLite: no row of an append-only table, a commitment or an evidence record can be replaced
  (``INSERT OR REPLACE``/``REPLACE``). PostgreSQL: no append-only table can be truncated.
* Both: ``commitment.status`` changes only with a history entry, and the publication date of
  cited evidence only with a recorded revision.

Existing rows are kept as they are; only the two new columns are written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from mou_tracker.domain.chain import GENESIS, link
from mou_tracker.domain.models import UTCDateTime, append_only_ddl, history_guard_ddl

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GUARDED = (
    "history",
    "history_evidence",
    "evidence_revision",
    "note",
    "target_change",
    "link_check",
    "commitment",
    "evidence",
)
# Trigger names per backend, for the downgrade.
SQLITE_TRIGGERS = [f"{t}_no_replace" for t in GUARDED] + [
    "commitment_status_needs_history",
    "evidence_published_needs_revision",
]
PG_TRIGGERS = [(f"{t}_no_truncate", t) for t in GUARDED[:6]] + [
    ("commitment_status_needs_history", "commitment"),
    ("evidence_published_needs_revision", "evidence"),
]
PG_FUNCTIONS = ("mou_no_truncate", "mou_status_needs_history", "mou_published_needs_revision")

_history = sa.table(
    "history",
    sa.column("id", sa.Integer()),
    sa.column("commitment_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("from_status", sa.String()),
    sa.column("to_status", sa.String()),
    sa.column("at", UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("chain_prev", sa.String()),
    sa.column("chain", sa.String()),
)
_history_evidence = sa.table(
    "history_evidence",
    sa.column("history_id", sa.Integer()),
    sa.column("evidence_id", sa.Integer()),
)


def _backfill(bind: Any) -> None:
    """Chain every existing entry. History refuses UPDATE, so its UPDATE trigger is lifted for
    this one statement batch inside the migration's transaction and put back at once."""
    cites: dict[int, list[int]] = defaultdict(list)
    for hid, eid in bind.execute(
        sa.select(_history_evidence.c.history_id, _history_evidence.c.evidence_id)
    ):
        cites[hid].append(eid)
    rows = bind.execute(
        sa.select(
            _history.c.id,
            _history.c.commitment_id,
            _history.c.kind,
            _history.c.from_status,
            _history.c.to_status,
            _history.c.at,
            _history.c.actor,
            _history.c.reason,
        ).order_by(_history.c.commitment_id, _history.c.at, _history.c.id)
    ).mappings()
    updates: list[dict[str, Any]] = []
    tip: dict[int, str] = {}
    for row in rows:
        previous = tip.get(row["commitment_id"], GENESIS)
        chain = link(previous, row, cites.get(row["id"], ()))
        tip[row["commitment_id"]] = chain
        updates.append({"row_id": row["id"], "prev": previous, "chain": chain})
    if not updates:
        return
    statement = (
        _history.update()
        .where(_history.c.id == sa.bindparam("row_id"))
        .values(chain_prev=sa.bindparam("prev"), chain=sa.bindparam("chain"))
    )
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS history_no_update")
        bind.execute(statement, updates)
        for ddl in append_only_ddl("sqlite", "history"):
            bind.exec_driver_sql(ddl)  # IF NOT EXISTS: puts back only the one lifted
    else:
        bind.exec_driver_sql("ALTER TABLE history DISABLE TRIGGER history_append_only")
        bind.execute(statement, updates)
        bind.exec_driver_sql("ALTER TABLE history ENABLE TRIGGER history_append_only")


def upgrade() -> None:
    op.add_column(
        "history",
        sa.Column("chain_prev", AutoString(length=64), nullable=True),
    )
    op.add_column("history", sa.Column("chain", AutoString(length=64), nullable=True))
    bind = op.get_bind()
    _backfill(bind)
    for table in GUARDED:
        for statement in history_guard_ddl(bind.dialect.name, table):
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in PG_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTIONS:
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
    # SQLite 3.35+ drops a column in place (no table rebuild, so the other triggers stay).
    op.drop_column("history", "chain")
    op.drop_column("history", "chain_prev")
