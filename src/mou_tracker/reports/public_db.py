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

A re-export copies, from the previous export's file, the rows of every commitment whose line
in ``tracker.json`` is unchanged, and builds only the others (see :func:`write`): the result
is the file a cold export writes, byte for byte.
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

    def __init__(self, path: Path, snap: model.Snapshot, previous: Path | None = None) -> None:
        self.path = path
        self.snap = snap
        self.order = 0
        self.last_id = dict.fromkeys(self.NUMBERED, 0)
        self.pending: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in TABLES}
        self.pending_rows = 0
        if path.exists():  # the previous export's: never left beside the new JSON
            path.unlink()
        # Built in memory and written to the file once, compacted, by ``VACUUM INTO`` (see
        # close): building in the file and vacuuming it there wrote every page twice and
        # spilled the transaction's pages to disk as the file grew.
        self.conn = sqlite3.connect(":memory:", isolation_level=None, uri=True)
        conn = self.conn
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("PRAGMA encoding = 'UTF-8'")
        # Keys are checked once, at the end (``PRAGMA foreign_key_check``), not row by row.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"PRAGMA user_version = {USER_VERSION}")
        if previous is not None:  # the rows to copy (see copy), opened read only
            conn.execute("ATTACH DATABASE ? AS prev", (public_source.read_only(previous),))
        self.attached = previous is not None
        conn.execute("BEGIN")
        for table in TABLES:
            conn.execute(create_sql(table))
        self._head()

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """Queue rows; they are written a table at a time, many per statement."""
        self.pending[table].extend(rows)
        self.pending_rows += len(rows)
        if self.pending_rows >= self.FLUSH_ROWS:
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
                self.conn.executemany(_INSERT[table.name], rows)
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

    def copy(self, first: int, last: int) -> None:
        """Copy the rows of the previous file's commitments ``first`` to ``last`` (by report
        order there) as the next commitments here, renumbered: their JSON lines are those of
        the previous export, which that file was built from by this same code, so these are
        the rows :meth:`add` would give them. Each table's rows are copied in the order they
        were inserted there (report order), after every row queued before them, so each row
        gets the rowid a build from the JSON gives it."""
        self._flush()
        # A commitment's rowid is its report order (checked by _previous_lines).
        in_span = "rowid BETWEEN ? AND ?"
        refs = f"SELECT ref FROM prev.commitments WHERE {in_span}"
        span = (first, last)
        self._copy_rows("commitments", "report_order", self.order + 1 - first, in_span, span)
        self.order += last - first + 1
        self._copy_rows("owners", None, 0, f"ref IN ({refs})", span)
        self._copy_rows("evidence", None, 0, f"ref IN ({refs})", span)
        old_history = self.conn.execute(
            f"SELECT min(id), max(id) FROM prev.history WHERE ref IN ({refs})", span
        ).fetchone()
        for table in self.NUMBERED:
            (low,) = self.conn.execute(
                f"SELECT min(id) FROM prev.{_q(table)} WHERE ref IN ({refs})", span
            ).fetchone()
            if low is None:
                continue
            shift = self.last_id[table] + 1 - low
            if table == "history":  # the evidence its entries cite, renumbered with them
                self._copy_rows(
                    "history_evidence",
                    "history_id",
                    shift,
                    "history_id BETWEEN ? AND ?",
                    old_history,
                )
            self.last_id[table] += self._copy_rows(table, "id", shift, f"ref IN ({refs})", span)

    def _copy_rows(
        self, table: str, renumbered: str | None, shift: int, where: str, args: Sequence[Any]
    ) -> int:
        """Copy a table's rows matching ``where`` from the previous file, in rowid order,
        adding ``shift`` to the column ``renumbered``; the number of rows copied."""
        names = [c.name for c in TABLE[table].columns]
        values = [f"{_q(n)} + {int(shift)}" if n == renumbered else _q(n) for n in names]
        cursor = self.conn.execute(
            f"INSERT INTO main.{_q(table)} ({', '.join(_q(n) for n in names)}) "
            f"SELECT {', '.join(values)} FROM prev.{_q(table)} WHERE {where} ORDER BY rowid",
            tuple(args),
        )
        return int(cursor.rowcount)

    def close(self) -> None:
        """Indexes, full-text search, a foreign-key check, then ``VACUUM INTO`` the file: it
        is whole and compact when this returns, and absent if this fails."""
        conn = self.conn
        try:
            self._flush()
            for table in TABLES:
                for columns in table.indexes:
                    name = f"idx_{table.name}_{'_'.join(columns)}"
                    conn.execute(
                        f"CREATE INDEX {_q(name)} ON {_q(table.name)} "
                        f"({', '.join(_q(c) for c in columns)})"
                    )
                if table.fts:
                    cols = ", ".join(_q(c) for c in table.search)
                    conn.execute(
                        f"CREATE VIRTUAL TABLE {_q(table.fts)} USING fts5({cols}, "
                        f'content="{table.name}", tokenize="porter unicode61")'
                    )
                    conn.execute(f"INSERT INTO {_q(table.fts)}({_q(table.fts)}) VALUES ('rebuild')")
                    conn.execute(
                        f"INSERT INTO {_q(table.fts)}({_q(table.fts)}) VALUES ('optimize')"
                    )
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise TrackerError(f"export: {SQLITE_FILE} has broken references {broken[:3]}")
            conn.execute("COMMIT")
            if self.attached:
                conn.execute("DETACH DATABASE prev")
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
    previous: Path | None = None,
    trusted: Collection[str] = (),
) -> int:
    """Build the public database at ``path``: from ``json_path`` (the ``tracker.json`` this
    export has just written) when there is one, else from every commitment's public details,
    shaped by the same code that writes that JSON.

    ``previous`` is the previous export's directory, given when this same code wrote it (the
    export cache says so). Its ``tracker.sqlite`` was built from its ``tracker.json``; when
    both are as its manifest lists them, the rows of each commitment whose line in the new
    JSON is byte for byte its line in the old are copied from the old file instead of parsed
    and built again (see :meth:`PublicDatabase.copy`). Returns how many commitments' rows
    were copied. ``trusted`` names the previous files known untouched since that export (see
    :func:`public_source.previous_lines`)."""
    if previous is not None and (previous / SQLITE_FILE).resolve() == path.resolve():
        previous = None  # the file to write cannot be the one to copy from
    plan = None
    if json_path is not None and previous is not None:
        plan = public_source.plan(json_path, previous, trusted)
    db = PublicDatabase(path, snap, previous / SQLITE_FILE if plan and previous else None)
    copied = 0
    try:
        if plan:
            for step in plan:
                if isinstance(step, tuple):
                    db.copy(*step)
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
