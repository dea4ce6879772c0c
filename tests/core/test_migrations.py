"""Alembic migrations: the models and the migrations agree, and an old database upgrades with
its data intact (SQLite automatically after a backup; PostgreSQL by `mou-tracker migrate`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, Date, DateTime, MetaData, insert, text
from sqlmodel import SQLModel
from tests.conftest import DATA

from mou_tracker.domain.errors import TrackerError
from mou_tracker.storage.engine import make_engine, read
from mou_tracker.storage.migrate import SCHEMA_HEAD, current_revision, ensure_schema, upgrade
from mou_tracker.storage.tomlio import dump_document


def test_schema_head_constant_matches_the_scripts():
    from alembic.script import ScriptDirectory

    from mou_tracker.storage.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_models_and_migrations_agree(db_url):
    """The equivalent of `alembic check`: migrating an empty database gives the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import mou_tracker.domain.models  # noqa: F401
    from mou_tracker.storage.search_index import outside_models

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": outside_models}  # no model: the index
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def _load_baseline(engine) -> None:
    """Build a database at revision 0001 and fill it with the data an 0.1 tracker held."""
    upgrade(engine, "0001")
    data = json.loads((DATA / "baseline-0001.json").read_text(encoding="utf-8"))
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            rows = data.get(table.name, [])
            if not rows:
                continue
            for row in rows:
                for column in table.columns:
                    value = row.get(column.name)
                    if value is None or isinstance(column.type, JSON):
                        continue
                    if isinstance(column.type, DateTime):
                        row[column.name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
                    elif isinstance(column.type, Date):
                        row[column.name] = date.fromisoformat(value)
            conn.execute(insert(table), rows)
        if engine.dialect.name == "postgresql":
            for table in meta.sorted_tables:
                if "id" in table.columns and data.get(table.name):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                        )
                    )


def _dump(engine) -> str:
    with read(engine) as s:
        return dump_document(s)


def test_baseline_database_upgrades_with_its_data_intact(db_url):
    engine = make_engine(db_url)
    _load_baseline(engine)
    assert current_revision(engine) == "0001"
    ensure_schema(engine, allow_upgrade=True)
    assert current_revision(engine) == SCHEMA_HEAD
    expected = (DATA / "baseline-0001.dump.toml").read_text(encoding="utf-8")
    assert _dump(engine) == expected
    from mou_tracker.domain.queries import commitment_detail

    with read(engine) as s:
        d = commitment_detail(s, "T-1")
    assert d.original_target == d.target == date(2026, 6, 30)  # 0002 backfilled the original
    engine.dispose()


def _unversioned_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    _load_baseline(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    return url


def test_cli_upgrades_an_old_sqlite_database_after_a_backup(cli_main, tmp_path):
    url = _unversioned_sqlite(tmp_path / "old.db")
    result = cli_main("--db", url, "list", db=False)
    assert result.code == 0, result.err
    assert "upgraded the database schema" in result.err and "backup at" in result.err
    backups = list(tmp_path.glob("old.db.backup-0001-*"))
    assert len(backups) == 1 and backups[0].stat().st_size > 0
    assert "T-2" in result.out
    again = cli_main("--db", url, "list", db=False)
    assert "upgraded" not in again.err


def test_a_migration_killed_during_its_backup_leaves_no_false_backup(cli, tmp_path):
    import signal
    import sqlite3

    url = _unversioned_sqlite(tmp_path / "old.db")
    killed = cli(
        "--db", url, "list", db=False, env={"MOU_TRACKER_CRASH_AT": "migrate:backup-written"}
    )
    assert killed.code == -signal.SIGKILL
    assert list(tmp_path.glob("old.db.backup-*")) == []  # only a hidden partial file, if any
    result = cli("--db", url, "list", db=False)
    assert result.code == 0, result.err
    (backup,) = tmp_path.glob("old.db.backup-0001-*")
    with sqlite3.connect(backup) as copy:  # a real copy of the old database, not an empty one
        assert copy.execute("SELECT count(*) FROM commitment").fetchone()[0] > 0
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_migrate_refuses_a_schema_newer_than_it_knows(cli_main, tmp_path):
    url = _unversioned_sqlite(tmp_path / "new.db")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0099')"))
    engine.dispose()
    result = cli_main("--db", url, "migrate", db=False)
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1, result.err
    assert "newer than this mou-tracker knows" in result.err and "unexpected" not in result.err
    assert list(tmp_path.glob("new.db.backup-*")) == []  # refused before any backup


def test_a_dump_file_is_private_to_its_owner(mini_cli_main):
    import stat

    target = mini_cli_main.home / "backup.toml"
    result = mini_cli_main("dump", str(target))
    assert result.code == 0, result.err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds the internal notes


def test_an_old_shared_database_is_not_upgraded_behind_anyones_back(db_url):
    engine = make_engine(db_url)
    _load_baseline(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(TrackerError, match="mou-tracker --db URL migrate"):
            ensure_schema(engine)
    message = ensure_schema(engine, allow_upgrade=True)
    assert message and "upgraded" in message
    assert current_revision(engine) == SCHEMA_HEAD
    assert "T-2" in _dump(engine)
    engine.dispose()


def test_a_newer_database_is_refused(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(TrackerError, match="newer than this mou-tracker"):
        ensure_schema(engine)
    engine.dispose()
