"""One engine per process from :func:`make_engine`; one short session per user action.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout in a ``connect``
listener, and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
busy timeout instead of failing half-way. PostgreSQL is used through psycopg 3.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.storage import search_index

# Schema set-up lives with the migrations (which stamp a new schema); it is named here too, for
# the callers that know it from here. The import runs one way only: migrate never imports engine.
from mou_tracker.storage.migrate import create_schema as create_schema
from mou_tracker.storage.migrate import has_schema as has_schema

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
# SQLite's page cache per connection, in KiB (SQLite's default is 2 MB). A write that lands
# all over the indexes, such as an import of 100,000 evidence rows into a tracker that holds
# as many, evicts and rewrites the same index pages again and again in 2 MB; 64 MB keeps them:
# about a third less CPU for that import (bench/import_bench.py). SQLite grows the cache only
# as pages are read, so a small tracker never holds more than it is.
CACHE_KIB = 65_536
ENV_DB = "MOU_TRACKER_DB"


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("mou-tracker", appauthor=False) / "tracker.db"


def seed_file() -> Path:
    """The shipped commitments.toml: installed inside the package, or the repository's copy."""
    packaged = Path(__file__).resolve().parent.parent / "data" / "commitments.toml"
    if packaged.is_file():
        return packaged
    repo_copy = Path(__file__).resolve().parents[3] / "commitments.toml"
    return repo_copy


def normalise_url(raw: str | None) -> str:
    """Accept a SQLAlchemy URL, a bare SQLite file path, or nothing (the default database)."""
    if raw is None or not raw.strip():
        return f"sqlite:///{default_db_path()}"
    value = raw.strip()
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def make_engine(raw_url: str | None = None, *, echo: bool = False) -> Engine:
    url_text = normalise_url(raw_url)
    try:
        url = make_url(url_text)
    except ArgumentError:
        raise InvalidInput("--db", f"{raw_url!r} is not a database URL or SQLite path") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise InvalidInput(
                "--db", "an in-memory SQLite database is empty in every connection; give a file"
            )
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
    elif backend == "postgresql":
        try:
            engine = create_engine(url, echo=echo, pool_pre_ping=True)
        except ModuleNotFoundError:
            raise InvalidInput(
                "--db", "PostgreSQL needs psycopg: pip install 'mou-tracker[pg]'"
            ) from None
    else:
        raise InvalidInput(
            "--db", f"unsupported database backend {backend!r} (use sqlite or postgresql)"
        )
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # REPLACE deletes the row it replaces; only with recursive triggers does that delete
        # fire the append-only DELETE triggers (the no-replace triggers also refuse it).
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("mou_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def read(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write(engine: Engine) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back on any error."""
    with Session(engine.execution_options(mou_write=True), expire_on_commit=False) as session:
        with session.begin():
            yield session
            search_index.merge_pending(session.connection())  # evidence rows into FTS5
            sys.audit("mou_tracker.crashpoint", "write:before-commit")  # see faults.py
        sys.audit("mou_tracker.crashpoint", "write:after-commit")


def run_write(engine: Engine, action: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run ``action`` in one transaction, retrying only when the database was busy or locked.

    Refusals (:class:`TrackerError`) are never retried: they roll back and propagate.
    """
    delay = 0.05
    for attempt in range(attempts):
        try:
            with write(engine) as session:
                return action(session)
        except TrackerError:
            raise
        except OperationalError as exc:
            message = str(exc.orig).lower()
            transient = any(
                word in message
                for word in (
                    "database is locked",
                    "database is busy",
                    "deadlock",
                    "could not serialize",
                )
            )
            if not transient or attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def db_url_from_env(cli_value: str | None) -> str | None:
    """The database the person named: ``--db``, else ``MOU_TRACKER_DB``, else ``None`` (the
    personal default). An empty value is refused rather than read as "the default": it is
    almost always an unset shell variable (``--db "$DB"``), and a script that meant a team
    database must not quietly write to a personal one."""
    if cli_value is not None:
        if not cli_value.strip():
            raise InvalidInput("--db", "is empty; give a database URL or a SQLite file path")
        return cli_value
    env_value = os.environ.get(ENV_DB)
    if env_value is not None and not env_value.strip():
        raise InvalidInput(
            ENV_DB, "is set but empty; unset it for the default database, or give a URL or path"
        )
    return env_value
