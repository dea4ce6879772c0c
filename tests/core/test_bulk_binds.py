"""The bulk insert's shorter ways to SQLite's text for timestamps and dates give exactly what
SQLAlchemy's own bind processors give (what an ORM insert stores), and rows come out of
``_values`` as a plain per-row loop would make them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine

from mou_tracker.domain import bulk
from mou_tracker.domain.models import Evidence, table_of

DIALECT = create_engine("sqlite://").dialect
COLUMNS = table_of(Evidence).c
ZONES = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
)
# Years 2..9998, so that moving to UTC stays within what a datetime can hold.
AWARE = st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31), timezones=ZONES | st.just(UTC))


def _slow(name: str) -> Any:
    type_ = COLUMNS[name].type
    return type_.dialect_impl(DIALECT).bind_processor(DIALECT)


def test_the_fast_processors_are_the_ones_used_on_sqlite() -> None:
    for name in ("added_at", "updated_at", "published"):
        assert bulk.column_processor(COLUMNS[name].type, DIALECT) is not _slow(name)
        assert bulk.fast_processor(COLUMNS[name].type, DIALECT, _slow(name)) is not None
    assert bulk.column_processor(COLUMNS["title"].type, DIALECT) is None
    pg = create_engine("postgresql+psycopg://u@localhost/db").dialect
    assert bulk.fast_processor(COLUMNS["added_at"].type, pg, _slow("added_at")) is None


@given(st.lists(AWARE | st.none(), max_size=30))
def test_timestamps_are_stored_as_sqlalchemy_stores_them(values: list[datetime | None]) -> None:
    fast = bulk.column_processor(COLUMNS["added_at"].type, DIALECT, {})
    slow = _slow("added_at")
    assert fast is not None
    assert [fast(v) for v in values] == [slow(v) for v in values]


@given(st.lists(st.dates() | st.none(), max_size=30))
def test_dates_are_stored_as_sqlalchemy_stores_them(values: list[date | None]) -> None:
    fast = bulk.column_processor(COLUMNS["published"].type, DIALECT, {})
    slow = _slow("published")
    assert fast is not None
    assert [fast(v) for v in values] == [slow(v) for v in values]


def test_equal_times_in_other_zones_share_a_cache_entry_and_the_same_text() -> None:
    fast = bulk.column_processor(COLUMNS["added_at"].type, DIALECT, {})
    assert fast is not None
    utc = datetime(2026, 4, 9, 17, 0, 0, 5, tzinfo=UTC)
    other = utc.astimezone(timezone(timedelta(hours=5, minutes=45)))
    assert fast(utc) == fast(other) == _slow("added_at")(other) == "2026-04-09 17:00:00.000005"


def test_a_naive_timestamp_is_refused_as_the_orm_refuses_it() -> None:
    fast = bulk.column_processor(COLUMNS["added_at"].type, DIALECT, {})
    assert fast is not None
    for processor in (fast, _slow("added_at")):
        with pytest.raises(ValueError, match="naive datetime refused"):
            processor(datetime(2026, 4, 9, 17, 0))


@given(
    st.lists(
        st.tuples(st.text(max_size=5), st.none() | st.integers(), AWARE), min_size=1, max_size=20
    ),
    st.booleans(),
)
def test_values_are_the_rows_in_column_order_each_through_its_processor(
    rows: list[tuple[str, int | None, datetime]], with_tail: bool
) -> None:
    dicts = [{"a": a, "b": b, "c": c} for a, b, c in rows]
    stamp = bulk.column_processor(COLUMNS["added_at"].type, DIALECT, {})
    processors = [None, lambda x: None if x is None else x * 2, stamp]
    tail = ("same", 7) if with_tail else ()
    expected = [(a, None if b is None else b * 2, _slow("added_at")(c), *tail) for a, b, c in rows]
    assert bulk._values(dicts, processors, tail) == expected
    assert bulk._values(dicts, [], tail) == [(a, b, c, *tail) for a, b, c in rows]
