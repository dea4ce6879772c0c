"""An evidence import indexes its rows for search once, after the insert (issue 17 item 2): on
SQLite the evidence insert trigger is set aside for the import and the new titles go straight
into the FTS5 table. What the index holds afterwards, and what a search finds, must be what
the row-by-row path would have left: the same rows, found by the same words as a scan of the
tables, the trigger back as it was, and nothing changed by an import that is refused."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import text
from tests.conftest import SHIPPED, InProcessCli, _home, sync_file
from tests.core.test_search import _agree

from mou_tracker.domain import service
from mou_tracker.storage import search_index
from mou_tracker.storage.engine import make_engine, read, run_write

WORDS = ("quokkaharbour", "wallabydepot", "numbatyard")
# Rows for several commitments, out of clause order, so that the index's keys (commitment
# first) come in another order than the new evidence ids.
ROWS = (
    ("OAI-3.1", "q1", f"Report on {WORDS[0]} pilots"),
    ("OAI-1.1", "q2", f"A {WORDS[1]} for compute"),
    ("OAI-3.1", "q3", f"Second {WORDS[2]} note"),
    ("OAI-2.2", "q4", f"{WORDS[0].upper()} again, and {WORDS[2]}"),
    ("OAI-1.1", "q5", "Plain title"),
)


@pytest.fixture
def shipped(engine):  # type: ignore[no-untyped-def]
    sync_file(engine, SHIPPED)
    return engine


def _csv(tmp_path, rows=ROWS, name: str = "links.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("ref", "url", "title"))
        out.writerows((ref, f"https://example.org/{key}", title) for ref, key, title in rows)
    return path


def _trigger(engine) -> str | None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        query = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"
        return conn.execute(text(query), {"n": "search_evidence_insert"}).scalar()


def _index_rows(engine) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """What the index holds (SQLite: the FTS5 table and the pending table together)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = (
                "SELECT rowid, body FROM commitment_search UNION ALL "
                "SELECT rowid, body FROM commitment_search_pending ORDER BY 1"
            )
        else:
            query = "SELECT commitment_id, evidence_id, body FROM commitment_search ORDER BY 1, 2"
        return [tuple(r) for r in conn.execute(text(query))]


def _refilled(engine) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """What a fill from the tables as they are would hold (computed, then rolled back)."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            fill = (
                search_index.sqlite_fill()
                if engine.dialect.name == "sqlite"
                else search_index.postgresql_fill()
            )
            for statement in fill:
                conn.exec_driver_sql(statement)
            if engine.dialect.name == "sqlite":
                query = "SELECT rowid, body FROM commitment_search ORDER BY 1"
            else:
                query = (
                    "SELECT commitment_id, evidence_id, body FROM commitment_search ORDER BY 1, 2"
                )
            return [tuple(r) for r in conn.execute(text(query))]
        finally:
            trans.rollback()


def _integrity(engine) -> None:  # type: ignore[no-untyped-def]
    """SQLite: FTS5's own check that its inverted index matches the rows it holds."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO commitment_search(commitment_search) VALUES ('integrity-check')"
            )


def test_an_import_indexes_its_rows_as_a_fill_would(shipped, db_url, tmp_path):
    cli = InProcessCli(db_url, _home(tmp_path))
    trigger = _trigger(shipped)
    assert _agree(shipped, WORDS) == {w: [] for w in WORDS}

    assert cli("evidence", "import", str(_csv(tmp_path))).code == 0

    assert _trigger(shipped) == trigger  # back, as it was
    assert _index_rows(shipped) == _refilled(shipped)
    _integrity(shipped)
    found = _agree(shipped, (*WORDS, "compute", "pilots", "plain title", f"{WORDS[0]} again"))
    assert found[WORDS[0]] == ["OAI-2.2", "OAI-3.1"]
    assert found[WORDS[1]] == ["OAI-1.1"]
    assert found[WORDS[2]] == ["OAI-2.2", "OAI-3.1"]

    # The trigger works again for the next writer, here plain SQL.
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO evidence (commitment_id, url, title, kind, direction, "
                    "confidence, added_by, added_at, version, updated_at, updated_by, "
                    "recorded_at) SELECT id, 'https://example.org/after', 'Bilbyworks', "
                    "'news_report', 'context', 'secondary', 'sql', :now, 1, :now, 'sql', :now "
                    "FROM commitment WHERE ref = 'OAI-2.1'"
                ),
                {"now": "2026-07-01 12:00:00.000000"},
            )
        assert _agree(engine, ("bilbyworks",))["bilbyworks"] == ["OAI-2.1"]
        assert _index_rows(engine) == _refilled(engine)
    finally:
        engine.dispose()


def test_a_refused_import_leaves_the_index_and_its_trigger(shipped, db_url, tmp_path):
    cli = InProcessCli(db_url, _home(tmp_path))
    trigger, before = _trigger(shipped), _index_rows(shipped)
    bad = (*ROWS, ("OAI-2.1", "bad", "Tab\tin a title"))
    refused = cli("evidence", "import", str(_csv(tmp_path, bad)))
    assert refused.code == 1 and "row 7" in refused.err, refused.err
    assert _trigger(shipped) == trigger
    assert _index_rows(shipped) == before
    assert _agree(shipped, WORDS) == {w: [] for w in WORDS}
    # and a good import after it still indexes its rows
    assert cli("evidence", "import", str(_csv(tmp_path, name="good.csv"))).code == 0
    assert _index_rows(shipped) == _refilled(shipped)
    assert _agree(shipped, (WORDS[1],))[WORDS[1]] == ["OAI-1.1"]


def test_a_count_that_disagrees_with_the_new_rows_is_refused(shipped):
    """The new rows are found by id (above the highest before the block); an insert that
    claims another number of rows than that stops the write, and nothing is kept."""
    if shipped.dialect.name != "sqlite":
        pytest.skip("the check guards SQLite's bulk path only")
    trigger, before = _trigger(shipped), _index_rows(shipped)
    rows = [(2, {"ref": "OAI-1.1", "url": "https://example.org/x", "title": WORDS[1]})]

    def action(session):  # type: ignore[no-untyped-def]
        def insert() -> int:
            return service.import_evidence(session, rows, actor="a") + 1

        return search_index.evidence_in_bulk(session.connection(), insert)

    with pytest.raises(RuntimeError, match="1 found"):
        run_write(shipped, action)
    assert _trigger(shipped) == trigger
    assert _index_rows(shipped) == before
    with read(shipped) as session:
        assert session.scalar(text("SELECT count(*) FROM evidence WHERE url LIKE '%/x'")) == 0
