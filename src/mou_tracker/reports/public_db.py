"""``data/tracker.sqlite``: the public record as a SQLite database for Datasette and sqlite-utils.

It holds what ``data/tracker.json`` and the CSV files hold, as related tables: memoranda,
parties, commitments with their owners, evidence with its corrections and link health, the
status history with the evidence each change cites, target changes and public notes. Foreign
keys tie them together, the columns a reader filters by are indexed, and titles, summaries
and reasons are searchable (FTS5). It is a reshaping of ``tracker.json``: it is read back from
the JSON the same export has just written (one commitment at a time), or, when the export
writes no JSON, from the commitment details shaped by the code that writes the JSON. Either
way it holds the public record and nothing else: no internal note, no working table.

Reproducible: the file is written with a fixed page size, no timestamps, ``journal_mode=DELETE``,
rows inserted in report order, and ``VACUUM`` last. With the same SQLite library the same
database and report date give the same bytes; another SQLite version may lay out the same
rows differently (the header records the version), so across versions the promise is the same
rows in the same order. :data:`REPRODUCIBLE` says so in ``manifest.json``.

The table and column descriptions here are also the Datasette metadata
(:mod:`mou_tracker.reports.datasette_meta`), so the two cannot disagree.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from mou_tracker.domain.errors import TrackerError
from mou_tracker.domain.serialize import iso
from mou_tracker.reports import html as html_report
from mou_tracker.reports import model
from mou_tracker.reports.data import DataWriter

SQLITE_FILE = "data/tracker.sqlite"
SCHEMA = "mou-tracker-sqlite/1"
PAGE_SIZE = 4096
USER_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # TEXT or INTEGER
    description: str
    not_null: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, other table, other column)
    indexes: tuple[tuple[str, ...], ...] = ()
    facets: tuple[str | dict[str, str], ...] = ()
    label_column: str | None = None
    search: tuple[str, ...] = ()  # columns of its full-text index (``<name>_fts``)
    sort_desc: str | None = None

    @property
    def fts(self) -> str | None:
        return f"{self.name}_fts" if self.search else None


def _c(name: str, type_: str, description: str, not_null: bool = False) -> Column:
    return Column(name, type_, description, not_null)


T, INT = "TEXT", "INTEGER"
_BOOL = "1 if true, 0 if false"

TABLES: tuple[Table, ...] = (
    Table(
        "export_info",
        "About this file: which schema it follows and the dates of the report it belongs to.",
        (
            _c("key", T, "schema, generator, as_of or report_date", True),
            _c("value", T, "its value", True),
        ),
        ("key",),
    ),
    Table(
        "parties",
        "The organisations named as parties to a memorandum or as owners of a commitment.",
        (
            _c("code", T, "short code used everywhere else (e.g. DSIT, OPENAI)", True),
            _c("name", T, "full name", True),
            _c("kind", T, "government, company, public body, ...", True),
        ),
        ("code",),
        label_column="name",
        facets=("kind",),
    ),
    Table(
        "memoranda",
        "Each memorandum of understanding tracked, with its legal status in plain words.",
        (
            _c("slug", T, "stable identifier of the memorandum", True),
            _c("title", T, "title of the memorandum", True),
            _c("signed", T, "date signed (YYYY-MM-DD)", True),
            _c("source_url", T, "the published text", True),
            _c("landing_url", T, "the page announcing it, if any"),
            _c("legal_status", T, "what binds the parties, in plain words", True),
            _c("review_cadence", T, "how often its commitments are reviewed by default", True),
            _c("summary", T, "the memorandum in the tracker's own words"),
        ),
        ("slug",),
        label_column="title",
    ),
    Table(
        "memorandum_parties",
        "Which parties signed which memorandum.",
        (
            _c("memorandum", T, "the memorandum (memoranda.slug)", True),
            _c("party", T, "the party (parties.code)", True),
            _c("position", INT, "order in which the memorandum names its parties", True),
        ),
        ("memorandum", "party"),
        foreign_keys=(("memorandum", "memoranda", "slug"), ("party", "parties", "code")),
    ),
    Table(
        "signatories",
        "The people who signed each memorandum.",
        (
            _c("memorandum", T, "the memorandum (memoranda.slug)", True),
            _c("position", INT, "order of signature on the memorandum", True),
            _c("name", T, "the signatory", True),
            _c("role", T, "their office when signing", True),
            _c("party", T, "the party they signed for (parties.code)"),
        ),
        ("memorandum", "position"),
        foreign_keys=(("memorandum", "memoranda", "slug"), ("party", "parties", "code")),
    ),
    Table(
        "commitments",
        "One row per clause or press-release undertaking, with its current status and why. "
        "Filter on counted = 1 for the headline figures (scored, each promise once).",
        (
            _c("ref", T, "stable reference, e.g. OAI-2.1", True),
            _c("memorandum", T, "the memorandum it comes from (memoranda.slug)", True),
            _c("report_order", INT, "order of the commitment in the reports", True),
            _c("section", T, "section of the memorandum", True),
            _c("origin", T, "clause (in the memorandum) or press release", True),
            _c("title", T, "short title", True),
            _c("summary", T, "the clause in the tracker's own words", True),
            _c("source_url", T, "where the wording was published", True),
            _c("text_basis", T, "how the wording was checked against the source", True),
            _c("theme", T, "theme", True),
            _c(
                "strength",
                T,
                "how binding the wording is, weakest first: vision, may, explore, intend, will",
                True,
            ),
            _c("scored", INT, f"{_BOOL}; vision statements are shown but not scored", True),
            _c(
                "counted",
                INT,
                f"{_BOOL}: counted in headline figures (scored, and not a restatement)",
                True,
            ),
            _c("restates", T, "JSON array of the refs of the clauses it restates", True),
            _c(
                "status",
                T,
                "not_assessed, not_started, in_progress, partially_met, met, stalled or not_met",
                True,
            ),
            _c("status_since", T, "when the current status took effect (UTC)"),
            _c("status_reason", T, "the reason given for the current status"),
            _c("owners", T, "JSON array of the codes of every owning party", True),
            _c("lead_owners", T, "JSON array of the lead owners' codes", True),
            _c("support_owners", T, "JSON array of the supporting owners' codes", True),
            _c("tracked_since", T, "when tracking began: a time (UTC) or the signing date", True),
            _c("review_cadence", T, "how often it is reviewed", True),
            _c("last_reviewed", T, "date of the last review"),
            _c("next_review", T, "date the next review is due (scored commitments only)"),
            _c("review_overdue", INT, f"{_BOOL}: next review before the report date", True),
            _c("original_target", T, "first target date given, if any"),
            _c("current_target", T, "target date now, if any"),
            _c("evidence_count", INT, "evidence records on it (not distinct sources)", True),
            _c("latest_evidence", T, "publication date of its newest dated evidence"),
            _c("stale", INT, f"{_BOOL}: scored and its newest evidence is old or missing", True),
            _c("page", T, "its Markdown page in the export", True),
            _c("page_html", T, "its HTML page in the export", True),
        ),
        ("ref",),
        foreign_keys=(("memorandum", "memoranda", "slug"),),
        indexes=(("memorandum",), ("status",), ("strength",), ("theme",), ("counted",)),
        facets=("status", "strength", "theme", {"array": "owners"}, "origin"),
        label_column="title",
        search=("title", "summary", "status_reason"),
    ),
    Table(
        "owners",
        "Who owns each commitment: a party in the lead or in support.",
        (
            _c("ref", T, "the commitment (commitments.ref)", True),
            _c("party", T, "the owner (parties.code)", True),
            _c("role", T, "lead or support", True),
        ),
        ("ref", "party", "role"),
        foreign_keys=(("ref", "commitments", "ref"), ("party", "parties", "code")),
        indexes=(("party", "role"),),
        facets=("party", "role"),
    ),
    Table(
        "evidence",
        "Dated public sources on each commitment. The same article cited on several "
        "commitments is one row per commitment: count distinct url for sources.",
        (
            _c("id", INT, "evidence number (as in the pages, JSON and CSV)", True),
            _c("ref", T, "the commitment it bears on (commitments.ref)", True),
            _c("published", T, "publication date (YYYY-MM-DD), if known"),
            _c("title", T, "title of the source", True),
            _c("publisher", T, "who published it"),
            _c("url", T, "where it is", True),
            _c(
                "kind",
                T,
                "official document, announcement, news report, FoI release, "
                "parliamentary record or data",
                True,
            ),
            _c("direction", T, "progress, against or context", True),
            _c("confidence", T, "primary, secondary or unverified", True),
            _c("summary", T, "what it shows, in one line"),
            _c("archived_url", T, "an archived copy, if any"),
            _c("added_by", T, "who added it", True),
            _c("added_at", T, "when it takes effect in the tracker (UTC)", True),
            _c("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _c("corrections", INT, "how many corrections it has had (table corrections)", True),
            _c("link_state", T, "result of the latest link check, or 'not checked'", True),
            _c("link_http_status", INT, "HTTP status of the latest link check"),
            _c("link_final_url", T, "where the link led at the latest check"),
            _c("link_moved", INT, f"{_BOOL}: the link redirected elsewhere"),
            _c("link_changed", INT, f"{_BOOL}: the page changed since it was cited"),
            _c("link_checked_at", T, "when the link was last checked (UTC)"),
        ),
        ("id",),
        foreign_keys=(("ref", "commitments", "ref"),),
        indexes=(
            ("ref",),
            ("publisher",),
            ("direction",),
            ("kind",),
            ("confidence",),
            ("published",),
            ("url",),
        ),
        facets=("direction", "publisher", "kind", "confidence", "link_state"),
        label_column="title",
        search=("title", "summary", "publisher"),
        sort_desc="published",
    ),
    Table(
        "history",
        "Every status change and review, append-only. at is when it takes effect; "
        "recorded_at when the tracker recorded it (they differ for a back-dated change).",
        (
            _c("id", INT, "number of the entry in this file (report order)", True),
            _c("ref", T, "the commitment (commitments.ref)", True),
            _c("at", T, "when it takes effect (UTC)", True),
            _c("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _c("kind", T, "status (a change of status) or review (status confirmed)", True),
            _c("from_status", T, "status before", True),
            _c("to_status", T, "status after", True),
            _c("actor", T, "who made the change", True),
            _c("reason", T, "why", True),
        ),
        ("id",),
        foreign_keys=(("ref", "commitments", "ref"),),
        indexes=(("ref",), ("at",), ("to_status",), ("kind",)),
        facets=("kind", "to_status", "from_status", "actor"),
        search=("reason",),
        sort_desc="at",
    ),
    Table(
        "history_evidence",
        "The evidence each status change or review cites.",
        (
            _c("history_id", INT, "the history entry (history.id)", True),
            _c("evidence_id", INT, "the evidence cited (evidence.id)", True),
        ),
        ("history_id", "evidence_id"),
        foreign_keys=(("history_id", "history", "id"), ("evidence_id", "evidence", "id")),
        indexes=(("evidence_id",),),
    ),
    Table(
        "targets",
        "Target dates set or moved, with who, when and why.",
        (
            _c("id", INT, "number of the change in this file (report order)", True),
            _c("ref", T, "the commitment (commitments.ref)", True),
            _c("at", T, "when it takes effect (UTC)", True),
            _c("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _c("actor", T, "who set it", True),
            _c("from_target", T, "target date before, if any"),
            _c("to_target", T, "target date after", True),
            _c("reason", T, "why", True),
            _c("evidence_id", INT, "evidence cited (evidence.id), if any"),
        ),
        ("id",),
        foreign_keys=(("ref", "commitments", "ref"), ("evidence_id", "evidence", "id")),
        indexes=(("ref",),),
    ),
    Table(
        "corrections",
        "The public corrections log: one row per field changed by a correction of a "
        "commitment (evidence_id empty) or of one of its evidence records.",
        (
            _c("id", INT, "number of the row in this file (report order)", True),
            _c("ref", T, "the commitment (commitments.ref)", True),
            _c("evidence_id", INT, "the evidence corrected (evidence.id); empty: the commitment"),
            _c("at", T, "when it takes effect (UTC)", True),
            _c("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _c("actor", T, "who corrected it", True),
            _c("reason", T, "why", True),
            _c("field", T, "the field changed", True),
            _c("old_value", T, "its value before"),
            _c("new_value", T, "its value after"),
        ),
        ("id",),
        foreign_keys=(("ref", "commitments", "ref"), ("evidence_id", "evidence", "id")),
        indexes=(("ref",), ("evidence_id",)),
        facets=("field",),
    ),
    Table(
        "notes",
        "Public notes on commitments (internal notes never leave the tracker).",
        (
            _c("id", INT, "number of the note in this file (report order)", True),
            _c("ref", T, "the commitment (commitments.ref)", True),
            _c("at", T, "when it was written (UTC)", True),
            _c("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _c("author", T, "who wrote it", True),
            _c("body", T, "the note (Markdown)", True),
            _c("withdrawn_at", T, "when it was withdrawn as added by mistake (UTC), if it was"),
            _c("withdrawn_by", T, "who withdrew it"),
            _c("withdrawn_reason", T, "the note that withdrew it, which says why"),
        ),
        ("id",),
        foreign_keys=(("ref", "commitments", "ref"),),
        indexes=(("ref",),),
    ),
)

TABLE = {t.name: t for t in TABLES}

REPRODUCIBLE = {
    "file": SQLITE_FILE,
    "schema": SCHEMA,
    "same_bytes": "with the same SQLite library version (sqlite_version); the file header "
    "records the version that wrote it",
    "otherwise": "the same tables, rows and row order: another SQLite version may lay out the "
    "same rows in different bytes",
    "sqlite_version": sqlite3.sqlite_version,
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_sql(table: Table) -> str:
    lines = [f"  {_q(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in table.columns]
    lines.append(f"  PRIMARY KEY ({', '.join(_q(k) for k in table.primary_key)})")
    for column, other, other_column in table.foreign_keys:
        lines.append(f"  FOREIGN KEY ({_q(column)}) REFERENCES {_q(other)} ({_q(other_column)})")
    return f"CREATE TABLE {_q(table.name)} (\n" + ",\n".join(lines) + "\n)"


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class PublicDatabase:
    """Writes the public SQLite file as commitments stream past, in report order, each in
    the public shape of ``tracker.json``."""

    def __init__(self, path: Path, snap: model.Snapshot) -> None:
        self.path = path
        self.snap = snap
        self.order = 0
        self.history_id = 0
        self.target_id = 0
        self.correction_id = 0
        self.note_id = 0
        self.pending: dict[str, list[Sequence[Any]]] = {t.name: [] for t in TABLES}
        self.pending_rows = 0
        if path.exists():
            path.unlink()
        self.conn = sqlite3.connect(path, isolation_level=None)
        conn = self.conn
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("PRAGMA encoding = 'UTF-8'")
        conn.execute("PRAGMA journal_mode = DELETE")
        # Keys are checked once, at the end (``PRAGMA foreign_key_check``), not row by row.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"PRAGMA user_version = {USER_VERSION}")
        conn.execute("BEGIN")
        for table in TABLES:
            conn.execute(create_sql(table))
        self._head()

    FLUSH_ROWS = 20_000

    def _insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Queue rows; they are written a table at a time, many per statement."""
        self.pending[table].extend(rows)
        self.pending_rows += len(rows)
        if self.pending_rows >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        for table in TABLES:
            rows = self.pending[table.name]
            if rows:
                marks = ", ".join("?" for _ in table.columns)
                self.conn.executemany(f"INSERT INTO {_q(table.name)} VALUES ({marks})", rows)
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
        review, target = c["review"], c["target"]
        owners = c["owners"]
        evidence = c["evidence"]
        md_page = c["page"]
        self._insert(
            "commitments",
            [
                (
                    ref,
                    c["memorandum"],
                    self.order,
                    c["section"],
                    c["origin"],
                    c["title"],
                    c["summary"],
                    c["source_url"],
                    c["text_basis"],
                    c["theme"],
                    c["strength"],
                    int(c["scored"]),
                    int(c["counted"]),
                    _json_list(c["restates"]),
                    c["status"],
                    c["status_since"],
                    c["status_reason"],
                    _json_list([o["party"] for o in owners]),
                    _json_list([o["party"] for o in owners if o["role"] == "lead"]),
                    _json_list([o["party"] for o in owners if o["role"] == "support"]),
                    c["tracked_since"],
                    review["cadence"],
                    review["last_reviewed"],
                    review["next_review"],
                    int(bool(review["overdue"])),
                    target["original"],
                    target["current"],
                    len(evidence),
                    c["evidence_newest_published"],
                    int(bool(c["stale"])),
                    md_page,
                    "html/" + html_report.html_path(md_page),
                )
            ],
        )
        self._insert("owners", [(ref, o["party"], o["role"]) for o in owners])
        rows = []
        for e in evidence:
            link = e["link"] or {}
            rows.append(
                (
                    e["id"],
                    ref,
                    e["published"],
                    e["title"],
                    e["publisher"],
                    e["url"],
                    e["kind"],
                    e["direction"],
                    e["confidence"],
                    e["summary"],
                    e["archived_url"],
                    e["added_by"],
                    e["added_at"],
                    e["recorded_at"],
                    len(e["corrections"]),
                    link.get("label", "not checked"),
                    link.get("http_status"),
                    link.get("final_url"),
                    _flag(link.get("moved")),
                    _flag(link.get("changed")),
                    link.get("checked_at"),
                )
            )
        self._insert("evidence", rows)
        history, cited = [], []
        for h in c["history"]:
            self.history_id += 1
            history.append(
                (
                    self.history_id,
                    ref,
                    h["at"],
                    h["recorded_at"],
                    h["kind"],
                    h["from"],
                    h["to"],
                    h["by"],
                    h["reason"],
                )
            )
            cited += [(self.history_id, eid) for eid in sorted(set(h["evidence_ids"]))]
        self._insert("history", history)
        self._insert("history_evidence", cited)
        targets = []
        for t in target["changes"]:
            self.target_id += 1
            targets.append(
                (
                    self.target_id,
                    ref,
                    t["at"],
                    t["recorded_at"],
                    t["by"],
                    t["from"],
                    t["to"],
                    t["reason"],
                    t["evidence_id"],
                )
            )
        self._insert("targets", targets)
        # One row per field changed, as in corrections.csv: the commitment's own corrections
        # and its evidence's, by the time each takes effect (the commitment's first on a tie).
        found = [(r["at"], 0, None, r) for r in c["corrections"]]
        for e in evidence:
            found += [(r["at"], e["id"], e["id"], r) for r in e["corrections"]]
        found.sort(key=lambda item: (item[0], item[1]))
        corrections = []
        for _at, _key, evidence_id, r in found:
            for change in r["changes"]:
                self.correction_id += 1
                corrections.append(
                    (
                        self.correction_id,
                        ref,
                        evidence_id,
                        r["at"],
                        r["recorded_at"],
                        r["by"],
                        r["reason"],
                        change["field"],
                        _text(change["old"]),
                        _text(change["new"]),
                    )
                )
        self._insert("corrections", corrections)
        notes = []
        for n in c["notes"]:  # public notes only: the JSON never holds another kind
            self.note_id += 1
            gone = n.get("withdrawn") or {}
            notes.append(
                (
                    self.note_id,
                    ref,
                    n["at"],
                    n["recorded_at"],
                    n["author"],
                    n["body"],
                    gone.get("at"),
                    gone.get("by"),
                    gone.get("reason"),
                )
            )
        self._insert("notes", notes)

    def close(self) -> None:
        """Indexes, full-text search, a foreign-key check, then ``VACUUM``: the file is whole
        and compact when this returns."""
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
            conn.execute("VACUUM")
        finally:
            conn.close()

    def abort(self) -> None:
        self.conn.close()


def write(
    session: Session | None, snap: model.Snapshot, path: Path, json_path: Path | None
) -> None:
    """Build the public database at ``path``: from ``json_path`` (the ``tracker.json`` this
    export has just written) when there is one, else from every commitment's public details,
    shaped by the same code that writes that JSON."""
    db = PublicDatabase(path, snap)
    try:
        if json_path is not None:
            for commitment in commitments_in_json(json_path):
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


def commitments_in_json(path: Path) -> Iterator[dict[str, Any]]:
    """The ``commitments`` of a ``tracker.json`` one at a time, without holding the whole
    document: it is written one commitment per line (see :class:`DataWriter`)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.rstrip("\n").endswith('"commitments": ['):
                break
        else:
            raise TrackerError(f"export: {path.name} has no commitments list")
        for line in handle:
            text = line.strip()
            if text.startswith("]"):
                return
            if text.endswith(","):
                text = text[:-1]
            item = json.loads(text)
            if not isinstance(item, dict):
                raise TrackerError(f"export: {path.name}: a commitment is not an object")
            yield item
    raise TrackerError(f"export: {path.name} ends inside its commitments list")
