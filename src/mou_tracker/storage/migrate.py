"""Schema versions with Alembic.

A new database is created from the models and stamped with the newest revision. An older one is
upgraded: on SQLite automatically when the tracker opens it, after a consistent backup copy is
written beside the file; on PostgreSQL (a shared, team database) only when someone runs
``mou-tracker --db URL migrate``, and every other command says so.

Alembic itself is imported only when a schema is created or upgraded, never on an ordinary run.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from mou_tracker.domain.errors import TrackerError

# The newest revision in migrations/versions (a test keeps the two in step).
SCHEMA_HEAD = "0012"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("commitment")


def create_schema(engine: Engine) -> None:
    """Create every table (with the append-only triggers) and stamp the newest migration."""
    from sqlmodel import SQLModel

    import mou_tracker.domain.models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)
    from mou_tracker.storage import search_index

    with engine.begin() as conn:
        search_index.install(conn)
    stamp_head(engine)


def stamp_head(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.stamp(alembic_config(conn), "head")


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def sqlite_backup(engine: Engine, label: str) -> Path:
    """A consistent copy of a SQLite database (the backup API copes with WAL and readers).

    The copy is written under a temporary name and renamed only when it is complete, so a
    migration killed half-way never leaves a file called a backup that holds nothing."""
    import os
    import sqlite3

    source_path = Path(engine.url.database or "")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source_path.with_name(f"{source_path.name}.backup-{label}-{stamp}")
    partial = source_path.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with sqlite3.connect(source_path) as source:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                copy.close()
        sys.audit("mou_tracker.crashpoint", "migrate:backup-written")  # see faults.py
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def ensure_schema(engine: Engine, *, allow_upgrade: bool | None = None) -> str | None:
    """Make the database ready for this version of mou-tracker.

    Returns a message for the person when something was done (an upgrade), else ``None``.
    ``allow_upgrade`` defaults to True for SQLite and False for other backends.
    """
    if not inspect(engine).has_table("commitment"):
        create_schema(engine)
        return None
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return None
    if current is not None and current not in known_revisions():
        raise TrackerError(
            f"database: its schema ({current}) is newer than this mou-tracker knows "
            f"({SCHEMA_HEAD}); upgrade mou-tracker"
        )
    if allow_upgrade is None:
        allow_upgrade = engine.dialect.name == "sqlite"
    shown = current or "0001 (unversioned)"
    if not allow_upgrade:
        raise TrackerError(
            f"database: schema {shown} is older than this mou-tracker needs ({SCHEMA_HEAD}); "
            "back it up, then run: mou-tracker --db URL migrate"
        )
    return migrate(engine)


def migrate(engine: Engine) -> str | None:
    """Upgrade to the newest schema (backing up a SQLite file first)."""
    if not inspect(engine).has_table("commitment"):
        create_schema(engine)
        return None
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return None
    if current is not None and current not in known_revisions():
        raise TrackerError(
            f"database: its schema ({current}) is newer than this mou-tracker knows "
            f"({SCHEMA_HEAD}); upgrade mou-tracker, nothing was changed"
        )
    backup = sqlite_backup(engine, current or "0001") if engine.dialect.name == "sqlite" else None
    if current is None:
        # Made before migrations existed: that schema is the baseline.
        from alembic import command

        with engine.begin() as conn:
            command.stamp(alembic_config(conn), "0001")
    upgrade(engine)
    where = f"; backup at {backup}" if backup else ""
    return f"upgraded the database schema from {current or '0001'} to {SCHEMA_HEAD}{where}"
