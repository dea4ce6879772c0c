"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
``MOU_TRACKER_TEST_PG`` holds a server URL (e.g. postgresql://postgres@127.0.0.1:5432/test).

Each PostgreSQL test gets a schema of its own (via ``search_path`` in the URL), so tests stay
independent and the CLI subprocesses see exactly the same database as the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
MINI = DATA / "mini.toml"
SHIPPED = ROOT / "commitments.toml"
PG_ENV = "MOU_TRACKER_TEST_PG"


@contextmanager
def frozen_clock(when: datetime) -> Iterator[None]:
    """Run the block with the tracker's clock (``mou_tracker.domain.clock.now``) at ``when``:
    changes made inside are recorded then, and "the future" is judged from then."""
    from mou_tracker.domain import clock

    real = clock.now
    clock.now = lambda: when  # type: ignore[assignment]
    try:
        yield
    finally:
        clock.now = real  # type: ignore[assignment]


def _pg_base() -> str | None:
    value = os.environ.get(PG_ENV, "").strip()
    return value or None


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            _pg_base() is None,
            reason=f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db",
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    from sqlalchemy import create_engine, text

    base = _pg_base()
    assert base is not None
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def other_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh, empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    from sqlalchemy import create_engine, text

    base = _pg_base()
    assert base is not None
    base = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    from mou_tracker.storage.engine import create_schema, make_engine

    eng = make_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


def sync_file(engine, path: Path = MINI, actor: str = "tester"):  # type: ignore[no-untyped-def]
    from mou_tracker.storage.engine import run_write
    from mou_tracker.storage.tomlio import read_document, sync_document

    doc = read_document(path)
    return run_write(engine, lambda s: sync_document(s, doc, actor=actor))


@pytest.fixture
def mini(engine):  # type: ignore[no-untyped-def]
    """An engine on a database synced from tests/data/mini.toml."""
    sync_file(engine, MINI)
    return engine


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs ``python -m mou_tracker`` as a subprocess against one database, as a person would."""

    db: str
    home: Path
    actor: str = "tester"

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        db: bool = True,
        env: dict[str, str] | None = None,
    ) -> Result:
        cmd = [sys.executable, "-m", "mou_tracker"]
        if db:
            cmd += ["--db", self.db]
        cmd += list(args)
        full_env = {
            **os.environ,
            "MOU_TRACKER_USER": self.actor,
            "XDG_DATA_HOME": str(self.home / "data"),
            "HOME": str(self.home),
            "COLUMNS": "200",
            "PYTHONIOENCODING": "utf-8",
        }
        full_env.pop("MOU_TRACKER_DB", None)
        full_env.update(env or {})
        proc = subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=self.home,
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(db_url, home)


@pytest.fixture
def mini_cli(cli: Cli) -> Cli:
    result = cli("sync", str(MINI))
    assert result.code == 0, result.err
    return cli


@pytest.fixture
def mini_engine_for():  # type: ignore[no-untyped-def]
    """Open an engine on a URL the test already has (disposed by the caller)."""
    from mou_tracker.storage.engine import make_engine

    return make_engine
