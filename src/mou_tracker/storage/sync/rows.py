"""Rows a sync inserts: plain rows in bulk where they allow it, and ids assigned in the write
transaction (so no insert has to return its id row by row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from mou_tracker.domain.bulk import insert_rows
from mou_tracker.domain.models import table_of

_FEW = 20  # fewer rows go in as one statement: insert_rows may cost a query more


def insert_plain(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Plain rows into ``model``'s table: by :func:`mou_tracker.domain.bulk.insert_rows` when
    every row has the same keys in the same order and gives every column with a default a
    value (the common case), else by one ORM executemany, which fills in the defaults."""
    if not rows:
        return
    table = table_of(model)
    keys = list(rows[0])
    uniform = all(list(row) == keys for row in rows)
    if len(rows) >= _FEW and uniform and all(c.default is None or c.name in keys for c in table.c):
        insert_rows(session, table, rows)
    else:
        session.execute(insert(model.__table__), rows)


def allocate_ids(session: Session, model: Any, count: int) -> list[int]:
    """``count`` unused ids of ``model``'s table, increasing. PostgreSQL reserves them from the
    table's sequence (safe beside other writers); SQLite continues from the largest id, which
    is what it would choose itself, while this transaction holds the write lock."""
    if count == 0:
        return []
    table = model.__table__.name
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
        )
        return sorted(int(i) for i in session.execute(query, {"n": count}).scalars())
    top = int(session.execute(select(func.max(model.id))).scalar() or 0)
    return list(range(top + 1, top + 1 + count))
