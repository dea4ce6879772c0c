"""Loading a sync into an empty tracker: what the database would do row by row, done once.

Inserting a hundred thousand evidence rows into a table that already has five secondary
indexes updates each index row by row, in key order scattered across the file; building the
same indexes once over the loaded table sorts each key once and writes its pages in order,
which costs about a third. So for a load into an empty tracker, the non-unique indexes of the
tables listed in :data:`TABLES` are dropped when the load begins and created again, from the
very statements ``sqlite_master`` held, before the transaction commits.

It is safe because SQLite's DDL is transactional and this connection holds the write lock for
the whole load: no other connection ever sees the indexes missing, and a rollback (an error, a
crash, a killed process) brings them back with everything else. Unique indexes stay: they are
constraints, checked as each row goes in.

PostgreSQL does the same when the role running the sync owns the tables (only an owner may
drop an index or switch a trigger off), and more: the search index, which per-row triggers keep
(``storage/search_index.py``), is filled in two statements after the load, its trigram index
built once over the result (:func:`search_filled_after`). A role that does not own the tables
(the staff and manager roles of ``storage/roles.py``) loads with indexes and triggers as they
are, so no such role can skip the search index this way. The owner's ``DROP INDEX`` and
``ALTER TABLE`` hold their locks until the transaction ends: no other session sees a table
without them (readers of those tables wait for the load instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from mou_tracker.storage import search_index

# The tables whose non-unique indexes wait for the end of the load. Not ``history``: the
# trigger that lets a commitment's status move only with a history entry looks up the newest
# entry by (commitment_id, at) for each status the load sets, so its indexes must be there.
TABLES = ("commitment", "evidence", "note", "evidence_revision")


def deferred_indexes(connection: Any, tables: tuple[str, ...] = TABLES) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index of ``tables`` the load builds afterwards, in a
    fixed order: on SQLite the non-unique ones; on PostgreSQL the non-unique ones of the
    tables the current role owns (only an owner may drop an index)."""
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE i.indrelid IN (SELECT to_regclass(t) FROM unnest(%(tables)s::text[]) t) "
            "AND NOT i.indisunique AND NOT i.indisprimary "
            "AND pg_has_role(current_user, c.relowner, 'USAGE') "
            "ORDER BY c.relname, i.indexrelid::regclass::text",
            {"tables": list(tables)},
        ).all()
        return [(str(name), str(sql)) for name, sql in rows]
    names = ", ".join(f"'{t}'" for t in tables)
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({names}) ORDER BY tbl_name, name"
    ).all()
    return [
        (f'"{name}"', str(sql))
        for name, sql in rows
        if not str(sql).upper().startswith("CREATE UNIQUE")
    ]


@contextmanager
def indexes_after(connection: Any, tables: tuple[str, ...] = TABLES) -> Iterator[None]:
    """Run the block with the secondary indexes of ``tables`` dropped, then create them again
    as they were, all in the caller's transaction; for a load into an EMPTY tracker (on
    PostgreSQL, of the tables the role owns). Other databases run the block as it is."""
    if connection.dialect.name not in ("sqlite", "postgresql"):
        yield
        return
    stored = deferred_indexes(connection, tables)
    for name, _sql in stored:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the caller rolls back, which restores them in any case
            for _name, sql in stored:
                connection.exec_driver_sql(sql)
        raise
    if stored and connection.dialect.name == "postgresql":
        _index_memory(connection)
    for _name, sql in stored:
        connection.exec_driver_sql(sql)


def _index_memory(connection: Any) -> None:
    """PostgreSQL builds an index in ``maintenance_work_mem`` (64 MB by default), spilling to
    disk beyond it: for the rest of this transaction, allow 256 MB if less is set."""
    connection.exec_driver_sql(
        "SELECT set_config('maintenance_work_mem', '256MB', true) "
        "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')"
    )


# (table, trigger) of the search index's row triggers that an insert fires on PostgreSQL
# (``search_party`` fires on an update only).
PG_SEARCH_TRIGGERS = (
    ("commitment", "search_commitment"),
    ("owner", "search_owner"),
    ("evidence", "search_evidence"),
)


def _owns_search_triggers(connection: Any) -> bool:
    """Whether the search triggers are all there, on tables the current role owns (or is a
    member of the owner of), so that it may switch them off."""
    query = (
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgrelid = to_regclass(%(table)s) AND t.tgname = %(trigger)s "
        "AND t.tgenabled <> 'D' AND pg_has_role(current_user, c.relowner, 'USAGE')"
    )
    return all(
        connection.exec_driver_sql(query, {"table": table, "trigger": trigger}).scalar() == 1
        for table, trigger in PG_SEARCH_TRIGGERS
    )


@contextmanager
def search_filled_after(connection: Any) -> Iterator[None]:
    """PostgreSQL, a load into an EMPTY tracker by the tables' owner: run the block with the
    search index's row triggers switched off, then fill the index from the tables in one
    statement per kind of row (:func:`mou_tracker.storage.search_index.postgresql_fill`) and
    switch the triggers on again, all in the caller's transaction (PostgreSQL's DDL is
    transactional: a rollback switches them back on). ``ALTER TABLE`` holds its lock on the
    three tables until the transaction ends, so no other session sees them without triggers
    (readers of those tables wait for the load). Otherwise the block runs as it is."""
    if connection.dialect.name != "postgresql" or not _owns_search_triggers(connection):
        yield
        return
    for table, trigger in PG_SEARCH_TRIGGERS:
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the caller rolls back, which restores them in any case
            _enable(connection)
        raise
    # The trigram index is built once over the filled table, not grown row by row.
    with indexes_after(connection, (search_index.TABLE,)):
        for statement in search_index.postgresql_fill():
            connection.exec_driver_sql(statement)
    _enable(connection)


def _enable(connection: Any) -> None:
    for table, trigger in PG_SEARCH_TRIGGERS:
        connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


# The tables a load into an empty tracker fills with more than a handful of rows.
ANALYZED = (
    "commitment",
    "owner",
    "evidence",
    "history",
    "history_evidence",
    "note",
    "evidence_revision",
    "target_change",
    search_index.TABLE,
)


def analyze_loaded(connection: Any) -> None:
    """PostgreSQL, after a load into an EMPTY tracker: gather the planner's statistics of the
    loaded tables the current role owns (only an owner may), in the load's transaction, so the
    first queries after it are planned on the rows that are there. Without statistics (until
    autovacuum comes round, or never where it is off) PostgreSQL guesses, and at 100,000
    commitments its guesses read whole tables where an index would read a few pages."""
    if connection.dialect.name != "postgresql":
        return
    owned = connection.exec_driver_sql(
        "SELECT t FROM unnest(%(tables)s::text[]) WITH ORDINALITY AS u(t, n) "
        "JOIN pg_class c ON c.oid = to_regclass(t) "
        "WHERE pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY n",
        {"tables": list(ANALYZED)},
    ).scalars()
    names = [str(name) for name in owned]
    if names:
        connection.exec_driver_sql(f"ANALYZE {', '.join(names)}")
