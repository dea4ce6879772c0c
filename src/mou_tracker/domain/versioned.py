"""The one version-checked write (DESIGN.md rule 3).

Every writer that changes a row carrying a ``version`` (commitment, evidence, memorandum) goes
through :func:`versioned_update`: ``UPDATE ... WHERE id = :id AND version = :seen``, then the
row count is checked. Zero rows means someone else saved the row after it was read; the
error names who and when, read back from the row as it now stands. The caller's transaction
is left for the caller to roll back, so nothing of the refused write is kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlmodel import Session

from mou_tracker.domain.errors import ConflictError

CHUNK = 5000  # rows per statement: keeps IN (...) lists and executemany batches bounded


def versioned_update(
    session: Session,
    model: Any,
    row_id: int,
    seen: int,
    *,
    what: str,
    actor: str,
    at: datetime,
    **values: Any,
) -> int:
    """Write ``values`` to row ``row_id`` of ``model`` if its version is still ``seen``.

    Sets ``version = seen + 1``, ``updated_at = at`` and ``updated_by = actor`` with them and
    returns the new version. Raises :class:`ConflictError` naming ``what``, and who changed
    the row and when, if the row has moved on (or is gone)."""
    statement = (
        update(model)
        .where(model.id == row_id, model.version == seen)
        .values(version=seen + 1, updated_at=at, updated_by=actor, **values)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", session.execute(statement))
    if result.rowcount != 1:
        raise conflict(session, model, row_id, what)
    return seen + 1


def check_version(session: Session, model: Any, row_id: int, seen: int, *, what: str) -> None:
    """Refuse now, before anything else is written, if row ``row_id`` is no longer at version
    ``seen``; otherwise lock it (``FOR UPDATE`` on PostgreSQL; a SQLite write transaction
    holds the whole database) so that the :func:`versioned_update` that follows, once the
    rows it depends on are in place, finds it unchanged."""
    query = select(model.id).where(model.id == row_id, model.version == seen).with_for_update()
    if session.execute(query).first() is None:
        raise conflict(session, model, row_id, what)


def versioned_update_many(
    session: Session,
    model: Any,
    rows: Sequence[tuple[int, int, dict[str, Any]]],
    *,
    what: Callable[[int], str],
    actor: str,
    at: datetime,
) -> None:
    """:func:`versioned_update` for many rows ``(id, seen, values)`` at once: one
    ``executemany`` per set of columns, after :func:`check_versions` has read and locked the
    rows; a row that moved on is named (``what(id)``) and the caller rolls back. The total row
    count of each batch is checked as well."""
    # Read and lock them first: a row that moved on is named before anything is written.
    check_versions(session, model, [(row_id, seen) for row_id, seen, _v in rows], what=what)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, seen, values in rows:
        bound = {f"v_{k}": value for k, value in values.items()}
        groups[tuple(sorted(values))].append(
            {"b_id": row_id, "b_seen": seen, "b_next": seen + 1, **bound}
        )
    table = model.__table__
    for keys, params in groups.items():
        statement = (
            table.update()
            .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_seen"))
            .values(
                version=bindparam("b_next"),
                updated_at=at,
                updated_by=actor,
                **{k: bindparam(f"v_{k}") for k in keys},
            )
        )
        for start in range(0, len(params), CHUNK):
            chunk = params[start : start + CHUNK]
            result = cast("CursorResult[Any]", session.execute(statement, chunk))
            if result.rowcount != len(chunk):  # cannot happen once the rows are locked
                first = chunk[0]["b_id"]
                raise conflict(session, model, first, what(first))


def check_versions(
    session: Session,
    model: Any,
    rows: Sequence[tuple[int, int]],
    *,
    what: Callable[[int], str],
) -> None:
    """:func:`check_version` for many rows ``(id, seen)``: one locking read per chunk."""
    seen = dict(rows)
    ids = sorted(seen)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(model.id, model.version).where(model.id.in_(chunk)).with_for_update()
        found = dict(session.execute(query).all())
        for row_id in chunk:
            if found.get(row_id) != seen[row_id]:
                raise conflict(session, model, row_id, what(row_id))


def conflict(session: Session, model: Any, row_id: int, what: str) -> ConflictError:
    """The error for a row that changed since it was read: who saved it last, and when."""
    found = session.execute(
        select(model.updated_by, model.updated_at).where(model.id == row_id)
    ).first()
    if found is None:
        return ConflictError(what, None, None)
    return ConflictError(what, found[0], found[1])
