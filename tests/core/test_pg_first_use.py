"""Two first uses of one PostgreSQL database at once (two test workers under pytest-xdist, two
trackers started together): the search index's pg_trgm extension is created once per database,
and the second must wait for the first rather than fail on the catalog's unique name."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.conftest import _pg_base

from mou_tracker.storage.search_index import _trgm_schema

pytestmark = pytest.mark.skipif(
    _pg_base() is None,
    reason="needs PostgreSQL: set MOU_TRACKER_TEST_PG=postgresql://user@host:port/db",
)


def test_concurrent_first_uses_create_the_extension_once() -> None:
    base = _pg_base()
    assert base is not None
    url = make_url("postgresql+psycopg://" + base.split("://", 1)[1])
    name = f"first_use_{uuid.uuid4().hex[:10]}"  # a database of its own: no extension in it yet
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name), pool_size=6)
    start = threading.Barrier(6)
    found: list[str] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            with engine.begin() as conn:
                start.wait(timeout=30)
                found.append(_trgm_schema(conn))
        except BaseException as exc:  # collected, and asserted on below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=first_use) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert found == ["public"] * 6
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
