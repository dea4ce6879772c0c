"""Many rows into one table, fast: for an evidence import and for a sync.

The rows are plain dicts already checked by the caller. Each value goes through its column's
own bind processor (looked up once per column, not once per value as the ORM does), so the
database stores exactly what an ORM insert would (on SQLite, timestamps and dates take a
shorter path to the same text: :func:`fast_processor`); then one executemany per batch on SQLite,
and ``COPY ... FROM STDIN`` on PostgreSQL (in binary form where the columns' types and the
values allow it: :func:`_binary_ok`). Nothing comes back: ids are either given in the
rows (allocated by the caller inside the same transaction) or left to the database.

``COPY FROM`` is refused for a table with row-level security (``note``, see
``mou_tracker.storage.roles``): such a table takes the executemany instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import repeat
from operator import attrgetter
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
        oids = _column_oids(cursor, table.name, names_all)
    else:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join(mark for _ in names_all)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    for start in range(0, len(rows), BATCH):
        values = _values(rows[start : start + BATCH], row_processors, tail, columns is not None)
        if postgresql:
            _copy(cursor, statement, values, dialect, oids)
        else:
            connection.exec_driver_sql(statement, values)
        if after_batch is not None:
            after_batch()


# The column types COPY may send in PostgreSQL's binary format (by type oid: boolean, bigint,
# smallint, integer, text, double precision, varchar, date, timestamptz), each with the Python
# types of the values that take the binary path: for those, the binary form stores exactly
# what the text form would, and costs both sides less (no formatting nor parsing of dates,
# times and numbers). ``None`` is NULL in both.
_BINARY_TYPES: dict[int, frozenset[type]] = {
    16: frozenset({bool}),
    20: frozenset({int}),
    21: frozenset({int}),
    23: frozenset({int}),
    25: frozenset({str}),
    701: frozenset({float}),
    1043: frozenset({str}),
    1082: frozenset({date}),
    1184: frozenset({datetime}),
}
_TIMESTAMPTZ = 1184
# The range of each integer type: psycopg's binary form of a Python int out of its column's
# range is not refused but cut to the low bits, so such a batch keeps the text form (which
# the server refuses, as it should).
_INT_RANGE = {20: 2**63, 21: 2**15, 23: 2**31}
_ZONE = attrgetter("tzinfo")


def _column_oids(cursor: Any, table: str, names: list[str]) -> list[int] | None:
    """The type oid of each of ``names``, columns of ``table``, when every one is in
    :data:`_BINARY_TYPES`; else None (such rows always go in text form)."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    found = {name: int(oid) for name, oid in cursor.fetchall()}
    oids = [found.get(name, 0) for name in names]
    return oids if all(oid in _BINARY_TYPES for oid in oids) else None


def _binary_ok(values: list[tuple[Any, ...]], oids: list[int]) -> bool:
    """Whether every value of the batch is None or of a Python type its column takes in
    binary form (:data:`_BINARY_TYPES`), timestamps with a zone (a naive one is read in the
    session's zone from text, so it keeps the text form)."""
    for oid, column in zip(oids, zip(*values, strict=True), strict=True):
        kinds = set(map(type, column))
        kinds.discard(type(None))
        if not kinds <= _BINARY_TYPES[oid]:
            return False
        # (``filter(None, ...)`` drops the NULLs, and zeros, which every range holds)
        if oid == _TIMESTAMPTZ and None in map(_ZONE, filter(None, column)):
            return False
        if oid in _INT_RANGE and kinds:
            numbers = list(filter(None, column))
            if numbers and not -_INT_RANGE[oid] <= min(numbers) <= max(numbers) < _INT_RANGE[oid]:
                return False
    return True


def _copy(
    cursor: Any,
    statement: str,
    values: list[tuple[Any, ...]],
    dialect: Any,
    oids: list[int] | None = None,
) -> None:
    """One COPY on the session's own psycopg connection, in binary form when ``oids`` (the
    columns' types) and the values allow it (:func:`_binary_ok`). A refusal (a missing grant,
    a broken constraint) comes out as SQLAlchemy's error wrapping psycopg's, as an ORM
    insert's would, so callers handle both alike (e.g. the CLI's "needs the mou_staff role")."""
    binary = oids is not None and _binary_ok(values, oids)
    try:
        with cursor.copy(statement + " (FORMAT BINARY)" if binary else statement) as copy:
            if binary:
                copy.set_types(oids)
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
