"""``data/tracker.sqlite``: the public record as a SQLite database for Datasette and sqlite-utils.

It holds what ``data/tracker.json`` and the CSV files hold, as related tables: memoranda,
parties, commitments with their owners, evidence with its corrections and link health, the
status history with the evidence each change cites, target changes and public notes. Foreign
keys tie them together, the columns a reader filters by are indexed, and titles, summaries
and reasons are searchable (FTS5). It is a reshaping of ``tracker.json``: it is read back from
the JSON the same export has just written (one commitment at a time), or, when the export
writes no JSON, from the commitment details shaped by the code that writes the JSON. Either
way it holds the public record and nothing else: no internal note, no working table.

Reproducible: the database is built in memory with a fixed page size, no timestamps and rows
inserted in report order, then written to the file, compacted, by ``VACUUM INTO`` (a rollback-
journal file with the same header and pages as the ``VACUUM`` in place of earlier versions
wrote). With the same SQLite library the same database and report date give the same bytes;
another SQLite version may lay out the same rows differently (the header records the
version), so across versions the promise is the same rows in the same order.
:data:`REPRODUCIBLE` says so in ``manifest.json``.

The tables are described in :mod:`mou_tracker.reports.public_schema`; the same descriptions
are the Datasette metadata (:mod:`mou_tracker.reports.datasette_meta`), so the two cannot
disagree.

A re-export starts from the previous export's file, loaded in memory: it keeps the rows of
every commitment whose line in ``tracker.json`` is unchanged (moved to the rowids and numbers
a build gives them), drops the others' and builds only theirs, with the indexes kept up to
date row by row and only the full-text indexes whose rows changed built again (see
:func:`write`). ``VACUUM INTO`` writes the same file from either: it copies rows and index
entries in key order, so the file it writes depends on the rows, not on how they got there
(the schema cookie, which it also copies, is set to a build's). The result is the file a cold
export writes, byte for byte.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlmodel import Session

from mou_tracker.domain.errors import TrackerError
from mou_tracker.domain.serialize import iso
from mou_tracker.reports import html as html_report
from mou_tracker.reports import model, public_source
from mou_tracker.reports.data import DataWriter
from mou_tracker.reports.public_schema import (
    SQLITE_FILE,
    TABLE,
    TABLES,
    Table,
    create_sql,
    insert_sql,
)
from mou_tracker.reports.public_schema import quoted as _q

SCHEMA = "mou-tracker-sqlite/1"
PAGE_SIZE = 4096
USER_VERSION = 1
HEADER_COUNTER = 3  # the file change counter of the header (see _settle_header)


REPRODUCIBLE = {
    "file": SQLITE_FILE,
    "schema": SCHEMA,
    "same_bytes": "with the same SQLite library version (sqlite_version); the file header "
    "records the version that wrote it",
    "otherwise": "the same tables, rows and row order: another SQLite version may lay out the "
    "same rows in different bytes",
    "sqlite_version": sqlite3.sqlite_version,
}


def _copier(table: Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """What a row copies from its JSON object: the fields of its copied columns, as a tuple."""
    fields = [c.field for c in table.columns if c.field]
    if not fields:
        return lambda _item: ()
    get = itemgetter(*fields)
    if len(fields) == 1:
        return lambda item: (get(item),)
    return get


_INSERT = {t.name: insert_sql(t) for t in TABLES}
_INSERT_AT = {t.name: insert_sql(t, rowid=True) for t in TABLES}
_COPY = {t.name: _copier(t) for t in TABLES}


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


@lru_cache(maxsize=4096)
def _json_array(values: tuple[str, ...]) -> str:
    """A JSON array of codes or refs: few distinct ones recur on thousands of rows."""
    return json.dumps(list(values), ensure_ascii=False)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class PublicDatabase:
    """Writes the public SQLite file as commitments stream past, in report order, each in
    the public shape of ``tracker.json``.

    Each table's rows are built from the JSON objects it describes (a commitment, its owners,
    evidence, history, target changes, corrections and notes): the columns the description
    marks as copies (``Column.field``) are taken as they are, and the builder of that table
    below gives the others, in table order."""

    FLUSH_ROWS = 20_000
    # The tables built from the snapshot (_head), and those of the commitments (add, copy).
    HEAD = ("export_info", "parties", "memoranda", "memorandum_parties", "signatories")
    NUMBERED = ("history", "targets", "corrections", "notes")  # ids in report order
    OF_COMMITMENTS = ("commitments", "owners", "evidence", "history_evidence", *NUMBERED)
    # Tables of the commitments whose rowid is the order of insertion (a commitment's is its
    # report order); the numbered ones' ids are their rowids; evidence keeps its own ids.
    IMPLICIT = ("commitments", "owners", "history_evidence")

    def __init__(self, path: Path, snap: model.Snapshot, base: bytes | None = None) -> None:
        """``base``: the bytes of the previous export's file, to start from (see :meth:`keep`);
        else the tables start empty."""
        self.path = path
        self.snap = snap
        self.order = 0
        self.last_id = dict.fromkeys(self.NUMBERED, 0)
        self.pending: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in TABLES}
        self.pending_rows = 0
        self.patching = base is not None
        # Patching, the rows of the commitments built are inserted at the rowids a build from
        # the JSON gives them (the last given of each table here), after the kept rows moved.
        self.last_rowid = dict.fromkeys(self.IMPLICIT, 0)
        self.moves: list[tuple[str, int, int, int, int]] = []
        self.flush_rows = self.FLUSH_ROWS if base is None else 1 << 62
        self.kept: list[tuple[int, int]] = []  # the stretches of the previous file kept
        self.built: list[str] = []  # the refs of the commitments built from their lines
        self.cookie = self.old_count = 0
        if path.exists():  # the previous export's: never left beside the new JSON
            path.unlink()
        # Built in memory and written to the file once, compacted, by ``VACUUM INTO`` (see
        # close): building in the file and vacuuming it there wrote every page twice and
        # spilled the transaction's pages to disk as the file grew.
        self.conn = sqlite3.connect(":memory:", isolation_level=None, uri=True)
        conn = self.conn
        # Keys are checked once, at the end (``PRAGMA foreign_key_check``), not row by row.
        conn.execute("PRAGMA foreign_keys = OFF")
        if base is None:
            _create_tables(conn)
            conn.execute("BEGIN")
        else:
            try:
                self.cookie, self.old_count = _start_from(conn, base)
            except BaseException:
                conn.close()
                raise
            conn.execute("BEGIN")
            for name in self.HEAD:
                conn.execute(f"DELETE FROM {_q(name)}")
        self._head()

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """Queue rows; they are written a table at a time, many per statement."""
        if self.patching and table in self.last_rowid:
            first = self.last_rowid[table] + 1
            self.last_rowid[table] += len(rows)
            rows = [(i, *row) for i, row in enumerate(rows, first)]
        self.pending[table].extend(rows)
        self.pending_rows += len(rows)
        if self.pending_rows >= self.flush_rows:
            self._flush()

    def _put(
        self, table: str, items: Sequence[dict[str, Any]], computed: Iterable[tuple[Any, ...]]
    ) -> None:
        """Queue one row per JSON object: its copied fields, then its computed values."""
        copy = _COPY[table]
        self._insert(table, [copy(i) + more for i, more in zip(items, computed, strict=True)])

    def _numbered(self, table: str, ref: str, count: int) -> list[tuple[int, str]]:
        """The next ``count`` row numbers of a table numbered in report order, each with the
        commitment's ref: the first computed values of its rows."""
        first = self.last_id[table] + 1
        self.last_id[table] += count
        return [(i, ref) for i in range(first, first + count)]

    def _flush(self) -> None:
        for table in TABLES:
            rows = self.pending[table.name]
            if rows:
                at = self.patching and table.name in self.last_rowid
                self.conn.executemany((_INSERT_AT if at else _INSERT)[table.name], rows)
                rows.clear()
        self.pending_rows = 0

    def _head(self) -> None:
        snap = self.snap
        self._insert(
            "export_info",
            [
                ("schema", SCHEMA),
                ("generator", "mou-tracker"),
                ("as_of", iso(snap.as_of) or ""),
                ("report_date", iso(snap.report_date) or ""),
            ],
        )
        self._insert(
            "parties",
            [(p.code, p.name, p.kind) for p in sorted(snap.parties.values(), key=lambda p: p.code)],
        )
        self._insert(
            "memoranda",
            [
                (
                    m.slug,
                    m.title,
                    iso(m.signed),
                    m.source_url,
                    m.landing_url,
                    m.legal_status,
                    m.review_cadence,
                    m.summary,
                )
                for m in snap.memoranda
            ],
        )
        self._insert(
            "memorandum_parties",
            [(m.slug, code, i) for m in snap.memoranda for i, code in enumerate(m.parties, 1)],
        )
        self._insert(
            "signatories",
            [
                (m.slug, i, name, role, party or None)
                for m in snap.memoranda
                for i, (name, role, party) in enumerate(m.signatories, 1)
            ],
        )

    def add(self, c: dict[str, Any]) -> None:
        """One commitment in the public shape of ``tracker.json`` (its ``commitments`` items)."""
        self.order += 1
        ref = c["ref"]
        if self.patching:
            self.built.append(ref)
        owners, evidence, history = c["owners"], c["evidence"], c["history"]
        self._put("commitments", (c,), (self._commitment(c),))
        self._put("owners", owners, [(ref,)] * len(owners))
        self._put("evidence", evidence, [self._evidence(ref, e) for e in evidence])
        numbers = self._numbered("history", ref, len(history))
        self._put("history", history, numbers)
        self._insert(
            "history_evidence",
            [
                (number, eid)
                for (number, _ref), h in zip(numbers, history, strict=True)
                for eid in sorted(set(h["evidence_ids"]))
            ],
        )
        changes = c["target"]["changes"]
        self._put("targets", changes, self._numbered("targets", ref, len(changes)))
        self._corrections(ref, c)
        notes = c["notes"]  # public notes only: the JSON never holds another kind
        numbers = self._numbered("notes", ref, len(notes))
        self._put("notes", notes, [n + _withdrawal(o) for n, o in zip(numbers, notes, strict=True)])

    def _commitment(self, c: dict[str, Any]) -> tuple[Any, ...]:
        """The computed columns of a commitment's row."""
        review, target = c["review"], c["target"]
        owners = c["owners"]
        return (
            self.order,
            int(c["scored"]),
            int(c["counted"]),
            _json_array(tuple(c["restates"])),
            _json_array(tuple(o["party"] for o in owners)),
            _json_array(tuple(o["party"] for o in owners if o["role"] == "lead")),
            _json_array(tuple(o["party"] for o in owners if o["role"] == "support")),
            review["cadence"],
            review["last_reviewed"],
            review["next_review"],
            int(bool(review["overdue"])),
            target["original"],
            target["current"],
            len(c["evidence"]),
            int(bool(c["stale"])),
            "html/" + html_report.html_path(c["page"]),
        )

    @staticmethod
    def _evidence(ref: str, e: dict[str, Any]) -> tuple[Any, ...]:
        """The computed columns of an evidence row: its commitment, corrections, link health."""
        link = e["link"] or {}
        return (
            ref,
            len(e["corrections"]),
            link.get("label", "not checked"),
            link.get("http_status"),
            link.get("final_url"),
            _flag(link.get("moved")),
            _flag(link.get("changed")),
            link.get("checked_at"),
        )

    def _corrections(self, ref: str, c: dict[str, Any]) -> None:
        """One row per field changed, as in corrections.csv: the commitment's own corrections
        and its evidence's, by the time each takes effect (the commitment's first on a tie)."""
        found = [(r["at"], 0, None, r) for r in c["corrections"]]
        for e in c["evidence"]:
            found += [(r["at"], e["id"], e["id"], r) for r in e["corrections"]]
        if not found:
            return
        found.sort(key=lambda item: (item[0], item[1]))
        records, values = [], []
        for _at, _key, evidence_id, r in found:
            for change in r["changes"]:
                records.append(r)
                values.append(
                    (evidence_id, change["field"], _text(change["old"]), _text(change["new"]))
                )
        numbers = self._numbered("corrections", ref, len(records))
        self._put("corrections", records, [n + v for n, v in zip(numbers, values, strict=True)])

    def keep(self, first: int, last: int) -> None:
        """Keep the rows of the previous file's commitments ``first`` to ``last`` (by report
        order there) as the next commitments here: their JSON lines are those of the previous
        export, which that file was built from by this same code, so these are the rows
        :meth:`add` would give them. Each table's rows of a stretch lie together, in report
        order (as they were inserted); they are moved, when every step is known (see
        :meth:`close`), to the rowids and numbers a build from the JSON gives them."""
        conn = self.conn
        span = (first, last)
        self._keep("commitments", first, last, last - first + 1)
        self.order += last - first + 1
        for table in ("owners", *self.NUMBERED):
            low, high, count = conn.execute(
                f"SELECT min(rowid), max(rowid), count(*) FROM {_q(table)} WHERE {_REFS}", span
            ).fetchone()
            if not count:
                continue
            shift = self._keep(table, low, high, count)
            if table == "history":  # the evidence its entries cite, renumbered with them
                low, high, count = conn.execute(
                    "SELECT min(rowid), max(rowid), count(*) FROM history_evidence "
                    "WHERE history_id BETWEEN ? AND ?",
                    (low, high),
                ).fetchone()
                if count:
                    self._keep("history_evidence", low, high, count, renumber=shift)
        self.kept.append(span)

    def _keep(self, table: str, low: int, high: int, count: int, renumber: int = 0) -> int:
        """Keep a table's rows ``low`` to ``high`` (rowids) as its next rows here; the shift of
        their rowids. ``renumber``: the shift of the history entries they cite."""
        if high - low + 1 != count:
            raise _CannotPatch(f"{table}: the rows of a commitment do not lie together")
        last = self.last_rowid if table in self.last_rowid else self.last_id
        shift = last[table] + 1 - low
        last[table] += count
        if shift or renumber:
            self.moves.append((table, low, high, shift, renumber))
        return shift

    def _patch(self) -> list[str]:
        """Make the previous file's rows those of this export: drop the commitments not kept,
        move the kept rows to their rowids and numbers, insert the rows of the commitments
        built. The tables whose full-text index must be built again are returned: those
        whose searched rows (rowid and text) are not all as they were."""
        conn = self.conn
        searched = [t for t in TABLES if t.fts]
        moved = {move[0] for move in self.moves}
        stale = {t.name for t in searched if t.name in moved}
        before: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in searched}
        gaps, start = [], 1
        for first, last in sorted(self.kept):
            if first > start:
                gaps.append((start, first - 1))
            start = last + 1
        if start <= self.old_count:
            gaps.append((start, self.old_count))
        for span in gaps:
            for t in searched:
                if t.name not in stale:
                    before[t.name] += conn.execute(_search_rows(t, _REFS), span).fetchall()
            conn.execute(
                f"DELETE FROM history_evidence WHERE history_id IN "
                f"(SELECT id FROM history WHERE {_REFS})",
                span,
            )
            for table in ("owners", "evidence", *self.NUMBERED):
                conn.execute(f"DELETE FROM {_q(table)} WHERE {_REFS}", span)
            conn.execute("DELETE FROM commitments WHERE rowid BETWEEN ? AND ?", span)
        # Out of the way first (to negative rowids), then back: no row ever takes a place
        # another still holds.
        for table, low, high, shift, renumber in self.moves:
            changes = []
            if shift:
                changes.append(f"rowid = -(rowid + {int(shift)})")
                if table == "commitments":
                    changes.append(f"report_order = report_order + {int(shift)}")
            if renumber:
                changes.append(f"history_id = -(history_id + {int(renumber)})")
            conn.execute(
                f"UPDATE {_q(table)} SET {', '.join(changes)} WHERE rowid BETWEEN ? AND ?",
                (low, high),
            )
        self._flush()
        for table in sorted({table for table, _l, _h, shift, _r in self.moves if shift}):
            conn.execute(f"UPDATE {_q(table)} SET rowid = -rowid WHERE rowid < 0")
        if any(move[4] for move in self.moves):
            conn.execute(
                "UPDATE history_evidence SET history_id = -history_id WHERE history_id < 0"
            )
        built = (json.dumps(self.built),)
        for t in searched:
            if t.name not in stale:
                after = conn.execute(
                    _search_rows(t, "ref IN (SELECT value FROM json_each(?))"), built
                ).fetchall()
                if sorted(before[t.name]) != sorted(after):
                    stale.add(t.name)
        return [t.name for t in searched if t.name in stale]

    def close(self) -> None:
        """Indexes, full-text search, a foreign-key check, then ``VACUUM INTO`` the file: it
        is whole and compact when this returns, and absent if this fails. Patching the
        previous file, its indexes are kept up to date row by row and only the full-text
        indexes whose rows changed are built again."""
        conn = self.conn
        try:
            if self.patching:
                for name in self._patch():
                    _build_search(conn, TABLE[name])
            else:
                self._flush()
                _create_indexes(conn)
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise TrackerError(f"export: {SQLITE_FILE} has broken references {broken[:3]}")
            conn.execute("COMMIT")
            if self.patching:  # VACUUM INTO adds one, as it did to the previous file's
                conn.execute(f"PRAGMA schema_version = {int(self.cookie)}")
            # A new file, written again whole if lost (as the export's other files): no sync
            # of its pages on the way.
            conn.execute("PRAGMA synchronous = OFF")
            try:
                conn.execute("VACUUM INTO ?", (os.fspath(self.path),))
                _settle_header(self.path)
            except BaseException:
                self.path.unlink(missing_ok=True)  # no half-written file
                raise
        finally:
            conn.close()

    def abort(self) -> None:
        """Give up: nothing is written to the file, which does not exist."""
        self.conn.close()


class _CannotPatch(Exception):
    """The previous file is not laid out as a build from its JSON lays it out."""


# The rows of a table that belong to the previous file's commitments ``?`` to ``?`` (by
# report order there, which is their rowid).
_REFS = "ref IN (SELECT ref FROM commitments WHERE rowid BETWEEN ? AND ?)"


def _search_rows(table: Table, where: str) -> str:
    """The rows of a table as its full-text index sees them: rowid and searched text."""
    cols = ", ".join(_q(c) for c in table.search)
    return f"SELECT rowid, {cols} FROM {_q(table.name)} WHERE {where}"


def _create_tables(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA auto_vacuum = NONE")
    conn.execute("PRAGMA encoding = 'UTF-8'")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for table in TABLES:
        conn.execute(create_sql(table))


def _create_indexes(conn: sqlite3.Connection) -> None:
    """The indexes and full-text indexes of the tables, built from their rows."""
    for table in TABLES:
        for columns in table.indexes:
            name = f"idx_{table.name}_{'_'.join(columns)}"
            conn.execute(
                f"CREATE INDEX {_q(name)} ON {_q(table.name)} ({', '.join(_q(c) for c in columns)})"
            )
        if table.fts:
            cols = ", ".join(_q(c) for c in table.search)
            conn.execute(
                f"CREATE VIRTUAL TABLE {_q(table.fts)} USING fts5({cols}, "
                f'content="{table.name}", tokenize="porter unicode61")'
            )
            _build_search(conn, table)


def _build_search(conn: sqlite3.Connection, table: Table) -> None:
    """A table's full-text index, built again from its rows (whatever it held before), then
    merged into one segment."""
    fts = _q(str(table.fts))
    conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")


# What ``VACUUM INTO`` reads of a database's schema, in the order it reads it: the tables
# with rows, the indexes, and the virtual tables.
_SCHEMA = (
    "SELECT type, name, tbl_name, sql FROM sqlite_schema "
    "ORDER BY type = 'table' AND rootpage = 0, type = 'index', rowid"
)
_SETTINGS = ("page_size", "auto_vacuum", "encoding", "user_version", "freelist_count")


@lru_cache(maxsize=1)
def _cold_schema() -> tuple[list[tuple[Any, ...]], list[Any], int]:
    """The schema a build from the JSON gives (as ``VACUUM INTO`` reads it), its settings
    and its schema cookie."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        _create_tables(conn)
        _create_indexes(conn)
        settings = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _SETTINGS[:-1]]
        (cookie,) = conn.execute("PRAGMA schema_version").fetchone()
        return conn.execute(_SCHEMA).fetchall(), settings, int(cookie)
    finally:
        conn.close()


def _start_from(conn: sqlite3.Connection, base: bytes) -> tuple[int, int]:
    """Load the previous export's file into ``conn`` (in memory); the schema cookie of a build
    from the JSON and how many commitments the file holds. The file must have the schema,
    settings and layout that such a build gives it (a file this code wrote), else
    :class:`_CannotPatch`."""
    schema, settings, cookie = _cold_schema()
    try:
        conn.deserialize(base)
        found = conn.execute(_SCHEMA).fetchall()
        values = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _SETTINGS]
        # one row a line, each at the rowid of its report order (see PublicDatabase.keep)
        count, ordered = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE rowid = report_order) FROM commitments"
        ).fetchone()
    except (sqlite3.Error, AttributeError) as exc:  # AttributeError: a SQLite without it
        raise _CannotPatch(str(exc)) from None
    if found != schema or values != [*settings, 0] or count != ordered:
        raise _CannotPatch("not the file a build from the JSON gives")
    return cookie, int(count)


def _withdrawal(note: dict[str, Any]) -> tuple[Any, ...]:
    """The computed columns of a note's row after its number: its withdrawal, if any."""
    gone = note.get("withdrawn") or {}
    return gone.get("at"), gone.get("by"), gone.get("reason")


def _settle_header(path: Path) -> None:
    """Bring the header's change counter to what a file built in place and then vacuumed had
    (3: its ``user_version``, the build's transaction, ``VACUUM``), so the bytes stay those of
    earlier exports with the same SQLite library. ``VACUUM INTO`` starts a new file's counter
    at 1, and each header-only write here adds one; nothing else in the file changes (the
    value written is the one there)."""
    with open(path, "rb") as handle:
        counter = int.from_bytes(handle.read(28)[24:28], "big")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # a new file, written again whole if lost
        for _ in range(counter, HEADER_COUNTER):
            conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    finally:
        conn.close()


def write(
    session: Session | None,
    snap: model.Snapshot,
    path: Path,
    json_path: Path | None,
    previous: Path | public_source.Previous | None = None,
    trusted: Collection[str] = (),
) -> int:
    """Build the public database at ``path``: from ``json_path`` (the ``tracker.json`` this
    export has just written) when there is one, else from every commitment's public details,
    shaped by the same code that writes that JSON.

    ``previous`` is the previous export's directory (or its files, already read by
    :func:`public_source.previous_files`), given when this same code wrote it (the export
    cache says so). Its ``tracker.sqlite`` was built from its ``tracker.json``; when both are
    as its manifest lists them, the new file starts from the old one: the rows of each
    commitment whose line in the new JSON is byte for byte its line in the old are kept
    (renumbered), the others dropped, and only the new lines parsed and built (see
    :meth:`PublicDatabase.keep`). Returns how many commitments' rows were kept. ``trusted``
    names the previous files known untouched since that export (see
    :func:`public_source.previous_files`)."""
    if isinstance(previous, Path) and (previous / SQLITE_FILE).resolve() == path.resolve():
        previous = None  # the file to write cannot be the one to copy from
    plan = None
    if json_path is not None and previous is not None:
        plan = public_source.plan(json_path, previous, trusted)
    if plan is not None:
        try:
            return _write(session, snap, path, json_path, plan)
        except _CannotPatch:
            pass  # built from the JSON alone, below
    return _write(session, snap, path, json_path, None)


def _write(
    session: Session | None,
    snap: model.Snapshot,
    path: Path,
    json_path: Path | None,
    plan: public_source.Plan | None,
) -> int:
    db = PublicDatabase(path, snap, plan.sqlite if plan else None)
    copied = 0
    try:
        if plan:
            if db.old_count != plan.old_count:
                raise _CannotPatch("not one commitment a line of the previous JSON")
            for step in plan.steps:
                if isinstance(step, tuple):
                    db.keep(*step)
                    copied += step[1] - step[0] + 1
                else:
                    db.add(public_source.commitment(step, public_source.JSON_FILE))
        elif json_path is not None:
            for commitment in public_source.commitments_in_json(json_path):
                db.add(commitment)
        else:
            if session is None:
                raise TrackerError(f"export: {SQLITE_FILE} needs tracker.json or the database")
            shaper = DataWriter(
                snap, json_file=None, commitments_csv=None, evidence_csv=None, history_csv=None
            )
            for batch in model.details_in_batches(session):
                for detail in batch:
                    # the JSON's own shaping, so both routes give the same rows
                    db.add(shaper._commitment(detail, shaper.rows.get(detail.ref)))
        if db.order != len(snap.rows):
            raise TrackerError(
                f"export: {SQLITE_FILE} holds {db.order} commitments, the report {len(snap.rows)}"
            )
    except BaseException:
        db.abort()
        raise
    db.close()
    for suffix in ("-journal", "-wal", "-shm"):  # none is left by DELETE mode; be sure
        leftover = Path(os.fspath(path) + suffix)
        if leftover.exists():
            leftover.unlink()
    return copied
