"""An evidence import refuses the same rows with the same words on SQLite and on PostgreSQL,
and imports the same records when nothing is wrong (issue 17: the checks run once in Python,
the rows go in by executemany on SQLite and by COPY on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlmodel import Session, col
from tests.conftest import MINI, _pg_base, frozen_clock, sync_file

from mou_tracker.domain import service
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

BAD = [
    {"ref": "NOPE-1", "url": "https://example.org/a", "title": "Unknown ref"},
    {"ref": "T-1", "url": "ftp://example.org/a", "title": "Not http"},
    {"ref": "T-1", "url": "https://example", "title": "No domain"},
    {"ref": "T-1", "url": "https://example.org/a b", "title": "A space"},
    {"ref": "T-1", "url": "https://u:p@example.org/", "title": "A password"},
    {"ref": "T-1", "url": "https://example.org/no-title", "title": None},
    {"ref": "T-1", "url": "https://example.org/t", "title": "x" * 301},
    {"ref": "T-1", "url": "https://example.org/c", "title": "Tab\tin a title"},
    {"ref": "T-1", "url": "https://example.org/f", "title": "Future", "published": "2027-06-01"},
    {"ref": "T-1", "url": "https://example.org/d", "title": "Ambiguous", "published": "03/04/2026"},
    {"ref": "T-1", "url": "https://example.org/k", "title": "Kind", "kind": "rumour"},
    {"ref": "T-1", "url": "https://example.org/a2", "title": "Archive", "archived_url": "nope"},
    {"ref": "T-1", "url": "https://news.example.org/pilot", "title": "Recorded already"},
    {"ref": "T-1", "url": "HTTPS://News.Example.org:443/pilot/", "title": "Same page as recorded"},
]
GOOD = [
    {"ref": "T-1", "url": "https://example.org/ok-1", "title": "Fine", "published": "9 Apr 2026"},
    {"ref": "T-2", "url": "https://example.org/ok-2", "title": "Fine too", "kind": "data"},
    {"ref": "T-2", "url": "https://example.org/ok-2#again", "title": "Same page, again"},
    {"ref": "T-2", "url": "https://example.org/ok-2", "title": "Repeated row"},
]
COLUMNS = ("url", "title", "publisher", "published", "kind", "direction", "confidence")


def _rows(items: list[dict[str, str | None]]) -> list[tuple[int, dict[str, str | None]]]:
    return [(n, dict(item)) for n, item in enumerate(items, start=2)]


@pytest.fixture
def both() -> Iterator[dict[str, Engine]]:
    base = _pg_base()
    if base is None:
        pytest.skip("needs MOU_TRACKER_TEST_PG: the test compares SQLite with PostgreSQL")
    yield from _both(base)


def _both(base: str) -> Iterator[dict[str, Engine]]:
    import tempfile

    url = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema = f"i_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    with tempfile.TemporaryDirectory() as tmp:
        engines = {
            "sqlite": make_engine(f"sqlite:///{tmp}/tracker.db"),
            "postgresql": make_engine(f"{url}{sep}options={quote(f'-csearch_path={schema}')}"),
        }
        for engine in engines.values():
            create_schema(engine)
            sync_file(engine, MINI)
        try:
            yield engines
        finally:
            for engine in engines.values():
                engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _evidence(engine: Engine) -> list[tuple[object, ...]]:
    with read(engine) as session:
        query = f"SELECT {', '.join(COLUMNS)}, added_by, version FROM evidence ORDER BY url"
        # As text: SQLite gives a date column back as the text it stored.
        return [tuple(map(str, row)) for row in session.execute(text(query))]


def test_the_same_bad_rows_are_refused_alike(both: dict[str, Engine]) -> None:
    refusals = {}
    with frozen_clock(NOW):
        for name, engine in both.items():
            before = _evidence(engine)
            with pytest.raises(service.ImportRefused) as caught:
                run_write(
                    engine, lambda s: service.import_evidence(s, _rows(BAD + GOOD), actor="a")
                )
            assert _evidence(engine) == before, f"{name}: a refused import wrote rows"
            refusals[name] = (caught.value.errors, str(caught.value))
    assert refusals["sqlite"] == refusals["postgresql"]
    errors = refusals["sqlite"][0]
    # Every bad row is named by its row number, and the repeats of GOOD too; no good row is.
    bad_rows = set(range(2, 2 + len(BAD))) | {2 + len(BAD) + 2, 2 + len(BAD) + 3}
    assert {row for row, _ in errors} == bad_rows
    by_row = dict(errors)
    assert "not found" in by_row[2] or "NOPE-1" in by_row[2]
    assert "already recorded on T-1" in by_row[2 + 12]
    assert "same page" in by_row[2 + 13]
    assert "repeats row" in by_row[2 + len(BAD) + 3]


def test_good_rows_are_imported_alike(both: dict[str, Engine]) -> None:
    with frozen_clock(NOW):
        for engine in both.values():
            count = run_write(
                engine, lambda s: service.import_evidence(s, _rows(GOOD[:2]), actor="a")
            )
            assert count == 2
    assert _evidence(both["sqlite"]) == _evidence(both["postgresql"])
    with read(both["postgresql"]) as session:
        stamps = session.execute(
            text("SELECT added_at, recorded_at, db_user FROM evidence WHERE url LIKE '%ok-%'")
        ).all()
    assert all(added == NOW and recorded == NOW and user for added, recorded, user in stamps)


def test_bulk_rows_into_a_table_with_row_security(both: dict[str, Engine]) -> None:
    """``note`` has row-level security on PostgreSQL, which COPY refuses: insert_rows takes
    the executemany there, and both backends store the same rows."""
    from mou_tracker.domain.bulk import insert_rows
    from mou_tracker.domain.models import Commitment, Note, table_of

    def add(session: Session) -> None:
        cid = session.scalar(select(col(Commitment.id)).where(col(Commitment.ref) == "T-2"))
        rows = [
            {"commitment_id": cid, "at": NOW, "recorded_at": NOW, "author": "a",
             "visibility": "public", "body": f"Bulk note {n}"}
            for n in range(3)
        ]  # fmt: skip
        insert_rows(session, table_of(Note), rows)

    seen = {}
    for name, engine in both.items():
        run_write(engine, add)
        with read(engine) as session:
            query = text("SELECT body, visibility FROM note WHERE body LIKE 'Bulk%' ORDER BY body")
            seen[name] = [tuple(row) for row in session.execute(query)]
    assert seen["sqlite"] == seen["postgresql"] == [(f"Bulk note {n}", "public") for n in range(3)]


def test_sqlite_connections_keep_a_page_cache_big_enough_for_an_import(tmp_path: Path) -> None:
    """Every SQLite connection of the tracker asks for a 64 MB page cache (SQLite's default,
    2 MB, makes an import that lands all over the indexes rewrite the same pages over and
    over: bench/import_bench.py); the pragma is per connection, so each new one gets it."""
    from mou_tracker.storage.engine import CACHE_KIB

    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        for _ in range(2):  # a second connection from the pool's factory too
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -CACHE_KIB
            engine.dispose()
    finally:
        engine.dispose()
    assert CACHE_KIB >= 65_536
