"""Read side: plain frozen dataclasses built with a bounded number of queries.

Lists are filtered, sorted and paged in SQL; relationships are loaded in bulk for the page only,
so the number of queries does not grow with the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, and_, cast, exists, func, select, true
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement, Select, Subquery
from sqlmodel import Session, col

from mou_tracker.domain import derived
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput, NotFound
from mou_tracker.domain.models import (
    Commitment,
    CommitmentRevision,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    LinkCheck,
    Memorandum,
    Note,
    Owner,
    Party,
    TargetChange,
    table_of,
)
from mou_tracker.domain.vocab import STATUSES, STRENGTHS


@dataclass(frozen=True)
class OwnerView:
    code: str
    name: str
    role: str


@dataclass(frozen=True)
class CommitmentRow:
    ref: str
    memorandum: str
    section: str
    title: str
    theme: str
    strength: str
    status: str
    owners: tuple[OwnerView, ...]
    evidence_count: int
    latest_evidence: date | None
    last_reviewed: date | None
    next_review: date | None
    version: int
    updated_at: datetime
    updated_by: str
    restates: tuple[str, ...] = ()  # refs of the clauses it restates: counted with them

    @property
    def counted(self) -> bool:
        """Counted in headline figures: scored, and not a restatement of a clause counted
        already (each promise once)."""
        return self.strength != "vision" and not self.restates

    def overdue(self, today: date) -> bool:
        return derived.is_overdue(self.strength, self.next_review, today)

    def stale(self, today: date) -> bool:
        """Scored, and its newest evidence is old or missing (``derived.is_stale``)."""
        return derived.is_stale(self.strength, self.latest_evidence, today)

    @property
    def owners_text(self) -> str:
        return ", ".join(f"{o.code} ({o.role})" for o in self.owners)


@dataclass(frozen=True)
class LinkState:
    """The latest check of one URL."""

    url: str
    checked_at: datetime
    state: str  # ok | broken | unreachable
    http_status: int | None
    final_url: str | None
    moved: bool
    changed: bool
    page_title: str | None
    error: str | None
    content_hash: str | None
    snapshot_chars: int | None

    @property
    def needs_attention(self) -> bool:
        return self.state != "ok" or self.moved or self.changed

    @property
    def label(self) -> str:
        if self.state == "broken":
            return f"broken (HTTP {self.http_status})"
        if self.state == "unreachable":
            return "unreachable"
        flags = [word for word, on in (("moved", self.moved), ("changed", self.changed)) if on]
        return ", ".join(flags) if flags else "ok"


@dataclass(frozen=True)
class TargetView:
    at: datetime
    by: str
    old_target: date | None
    new_target: date
    reason: str
    evidence_id: int | None
    evidence_url: str | None
    recorded_at: datetime | None = None  # when the tracker recorded it (``at``: effective)


@dataclass(frozen=True)
class EvidenceView:
    id: int
    url: str
    title: str
    publisher: str | None
    published: date | None
    kind: str
    direction: str
    confidence: str
    summary: str | None
    archived_url: str | None
    added_by: str
    added_at: datetime
    version: int
    updated_at: datetime
    updated_by: str
    revisions: tuple[RevisionView, ...] = ()
    link: LinkState | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class RevisionView:
    at: datetime
    by: str
    reason: str
    changes: tuple[tuple[str, str, str], ...]
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class HistoryView:
    id: int
    kind: str
    from_status: str
    to_status: str
    at: datetime
    actor: str
    reason: str
    evidence_ids: tuple[int, ...]
    evidence_urls: tuple[str, ...]
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class NoteView:
    id: int
    visibility: str
    body: str
    author: str
    at: datetime
    recorded_at: datetime | None = None
    withdraws: int | None = None  # the id of the note this one withdraws (domain/undo.py)


@dataclass(frozen=True)
class MemorandumView:
    slug: str
    title: str
    parties: tuple[str, ...]
    signatories: tuple[tuple[str, str, str], ...]
    signed: date
    source_url: str
    landing_url: str | None
    legal_status: str
    review_cadence: str
    summary: str | None


@dataclass(frozen=True)
class CommitmentDetail:
    ref: str
    memorandum: MemorandumView
    position: int
    section: str
    origin: str
    title: str
    summary: str
    source_url: str
    text_basis: str
    theme: str
    strength: str
    status: str
    status_changed_at: datetime | None
    review_cadence: str
    last_reviewed: date | None
    next_review: date | None
    target: date | None
    owners: tuple[OwnerView, ...]
    evidence: tuple[EvidenceView, ...]
    history: tuple[HistoryView, ...]
    notes: tuple[NoteView, ...] = field(default_factory=tuple)
    original_target: date | None = None
    added_at: datetime | None = None  # None: tracked since the memorandum was signed
    targets: tuple[TargetView, ...] = ()
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str = ""
    restates: tuple[str, ...] = ()  # refs of the clauses it restates
    corrections: tuple[RevisionView, ...] = ()  # the public corrections log, oldest first

    @property
    def status_reason(self) -> str | None:
        for entry in reversed(self.history):
            if entry.kind == "status":
                return entry.reason
        return None


def memorandum_view(m: Memorandum) -> MemorandumView:
    return MemorandumView(
        slug=m.slug,
        title=m.title,
        parties=tuple(m.parties),
        signatories=tuple((s["name"], s["role"], s["party"]) for s in m.signatories),
        signed=m.signed,
        source_url=m.source_url,
        landing_url=m.landing_url,
        legal_status=m.legal_status,
        review_cadence=m.review_cadence,
        summary=m.summary,
    )


def memoranda(session: Session) -> list[MemorandumView]:
    query = select(Memorandum).order_by(col(Memorandum.id))
    return [memorandum_view(m) for m in session.scalars(query)]


# --- the list -------------------------------------------------------------------------------

# The list's own columns are the tables' Core columns, not the ORM's attributes: a query made
# of them alone (the whole list, unfiltered) compiles without configuring the ORM's mappers,
# which would cost a short command such as ``list`` more than the query itself.
_C = table_of(Commitment).c
_MEMO = table_of(Memorandum)

SORT_KEYS = {
    "position": (_C.memorandum_id, _C.position),
    "ref": (_C.ref,),
    "title": (_C.title,),
    "status": (_C.status,),
    "strength": (_C.strength,),
    "theme": (_C.theme,),
    "next_review": (_C.next_review,),
    "updated": (_C.updated_at,),
}


@dataclass(frozen=True)
class ListFilter:
    status: tuple[str, ...] = ()
    owner: str | None = None
    theme: str | None = None
    strength: tuple[str, ...] = ()
    memorandum: str | None = None
    overdue_on: date | None = None
    search: str | None = None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _conditions(
    flt: ListFilter, dialect: str, *, searched: ColumnElement[bool] | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a filter; ``dialect`` picks how the search index is asked, unless
    the caller chose the search condition (``searched``: ``derived.page_condition``)."""
    conds: list[ColumnElement[bool]] = []
    for status in flt.status:
        v.choice(status, "--status", STATUSES)
    for strength in flt.strength:
        v.choice(strength, "--strength", STRENGTHS)
    if flt.status:
        conds.append(col(Commitment.status).in_(flt.status))
    if flt.strength:
        conds.append(col(Commitment.strength).in_(flt.strength))
    if flt.theme:
        conds.append(func.lower(col(Commitment.theme)) == flt.theme.lower())
    if flt.memorandum:
        conds.append(
            col(Commitment.memorandum_id)
            == select(col(Memorandum.id))
            .where(col(Memorandum.slug) == flt.memorandum)
            .scalar_subquery()
        )
    if flt.owner:
        owner = flt.owner.strip().upper()
        conds.append(
            exists(
                select(col(Owner.commitment_id))
                .join(Party, col(Party.id) == col(Owner.party_id))
                .where(
                    col(Owner.commitment_id) == col(Commitment.id),
                    func.upper(col(Party.code)) == owner,
                )
            )
        )
    if flt.overdue_on is not None:
        conds.append(derived.overdue_condition(flt.overdue_on))
    if searched is None:
        searched = derived.search_condition(dialect, flt.search)
    if searched is not None:
        conds.append(searched)
    return conds


def check_owner(session: Session, code: str | None) -> None:
    if code is None:
        return
    found = session.scalar(
        select(col(Party.id)).where(func.upper(col(Party.code)) == code.strip().upper())
    )
    if found is None:
        raise NotFound("--owner", code, "party with code")


def count_commitments(session: Session, flt: ListFilter = ListFilter()) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Commitment).where(*_conditions(flt, _dialect(session)))
        )
        or 0
    )


def _page_query(
    session: Session,
    flt: ListFilter,
    columns: Sequence[Any],
    *,
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
    evidence: bool = True,
) -> Select[Any]:
    """One page of commitments as ``columns`` (of the commitment table, ``memorandum.slug`` and,
    unless ``evidence`` is False, the evidence aggregates ``_EV.c.n``/``_EV.c.latest``),
    filtered and sorted. No sort or filter reads the aggregates."""
    if sort not in SORT_KEYS:
        raise InvalidInput("--sort", f"{sort!r} is not one of {', '.join(SORT_KEYS)}")
    order: list[ColumnElement[Any]] = [c.desc() if descending else c.asc() for c in SORT_KEYS[sort]]
    order.append(_C.id.desc() if descending else _C.id.asc())
    query = select(*columns).join(_MEMO, _MEMO.c.id == _C.memorandum_id)
    if evidence:
        query = query.outerjoin(_EV, _EV.c.cid == _C.id)
    query = query.where(*_conditions(flt, _dialect(session))).order_by(*order).offset(offset)
    return query if limit is None else query.limit(limit)


def _evidence_aggregates() -> Subquery:
    """Per commitment: how many current evidence records, and the newest publication date."""
    return (
        select(
            col(Evidence.commitment_id).label("cid"),
            func.count(col(Evidence.id)).label("n"),
            func.max(col(Evidence.published)).label("latest"),
        )
        .where(derived.current_evidence())
        .group_by(col(Evidence.commitment_id))
        .subquery()
    )


_EV = _evidence_aggregates()


def list_commitments(
    session: Session,
    flt: ListFilter = ListFilter(),
    *,
    sort: str = "position",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[CommitmentRow]:
    """One page of commitments in two queries: rows with evidence aggregates, then owners."""
    c = table_of(Commitment).c
    # Columns, not ORM objects: a list of 100,000 rows builds no entities.
    columns = (
        c.id,
        c.ref,
        c.section,
        c.title,
        c.theme,
        c.strength,
        c.status,
        c.last_reviewed,
        c.next_review,
        c.version,
        c.updated_at,
        c.updated_by,
        c.restates,
        col(Memorandum.slug),
        _EV.c.n,
        _EV.c.latest,
    )
    page = _page_query(
        session, flt, columns, sort=sort, descending=descending, limit=limit, offset=offset
    )
    rows = session.execute(page).all()
    owners = _owners_for(session, [r.id for r in rows])
    return [
        CommitmentRow(
            ref=r.ref,
            memorandum=r.slug,
            section=r.section,
            title=r.title,
            theme=r.theme,
            strength=r.strength,
            status=r.status,
            owners=owners.get(r.id, ()),
            evidence_count=int(r.n or 0),
            latest_evidence=r.latest,
            last_reviewed=r.last_reviewed,
            next_review=r.next_review,
            version=r.version,
            updated_at=r.updated_at,
            updated_by=r.updated_by,
            restates=tuple(r.restates or ()),
        )
        for r in rows
    ]


class ListLine(NamedTuple):
    """One line of ``mou-tracker list``: what it prints and nothing more."""

    ref: str
    memorandum: str
    status: str
    strength: str
    theme: str
    owners: str  # as CommitmentRow.owners_text
    evidence_count: int
    latest_evidence: date | None
    last_reviewed: date | None
    next_review: date | None
    title: str


def list_lines(
    session: Session,
    flt: ListFilter = ListFilter(),
    *,
    sort: str = "position",
    limit: int | None = None,
) -> list[ListLine]:
    """The rows of :func:`list_commitments` as the command line prints them, read the quick way:
    only the printed columns, through the Core connection (no ORM result machinery), owners as
    one text each, and the evidence counts by a query of their own (one pass over an index
    that covers it) rather than joined to every row; when the page is every commitment, the
    owner and evidence tables are read whole rather than by binding every id.
    ``tests/cli/test_list_lines.py`` holds it to list_commitments."""
    c = _C
    columns = (
        c.id,
        c.ref,
        _MEMO.c.slug,
        c.status,
        c.strength,
        c.theme,
        c.last_reviewed,
        c.next_review,
        c.title,
    )
    page = _page_query(
        session, flt, columns, sort=sort, descending=False, limit=limit, offset=0, evidence=False
    )
    conn = session.connection()
    rows = conn.execute(page).all()
    ids = None if limit is None and flt == ListFilter() else [r[0] for r in rows]
    owners = _owner_texts(conn, ids)
    evidence = _evidence_counts(conn, ids)
    none = (0, None)
    return [
        ListLine(
            ref,
            slug,
            status,
            strength,
            theme,
            owners.get(cid, ""),
            *evidence.get(cid, none),
            last,
            due,
            title,
        )
        for cid, ref, slug, status, strength, theme, last, due, title in rows
    ]


def _chunks(ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    """``ids`` in pieces small enough to bind (``[None]``: every row, nothing bound)."""
    return [None] if ids is None else [ids[i : i + 5000] for i in range(0, len(ids), 5000)]


def _evidence_counts(
    conn: Connection, ids: Sequence[int] | None
) -> dict[int, tuple[int, date | None]]:
    """:data:`_EV` for each of ``ids`` (``None``: every commitment): how many current evidence
    records, and the newest publication date."""
    found: dict[int, tuple[int, date | None]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(_evidence_counts_query(chunk)).all()
        found.update((cid, (n, latest)) for cid, n, latest in rows)
    return found


def _evidence_counts_query(chunk: Sequence[int] | None) -> Select[Any]:
    """The query of :func:`_evidence_counts`, answered from ``ix_evidence_commitment_current``
    alone (commitment, published, confidence: migration 0012)."""
    e = table_of(Evidence).c
    query = (
        select(e.commitment_id, func.count(), func.max(e.published))
        .where(derived.current_evidence())
        .group_by(e.commitment_id)
    )
    return query if chunk is None else query.where(e.commitment_id.in_(chunk))


def _owner_query() -> Select[int, str, str, str]:
    return (
        select(col(Owner.commitment_id), col(Party.code), col(Party.name), col(Owner.role))
        .join(Party, col(Party.id) == col(Owner.party_id))
        .order_by(col(Owner.commitment_id), col(Owner.role), col(Party.code))
    )


def _owner_texts(conn: Connection, ids: Sequence[int] | None) -> dict[int, str]:
    """``CommitmentRow.owners_text`` for each of ``ids`` (``None``: every commitment)."""
    o, p = table_of(Owner).c, table_of(Party).c
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        query = (
            select(o.commitment_id, p.code + " (" + o.role + ")")
            .join_from(table_of(Owner), table_of(Party), p.id == o.party_id)
            .order_by(o.commitment_id, o.role, p.code)
        )
        if chunk is not None:
            query = query.where(o.commitment_id.in_(chunk))
        rows = conn.execute(query).all()  # one fetchall, not a fetch a row
        found.update(
            (cid, ", ".join(text for _, text in group)) for cid, group in groupby(rows, _first)
        )
    return found


def _first(row: Any) -> Any:
    return row[0]


# How many values one IN list binds where a list may be long (the citations of a batch).
BIND_CHUNK = 5000


def among(column: Any, values: Sequence[int], dialect: str) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL with the range of the values beside it. Integers
    only: Python's order of strings is not the database's collation, so a range of text
    values taken here could leave some of them out.

    A PostgreSQL database that has never been analysed (just loaded by a sync or a restore,
    with autovacuum off or not yet round) has no statistics: the planner then guesses that an
    IN list of a few hundred ids matches most of a table, and reads all of it for each batch
    of an export (every evidence record of the tracker, 200 times at 100,000 commitments), so
    the export grows with the square of the tracker. A range it guesses at half a percent of
    the rows, so it reads the batch's rows through the index instead. With statistics the
    range changes nothing: it holds every value of the list. SQLite plans an IN list well
    without statistics, so it gets the list alone."""
    listed = column.in_(values)
    if dialect != "postgresql" or not values:
        return listed
    return and_(column.between(min(values), max(values)), listed)


def _owners_for(session: Session, ids: Sequence[int]) -> dict[int, tuple[OwnerView, ...]]:
    result: dict[int, list[OwnerView]] = defaultdict(list)
    if not ids:
        return {}
    dialect = _dialect(session)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        query = _owner_query().where(among(col(Owner.commitment_id), chunk, dialect))
        for cid, code, name, role in session.execute(query):
            result[cid].append(OwnerView(code, name, role))
    return {k: tuple(vals) for k, vals in result.items()}


# --- one commitment ----------------------------------------------------------------------------


def commitment_detail(
    session: Session, ref: str, *, include_internal: bool = True
) -> CommitmentDetail:
    clean = v.ref(ref)
    c = session.scalars(select(Commitment).where(col(Commitment.ref) == clean)).first()
    if c is None:
        raise NotFound("ref", clean, "commitment")
    assert c.id is not None  # read from the database
    details = commitment_details(session, [c.id], include_internal=include_internal)
    return details[0]


def report_order() -> tuple[ColumnElement[Any], ...]:
    """The order commitments are reported in (memorandum, clause position, id): the order of
    :func:`commitment_details` and of every export."""
    return (_C.memorandum_id, _C.position, _C.id)


def commitment_details(
    session: Session, ids: Sequence[int] | None = None, *, include_internal: bool = True
) -> list[CommitmentDetail]:
    """Full details for many commitments (``None``: all) in a fixed number of queries."""
    # Rows of columns (Core), not ORM objects: several times faster for the exports, which
    # read every commitment with all its evidence and history.
    dialect = _dialect(session)
    query = select(table_of(Commitment)).order_by(*report_order())
    if ids is not None:
        query = query.where(among(col(Commitment.id), ids, dialect))
    commitments = list(session.execute(query))

    def of_these(column: Mapped[int]) -> ColumnElement[bool]:
        return among(column, ids, dialect) if ids is not None else true()

    memos = {m.id: memorandum_view(m) for m in session.scalars(select(Memorandum))}
    owners = _owners_for(session, [c.id for c in commitments])
    evidence, urls = _evidence_of(session, of_these, every=ids is None)
    history = _history_of(session, of_these, urls, None if ids is None else dialect)
    notes = _notes_of(session, of_these, include_internal)
    corrections = _corrections_of(session, of_these)
    targets = _targets_of(session, of_these, urls)
    result = []
    for c in commitments:
        memo = memos[c.memorandum_id]
        result.append(
            CommitmentDetail(
                ref=c.ref,
                memorandum=memo,
                position=c.position,
                section=c.section,
                origin=c.origin,
                title=c.title,
                summary=c.summary,
                source_url=c.source_url,
                text_basis=c.text_basis,
                theme=c.theme,
                strength=c.strength,
                status=c.status,
                status_changed_at=c.status_changed_at,
                review_cadence=c.review_cadence or memo.review_cadence,
                last_reviewed=c.last_reviewed,
                next_review=c.next_review,
                target=c.target,
                owners=owners.get(c.id, ()),
                evidence=tuple(evidence.get(c.id, ())),
                history=tuple(history.get(c.id, ())),
                notes=tuple(notes.get(c.id, ())),
                original_target=c.original_target,
                added_at=c.added_at,
                targets=tuple(targets.get(c.id, ())),
                version=c.version,
                updated_at=c.updated_at,
                updated_by=c.updated_by,
                restates=tuple(c.restates or ()),
                corrections=tuple(corrections.get(c.id, ())),
            )
        )
    return result


# Which commitments a detail query reads: a condition on a commitment-id column.
_Of = Callable[[Mapped[int]], ColumnElement[bool]]


def _revision_view(row: Any) -> RevisionView:
    """A correction (of an evidence record or of a commitment) as the details show it."""
    return RevisionView(
        row.at,
        row.by,
        row.reason,
        tuple((c["field"], c["old"], c["new"]) for c in row.changes),
        recorded_at=row.recorded_at,
    )


def _evidence_of(
    session: Session, of: _Of, *, every: bool = False
) -> tuple[dict[int, list[EvidenceView]], dict[int, str]]:
    """commitment id -> its evidence (with corrections and link health), and evidence id -> URL.
    ``every``: ``of`` takes every commitment, so the latest check of every URL is read."""
    revisions: dict[int, list[RevisionView]] = defaultdict(list)
    rev_query = (
        select(table_of(EvidenceRevision))
        .join(Evidence, col(Evidence.id) == col(EvidenceRevision.evidence_id))
        .where(of(col(Evidence.commitment_id)))
        .order_by(col(EvidenceRevision.at), col(EvidenceRevision.id))
    )
    for rev in session.execute(rev_query):
        revisions[rev.evidence_id].append(_revision_view(rev))
    evidence: dict[int, list[EvidenceView]] = defaultdict(list)
    ev_query = (
        select(table_of(Evidence)).where(of(col(Evidence.commitment_id))).order_by(col(Evidence.id))
    )
    urls: dict[int, str] = {}
    ev_rows = list(session.execute(ev_query))
    links = link_states(session) if every else _links_of(session, of)
    for e in ev_rows:
        urls[e.id] = e.url
        evidence[e.commitment_id].append(
            EvidenceView(
                id=e.id,
                url=e.url,
                title=e.title,
                publisher=e.publisher,
                published=e.published,
                kind=e.kind,
                direction=e.direction,
                confidence=e.confidence,
                summary=e.summary,
                archived_url=e.archived_url,
                added_by=e.added_by,
                added_at=e.added_at,
                version=e.version,
                updated_at=e.updated_at,
                updated_by=e.updated_by,
                revisions=tuple(revisions.get(e.id, ())),
                link=links.get(e.url),
                recorded_at=e.recorded_at,
            )
        )
    return evidence, urls


def _links_of(session: Session, of: _Of) -> dict[str, LinkState]:
    """The latest check of each URL the evidence of these commitments cites, the URLs found
    by the database: a batch's thousands of URLs are not sent back to it as an IN list (each
    a bound parameter, costly to bind and to plan, a whole batch over again)."""
    cited = select(col(Evidence.url)).where(of(col(Evidence.commitment_id)))
    checks = _latest_checks(session, col(LinkCheck.url).in_(cited))
    return {row.url: _link_state(row) for row in checks}


def _history_of(
    session: Session, of: _Of, urls: dict[int, str], dialect: str | None
) -> dict[int, list[HistoryView]]:
    """commitment id -> its status history, each entry with the evidence it cites.

    ``dialect`` is None when ``of`` takes every commitment; otherwise the citations are read
    by the ids of the entries just read (through ``history_evidence``'s primary key), not
    through a join on the commitment: PostgreSQL would hash that join against every citation
    of the tracker, once a batch."""
    hist_query = (
        select(table_of(HistoryEntry))
        .where(of(col(HistoryEntry.commitment_id)))
        .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
    )
    entries = list(session.execute(hist_query))
    cite_query = select(col(HistoryEvidence.history_id), col(HistoryEvidence.evidence_id)).order_by(
        col(HistoryEvidence.history_id), col(HistoryEvidence.evidence_id)
    )
    cited: dict[int, list[int]] = defaultdict(list)
    if dialect is None:
        chunks: list[Any] = [cite_query]
    else:
        hids = sorted(h.id for h in entries)
        chunks = [
            cite_query.where(
                among(col(HistoryEvidence.history_id), hids[i : i + BIND_CHUNK], dialect)
            )
            for i in range(0, len(hids), BIND_CHUNK)
        ]
    for chunk in chunks:
        for hid, eid in session.execute(chunk):
            cited[hid].append(eid)
    history: dict[int, list[HistoryView]] = defaultdict(list)
    for h in entries:
        eids = tuple(cited.get(h.id, ()))
        history[h.commitment_id].append(
            HistoryView(
                id=h.id,
                kind=h.kind,
                from_status=h.from_status,
                to_status=h.to_status,
                at=h.at,
                actor=h.actor,
                reason=h.reason,
                evidence_ids=eids,
                evidence_urls=tuple(urls[i] for i in eids if i in urls),
                recorded_at=h.recorded_at,
            )
        )
    return history


def _notes_of(session: Session, of: _Of, include_internal: bool) -> dict[int, list[NoteView]]:
    """commitment id -> its notes (the public ones only, unless ``include_internal``)."""
    notes: dict[int, list[NoteView]] = defaultdict(list)
    note_query = (
        select(table_of(Note))
        .where(of(col(Note.commitment_id)))
        .order_by(col(Note.at), col(Note.id))
    )
    if not include_internal:
        note_query = note_query.where(col(Note.visibility) == "public")
    for n in session.execute(note_query):
        notes[n.commitment_id].append(
            NoteView(
                n.id,
                n.visibility,
                n.body,
                n.author,
                n.at,
                recorded_at=n.recorded_at,
                withdraws=n.withdraws,
            )
        )
    return notes


def _corrections_of(session: Session, of: _Of) -> dict[int, list[RevisionView]]:
    """commitment id -> the corrections of its wording (its public corrections log)."""
    corrections: dict[int, list[RevisionView]] = defaultdict(list)
    correction_query = (
        select(table_of(CommitmentRevision))
        .where(of(col(CommitmentRevision.commitment_id)))
        .order_by(col(CommitmentRevision.at), col(CommitmentRevision.id))
    )
    for r in session.execute(correction_query):
        corrections[r.commitment_id].append(_revision_view(r))
    return corrections


def _targets_of(session: Session, of: _Of, urls: dict[int, str]) -> dict[int, list[TargetView]]:
    """commitment id -> its target changes, each with the URL of the evidence it cites."""
    targets: dict[int, list[TargetView]] = defaultdict(list)
    target_query = (
        select(table_of(TargetChange))
        .where(of(col(TargetChange.commitment_id)))
        .order_by(col(TargetChange.at), col(TargetChange.id))
    )
    for t in session.execute(target_query):
        targets[t.commitment_id].append(
            TargetView(
                t.at,
                t.by,
                t.old_target,
                t.new_target,
                t.reason,
                t.evidence_id,
                urls.get(t.evidence_id) if t.evidence_id else None,
                recorded_at=t.recorded_at,
            )
        )
    return targets


def link_states(session: Session, urls: set[str] | None = None) -> dict[str, LinkState]:
    """The latest check of each URL (of ``urls``, or of every URL ever checked)."""
    among = None
    if urls is not None:
        if not urls:
            return {}
        if len(urls) <= 5000:
            among = col(LinkCheck.url).in_(sorted(urls))
    result: dict[str, LinkState] = {}
    for row in _latest_checks(session, among):
        if urls is not None and row.url not in urls:
            continue
        result[row.url] = _link_state(row)
    return result


def _latest_checks(session: Session, among: ColumnElement[bool] | None) -> Iterable[LinkCheck]:
    """The latest check of each URL checked (of the URLs ``among`` selects, if given)."""
    latest = select(func.max(col(LinkCheck.id))).group_by(col(LinkCheck.url))
    if among is not None:
        latest = latest.where(among)
    return session.scalars(select(LinkCheck).where(col(LinkCheck.id).in_(latest.scalar_subquery())))


def _link_state(row: LinkCheck) -> LinkState:
    return LinkState(
        url=row.url,
        checked_at=row.checked_at,
        state=row.state,
        http_status=row.http_status,
        final_url=row.final_url,
        moved=row.moved,
        changed=row.changed,
        page_title=row.page_title,
        error=row.error,
        content_hash=row.content_hash,
        snapshot_chars=row.snapshot_chars,
    )


def status_counts(session: Session, flt: ListFilter = ListFilter()) -> dict[str, int]:
    query = (
        select(col(Commitment.status), func.count())
        .where(*_conditions(flt, _dialect(session)))
        .group_by(col(Commitment.status))
    )
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(query):
        counts[status] = int(n)
    return counts


def headline_status_counts(session: Session) -> dict[str, int]:
    """Status counts as the reports' headline figures give them: only commitments that are
    :attr:`CommitmentRow.counted` (scored, and not restating a clause counted already), in SQL
    so the terminal UI can show them at 100,000 commitments."""
    restates = col(Commitment.restates)
    query = (
        select(col(Commitment.status), func.count())
        .where(
            col(Commitment.strength) != "vision",
            restates.is_(None) | (cast(restates, String) == "[]"),
        )
        .group_by(col(Commitment.status))
    )
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(query):
        counts[status] = int(n)
    return counts


def change_token(session: Session) -> tuple[object, ...]:
    """A cheap fingerprint of the whole database; it differs after any write by anyone."""
    return tuple(
        session.execute(
            select(
                select(func.max(col(HistoryEntry.id))).scalar_subquery(),
                select(func.max(col(Evidence.id))).scalar_subquery(),
                select(func.max(col(Evidence.updated_at))).scalar_subquery(),
                select(func.max(col(Note.id))).scalar_subquery(),
                select(func.max(col(Commitment.updated_at))).scalar_subquery(),
                select(func.count(col(Commitment.id))).scalar_subquery(),
            )
        ).one()
    )
