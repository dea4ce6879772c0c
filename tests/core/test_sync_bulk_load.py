"""A sync into an empty tracker loads in bulk: on SQLite the secondary indexes of the large
tables are built after the load; on PostgreSQL, when the tables' owner syncs, the search index
is filled after the load instead of by its row triggers. The database it leaves must be the one
the row-by-row path leaves (schema, index and trigger definitions, every row, the search index
and what a search finds), and a failure part-way must leave the database as it was."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel
from tests.conftest import MINI, SHIPPED, frozen_clock, sync_file

from mou_tracker.domain import queries as q
from mou_tracker.storage import search_index
from mou_tracker.storage.engine import create_schema, make_engine, read
from mou_tracker.storage.sync import apply as sync_apply
from mou_tracker.storage.sync import bulk_load

NOW = datetime.now(UTC)  # one time for both syncs of a comparison: rows record it
QUERIES = ("sovereign compute", "OAI-3.1", "dsit", "openai", "ai", "é", "100%", "growth zone")


def _row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bulk shortcut off: indexes and search triggers as they are for the whole load."""
    monkeypatch.setattr(sync_apply, "indexes_after", lambda _conn: nullcontext())
    monkeypatch.setattr(sync_apply, "search_filled_after", lambda _conn: nullcontext())
    monkeypatch.setattr(search_index, "filled_after", lambda _conn: nullcontext())


def _sync(engine: Any, path: Any = SHIPPED) -> None:
    with frozen_clock(NOW):
        sync_file(engine, path)


def _schema(engine: Any) -> list[tuple[str, ...]]:
    """Every index and trigger, as the database states them (and whether a trigger is on)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = (
                "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
                "ORDER BY type, name"
            )
        else:
            query = (
                "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() UNION ALL "
                "SELECT 'trigger', t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid) "
                "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
                "ORDER BY 1, 2"
            )
        rows = [tuple(str(x) for x in row) for row in conn.exec_driver_sql(query)]
        if engine.dialect.name == "postgresql":  # each test tracker is a schema of its own
            schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar()) + "."
            rows = [tuple(x.replace(schema, "") for x in row) for row in rows]
        return rows


def _search_rows(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = (
                f"SELECT rowid, body FROM {search_index.TABLE} UNION ALL "
                f"SELECT rowid, body FROM {search_index.PENDING} ORDER BY 1"
            )
        else:
            query = f"SELECT * FROM {search_index.TABLE} ORDER BY 1, 2"
        return [tuple(row) for row in conn.exec_driver_sql(query)]


def _rows(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the tracker, in primary-key order, as text."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns)
            rows = conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY {order}")
            out[table.name] = [tuple(str(x) for x in row) for row in rows]
    return out


def _found(engine: Any) -> dict[str, list[str]]:
    with read(engine) as s:
        return {
            words: [r.ref for r in q.list_commitments(s, q.ListFilter(search=words), sort="ref")]
            for words in QUERIES
        }


def _spy_bulk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which bulk shortcut each sync takes."""
    taken: list[str] = []
    deferred, owns = bulk_load.deferred_indexes, bulk_load._owns_search_triggers

    def spy_deferred(conn: Any, tables: tuple[str, ...] = bulk_load.TABLES) -> list[Any]:
        found = deferred(conn, tables)
        taken.append(f"{'+'.join(tables)}:{len(found)}")
        return found

    def spy_owns(conn: Any) -> bool:
        yes = owns(conn)
        taken.append(f"search:{yes}")
        return yes

    monkeypatch.setattr(bulk_load, "deferred_indexes", spy_deferred)
    monkeypatch.setattr(bulk_load, "_owns_search_triggers", spy_owns)
    return taken


def test_bulk_load_leaves_the_database_the_row_by_row_path_leaves(
    engine: Any, other_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = make_engine(other_url)
    try:
        create_schema(slow)
        empty_schema = _schema(engine)
        with engine.connect() as conn:
            deferred = len(bulk_load.deferred_indexes(conn))
        assert deferred >= 10  # commitment's, evidence's, note's, evidence_revision's
        taken = _spy_bulk(monkeypatch)
        _sync(engine)
        tables = "+".join(bulk_load.TABLES)
        if engine.dialect.name == "sqlite":
            assert taken == [f"{tables}:{deferred}"]
        else:  # and the search index's trigram index, built after its fill
            assert taken == [f"{tables}:{deferred}", "search:True", f"{search_index.TABLE}:1"]
        assert _schema(engine) == empty_schema  # indexes and triggers back, as they were

        with monkeypatch.context() as m:
            _row_by_row(m)
            _sync(slow)
        assert _schema(slow) == _schema(engine)
        fast_rows, slow_rows = _rows(engine), _rows(slow)
        assert fast_rows.keys() == slow_rows.keys()
        for name in fast_rows:
            assert fast_rows[name] == slow_rows[name], name
        assert len(fast_rows["evidence"]) > 10
        assert _search_rows(engine) == _search_rows(slow) and len(_search_rows(slow)) > 100
        found = _found(engine)
        assert found == _found(slow) and "OAI-3.1" in found["OAI-3.1"]

        # The triggers work after a bulk load: a second sync (not into an empty tracker) and a
        # plain SQL write reach the index as they do after the row-by-row load.
        for eng in (engine, slow):
            _sync(eng)
            with eng.begin() as conn:
                conn.execute(text("UPDATE commitment SET title = 'Quokka' WHERE ref = 'OAI-3.1'"))
        assert _search_rows(engine) == _search_rows(slow)
        with read(engine) as s:
            hits = q.list_commitments(s, q.ListFilter(search="quokka"))
            assert [r.ref for r in hits] == ["OAI-3.1"]
    finally:
        slow.dispose()


def _broken(*_a: Any, **_k: Any) -> None:
    raise RuntimeError("disk gone")


@pytest.mark.parametrize("where", ["during the load", "while filling the search index"])
def test_a_bulk_load_that_fails_part_way_leaves_the_database_as_it_was(
    engine: Any, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_schema, before_rows = _schema(engine), _rows(engine)
    if where == "during the load":  # after the commitments and the evidence are in
        monkeypatch.setattr(sync_apply, "_apply_history", _broken)
    elif engine.dialect.name == "sqlite":  # after the load, before the indexes are built
        monkeypatch.setattr(search_index, "sqlite_fill", lambda: ["SELECT no_such_function()"])
    else:
        monkeypatch.setattr(search_index, "postgresql_fill", lambda: ["SELECT no_such_function()"])
    with pytest.raises(Exception, match="disk gone|no_such_function"):
        _sync(engine)
    assert _schema(engine) == before_schema
    assert _rows(engine) == before_rows
    assert _search_rows(engine) == []


def test_a_role_that_does_not_own_the_tables_loads_with_indexes_and_triggers_as_they_are(
    engine: Any, other_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a role that may write every table but owns none may not drop an index or
    switch a trigger off: its load keeps both, and ends as the owner's does."""
    if engine.dialect.name != "postgresql":
        pytest.skip("table ownership is PostgreSQL's")
    import uuid

    from sqlalchemy.engine import make_url

    login = f"bulk_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        conn.execute(text(f'CREATE ROLE "{login}" LOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{login}"'))
        conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{login}"'))
        conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{login}"'))
    writer = make_engine(make_url(engine.url).set(username=login).render_as_string(False))
    owner = make_engine(other_url)
    try:
        create_schema(owner)
        taken = _spy_bulk(monkeypatch)
        before = _schema(engine)
        _sync(writer, MINI)
        assert taken == ["+".join(bulk_load.TABLES) + ":0", "search:False"]
        assert _schema(engine) == before
        _sync(owner, MINI)
        assert _search_rows(writer) == _search_rows(owner) and len(_search_rows(owner)) >= 5
        assert _found(writer) == _found(owner)
    finally:
        writer.dispose()
        owner.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'REASSIGN OWNED BY "{login}" TO CURRENT_USER'))
            conn.execute(text(f'DROP OWNED BY "{login}"'))
            conn.execute(text(f'DROP ROLE "{login}"'))


@pytest.mark.process
@pytest.mark.parametrize("point", ["sync:evidence", "write:before-commit"])
def test_a_sync_killed_mid_load_leaves_every_index_and_trigger(cli: Any, point: str) -> None:
    """SIGKILL while the indexes are dropped and the search triggers off (after the evidence
    is in; just before the commit, after they are back): the database is as it was."""
    import signal

    assert cli("init", "--empty").code == 0
    engine = make_engine(cli.db)
    try:
        before_schema, before_rows = _schema(engine), _rows(engine)
        killed = cli("sync", str(SHIPPED), env={"MOU_TRACKER_CRASH_AT": point})
        assert killed.code == -signal.SIGKILL
        assert _schema(engine) == before_schema
        assert _rows(engine) == before_rows
        assert _search_rows(engine) == []
    finally:
        engine.dispose()


def test_a_load_into_an_empty_postgresql_tracker_leaves_planner_statistics(engine: Any) -> None:
    """PostgreSQL: the owner's load gathers the statistics of the tables it filled (ANALYZE),
    so the queries after it (an export's batches, a search) are not planned on guesses."""
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    _sync(engine, MINI)
    with engine.connect() as conn:
        analysed = {
            str(name)
            for name in conn.exec_driver_sql(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
            ).scalars()
        }
    assert {"commitment", "owner", "evidence", "history", "note"} <= analysed
    assert search_index.TABLE in analysed
