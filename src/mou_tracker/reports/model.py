"""What the reports show, read from the database in a bounded number of queries.

The reports are a pure function of the database and a report date. "As of" is the time of
the latest recorded change; the report date (``export --as-of``, default today) is the day on
which overdue reviews and stale evidence are judged, so a tracker nobody looks after does not
look healthy for ever. Internal notes are never read here except to count them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, column, func, select, table, text
from sqlmodel import Session, col

from mou_tracker.domain import derived
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
    Party,
    TargetChange,
)
from mou_tracker.domain.queries import (
    CommitmentDetail,
    CommitmentRow,
    LinkState,
    MemorandumView,
    commitment_details,
    link_states,
    list_commitments,
    memoranda,
    report_order,
)

DIGEST_DAYS = 30
RECENT_CHANGES = 10
LATEST_EVIDENCE = 10
DETAIL_BATCH = 500


def recorded(model: Any) -> Any:
    """When a row was recorded in the tracker: ``recorded_at``, or for a row written by a tool
    outside the tracker (no ``recorded_at``), the time it takes effect."""
    effective = model.added_at if model is Evidence else model.at
    return func.coalesce(model.recorded_at, effective)


def as_of(session: Session) -> datetime | None:
    """The latest change recorded in the tracker that a report can show (internal notes
    excluded): by the time it was recorded, so a back-dated entry moves it too."""
    candidates = [
        session.scalar(select(func.max(recorded(HistoryEntry)))),
        session.scalar(select(func.max(recorded(Evidence)))),
        session.scalar(select(func.max(recorded(EvidenceRevision)))),
        session.scalar(select(func.max(recorded(TargetChange)))),
        session.scalar(select(func.max(recorded(Note))).where(col(Note.visibility) == "public")),
        session.scalar(select(func.max(col(LinkCheck.checked_at)))),
        session.scalar(select(func.max(recorded(CommitmentRevision)))),
        session.scalar(select(func.max(col(Commitment.added_at)))),
    ]
    found = [_aware(c) for c in candidates if c is not None]
    if not found:
        day = session.scalar(select(func.max(col(Memorandum.signed))))
        return datetime.combine(day, time(0), UTC) if day else None
    return max(found)


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type on SQLite, so a max() may come back naive or as text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Party_:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Event:
    """One dated change, for "recent changes" and the digest. ``at`` is when it was recorded
    in the tracker; ``effective`` when it takes effect, where that differs (a back-dated
    assessment, evidence whose ``added_at`` a file gave)."""

    at: datetime
    kind: str  # status | review | evidence | target | correction | note
    ref: str
    title: str
    from_status: str | None = None
    to_status: str | None = None
    actor: str | None = None
    text: str | None = None  # reason, evidence title, ...
    url: str | None = None
    published: date | None = None
    old_target: date | None = None
    new_target: date | None = None
    effective: datetime | None = None  # set only when it differs from ``at``
    cited: tuple[tuple[int, str, str], ...] = ()  # evidence a status change cites: id, title, url
    changes: tuple[tuple[str, str, str], ...] = ()  # a correction's (field, old, new)


def _effective(
    recorded_at: datetime | None, effective: datetime
) -> tuple[datetime, datetime | None]:
    """(recorded, effective-if-different) for an event."""
    if recorded_at is None:
        return effective, None
    return recorded_at, (effective if effective != recorded_at else None)


@dataclass(frozen=True)
class Snapshot:
    """Everything the index and the digest need, and a way to stream the commitment pages."""

    as_of: datetime | None
    memoranda: tuple[MemorandumView, ...]
    parties: dict[str, Party_]
    rows: tuple[CommitmentRow, ...]
    internal_notes: dict[str, int]  # ref -> internal notes withheld
    links: dict[str, LinkState]  # url -> latest check
    official_text_changed: tuple[tuple[str, LinkState], ...]  # (memorandum slug, state)
    added_at: dict[str, datetime | None]  # ref -> when tracking began (None: since signing)
    attention_refs: dict[str, tuple[str, ...]]  # url needing attention -> refs citing it
    report_date: date  # the day overdue reviews and stale evidence are judged on
    authenticates_users: bool = False  # PostgreSQL: the database knows who recorded what
    # ref -> (origin, text basis): which promises come from the press release rather than the
    # memorandum, and whose wording is verified, known from excerpts or reconstructed
    origins: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.report_date

    @property
    def quiet_days(self) -> int | None:
        """Days from the latest recorded change to the report date."""
        return (self.report_date - self.as_of.date()).days if self.as_of else None

    @cached_property
    def restated_by(self) -> dict[str, tuple[str, ...]]:
        """ref -> the refs of the commitments that restate it, in report order."""
        found: dict[str, list[str]] = {}
        for row in self.rows:
            for ref in row.restates:
                found.setdefault(ref, []).append(row.ref)
        return {ref: tuple(refs) for ref, refs in found.items()}


def snapshot(session: Session, report_date: date | None = None) -> Snapshot:
    """What the reports show; ``report_date`` defaults to the day of the latest change."""
    when = as_of(session)
    if report_date is None:
        report_date = when.date() if when else date(1970, 1, 1)
    memos = tuple(memoranda(session))
    parties = {p.code: Party_(p.code, p.name, p.kind) for p in session.scalars(select(Party))}
    rows = tuple(list_commitments(session, sort="position"))
    internal = _internal_note_counts(session)
    links = link_states(session)
    official = []
    for m in memos:
        state = links.get(m.source_url)
        if state is not None and state.changed:
            official.append((m.slug, state))
    added = dict(session.execute(select(col(Commitment.ref), col(Commitment.added_at))).all())
    attention = sorted(url for url, state in links.items() if state.needs_attention)
    refs_of: dict[str, list[str]] = {}
    for start in range(0, len(attention), 1000):
        chunk = attention[start : start + 1000]
        query = (
            select(col(Evidence.url), col(Commitment.ref))
            .join(Commitment, col(Commitment.id) == col(Evidence.commitment_id))
            .where(col(Evidence.url).in_(chunk))
            .order_by(col(Evidence.url), col(Commitment.ref))
        )
        for url, ref in session.execute(query):
            refs_of.setdefault(url, []).append(ref)
    return Snapshot(
        as_of=when,
        memoranda=memos,
        parties=parties,
        rows=rows,
        internal_notes=internal,
        links=links,
        official_text_changed=tuple(official),
        added_at=added,
        attention_refs={url: tuple(refs) for url, refs in refs_of.items()},
        report_date=report_date,
        authenticates_users=_authenticates_users(session),
        origins={
            ref: (origin, basis)
            for ref, origin, basis in session.execute(
                select(col(Commitment.ref), col(Commitment.origin), col(Commitment.text_basis))
            )
        },
    )


def _internal_note_counts(session: Session) -> dict[str, int]:
    """ref -> internal notes withheld. Where PostgreSQL roles are set up, an export reads as
    ``mou_viewer``, to whom row-level security hides internal notes: the count then comes from
    a view owned by the tables' owner (``mou-tracker roles setup``), which gives the number
    and nothing else."""
    query = (
        select(col(Commitment.ref), func.count(col(Note.id)))
        .join(Note, col(Note.commitment_id) == col(Commitment.id))
        .where(col(Note.visibility) == "internal")
        .group_by(col(Commitment.ref))
    )
    if session.get_bind().dialect.name == "postgresql" and session.scalar(
        text("SELECT to_regclass('mou_internal_note_count') IS NOT NULL")
    ):
        view = table("mou_internal_note_count", column("commitment_id"), column("n"))
        query = select(col(Commitment.ref), view.c.n).join(
            view, view.c.commitment_id == col(Commitment.id)
        )
    return {ref: int(n) for ref, n in session.execute(query)}


def _authenticates_users(session: Session) -> bool:
    """Whether the names beside changes are authenticated: PostgreSQL with the tracker's roles
    set up on this schema (``mou-tracker roles setup``). SQLite, or PostgreSQL without the
    roles, records the names people give."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(
        session.execute(
            text(
                "SELECT CASE WHEN to_regrole('mou_viewer') IS NULL THEN false "
                "ELSE has_table_privilege('mou_viewer', 'commitment', 'SELECT') END"
            )
        ).scalar()
    )


def details_in_batches(
    session: Session, batch: int = DETAIL_BATCH
) -> Iterator[list[CommitmentDetail]]:
    """Every commitment's details (public notes only), a batch at a time, in report order."""
    ids = [
        cid
        for cid in session.scalars(select(col(Commitment.id)).order_by(*report_order()))
        if cid is not None  # a stored row always has its id
    ]
    for start in range(0, len(ids), batch):
        yield commitment_details(session, ids[start : start + batch], include_internal=False)


ALL_KINDS = ("history", "evidence", "correction", "target", "note", "commitment correction")


def events(
    session: Session,
    start: datetime | None,
    end: datetime | None,
    limit: int | None = None,
    kinds: Sequence[str] = ALL_KINDS,
) -> list[Event]:
    """Changes recorded with ``start <= recorded <= end``, newest first (``limit`` of them, if
    given): by the time the tracker recorded them, so a back-dated change shows up when it was
    made, with its effective date beside it.

    Status changes and reviews (``history``), evidence added, evidence corrected, targets set
    or moved, public notes. Each kind is read with one query; the union is sorted here.
    """

    def window(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if start is not None:
            conds.append(column >= start)
        if end is not None:
            conds.append(column <= end)
        return conds

    def newest(query: Any, column: ColumnElement[Any], effective: ColumnElement[Any]) -> Any:
        # The same order as the sort below (recorded, effective, ref), so that a limit keeps
        # the same rows whatever order the backend found them in: many rows share a recording
        # time (everything one sync recorded), and ids differ after a restore.
        query = query.where(*window(column)).order_by(
            column.desc(), effective.desc(), col(Commitment.ref).desc()
        )
        return query.limit(limit) if limit is not None else query

    found: list[Event] = []
    if "history" in kinds:
        _history_events(session, newest, found)
    if "evidence" in kinds:
        _evidence_events(session, newest, found)
    if "correction" in kinds:
        _correction_events(session, newest, found)
    if "target" in kinds:
        _target_events(session, newest, found)
    if "note" in kinds:
        _note_events(session, newest, found)
    if "commitment correction" in kinds:
        _commitment_correction_events(session, newest, found)
    found.sort(key=lambda e: (e.at, e.effective or e.at, e.ref, e.kind, e.text or ""), reverse=True)
    return found[:limit] if limit is not None else found


def _history_events(session: Session, newest: Any, found: list[Event]) -> None:
    history = newest(
        select(HistoryEntry, col(Commitment.ref), col(Commitment.title)).join(
            Commitment, col(Commitment.id) == col(HistoryEntry.commitment_id)
        ),
        recorded(HistoryEntry),
        col(HistoryEntry.at),
    )
    rows = list(session.execute(history))
    cited: dict[int, list[tuple[int, str, str]]] = {}
    ids = [h.id for h, _ref, _title in rows if h.kind == "status"]
    for start in range(0, len(ids), 1000):
        query = (
            select(
                col(HistoryEvidence.history_id),
                col(Evidence.id),
                col(Evidence.title),
                col(Evidence.url),
            )
            .join(Evidence, col(Evidence.id) == col(HistoryEvidence.evidence_id))
            .where(col(HistoryEvidence.history_id).in_(ids[start : start + 1000]))
            .order_by(col(HistoryEvidence.history_id), col(Evidence.id))
        )
        for hid, eid, ev_title, url in session.execute(query):
            cited.setdefault(hid, []).append((eid, ev_title, url))
    for h, ref, title in rows:
        at, effective = _effective(h.recorded_at, h.at)
        found.append(
            Event(
                at=at,
                effective=effective,
                cited=tuple(cited.get(h.id, ())),
                kind=h.kind,
                ref=ref,
                title=title,
                from_status=h.from_status,
                to_status=h.to_status,
                actor=h.actor,
                text=h.reason,
            )
        )


def _evidence_events(session: Session, newest: Any, found: list[Event]) -> None:
    evidence = newest(
        select(Evidence, col(Commitment.ref), col(Commitment.title)).join(
            Commitment, col(Commitment.id) == col(Evidence.commitment_id)
        ),
        recorded(Evidence),
        col(Evidence.added_at),
    )
    for e, ref, title in session.execute(evidence):
        at, effective = _effective(e.recorded_at, e.added_at)
        found.append(
            Event(
                at=at,
                effective=effective,
                kind="evidence",
                ref=ref,
                title=title,
                actor=e.added_by,
                text=e.title,
                url=e.url,
                published=e.published,
            )
        )


def _correction_events(session: Session, newest: Any, found: list[Event]) -> None:
    corrections = newest(
        select(
            EvidenceRevision,
            col(Evidence.title),
            col(Evidence.url),
            col(Commitment.ref),
            col(Commitment.title),
        )
        .join(Evidence, col(Evidence.id) == col(EvidenceRevision.evidence_id))
        .join(Commitment, col(Commitment.id) == col(Evidence.commitment_id)),
        recorded(EvidenceRevision),
        col(EvidenceRevision.at),
    )
    for r, ev_title, ev_url, ref, title in session.execute(corrections):
        fields = ", ".join(c["field"] for c in r.changes)
        at, effective = _effective(r.recorded_at, r.at)
        found.append(
            Event(
                at=at,
                effective=effective,
                kind="correction",
                ref=ref,
                title=title,
                actor=r.by,
                text=f"{ev_title} ({fields}): {r.reason}",
                url=ev_url,
            )
        )


def _target_events(session: Session, newest: Any, found: list[Event]) -> None:
    targets = newest(
        select(TargetChange, col(Commitment.ref), col(Commitment.title)).join(
            Commitment, col(Commitment.id) == col(TargetChange.commitment_id)
        ),
        recorded(TargetChange),
        col(TargetChange.at),
    )
    for t, ref, title in session.execute(targets):
        at, effective = _effective(t.recorded_at, t.at)
        found.append(
            Event(
                at=at,
                effective=effective,
                kind="target",
                ref=ref,
                title=title,
                actor=t.by,
                text=t.reason,
                old_target=t.old_target,
                new_target=t.new_target,
            )
        )


def _note_events(session: Session, newest: Any, found: list[Event]) -> None:
    notes = newest(
        select(Note, col(Commitment.ref), col(Commitment.title))
        .join(Commitment, col(Commitment.id) == col(Note.commitment_id))
        .where(col(Note.visibility) == "public"),  # internal notes never reach a report
        recorded(Note),
        col(Note.at),
    )
    for n, ref, title in session.execute(notes):
        at, effective = _effective(n.recorded_at, n.at)
        found.append(
            Event(
                at=at,
                effective=effective,
                kind="note",
                ref=ref,
                title=title,
                actor=n.author,
                text=n.body,
            )
        )


def _commitment_correction_events(session: Session, newest: Any, found: list[Event]) -> None:
    """Corrections of how a commitment is recorded (its public corrections log). ``text`` is
    the reason; ``changes`` the fields with their old and new values."""
    corrections = newest(
        select(CommitmentRevision, col(Commitment.ref), col(Commitment.title)).join(
            Commitment, col(Commitment.id) == col(CommitmentRevision.commitment_id)
        ),
        recorded(CommitmentRevision),
        col(CommitmentRevision.at),
    )
    for r, ref, title in session.execute(corrections):
        at, effective = _effective(r.recorded_at, r.at)
        found.append(
            Event(
                at=at,
                effective=effective,
                kind="commitment correction",
                ref=ref,
                title=title,
                actor=r.by,
                text=r.reason,
                changes=tuple((c["field"], c["old"], c["new"]) for c in r.changes),
            )
        )


@dataclass(frozen=True)
class LatestEvidence:
    url: str
    title: str
    published: date
    refs: tuple[str, ...]


def latest_evidence(session: Session, limit: int) -> list[LatestEvidence]:
    """The most recently published evidence, one entry per URL with every commitment citing it."""
    query = (
        select(col(Evidence.url), col(Evidence.title), col(Evidence.published), col(Commitment.ref))
        .join(Commitment, col(Commitment.id) == col(Evidence.commitment_id))
        .where(col(Evidence.published).is_not(None), derived.current_evidence())
        .order_by(col(Evidence.published).desc(), col(Evidence.url), col(Commitment.ref))
        .limit(limit * 20)
    )
    found: dict[str, LatestEvidence] = {}
    for url, title, published, ref in session.execute(query):
        item = found.get(url)
        if item is None:
            if len(found) == limit:
                continue
            found[url] = LatestEvidence(url, title, published, (ref,))
        elif ref not in item.refs:
            found[url] = LatestEvidence(url, item.title, item.published, item.refs + (ref,))
    return list(found.values())


@dataclass(frozen=True)
class Digest:
    start: date
    end: date  # the report date, included
    status_changes: tuple[Event, ...]
    reviews: tuple[Event, ...]
    evidence: tuple[Event, ...]
    corrections: tuple[Event, ...]
    targets: tuple[Event, ...]
    notes: tuple[Event, ...]
    new_commitments: tuple[CommitmentRow, ...]
    fell_overdue: tuple[CommitmentRow, ...]
    commitment_corrections: tuple[Event, ...] = ()  # corrections of how commitments are recorded


def digest(session: Session, snap: Snapshot, since: date | None) -> Digest | None:
    """What changed from ``since`` (default: 30 days before the report date) up to and
    including the report date."""
    if snap.as_of is None:
        return None
    start_day = since if since is not None else snap.today - timedelta(days=DIGEST_DAYS)
    start = datetime.combine(start_day, time(0), UTC)
    end = datetime.combine(snap.today + timedelta(days=1), time(0), UTC) - timedelta(microseconds=1)
    found = events(session, start, end)
    oldest_first = sorted(
        found, key=lambda e: (e.at, e.effective or e.at, e.ref, e.kind, e.text or "")
    )
    signed = {m.slug: m.signed for m in snap.memoranda}
    new = []
    for row in snap.rows:
        began = snap.added_at.get(row.ref)
        began_day = began.date() if began else signed.get(row.memorandum)
        if began_day is not None and start_day <= began_day <= snap.today:
            new.append(row)
    overdue = [
        row
        for row in snap.rows
        if row.next_review is not None
        and start_day <= row.next_review
        and derived.is_overdue(row.strength, row.next_review, snap.today)
    ]
    return Digest(
        start=start_day,
        end=snap.today,
        status_changes=tuple(e for e in oldest_first if e.kind == "status"),
        reviews=tuple(e for e in oldest_first if e.kind == "review"),
        evidence=tuple(e for e in oldest_first if e.kind == "evidence"),
        corrections=tuple(e for e in oldest_first if e.kind == "correction"),
        targets=tuple(e for e in oldest_first if e.kind == "target"),
        notes=tuple(e for e in oldest_first if e.kind == "note"),
        new_commitments=tuple(new),
        fell_overdue=tuple(overdue),
        commitment_corrections=tuple(e for e in oldest_first if e.kind == "commitment correction"),
    )


def group_counts(rows: Sequence[CommitmentRow], key: str) -> list[tuple[str, dict[str, int]]]:
    """Status counts per theme / owner / strength, in a stable order, of the commitments
    counted in headline figures (:attr:`CommitmentRow.counted`: scored, each promise once)."""
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        if not row.counted:  # not scored (vision), or a restatement counted at its clause
            continue
        if key == "owner":
            names = sorted({o.code for o in row.owners})
        else:
            names = [getattr(row, key)]
        for name in names:
            counts = groups.setdefault(name, {})
            counts[row.status] = counts.get(row.status, 0) + 1
    return sorted(groups.items(), key=lambda item: item[0].lower())


def owner_counts(
    rows: Sequence[CommitmentRow],
) -> list[tuple[str, str, dict[str, int]]]:
    """Status counts per owner and role (lead apart from support), of the commitments counted
    in headline figures: (owner code, role, counts), by owner then lead before support."""
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        if not row.counted:
            continue
        roles: dict[str, str] = {}
        for o in row.owners:  # an owner listed twice counts once, as lead if either says so
            if roles.get(o.code) != "lead":
                roles[o.code] = o.role
        for code, role in roles.items():
            counts = groups.setdefault((code, role), {})
            counts[row.status] = counts.get(row.status, 0) + 1
    order = {"lead": 0, "support": 1}
    return sorted(
        ((code, role, counts) for (code, role), counts in groups.items()),
        key=lambda item: (item[0].lower(), order.get(item[1], 2), item[1]),
    )


def status_by_date(session: Session, snap: Snapshot) -> list[tuple[date, dict[str, int]]]:
    """How many of the commitments counted in headline figures stood at each status, on every
    day on which a count changed, by the day each change was *recorded* in the tracker (what
    the tracker said then, not what is now believed about that day). Each commitment counts
    as not yet assessed from the day tracking began (the signing date, unless it was added
    later). Read with one streamed query, so it stays linear in the history's size."""
    counted = {r.ref for r in snap.rows if r.counted}
    if not counted:
        return []
    signed = {m.slug: m.signed for m in snap.memoranda}
    starts: dict[date, list[str]] = {}
    for row in snap.rows:
        if row.ref not in counted:
            continue
        began = snap.added_at.get(row.ref)
        day = _aware(began).date() if began else signed.get(row.memorandum)
        if day is None:
            continue
        starts.setdefault(day, []).append(row.ref)
    query = (
        select(
            col(Commitment.ref),
            col(HistoryEntry.to_status),
            recorded(HistoryEntry),
            col(HistoryEntry.at),
        )
        .join(Commitment, col(Commitment.id) == col(HistoryEntry.commitment_id))
        .where(col(HistoryEntry.kind) == "status")
        .order_by(
            recorded(HistoryEntry),
            col(HistoryEntry.at),
            col(Commitment.ref),
            col(HistoryEntry.to_status),
        )
    )
    moves: dict[date, list[tuple[str, str]]] = {}
    for ref, to_status, when, _effective_at in session.execute(query).yield_per(5000):
        if ref in counted:
            moves.setdefault(_aware(when).date(), []).append((ref, to_status))
    current: dict[str, str] = {}
    counts: dict[str, int] = {}
    found: list[tuple[date, dict[str, int]]] = []
    for day in sorted(set(starts) | set(moves)):
        if day > snap.report_date:
            break
        for ref in starts.get(day, ()):
            if ref not in current:
                current[ref] = "not_assessed"
                counts["not_assessed"] = counts.get("not_assessed", 0) + 1
        for ref, to_status in moves.get(day, ()):
            before = current.get(ref)
            if before is not None:
                counts[before] -= 1
            current[ref] = to_status
            counts[to_status] = counts.get(to_status, 0) + 1
        kept = {s: n for s, n in counts.items() if n}
        if not found or found[-1][1] != kept:
            found.append((day, kept))
    return found


__all__ = [
    "Digest",
    "Event",
    "Snapshot",
    "as_of",
    "details_in_batches",
    "digest",
    "events",
    "group_counts",
    "owner_counts",
    "snapshot",
    "status_by_date",
]
