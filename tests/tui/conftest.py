"""Fixtures for the terminal UI tests.

- ``async def`` tests run under ``asyncio.run`` (no pytest-asyncio needed).
- ``shipped``: the conftest ``engine`` (SQLite, and PostgreSQL when MOU_TRACKER_TEST_PG is
  set) synced from commitments.toml.
- ``shipped_sqlite``: SQLite only, for snapshots.
- ``big_url``: a 100,000-commitment SQLite database, built once per session with Core bulk
  inserts and only read by the tests.
- ``make_app``: the app with a fixed "today" and no background polling unless asked.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "commitments.toml"
TODAY = date(2026, 11, 27)  # the day of the shipped data's latest entries
BIG = 100_000


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True
    return None


def sync_into(engine, path: Path, actor: str = "tester"):
    from mou_tracker.storage.engine import run_write
    from mou_tracker.storage.tomlio import read_document, sync_document

    doc = read_document(path)
    return run_write(engine, lambda s: sync_document(s, doc, actor=actor))


@pytest.fixture
def shipped(engine, request: pytest.FixtureRequest):
    """The real MoU, on every backend: on SQLite a copy of the session's synced template
    (milliseconds, where syncing again took half a second), on PostgreSQL synced here."""
    if engine.dialect.name != "sqlite":
        sync_into(engine, SHIPPED)
        return engine
    engine.dispose()  # no connection may see the file change under it
    path = Path(engine.url.database)
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    shutil.copyfile(request.getfixturevalue("shipped_template"), path)
    return engine


@pytest.fixture(scope="session")
def shipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mou_tracker.storage.engine import create_schema, make_engine

    path = tmp_path_factory.mktemp("shipped") / "tracker.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    sync_into(engine, SHIPPED)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def shipped_sqlite(shipped_template: Path, tmp_path: Path):
    """A private copy of the real MoU in SQLite (for snapshots: same data, same ids)."""
    from mou_tracker.storage.engine import make_engine

    path = tmp_path / "tracker.db"
    shutil.copy(shipped_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def big_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.tui.bulk import bulk_sqlite

    return bulk_sqlite(tmp_path_factory.mktemp("big") / "big.db", BIG)


@pytest.fixture
def make_app():
    from tests.tui.helpers import RecordingApp

    def build(engine, *, actor: str = "pm", today: date = TODAY, poll_seconds: float = 0, **kw):
        return RecordingApp(engine, actor=actor, today=today, poll_seconds=poll_seconds, **kw)

    return build


@pytest.fixture(autouse=True)
def _private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Saved views go to a directory of the test's own, never the real ~/.config."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MOU_TRACKER_CONFIG_DIR", str(folder))
    return folder
