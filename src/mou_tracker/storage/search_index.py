"""The search index, kept in step by the database itself.

It holds what ``domain.derived`` defines a search to look at, one row per text owner: a row per
commitment with its ref, title, summary and each owner's code and name (one to a line), and a
row per evidence record with its title. Triggers on ``commitment``, ``owner``, ``party`` and
``evidence`` rewrite the rows a write touches (an evidence record writes only its own row), so
sync, evidence import, corrections, the terminal UI and plain SQL all keep it current; no
writer can skip it.

* SQLite: ``commitment_search`` is an FTS5 table (``tokenize='trigram'``). Its rowid carries the
  commitment: ``commitment_id << 32`` for the commitment's row, plus the evidence id for an
  evidence row, so ``rowid >> 32`` names the commitment without reading the row.
  A new evidence row goes first to ``commitment_search_pending`` (a plain table, same keys),
  which every tracker write empties into the FTS5 table before it commits
  (:func:`merge_pending`, one statement); searches read both. An evidence import skips the
  pending table: :func:`evidence_in_bulk` indexes its rows in one sorted insert after it.
* PostgreSQL: ``commitment_search(commitment_id, evidence_id, body)`` (``evidence_id`` 0 for
  the commitment's row), the text lower-cased, with a ``pg_trgm`` GIN index on ``body``. The
  functions that write it are ``SECURITY DEFINER`` (with the search path they were created
  with), so a role that may add evidence but not write the index still keeps it current.

The statements run with ``exec_driver_sql`` (psycopg: no ``%`` in them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

TABLE = "commitment_search"
PENDING = "commitment_search_pending"  # SQLite: evidence rows not yet in the FTS5 table
SHIFT = 32  # SQLite rowid = commitment id << SHIFT, plus the evidence id (0: the commitment's row)

# The commitment's own row: ref, title, summary, owners' codes and names, one to a line.
_SQLITE_DOC = (
    "c.ref || char(10) || c.title || char(10) || coalesce(c.summary, '') || char(10) || "
    "coalesce((SELECT group_concat(p.code || char(10) || p.name, char(10)) FROM owner o "
    "JOIN party p ON p.id = o.party_id WHERE o.commitment_id = c.id), '')"
)
_PG_DOC = (  # lower-cased once here, so a search is a plain LIKE (PostgreSQL's ILIKE is slow)
    "lower(c.ref || chr(10) || c.title || chr(10) || coalesce(c.summary, '') || chr(10) || "
    "coalesce((SELECT string_agg(p.code || chr(10) || p.name, chr(10)) FROM owner o "
    "JOIN party p ON p.id = o.party_id WHERE o.commitment_id = c.id), ''))"
)

SQLITE_TRIGGERS = (
    "search_commitment_insert",
    "search_commitment_update",
    "search_commitment_delete",
    "search_owner_insert",
    "search_owner_update",
    "search_owner_delete",
    "search_party_update",
    "search_evidence_insert",
    "search_evidence_update",
    "search_evidence_delete",
)


def _sqlite_doc(cid: str) -> str:
    return (
        f"DELETE FROM {TABLE} WHERE rowid = ({cid} << {SHIFT}); "
        f"INSERT INTO {TABLE}(rowid, body) SELECT c.id << {SHIFT}, {_SQLITE_DOC} "
        f"FROM commitment c WHERE c.id = {cid};"
    )


def _sqlite_evidence_row(row: str) -> str:
    return f"(({row}.commitment_id << {SHIFT}) + {row}.id)"


def sqlite_triggers() -> list[str]:
    doc = _sqlite_doc
    # A new evidence row goes to the plain pending table (cheap); :func:`merge_pending` moves
    # the pending rows into the FTS5 table in one statement when a write commits. Writing the
    # FTS5 table from a trigger costs a flush of its pending terms per row (five times the
    # cost of the insert itself), which a bulk import cannot afford.
    new_ev = (
        f"INSERT INTO {PENDING}(rowid, body) VALUES ({_sqlite_evidence_row('NEW')}, NEW.title);"
    )
    old_ev = (
        f"DELETE FROM {TABLE} WHERE rowid = {_sqlite_evidence_row('OLD')}; "
        f"DELETE FROM {PENDING} WHERE rowid = {_sqlite_evidence_row('OLD')};"
    )
    return [
        "CREATE TRIGGER IF NOT EXISTS search_commitment_insert AFTER INSERT ON commitment "
        f"BEGIN {doc('NEW.id')} END",
        "CREATE TRIGGER IF NOT EXISTS search_commitment_update "
        "AFTER UPDATE OF id, ref, title, summary ON commitment "
        f"BEGIN DELETE FROM {TABLE} WHERE rowid = (OLD.id << {SHIFT}); {doc('NEW.id')} END",
        "CREATE TRIGGER IF NOT EXISTS search_commitment_delete AFTER DELETE ON commitment "
        f"BEGIN DELETE FROM {TABLE} WHERE rowid = (OLD.id << {SHIFT}); END",
        "CREATE TRIGGER IF NOT EXISTS search_owner_insert AFTER INSERT ON owner "
        f"BEGIN {doc('NEW.commitment_id')} END",
        "CREATE TRIGGER IF NOT EXISTS search_owner_update AFTER UPDATE ON owner "
        f"BEGIN {doc('OLD.commitment_id')} {doc('NEW.commitment_id')} END",
        "CREATE TRIGGER IF NOT EXISTS search_owner_delete AFTER DELETE ON owner "
        f"BEGIN {doc('OLD.commitment_id')} END",
        "CREATE TRIGGER IF NOT EXISTS search_party_update AFTER UPDATE OF code, name ON party "
        f"BEGIN DELETE FROM {TABLE} WHERE rowid IN "
        f"(SELECT commitment_id << {SHIFT} FROM owner WHERE party_id = NEW.id); "
        f"INSERT INTO {TABLE}(rowid, body) SELECT c.id << {SHIFT}, {_SQLITE_DOC} "
        "FROM commitment c WHERE c.id IN (SELECT commitment_id FROM owner WHERE party_id = NEW.id); "
        "END",
        f"CREATE TRIGGER IF NOT EXISTS search_evidence_insert AFTER INSERT ON evidence "
        f"BEGIN {new_ev} END",
        "CREATE TRIGGER IF NOT EXISTS search_evidence_update "
        "AFTER UPDATE OF id, title, commitment_id ON evidence "
        f"BEGIN {old_ev} {new_ev} END",
        "CREATE TRIGGER IF NOT EXISTS search_evidence_delete AFTER DELETE ON evidence "
        f"BEGIN {old_ev} END",
    ]


def sqlite_table() -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(body, tokenize='trigram')",
        f"CREATE TABLE IF NOT EXISTS {PENDING} (rowid INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    ]


def sqlite_merge() -> list[str]:
    return [
        f"INSERT INTO {TABLE}(rowid, body) SELECT rowid, body FROM {PENDING}",
        f"DELETE FROM {PENDING}",
    ]


def merge_pending(connection: Any) -> None:
    """Move SQLite's pending evidence rows into the FTS5 table (run by every tracker write
    before it commits; searches read the pending rows too, so a writer that never calls this,
    such as plain SQL, leaves the search right, only slower)."""
    if connection.dialect.name != "sqlite":
        return
    # A database not yet migrated has no such table.
    known = f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{PENDING}'"
    if connection.exec_driver_sql(known).scalar() is None:
        return
    if connection.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {PENDING})").scalar():
        for statement in sqlite_merge():
            connection.exec_driver_sql(statement)


def sqlite_fill() -> list[str]:
    """Every row afresh (after a bulk load without triggers, or a migration). The rows go in
    in one insert sorted by rowid: FTS5 writes its term buffer out as a segment whenever a
    rowid is lower than the last, so the commitments' rows and then the evidence rows would
    give it two runs of segments to merge."""
    return [
        f"DELETE FROM {TABLE}",
        f"DELETE FROM {PENDING}",
        f"INSERT INTO {TABLE}(rowid, body) SELECT * FROM ("
        f"SELECT c.id << {SHIFT}, {_SQLITE_DOC} FROM commitment c UNION ALL "
        f"SELECT {_sqlite_evidence_row('e')}, e.title FROM evidence e) ORDER BY 1",
    ]


@contextmanager
def filled_after(connection: Any) -> Iterator[None]:
    """Bulk-load the block's rows without the per-row index triggers, then fill the index once,
    all in the caller's transaction; for a load into an EMPTY tracker (the fill rewrites every
    row). On SQLite the triggers, as stored, are dropped for the block and created again after
    the fill (SQLite's DDL is transactional: a rollback restores them, and no other connection
    sees them missing, as this one holds the write lock). The index ends as the triggers would
    have left it. Elsewhere the block runs with the triggers as they are."""
    if connection.dialect.name != "sqlite":
        yield
        return
    names = ", ".join(f"'{name}'" for name in SQLITE_TRIGGERS)
    stored = list(
        connection.exec_driver_sql(
            f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
        ).scalars()
    )
    if len(stored) != len(SQLITE_TRIGGERS):  # not this schema: leave the triggers to it
        yield
        return
    for statement in sqlite_drop_triggers():
        connection.exec_driver_sql(statement)
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the caller rolls back, which restores them in any case
            for statement in stored:
                connection.exec_driver_sql(statement)
        raise
    *clear, fill = sqlite_fill()
    for statement in clear:
        connection.exec_driver_sql(statement)
    _fts_insert_sorted(connection, fill)  # with a bigger term buffer
    for statement in stored:
        connection.exec_driver_sql(statement)


# FTS5 keeps the terms of the rows being written in memory and writes them out as a new
# segment when they pass this size (1 MiB by default); a bigger buffer during a bulk insert
# means fewer, larger segments and less merging of them afterwards. The buffer holds no more
# than the rows' terms, so a small load uses little of it. Filling the index of 1,105,711 rows
# (100,000 commitments): 31.9 s of CPU with 8 MiB, 23.3 s with 64 MiB, 19.5 s with 128 MiB;
# of 110,560 rows: 2.2 s with 8 MiB, 1.8 s with 64 MiB.
BULK_HASHSIZE = 128 * 1024 * 1024
_EVIDENCE_INSERT = "search_evidence_insert"


def evidence_in_bulk(connection: Any, insert: Callable[[], int]) -> int:
    """Run ``insert`` (which adds evidence rows with ids the database assigns, and returns how
    many) and index those rows once, after it, in the caller's transaction.

    On SQLite the evidence insert trigger is dropped for the block, so the new titles are not
    written to the pending table one by one and moved again at commit: they go straight from
    ``evidence`` into the FTS5 table in one statement, in rowid order (FTS5 writes out its
    buffer whenever a rowid is lower than the last). The trigger, as stored, is created again
    afterwards; if the block fails, the caller's rollback restores it in any case. Nothing in
    the block may insert evidence with an explicit id below the current highest: the number
    of new rows is checked against ``insert``'s answer. Elsewhere ``insert`` just runs."""
    if connection.dialect.name != "sqlite":
        return insert()
    stored = connection.exec_driver_sql(
        f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = '{_EVIDENCE_INSERT}'"
    ).scalar()
    if stored is None:  # not this schema: leave the work to it
        return insert()
    connection.exec_driver_sql(f"DROP TRIGGER {_EVIDENCE_INSERT}")
    top = int(connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM evidence").scalar())
    try:
        added = insert()
        new = f"FROM evidence e WHERE e.id > {top}"
        found = int(connection.exec_driver_sql(f"SELECT count(*) {new}").scalar())
        if found != added:
            raise RuntimeError(f"evidence_in_bulk: {added} rows added, {found} found after them")
        _fts_insert_sorted(
            connection,
            f"INSERT INTO {TABLE}(rowid, body) "
            f"SELECT {_sqlite_evidence_row('e')}, e.title {new} ORDER BY 1",
        )
    except BaseException:
        with suppress(Exception):  # the caller rolls back, which restores it in any case
            connection.exec_driver_sql(stored)
        raise
    connection.exec_driver_sql(stored)
    return added


def _fts_insert_sorted(connection: Any, statement: str) -> None:
    """Run an insert into the FTS5 table with a bigger term buffer, then the usual one again."""
    config = f"INSERT INTO {TABLE}({TABLE}, rank) VALUES ('hashsize', {{}})"
    before = connection.exec_driver_sql(
        f"SELECT v FROM {TABLE}_config WHERE k = 'hashsize'"
    ).scalar()
    connection.exec_driver_sql(config.format(BULK_HASHSIZE))
    connection.exec_driver_sql(statement)
    connection.exec_driver_sql(config.format(int(before) if before is not None else 1024 * 1024))


def sqlite_drop_triggers() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]


def postgresql_ddl(trgm_schema: str = "public") -> list[str]:
    """``trgm_schema``: where the pg_trgm extension lives (its operator class is named with it,
    as a tracker's schema need not be on anyone's search path)."""
    refresh = (
        f"DELETE FROM {TABLE} WHERE commitment_id = cid AND evidence_id = 0; "
        f"INSERT INTO {TABLE}(commitment_id, evidence_id, body) SELECT c.id, 0, {_PG_DOC} "
        "FROM commitment c WHERE c.id = cid;"
    )
    definer = "LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT"
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (commitment_id integer NOT NULL, "
        "evidence_id integer NOT NULL, body text NOT NULL, "
        "PRIMARY KEY (commitment_id, evidence_id))",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_body ON {TABLE} USING gin "
        f'(body "{trgm_schema}".gin_trgm_ops)',
        f"CREATE OR REPLACE FUNCTION mou_search_refresh(cid integer) RETURNS void {definer} "
        f"AS $$ BEGIN {refresh} END $$",
        "CREATE OR REPLACE FUNCTION mou_search_commitment() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN PERFORM mou_search_refresh(OLD.id); END IF; "
        "IF TG_OP <> 'DELETE' THEN PERFORM mou_search_refresh(NEW.id); END IF; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION mou_search_owner() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN PERFORM mou_search_refresh(OLD.commitment_id); END IF; "
        "IF TG_OP <> 'DELETE' THEN PERFORM mou_search_refresh(NEW.commitment_id); END IF; "
        "RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION mou_search_evidence() RETURNS trigger {definer} "
        "AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN DELETE FROM {TABLE} "
        "WHERE commitment_id = OLD.commitment_id AND evidence_id = OLD.id; END IF; "
        f"IF TG_OP <> 'DELETE' THEN INSERT INTO {TABLE}(commitment_id, evidence_id, body) "
        "VALUES (NEW.commitment_id, NEW.id, lower(NEW.title)); END IF; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION mou_search_party() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "PERFORM mou_search_refresh(o.commitment_id) FROM owner o WHERE o.party_id = NEW.id; "
        "RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS search_commitment ON commitment",
        "CREATE TRIGGER search_commitment AFTER INSERT OR DELETE OR UPDATE OF id, ref, title, "
        "summary ON commitment FOR EACH ROW EXECUTE FUNCTION mou_search_commitment()",
        "DROP TRIGGER IF EXISTS search_owner ON owner",
        "CREATE TRIGGER search_owner AFTER INSERT OR UPDATE OR DELETE ON owner "
        "FOR EACH ROW EXECUTE FUNCTION mou_search_owner()",
        "DROP TRIGGER IF EXISTS search_evidence ON evidence",
        "CREATE TRIGGER search_evidence AFTER INSERT OR DELETE OR UPDATE OF id, title, "
        "commitment_id ON evidence FOR EACH ROW EXECUTE FUNCTION mou_search_evidence()",
        "DROP TRIGGER IF EXISTS search_party ON party",
        "CREATE TRIGGER search_party AFTER UPDATE OF code, name ON party "
        "FOR EACH ROW EXECUTE FUNCTION mou_search_party()",
    ]


def postgresql_fill() -> list[str]:
    return [
        f"DELETE FROM {TABLE}",
        f"INSERT INTO {TABLE}(commitment_id, evidence_id, body) "
        f"SELECT c.id, 0, {_PG_DOC} FROM commitment c",
        f"INSERT INTO {TABLE}(commitment_id, evidence_id, body) "
        "SELECT e.commitment_id, e.id, lower(e.title) FROM evidence e",
    ]


def _trgm_schema(connection: Any) -> str:
    """The schema of the pg_trgm extension, created in ``public`` if the database lacks it
    (an extension is per database: in a tracker schema, dropping that schema would drop it)."""
    query = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    schema = connection.exec_driver_sql(query).scalar()
    if schema is None:
        # two first uses at once (two test workers, two trackers) would race on the catalog's
        # unique name even with IF NOT EXISTS: one at a time, until this transaction ends
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('mou-tracker pg_trgm'))")
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        schema = connection.exec_driver_sql(query).scalar()
    return str(schema)


def install(connection: Any, *, fill: bool = True) -> None:
    """Create the index and its triggers on ``connection`` (a SQLAlchemy connection) and fill
    it from the tables as they are."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        statements = sqlite_table() + sqlite_triggers() + (sqlite_fill() if fill else [])
    elif dialect == "postgresql":
        statements = postgresql_ddl(_trgm_schema(connection))
        statements += postgresql_fill() if fill else []
    else:
        return
    for statement in statements:
        connection.exec_driver_sql(statement)


def remove(connection: Any) -> None:
    """Drop the index and its triggers (the migration's downgrade)."""
    if connection.dialect.name == "sqlite":
        for statement in sqlite_drop_triggers():
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {PENDING}")
    elif connection.dialect.name == "postgresql":
        for trigger, table in (
            ("search_commitment", "commitment"),
            ("search_owner", "owner"),
            ("search_evidence", "evidence"),
            ("search_party", "party"),
        ):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in (
            "mou_search_commitment()",
            "mou_search_owner()",
            "mou_search_evidence()",
            "mou_search_party()",
            "mou_search_refresh(integer)",
        ):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def outside_models(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic's ``include_name`` hook: False for the index's own tables (the FTS5 table and
    its shadow tables, or the PostgreSQL table), which no model describes."""
    return not (type_ == "table" and name is not None and name.startswith(TABLE))
