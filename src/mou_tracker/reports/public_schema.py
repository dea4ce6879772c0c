"""The tables of ``data/tracker.sqlite`` (reports/public_db.py): one description per table, with
its columns, keys, indexes, full-text search and Datasette facets. Each drives the table's
``CREATE TABLE``, its ``INSERT`` (a column marked as a copy of a ``tracker.json`` field is taken
from that field as it is; the row builders give the others), the indexes and search built after
the rows, and the Datasette metadata (reports/datasette_meta.py), so none can disagree."""

from __future__ import annotations

from dataclasses import dataclass

SQLITE_FILE = "data/tracker.sqlite"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # TEXT or INTEGER
    description: str
    not_null: bool = False
    # The field of the ``tracker.json`` object a row comes from that this column copies as
    # it is; None when the row builder computes the value (see public_db.PublicDatabase).
    field: str | None = None


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
    """A column whose value the row builder computes."""
    return Column(name, type_, description, not_null)


def _j(
    name: str, type_: str, description: str, not_null: bool = False, field: str | None = None
) -> Column:
    """A column that copies a field of the JSON object as it is: ``field``, else its name."""
    return Column(name, type_, description, not_null, field or name)


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
            _j("ref", T, "stable reference, e.g. OAI-2.1", True),
            _j("memorandum", T, "the memorandum it comes from (memoranda.slug)", True),
            _c("report_order", INT, "order of the commitment in the reports", True),
            _j("section", T, "section of the memorandum", True),
            _j("origin", T, "clause (in the memorandum) or press release", True),
            _j("title", T, "short title", True),
            _j("summary", T, "the clause in the tracker's own words", True),
            _j("source_url", T, "where the wording was published", True),
            _j("text_basis", T, "how the wording was checked against the source", True),
            _j("theme", T, "theme", True),
            _j(
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
            _j(
                "status",
                T,
                "not_assessed, not_started, in_progress, partially_met, met, stalled or not_met",
                True,
            ),
            _j("status_since", T, "when the current status took effect (UTC)"),
            _j("status_reason", T, "the reason given for the current status"),
            _c("owners", T, "JSON array of the codes of every owning party", True),
            _c("lead_owners", T, "JSON array of the lead owners' codes", True),
            _c("support_owners", T, "JSON array of the supporting owners' codes", True),
            _j("tracked_since", T, "when tracking began: a time (UTC) or the signing date", True),
            _c("review_cadence", T, "how often it is reviewed", True),
            _c("last_reviewed", T, "date of the last review"),
            _c("next_review", T, "date the next review is due (scored commitments only)"),
            _c("review_overdue", INT, f"{_BOOL}: next review before the report date", True),
            _c("original_target", T, "first target date given, if any"),
            _c("current_target", T, "target date now, if any"),
            _c("evidence_count", INT, "evidence records on it (not distinct sources)", True),
            _j(
                "latest_evidence",
                T,
                "publication date of its newest dated evidence",
                field="evidence_newest_published",
            ),
            _c("stale", INT, f"{_BOOL}: scored and its newest evidence is old or missing", True),
            _j("page", T, "its Markdown page in the export", True),
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
            _j("party", T, "the owner (parties.code)", True),
            _j("role", T, "lead or support", True),
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
            _j("id", INT, "evidence number (as in the pages, JSON and CSV)", True),
            _c("ref", T, "the commitment it bears on (commitments.ref)", True),
            _j("published", T, "publication date (YYYY-MM-DD), if known"),
            _j("title", T, "title of the source", True),
            _j("publisher", T, "who published it"),
            _j("url", T, "where it is", True),
            _j(
                "kind",
                T,
                "official document, announcement, news report, FoI release, "
                "parliamentary record or data",
                True,
            ),
            _j("direction", T, "progress, against or context", True),
            _j("confidence", T, "primary, secondary or unverified", True),
            _j("summary", T, "what it shows, in one line"),
            _j("archived_url", T, "an archived copy, if any"),
            _j("added_by", T, "who added it", True),
            _j("added_at", T, "when it takes effect in the tracker (UTC)", True),
            _j("recorded_at", T, "when the tracker recorded it (UTC), if known"),
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
            _j("at", T, "when it takes effect (UTC)", True),
            _j("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _j("kind", T, "status (a change of status) or review (status confirmed)", True),
            _j("from_status", T, "status before", True, field="from"),
            _j("to_status", T, "status after", True, field="to"),
            _j("actor", T, "who made the change", True, field="by"),
            _j("reason", T, "why", True),
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
            _j("at", T, "when it takes effect (UTC)", True),
            _j("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _j("actor", T, "who set it", True, field="by"),
            _j("from_target", T, "target date before, if any", field="from"),
            _j("to_target", T, "target date after", True, field="to"),
            _j("reason", T, "why", True),
            _j("evidence_id", INT, "evidence cited (evidence.id), if any"),
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
            _j("at", T, "when it takes effect (UTC)", True),
            _j("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _j("actor", T, "who corrected it", True, field="by"),
            _j("reason", T, "why", True),
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
            _j("at", T, "when it was written (UTC)", True),
            _j("recorded_at", T, "when the tracker recorded it (UTC), if known"),
            _j("author", T, "who wrote it", True),
            _j("body", T, "the note (Markdown)", True),
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


def quoted(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def create_sql(table: Table) -> str:
    lines = [
        f"  {quoted(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in table.columns
    ]
    lines.append(f"  PRIMARY KEY ({', '.join(quoted(k) for k in table.primary_key)})")
    for column, other, other_column in table.foreign_keys:
        lines.append(
            f"  FOREIGN KEY ({quoted(column)}) REFERENCES {quoted(other)} ({quoted(other_column)})"
        )
    return f"CREATE TABLE {quoted(table.name)} (\n" + ",\n".join(lines) + "\n)"


def insert_sql(table: Table, rowid: bool = False) -> str:
    """The table's INSERT. Its values come in the order the row builders give them: first the
    columns copied from the JSON object (``Column.field``), then the computed ones, each group
    in table order. The order of the names in an INSERT does not change the stored row.
    ``rowid``: the row's rowid comes first, given instead of taken as the next free one."""
    names = [c.name for c in table.columns if c.field] + [
        c.name for c in table.columns if not c.field
    ]
    if rowid:
        names.insert(0, "rowid")
    marks = ", ".join("?" for _ in names)
    return (
        f"INSERT INTO {quoted(table.name)} ({', '.join(quoted(n) for n in names)}) VALUES ({marks})"
    )
