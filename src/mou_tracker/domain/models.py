"""SQLModel tables. Relationships are not declared: every query loads what it needs explicitly,
so a hidden per-row lazy load (N+1) cannot happen.

Editable rows (memorandum, commitment, evidence) carry ``version``, ``updated_at`` and
``updated_by``: every write is ``UPDATE ... WHERE version = :seen`` and a row count of zero is a
conflict that names who changed the row and when (rule 3). History, evidence revisions and notes
are append-only (rule 2): the ORM refuses to update or delete them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Table, UniqueConstraint, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC timestamps on every backend (SQLite keeps no zone; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC timestamps")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    from mou_tracker.domain import clock

    return clock.now()


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _clock() -> datetime:
    return utcnow()  # looked up at each call, so a test can replace ``utcnow``


def _recorded() -> Any:
    """``recorded_at``: when a record of change was entered in this tracker, as opposed to
    ``at``, when it takes effect (which may be earlier: an assessment dated on the evidence
    behind it). Set from the clock on every insert that does not restore it from a dump; no
    person, CSV or form supplies it. NULL only in rows that a tool outside the tracker wrote."""
    return Field(
        default_factory=_clock,
        sa_column=Column(UTCDateTime(), nullable=True, index=True, default=_clock),
    )


def _db_user() -> Any:
    """``db_user``: on PostgreSQL, the role that made the connection which inserted the row
    (``session_user``), set by a ``BEFORE INSERT`` trigger (:func:`db_user_ddl`) whatever the
    client sends, so a row written with plain SQL is attributed too. The display actor
    (``actor``, ``by``, ``author``, ``added_by``) stays beside it. NULL on SQLite, which does not
    authenticate users, and in rows written before migration 0009."""
    return Field(default=None, max_length=63)


class Party(SQLModel, table=True):
    __tablename__ = "party"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    source_hash: str | None = Field(default=None, max_length=64)


class Memorandum(SQLModel, table=True):
    __tablename__ = "memorandum"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    parties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    signatories: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    signed: date
    source_url: str = Field(max_length=2000)
    landing_url: str | None = Field(default=None, max_length=2000)
    legal_status: str = Field(max_length=2000)
    review_cadence: str = Field(max_length=40)
    summary: str | None = Field(default=None, max_length=2000)
    source_hash: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1)
    updated_at: datetime = _ts()
    updated_by: str = Field(max_length=100)


class Commitment(SQLModel, table=True):
    __tablename__ = "commitment"
    __table_args__ = (Index("ix_commitment_memo_position", "memorandum_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    memorandum_id: int = Field(foreign_key="memorandum.id", index=True)
    ref: str = Field(max_length=40, unique=True, index=True)
    position: int = Field(default=0)
    section: str = Field(max_length=200)
    origin: str = Field(max_length=20)
    title: str = Field(max_length=200, index=True)
    summary: str = Field(max_length=2000)
    source_url: str = Field(max_length=2000)
    text_basis: str = Field(max_length=20)
    theme: str = Field(max_length=100, index=True)
    strength: str = Field(max_length=20, index=True)
    status: str = Field(default="not_assessed", max_length=20, index=True)
    status_changed_at: datetime | None = _ts(nullable=True)
    review_cadence: str | None = Field(default=None, max_length=40)
    last_reviewed: date | None = Field(default=None)
    next_review: date | None = Field(default=None, index=True)
    target: date | None = Field(default=None)  # the current target, after any re-baselining
    original_target: date | None = Field(default=None)
    # When tracking began: NULL means "since the memorandum was signed" (every clause of the
    # text); a commitment tracked later (a new undertaking) carries its own time.
    added_at: datetime | None = _ts(nullable=True)
    # The refs of the clauses this commitment restates (a press-release undertaking that
    # repeats a clause): counted with them, never separately. NULL: restates nothing.
    restates: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    source_hash: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1)
    updated_at: datetime = _ts(index=True)
    updated_by: str = Field(max_length=100)


class Owner(SQLModel, table=True):
    __tablename__ = "owner"

    commitment_id: int = Field(foreign_key="commitment.id", primary_key=True)
    party_id: int = Field(foreign_key="party.id", primary_key=True, index=True)
    role: str = Field(max_length=10)


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("commitment_id", "url", name="uq_evidence_commitment_url"),
        # confidence last: the list's count and newest date of current (not withdrawn)
        # records read this index alone (migration 0012)
        Index("ix_evidence_commitment_current", "commitment_id", "published", "confidence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: uq_evidence_commitment_url and ix_evidence_commitment_current both
    # lead with commitment_id; a third index cost every insert (migration 0004).
    commitment_id: int = Field(foreign_key="commitment.id")
    url: str = Field(max_length=2000)
    title: str = Field(max_length=300)
    publisher: str | None = Field(default=None, max_length=200)
    published: date | None = Field(default=None, index=True)
    kind: str = Field(max_length=30)
    direction: str = Field(max_length=20)
    confidence: str = Field(max_length=20)
    summary: str | None = Field(default=None, max_length=500)
    archived_url: str | None = Field(default=None, max_length=2000)
    added_by: str = Field(max_length=100)
    added_at: datetime = _ts(index=True)
    recorded_at: datetime | None = _recorded()
    source_hash: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1)
    updated_at: datetime = _ts(index=True)
    updated_by: str = Field(max_length=100)
    db_user: str | None = _db_user()


class EvidenceRevision(SQLModel, table=True):
    """One correction of an evidence record: which fields changed, from what, to what, by whom."""

    __tablename__ = "evidence_revision"

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    at: datetime = _ts()
    recorded_at: datetime | None = _recorded()
    by: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    changes: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    db_user: str | None = _db_user()


class CommitmentRevision(SQLModel, table=True):
    """Append-only: one correction of how a commitment is recorded (its wording, summary,
    strength, owners, origin, text basis...): the fields changed, from what, to what, by whom,
    when and why. The public corrections log (DESIGN.md rule 8)."""

    __tablename__ = "commitment_revision"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    at: datetime = _ts()
    recorded_at: datetime | None = _recorded()
    by: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    changes: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    db_user: str | None = _db_user()


class HistoryEntry(SQLModel, table=True):
    """Append-only: a status change (``kind='status'``) or a review with no change (``'review'``)."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_commitment_at", "commitment_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    kind: str = Field(default="status", max_length=10)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime = _ts(index=True)
    recorded_at: datetime | None = _recorded()
    actor: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    # The hash chain over the commitment's history (see ``mou_tracker.domain.chain``): the chain
    # of the entry before this one, and sha256 of that plus this row. Derived: never in a dump.
    chain_prev: str | None = Field(default=None, max_length=64)
    chain: str | None = Field(default=None, max_length=64)
    db_user: str | None = _db_user()


class HistoryEvidence(SQLModel, table=True):
    __tablename__ = "history_evidence"

    history_id: int = Field(foreign_key="history.id", primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True, index=True)


class Note(SQLModel, table=True):
    __tablename__ = "note"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    visibility: str = Field(max_length=10)
    body: str = Field(max_length=10000)
    author: str = Field(max_length=100)
    at: datetime = _ts(index=True)
    recorded_at: datetime | None = _recorded()
    db_user: str | None = _db_user()
    # The note this one withdraws (same commitment; domain/undo.py), or None (migration 0011).
    withdraws: int | None = Field(default=None, index=True)


class TargetChange(SQLModel, table=True):
    """Append-only: a commitment's target date set or re-baselined, with why and on what evidence."""

    __tablename__ = "target_change"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    at: datetime = _ts()
    recorded_at: datetime | None = _recorded()
    by: str = Field(max_length=100)
    old_target: date | None = Field(default=None)
    new_target: date
    reason: str = Field(max_length=2000)
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")
    db_user: str | None = _db_user()


class LinkCheck(SQLModel, table=True):
    """Append-only log of fetching a URL: status, where it ended up, a hash of its text, and a
    compressed, size-capped snapshot of that text so the evidence outlives the page."""

    __tablename__ = "link_check"
    __table_args__ = (Index("ix_link_check_url_at", "url", "checked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    checked_at: datetime = _ts()
    state: str = Field(max_length=12)  # ok | broken | unreachable
    http_status: int | None = Field(default=None)
    final_url: str | None = Field(default=None, max_length=2000)
    moved: bool = Field(default=False)
    changed: bool = Field(default=False)
    content_hash: str | None = Field(default=None, max_length=64)
    page_title: str | None = Field(default=None, max_length=300)
    error: str | None = Field(default=None, max_length=300)
    snapshot: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    snapshot_chars: int | None = Field(default=None)


APPEND_ONLY = (
    HistoryEntry,
    HistoryEvidence,
    EvidenceRevision,
    CommitmentRevision,
    Note,
    TargetChange,
    LinkCheck,
)


class AppendOnlyError(RuntimeError):
    pass


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise AppendOnlyError(
        f"{type(target).__tablename__} is append-only: record a correction as a new entry"
    )


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """Triggers that make the database itself refuse UPDATE and DELETE on an append-only table
    (run with ``exec_driver_sql``: hence ``%%`` for psycopg),
    so even SQL that bypasses the ORM cannot rewrite history."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION mou_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION mou_append_only()",
        ]
    return []


# Primary keys of the tables whose rows must never be replaced in place (SQLite's REPLACE
# deletes the old row and inserts the new one, so no UPDATE trigger sees it).
_PRIMARY_KEYS = {
    "history": ("id",),
    "history_evidence": ("history_id", "evidence_id"),
    "evidence_revision": ("id",),
    "commitment_revision": ("id",),
    "note": ("id",),
    "target_change": ("id",),
    "link_check": ("id",),
    "sync_run": ("id",),
    "commitment": ("id",),
    "evidence": ("id",),
}

# A commitment's status moves only with a history entry: the newest status entry of that
# commitment (by time, then id) must already record the move to the new status.
_NEWEST_STATUS = (
    "(SELECT h.to_status FROM history h WHERE h.commitment_id = NEW.id AND h.kind = 'status' "
    "ORDER BY h.at DESC, h.id DESC LIMIT 1)"
)
_CITED = "EXISTS (SELECT 1 FROM history_evidence he WHERE he.evidence_id = NEW.id)"
_NEWEST_REVISION = (
    "(SELECT r.changes FROM evidence_revision r WHERE r.evidence_id = NEW.id "
    "ORDER BY r.id DESC LIMIT 1)"
)
STATUS_REFUSED = "commitment status changes only with a history entry"
PUBLISHED_REFUSED = (
    "the publication date of evidence cited by history changes only with a recorded correction"
)


def history_guard_ddl(dialect: str, table: str) -> list[str]:
    """Triggers that keep the history from being replaced or bypassed (issue 20), for one table
    (run with ``exec_driver_sql``, like :func:`append_only_ddl`).

    * SQLite: a row is never replaced. A ``BEFORE INSERT`` trigger aborts when a row with the
      new row's primary key exists, so ``INSERT OR REPLACE``/``REPLACE`` (which would delete the
      old row without firing its DELETE trigger) and upserts are refused from any client, the
      sqlite3 shell included. The tracker's own connections also turn ``recursive_triggers``
      on (storage/engine.py).
    * PostgreSQL: ``TRUNCATE`` of an append-only table is refused (row triggers never see it).
      ``INSERT ... ON CONFLICT DO UPDATE`` already fires the UPDATE trigger.
    * Both: ``commitment.status`` changes only when the newest status entry of the commitment's
      history moves it to the new status; ``evidence.published`` of a record cited by history
      changes only when the newest revision of that record lists the change of ``published``
      from the old date to the new one (``changes`` holds ``{"field", "old", "new"}`` with dates
      as ``YYYY-MM-DD`` and no date as ``""``), so the correction is on the record first.
    """
    keys = _PRIMARY_KEYS.get(table)
    if keys is None:
        return []
    append_only = table not in ("commitment", "evidence")
    statements: list[str] = []
    if dialect == "sqlite":
        same_key = " AND ".join(f"x.{k} = NEW.{k}" for k in keys)
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} x WHERE {same_key}) "
            f"BEGIN SELECT RAISE(ABORT, '{table}: a row with this key exists and is never "
            "replaced'); END"
        )
        if table == "commitment":
            statements.append(
                "CREATE TRIGGER IF NOT EXISTS commitment_status_needs_history "
                "BEFORE UPDATE OF status ON commitment "
                f"WHEN NEW.status IS NOT OLD.status AND NEW.status IS NOT {_NEWEST_STATUS} "
                f"BEGIN SELECT RAISE(ABORT, '{STATUS_REFUSED}'); END"
            )
        if table == "evidence":
            statements.append(
                "CREATE TRIGGER IF NOT EXISTS evidence_published_needs_revision "
                "BEFORE UPDATE OF published ON evidence "
                f"WHEN NEW.published IS NOT OLD.published AND {_CITED} AND NOT EXISTS ("
                f"SELECT 1 FROM json_each({_NEWEST_REVISION}) c "
                "WHERE json_extract(c.value, '$.field') = 'published' "
                "AND json_extract(c.value, '$.old') IS coalesce(OLD.published, '') "
                "AND json_extract(c.value, '$.new') IS coalesce(NEW.published, '')) "
                f"BEGIN SELECT RAISE(ABORT, '{PUBLISHED_REFUSED}'); END"
            )
        return statements
    if dialect != "postgresql":
        return []
    if append_only:
        statements += [
            "CREATE OR REPLACE FUNCTION mou_no_truncate() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '%% is append-only: TRUNCATE refused', TG_TABLE_NAME; END $$ "
            "LANGUAGE plpgsql",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mou_no_truncate()",
        ]
    if table == "commitment":
        statements += [
            "CREATE OR REPLACE FUNCTION mou_status_needs_history() RETURNS trigger AS $$ "
            f"BEGIN IF NEW.status IS DISTINCT FROM {_NEWEST_STATUS} THEN "
            f"RAISE EXCEPTION '{STATUS_REFUSED} (%%)', NEW.ref; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql",
            "DROP TRIGGER IF EXISTS commitment_status_needs_history ON commitment",
            "CREATE TRIGGER commitment_status_needs_history BEFORE UPDATE OF status ON commitment "
            "FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status) "
            "EXECUTE FUNCTION mou_status_needs_history()",
        ]
    if table == "evidence":
        day = "coalesce(to_char({}.published, 'YYYY-MM-DD'), '')"
        statements += [
            "CREATE OR REPLACE FUNCTION mou_published_needs_revision() RETURNS trigger AS $$ "
            f"BEGIN IF {_CITED} AND NOT EXISTS ("
            f"SELECT 1 FROM json_array_elements({_NEWEST_REVISION}::json) c "
            "WHERE c->>'field' = 'published' "
            f"AND c->>'old' IS NOT DISTINCT FROM {day.format('OLD')} "
            f"AND c->>'new' IS NOT DISTINCT FROM {day.format('NEW')}) THEN "
            f"RAISE EXCEPTION '{PUBLISHED_REFUSED} (evidence #%%)', NEW.id; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "DROP TRIGGER IF EXISTS evidence_published_needs_revision ON evidence",
            "CREATE TRIGGER evidence_published_needs_revision BEFORE UPDATE OF published "
            "ON evidence FOR EACH ROW WHEN (NEW.published IS DISTINCT FROM OLD.published) "
            "EXECUTE FUNCTION mou_published_needs_revision()",
        ]
    return statements


def table_of(model: type[SQLModel]) -> Table:
    """The Core ``Table`` a table model maps, for Core statements and DDL events."""
    # SQLModel sets ``__table__`` on every ``table=True`` class but does not declare it.
    return model.__table__  # type: ignore[attr-defined]  # undeclared by SQLModel (see above)


def _install_guards(target: Any, connection: Any, **_: Any) -> None:
    for statement in history_guard_ddl(connection.dialect.name, target.name):
        connection.exec_driver_sql(statement)


def _install_triggers(target: Any, connection: Any, **_: Any) -> None:
    for statement in append_only_ddl(connection.dialect.name, target.name):
        connection.exec_driver_sql(statement)
    _install_guards(target, connection)


for _model in APPEND_ONLY:
    event.listen(table_of(_model), "after_create", _install_triggers)
for _guarded in (Commitment, Evidence):
    event.listen(table_of(_guarded), "after_create", _install_guards)


class Meta(SQLModel, table=True):
    """Facts about the database itself (which file seeded it, and when)."""

    __tablename__ = "tracker_meta"

    key: str = Field(primary_key=True, max_length=50)
    value: str = Field(max_length=2000)


class SyncRun(SQLModel, table=True):
    """Append-only: one sync that changed the database. The file's records name their own
    authors (``added_by``, ``by``); this row names who loaded the file, when, and which file
    (its name and SHA-256), so file-supplied history can always be traced to a person.

    ``into_empty`` marks the sync that filled an empty database (the first seed, or a restore
    from a dump). Such a run describes this copy of the data rather than the data itself, so
    ``dump`` leaves it out; every other run is dumped and restored."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str = Field(max_length=100)
    file_name: str = Field(max_length=300)
    file_sha256: str = Field(max_length=64)
    added: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kept: int = Field(default=0)
    conflicts: int = Field(default=0)
    into_empty: bool = Field(default=False)
    db_user: str | None = _db_user()


# Append-only like the tables in APPEND_ONLY. Not listed there: the table only exists from
# migration 0006 on, so code that walks that tuple in an earlier migration must not meet it.
event.listen(SyncRun, "before_update", _refuse)
event.listen(SyncRun, "before_delete", _refuse)
event.listen(table_of(SyncRun), "after_create", _install_triggers)


# The tables whose rows record a change made by someone: PostgreSQL stamps ``db_user`` on each.
STAMPED = (
    "history",
    "evidence",
    "evidence_revision",
    "commitment_revision",
    "note",
    "target_change",
    "sync_run",
)


def db_user_ddl(dialect: str, table: str) -> list[str]:
    """PostgreSQL: a ``BEFORE INSERT`` trigger that sets ``db_user`` to ``session_user`` (the
    authenticated login role, which ``SET ROLE`` does not change), overwriting whatever the
    insert supplied. Nothing on SQLite."""
    if dialect != "postgresql" or table not in STAMPED:
        return []
    return [
        "CREATE OR REPLACE FUNCTION mou_stamp_db_user() RETURNS trigger AS $$ "
        "BEGIN NEW.db_user := session_user; RETURN NEW; END $$ LANGUAGE plpgsql",
        f"DROP TRIGGER IF EXISTS {table}_db_user ON {table}",
        f"CREATE TRIGGER {table}_db_user BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION mou_stamp_db_user()",
    ]


def _install_db_user(target: Any, connection: Any, **_: Any) -> None:
    for statement in db_user_ddl(connection.dialect.name, target.name):
        connection.exec_driver_sql(statement)


for _stamped in (
    HistoryEntry,
    Evidence,
    EvidenceRevision,
    CommitmentRevision,
    Note,
    TargetChange,
    SyncRun,
):
    event.listen(table_of(_stamped), "after_create", _install_db_user)


class TrackerUser(SQLModel, table=True):
    """A display name for a PostgreSQL login role (``mou-tracker users set ROLE NAME``): what
    the tracker records and shows as the actor of that role's changes. Unused on SQLite."""

    __tablename__ = "tracker_user"

    role_name: str = Field(primary_key=True, max_length=63)
    display_name: str = Field(max_length=100, unique=True)
    set_at: datetime = _ts()
    set_by: str = Field(max_length=63)
