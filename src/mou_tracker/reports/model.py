"""What the reports show, read from the database in a bounded number of queries.

The reports are a pure function of the database and a report date. "As of" is the time of
the latest recorded change; the report date (``export --as-of``, default today) is the day on
which overdue reviews and stale evidence are judged, so a tracker nobody looks after does not
look healthy for ever. Internal notes are never read here except to count them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from mou_tracker.domain.models import (
    Commitment,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
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
)

DIGEST_DAYS = 30
RECENT_CHANGES = 10
LATEST_EVIDENCE = 10
DETAIL_BATCH = 500


def as_of(session: Session) -> datetime | None:
    """The latest recorded change that a report can show (internal notes excluded)."""
    candidates = [
        session.scalar(select(func.max(HistoryEntry.at))),
        session.scalar(select(func.max(Evidence.added_at))),
        session.scalar(select(func.max(EvidenceRevision.at))),
        session.scalar(select(func.max(TargetChange.at))),
        session.scalar(select(func.max(Note.at)).where(Note.visibility == "public")),
        session.scalar(select(func.max(LinkCheck.checked_at))),
        session.scalar(select(func.max(Commitment.added_at))),
    ]
    found = [_aware(c) for c in candidates if c is not None]
    if not found:
        day = session.scalar(select(func.max(Memorandum.signed)))
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
    """One dated change, for "recent changes" and the digest."""

    at: datetime
    kind: str  # status | review | evidence | target | correction
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

    @property
    def today(self) -> date:
        return self.report_date

    @property
    def quiet_days(self) -> int | None:
        """Days from the latest recorded change to the report date."""
        return (self.report_date - self.as_of.date()).days if self.as_of else None


def snapshot(session: Session, report_date: date | None = None) -> Snapshot:
    """What the reports show; ``report_date`` defaults to the day of the latest change."""
    when = as_of(session)
    if report_date is None:
        report_date = when.date() if when else date(1970, 1, 1)
    memos = tuple(memoranda(session))
    parties = {p.code: Party_(p.code, p.name, p.kind) for p in session.scalars(select(Party))}
    rows = tuple(list_commitments(session, sort="position"))
    internal = {
        ref: int(n)
        for ref, n in session.execute(
            select(Commitment.ref, func.count(Note.id))
            .join(Note, Note.commitment_id == Commitment.id)
            .where(Note.visibility == "internal")
            .group_by(Commitment.ref)
        )
    }
    links = link_states(session)
    official = []
    for m in memos:
        state = links.get(m.source_url)
        if state is not None and state.changed:
            official.append((m.slug, state))
    added = dict(session.execute(select(Commitment.ref, Commitment.added_at)).all())
    attention = sorted(url for url, state in links.items() if state.needs_attention)
    refs_of: dict[str, list[str]] = {}
    for start in range(0, len(attention), 1000):
        chunk = attention[start : start + 1000]
        query = (
            select(Evidence.url, Commitment.ref)
            .join(Commitment, Commitment.id == Evidence.commitment_id)
            .where(Evidence.url.in_(chunk))  # type: ignore[attr-defined]
            .order_by(Evidence.url, Commitment.ref)
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
    )


def details_in_batches(
    session: Session, batch: int = DETAIL_BATCH
) -> Iterator[list[CommitmentDetail]]:
    """Every commitment's details (public notes only), a batch at a time, in report order."""
    ids = list(
        session.scalars(
            select(Commitment.id).order_by(
                Commitment.memorandum_id, Commitment.position, Commitment.id
            )
        )
    )
    for start in range(0, len(ids), batch):
        yield commitment_details(session, ids[start : start + batch], include_internal=False)  # type: ignore[arg-type]


ALL_KINDS = ("history", "evidence", "correction", "target")


def events(
    session: Session,
    start: datetime | None,
    end: datetime | None,
    limit: int | None = None,
    kinds: Sequence[str] = ALL_KINDS,
) -> list[Event]:
    """Dated changes with ``start <= at <= end``, newest first (``limit`` of them, if given).

    Status changes and reviews (``history``), evidence added, evidence corrected, targets set
    or moved. Each kind is read with one query; the union is sorted here.
    """

    def window(column):  # type: ignore[no-untyped-def]
        conds = []
        if start is not None:
            conds.append(column >= start)
        if end is not None:
            conds.append(column <= end)
        return conds

    def newest(query, column):  # type: ignore[no-untyped-def]
        query = query.where(*window(column)).order_by(column.desc())
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
    found.sort(key=lambda e: (e.at, e.kind, e.ref, e.text or ""), reverse=True)
    return found[:limit] if limit is not None else found


def _history_events(session: Session, newest: Any, found: list[Event]) -> None:
    history = newest(
        select(HistoryEntry, Commitment.ref, Commitment.title).join(
            Commitment, Commitment.id == HistoryEntry.commitment_id
        ),
        HistoryEntry.at,
    )
    for h, ref, title in session.execute(history):
        found.append(
            Event(
                at=h.at,
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
        select(Evidence, Commitment.ref, Commitment.title).join(
            Commitment, Commitment.id == Evidence.commitment_id
        ),
        Evidence.added_at,
    )
    for e, ref, title in session.execute(evidence):
        found.append(
            Event(
                at=e.added_at,
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
        select(EvidenceRevision, Evidence.title, Evidence.url, Commitment.ref, Commitment.title)
        .join(Evidence, Evidence.id == EvidenceRevision.evidence_id)
        .join(Commitment, Commitment.id == Evidence.commitment_id),
        EvidenceRevision.at,
    )
    for r, ev_title, ev_url, ref, title in session.execute(corrections):
        fields = ", ".join(c["field"] for c in r.changes)
        found.append(
            Event(
                at=r.at,
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
        select(TargetChange, Commitment.ref, Commitment.title).join(
            Commitment, Commitment.id == TargetChange.commitment_id
        ),
        TargetChange.at,
    )
    for t, ref, title in session.execute(targets):
        found.append(
            Event(
                at=t.at,
                kind="target",
                ref=ref,
                title=title,
                actor=t.by,
                text=t.reason,
                old_target=t.old_target,
                new_target=t.new_target,
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
        select(Evidence.url, Evidence.title, Evidence.published, Commitment.ref)
        .join(Commitment, Commitment.id == Evidence.commitment_id)
        .where(Evidence.published.is_not(None))  # type: ignore[union-attr]
        .order_by(Evidence.published.desc(), Evidence.url, Commitment.ref)  # type: ignore[union-attr]
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
    new_commitments: tuple[CommitmentRow, ...]
    fell_overdue: tuple[CommitmentRow, ...]


def digest(session: Session, snap: Snapshot, since: date | None) -> Digest | None:
    """What changed from ``since`` (default: 30 days before the report date) up to and
    including the report date."""
    if snap.as_of is None:
        return None
    start_day = since if since is not None else snap.today - timedelta(days=DIGEST_DAYS)
    start = datetime.combine(start_day, time(0), UTC)
    end = datetime.combine(snap.today + timedelta(days=1), time(0), UTC) - timedelta(microseconds=1)
    found = events(session, start, end)
    oldest_first = sorted(found, key=lambda e: (e.at, e.ref, e.kind, e.text or ""))
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
        if row.strength != "vision"
        and row.next_review is not None
        and start_day <= row.next_review < snap.today
    ]
    return Digest(
        start=start_day,
        end=snap.today,
        status_changes=tuple(e for e in oldest_first if e.kind == "status"),
        reviews=tuple(e for e in oldest_first if e.kind == "review"),
        evidence=tuple(e for e in oldest_first if e.kind == "evidence"),
        corrections=tuple(e for e in oldest_first if e.kind == "correction"),
        targets=tuple(e for e in oldest_first if e.kind == "target"),
        new_commitments=tuple(new),
        fell_overdue=tuple(overdue),
    )


def group_counts(rows: Sequence[CommitmentRow], key: str) -> list[tuple[str, dict[str, int]]]:
    """Status counts of scored commitments per theme / owner / strength, in a stable order."""
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.strength == "vision":
            continue
        if key == "owner":
            names = sorted({o.code for o in row.owners})
        else:
            names = [getattr(row, key)]
        for name in names:
            counts = groups.setdefault(name, {})
            counts[row.status] = counts.get(row.status, 0) + 1
    return sorted(groups.items(), key=lambda item: item[0].lower())


__all__ = [
    "Digest",
    "Event",
    "Snapshot",
    "as_of",
    "details_in_batches",
    "digest",
    "events",
    "group_counts",
    "snapshot",
]
