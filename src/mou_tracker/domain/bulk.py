"""Many rows into one table, fast: for an evidence import and for a sync.

The rows are plain dicts already checked by the caller. Each value goes through its column's
own bind processor (looked up once per column, not once per value as the ORM does), so the
database stores exactly what an ORM insert would; then one executemany per batch on SQLite,
and ``COPY ... FROM STDIN`` on PostgreSQL. Nothing comes back: ids are either given in the
rows (allocated by the caller inside the same transaction) or left to the database.

``COPY FROM`` is refused for a table with row-level security (``note``, see
``mou_tracker.storage.roles``): such a table takes the executemany instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

BATCH = 5000  # rows per executemany or COPY


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    same: dict[str, Any] | None = None,
    after_batch: Callable[[], None] | None = None,
) -> None:
    """Insert ``rows`` (dicts with the same keys, in the same order) into ``table`` in the
    session's transaction; ``same`` holds columns whose value every row shares.
    ``after_batch`` runs after each batch is written (a crash point in tests)."""
    if not rows:
        return
    same = same or {}
    own = list(rows[0])
    columns = own + list(same)
    unset = [c.name for c in table.c if c.default is not None and c.name not in columns]
    if unset:  # a raw insert applies no Python-side default: the caller gives every value
        raise ValueError(f"insert_rows into {table.name}: no value for {', '.join(unset)}")
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    tail = tuple(
        proc(value) if proc else value
        for value, proc in zip(same.values(), processors[len(own) :], strict=True)
    )
    row_processors = processors[: len(own)]
    if not any(row_processors):
        row_processors = []
    names = ", ".join(columns)
    postgresql = dialect.name == "postgresql" and not _row_security(session, table)
    if postgresql:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's driver connection is untyped through SQLAlchemy
        statement = f"COPY {table.name} ({names}) FROM STDIN"
    else:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join(mark for _ in columns)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    for start in range(0, len(rows), BATCH):
        values = _values(rows[start : start + BATCH], row_processors, tail)
        if postgresql:
            _copy(cursor, statement, values, dialect)
        else:
            connection.exec_driver_sql(statement, values)
        if after_batch is not None:
            after_batch()


def _copy(cursor: Any, statement: str, values: list[tuple[Any, ...]], dialect: Any) -> None:
    """One COPY on the session's own psycopg connection. A refusal (a missing grant, a broken
    constraint) comes out as SQLAlchemy's error wrapping psycopg's, as an ORM insert's would,
    so callers handle both alike (e.g. the CLI's "needs the mou_staff role")."""
    try:
        with cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


def _row_security(session: Session, table: Table) -> bool:
    """Whether PostgreSQL applies row-level security to ``table`` (COPY FROM refuses it)."""
    query = text("SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(:name)")
    return bool(session.connection().execute(query, {"name": table.name}).scalar())


def _values(
    rows: Sequence[dict[str, Any]], processors: list[Any], tail: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    if not processors:
        return [(*row.values(), *tail) for row in rows]
    return [
        (
            *(
                value if proc is None else proc(value)
                for value, proc in zip(row.values(), processors, strict=True)
            ),
            *tail,
        )
        for row in rows
    ]
