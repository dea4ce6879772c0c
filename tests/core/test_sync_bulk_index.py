"""A sync into an empty SQLite tracker fills the search index once, at the end of its
transaction, instead of row by row from the triggers: the index it leaves must be the one the
triggers would have left, and the triggers must be back (or never gone, after a rollback)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy import text
from tests.conftest import SHIPPED, sync_file

from mou_tracker.domain import queries as q
from mou_tracker.domain import service
from mou_tracker.storage import search_index
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.sync import apply as sync_apply

QUERIES = ("sovereign compute", "OAI-3.1", "dsit", "openai", "ai", "é", "100%", "growth zone")


def _fresh(tmp_path, name):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    create_schema(engine)
    return engine


def _index(engine) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT rowid, body FROM {search_index.TABLE} UNION ALL "
            f"SELECT rowid, body FROM {search_index.PENDING} ORDER BY 1"
        )
        return [(int(r[0]), str(r[1])) for r in rows]


def _triggers(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        return [(str(r[0]), str(r[1])) for r in conn.exec_driver_sql(query)]


def _found(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return {
            words: [r.ref for r in q.list_commitments(s, q.ListFilter(search=words), sort="ref")]
            for words in QUERIES
        }


def test_bulk_fill_equals_the_row_by_row_index(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    bulk, rowwise = _fresh(tmp_path, "bulk.db"), _fresh(tmp_path, "rowwise.db")
    fills = []
    real_fill = search_index.sqlite_fill
    monkeypatch.setattr(search_index, "sqlite_fill", lambda: fills.append(1) or real_fill())
    sync_file(bulk, SHIPPED)
    assert fills == [1]  # the bulk path was taken

    monkeypatch.setattr(search_index, "filled_after", lambda _conn: nullcontext())
    sync_file(rowwise, SHIPPED)
    assert fills == [1]

    assert _index(bulk) == _index(rowwise) and len(_index(bulk)) > 100
    assert _triggers(bulk) == _triggers(rowwise)
    assert len([n for n, _sql in _triggers(bulk) if n.startswith("search_")]) == len(
        search_index.SQLITE_TRIGGERS
    )
    found = _found(bulk)
    assert found == _found(rowwise) and "OAI-3.1" in found["OAI-3.1"]

    # The triggers are back: a later write reaches the index, and a second sync (not into an
    # empty tracker) leaves it as it was.
    sync_file(bulk, SHIPPED)
    assert fills == [1] and _index(bulk) == _index(rowwise)
    item = service.EvidenceInput(url="https://example.org/zq", title="Zebraquartz findings")
    run_write(bulk, lambda s: service.add_evidence(s, "OAI-2.1", item, actor="tester"))
    with bulk.begin() as conn:  # plain SQL: the commitment's trigger too
        conn.execute(text("UPDATE commitment SET title = 'Quokkaharbour' WHERE ref = 'OAI-3.1'"))
    with read(bulk) as s:
        assert [r.ref for r in q.list_commitments(s, q.ListFilter(search="zebraquartz"))] == [
            "OAI-2.1"
        ]
        assert [r.ref for r in q.list_commitments(s, q.ListFilter(search="quokkaharbour"))] == [
            "OAI-3.1"
        ]


def test_a_failed_bulk_sync_keeps_the_triggers_and_nothing_else(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    engine = _fresh(tmp_path, "failed.db")
    before = _triggers(engine)

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk gone")

    monkeypatch.setattr(sync_apply, "apply_evidence", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        sync_file(engine, SHIPPED)
    assert _triggers(engine) == before and _index(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM commitment")).scalar() == 0
