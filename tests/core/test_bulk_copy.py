"""The bulk insert's COPY on PostgreSQL: in binary form where the columns' types and the
values allow it, storing exactly what the text form stores; in text form otherwise, so a value
the server would refuse (an integer out of its column's range, say) is still refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError
from tests.conftest import _pg_base

from mou_tracker.domain import bulk

ALL = "i, b, s, t, v, f, d, ts, flag"
TABLE = (
    "CREATE TEMP TABLE t_copy (i integer, b bigint, s smallint, t text, v varchar(20), "
    "f double precision, d date, ts timestamptz, flag boolean)"
)
OIDS = [23, 20, 21, 25, 1043, 701, 1082, 1184, 16]
ZONE = timezone(timedelta(hours=-5, minutes=-30))
ROWS = [
    (1, 2**62, -(2**15), "text, tab\t and \\N", "é ✓", 0.1, date(2026, 4, 9),
     datetime(2026, 4, 9, 17, 0, 1, 25, tzinfo=ZONE), True),
    (None, None, None, None, None, None, None, None, None),
    (-(2**31), -(2**63), 2**15 - 1, "", "x" * 20, float("inf"), date(1, 1, 1),
     datetime(2026, 4, 9, 17, 0, tzinfo=UTC), False),
]  # fmt: skip


@pytest.fixture
def pg() -> Iterator[tuple[Any, Any]]:
    base = _pg_base()
    if base is None:
        pytest.skip("needs MOU_TRACKER_TEST_PG")
    engine = create_engine("postgresql+psycopg://" + base.split("://", 1)[1])
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(TABLE)
        yield driver.cursor(), conn.dialect
        conn.rollback()
    engine.dispose()


def _stored(cursor: Any) -> list[tuple[Any, ...]]:
    cursor.execute(f"SELECT {ALL} FROM t_copy ORDER BY i NULLS FIRST, t")
    rows = cursor.fetchall()
    cursor.execute("TRUNCATE t_copy")
    return rows


class _Spy:
    """A cursor that notes the statements its COPYs are given."""

    def __init__(self, cursor: Any) -> None:
        self.cursor, self.seen = cursor, list[str]()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)

    def copy(self, statement: str) -> Any:
        self.seen.append(statement)
        return self.cursor.copy(statement)


def _copy(cursor: Any, dialect: Any, rows: list[tuple[Any, ...]], binary: bool) -> list[str]:
    """``bulk._copy`` of ``rows``; returns the statements COPY was given."""
    spy = _Spy(cursor)
    oids = bulk._column_oids(cursor, "t_copy", ALL.split(", ")) if binary else None
    bulk._copy(spy, f"COPY t_copy ({ALL}) FROM STDIN", rows, dialect, oids)
    return spy.seen


def test_the_binary_form_stores_what_the_text_form_stores(pg: tuple[Any, Any]) -> None:
    cursor, dialect = pg
    assert bulk._column_oids(cursor, "t_copy", ALL.split(", ")) == OIDS
    assert _copy(cursor, dialect, ROWS, binary=False) == [f"COPY t_copy ({ALL}) FROM STDIN"]
    text_form = _stored(cursor)
    assert _copy(cursor, dialect, ROWS, binary=True) == [
        f"COPY t_copy ({ALL}) FROM STDIN (FORMAT BINARY)"
    ]
    assert _stored(cursor) == text_form
    assert len(text_form) == len(ROWS)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (0, 2**31),  # out of integer's range: the binary form would keep the low bits
        (2, -(2**15) - 1),
        (0, "7"),  # a string for an integer: the server reads it from text
        (3, 7),  # an integer for text
        (6, datetime(2026, 4, 9, 12, 0, tzinfo=UTC)),  # a datetime for a date
        (7, datetime(2026, 4, 9, 12, 0)),  # naive: read in the session's zone
        (8, 1),  # an integer for a boolean
    ],
)
def test_a_batch_the_binary_form_cannot_take_as_text_would_goes_as_text(
    pg: tuple[Any, Any], column: int, value: Any
) -> None:
    cursor, dialect = pg
    row = list(ROWS[0])
    row[column] = value
    assert not bulk._binary_ok([ROWS[2], tuple(row)], OIDS)
    assert bulk._binary_ok([ROWS[2], ROWS[1]], OIDS)
    try:
        seen = _copy(cursor, dialect, [tuple(row)], binary=True)
    except DBAPIError as exc:  # what the text form gives: the server's refusal
        assert column in (0, 2) and "out of range" in str(exc)
        return
    assert seen == [f"COPY t_copy ({ALL}) FROM STDIN"]


def test_a_table_with_a_type_outside_the_list_goes_as_text(pg: tuple[Any, Any]) -> None:
    cursor, _dialect = pg
    cursor.execute("CREATE TEMP TABLE t_json (i integer, j jsonb)")
    assert bulk._column_oids(cursor, "t_json", ["i", "j"]) is None
    assert bulk._column_oids(cursor, "t_json", ["i"]) == [23]
