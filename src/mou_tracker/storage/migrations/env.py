"""Alembic environment: runs on the connection mou-tracker hands over (see storage/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import mou_tracker.domain.models  # noqa: F401  (registers every table on SQLModel.metadata)
from mou_tracker.storage.search_index import outside_models

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from mou_tracker.storage.engine import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=outside_models,  # the search index's tables: made by SQL, not models
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "postgresql":
            # Where the tracker's roles are set up, a table a migration added gets the same
            # owner, grants and row-level security as the others, in the same transaction.
            from mou_tracker.storage.roles import after_migration

            after_migration(connection)


if context.is_offline_mode():
    raise SystemExit("mou-tracker migrations run online only")
run_migrations_online()
