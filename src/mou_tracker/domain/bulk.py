"""Many rows into one table, fast: for an evidence import and for a sync.

The rows are plain dicts already checked by the caller. Each value goes through its column's
own bind processor (looked up once per column, not once per value as the ORM does), so the
database stores exactly what an ORM insert would (on SQLite, timestamps and dates take a
shorter path to the same text: :func:`fast_processor`); then one executemany per batch on SQLite,
and ``COPY ... FROM STDIN`` on PostgreSQL. Nothing comes back: ids are either given in the
rows (allocated by the caller inside the same transaction) or left to the database.

``COPY FROM`` is refused for a table with row-level security (``note``, see
``mou_tracker.storage.roles``): such a table takes the executemany instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import repeat
from typing import Any

from sqlalchemy import Date, DateTime, Table, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from mou_tracker.domain.models import UTCDateTime

BATCH = 5000  # rows per executemany or COPY


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]] | Sequence[tuple[Any, ...]],
    *,
    same: dict[str, Any] | None = None,
    after_batch: Callable[[], None] | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Insert ``rows`` (dicts with the same keys, in the same order; or, when ``columns``
    names the columns, tuples of their values in that order) into ``table`` in the session's
    transaction; ``same`` holds columns whose value every row shares.
    ``after_batch`` runs after each batch is written (a crash point in tests)."""
    if not rows:
        return
    same = same or {}
    own = list(columns) if columns is not None else list(rows[0])
    names_all = own + list(same)
    unset = [c.name for c in table.c if c.default is not None and c.name not in names_all]
    if unset:  # a raw insert applies no Python-side default: the caller gives every value
        raise ValueError(f"insert_rows into {table.name}: no value for {', '.join(unset)}")
    connection = session.connection()
    dialect = connection.dialect
    shared: dict[type, Any] = {}  # the caches of the fast processors, for this call only
    processors = [column_processor(table.c[name].type, dialect, shared) for name in names_all]
    tail = tuple(
        proc(value) if proc else value
        for value, proc in zip(same.values(), processors[len(own) :], strict=True)
    )
    row_processors = processors[: len(own)]
    if not any(row_processors):
        row_processors = []
    names = ", ".join(names_all)
    postgresql = dialect.name == "postgresql" and not _row_security(session, table)
    if postgresql:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's driver connection is untyped through SQLAlchemy
        statement = f"COPY {table.name} ({names}) FROM STDIN"
    else:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join(mark for _ in names_all)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    for start in range(0, len(rows), BATCH):
        values = _values(rows[start : start + BATCH], row_processors, tail, columns is not None)
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
    rows: Sequence[Any], processors: list[Any], tail: tuple[Any, ...], tuples: bool = False
) -> list[tuple[Any, ...]]:
    """The rows (dicts, or tuples when ``tuples``) as tuples in column order, each value
    through its column's processor: the rows are turned into columns, each column with a
    processor is mapped through it whole, and the columns are turned back into rows (both
    turns are ``zip``, done in C)."""
    if not processors:
        if tuples:
            return [(*row, *tail) for row in rows] if tail else list(rows)
        return [(*row.values(), *tail) for row in rows]
    columns: list[Any] = list(
        zip(*(rows if tuples else (row.values() for row in rows)), strict=True)
    )
    for i, proc in enumerate(processors):
        if proc is not None:
            columns[i] = map(proc, columns[i])
    # the columns end together; the shared values repeat without end, hence strict=False
    return list(zip(*columns, *(repeat(value) for value in tail), strict=False))


def column_processor(
    type_: Any, dialect: Any, shared: dict[type, Any] | None = None
) -> Callable[[Any], Any] | None:
    """The function that turns a Python value into what the driver is given for a column of
    ``type_``: SQLAlchemy's own, or on SQLite a faster one that gives the same result and
    converts each distinct value once, remembering it in a cache that the columns of the same
    type share through ``shared`` (a record's times often repeat: added, recorded, last
    updated; its dates more so). Equal timestamps in different zones are one key, which is
    right: they are stored as the same UTC text."""
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    fast = fast_processor(type_, dialect, processor)
    if fast is None:
        return processor
    shared = {} if shared is None else shared
    if type(type_) not in shared:
        shared[type(type_)] = functools.cache(fast)
    cached: Callable[[Any], Any] = shared[type(type_)]
    return cached


# Values the faster SQLite processors are tried on, once per column, against SQLAlchemy's.
_PROBE_TIMES = (
    datetime(2026, 4, 9, 17, 0, tzinfo=UTC),
    datetime(2026, 4, 9, 17, 0, 1, 25, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
)
_PROBE_DAYS = (date(2026, 4, 9), date(1, 1, 1), date(9999, 12, 31))


def _sqlite_utc(value: Any) -> Any:
    """A :class:`UTCDateTime` value as SQLite stores it: UTC, no zone, ``YYYY-MM-DD
    HH:MM:SS.ffffff`` (the work of the type's bind step and SQLite's DATETIME in one)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: store aware UTC timestamps")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def fast_processor(type_: Any, dialect: Any, processor: Any) -> Callable[[Any], Any] | None:
    """On SQLite, a shorter way to ``processor``'s result for a timestamp or date column, or
    None. Used only if it gives exactly what ``processor`` gives on the probe values (so a
    change of storage format in SQLAlchemy falls back to its own)."""
    if dialect.name != "sqlite" or processor is None:
        return None
    probes: tuple[date, ...]
    if isinstance(type_, UTCDateTime):
        fast, probes = _sqlite_utc, _PROBE_TIMES
    elif isinstance(type_, Date) and not isinstance(type_, DateTime):
        slow = processor

        def fast(value: Any) -> Any:
            return value.isoformat() if type(value) is date else slow(value)

        probes = _PROBE_DAYS
    else:
        return None
    if all(fast(x) == processor(x) for x in (None, *probes)):
        return fast
    return None
