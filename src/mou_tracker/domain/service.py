"""Every write the tracker makes, with the rules of DESIGN.md enforced here and nowhere else.

The CLI, the terminal UI, CSV import and TOML sync all call these functions inside one
transaction (see ``mou_tracker.storage.engine.write``), so none of them can bypass a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from mou_tracker.domain import chain
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import ConflictError, InvalidInput, NotFound, RuleViolation
from mou_tracker.domain.models import (
    Commitment,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    Memorandum,
    Note,
    TargetChange,
    utcnow,
)
from mou_tracker.domain.vocab import (
    CONFIDENCES,
    DIRECTIONS,
    EVIDENCE_KINDS,
    STATUSES,
    STATUSES_WITHOUT_EVIDENCE,
    VISIBILITIES,
)


@dataclass(frozen=True)
class EvidenceInput:
    """A validated evidence record, before it is attached to a commitment."""

    url: str
    title: str
    publisher: str | None = None
    published: date | None = None
    kind: str = "news_report"
    direction: str = "context"
    confidence: str = "secondary"
    summary: str | None = None
    archived_url: str | None = None

    @classmethod
    def build(
        cls,
        *,
        url: object,
        title: object,
        publisher: object = None,
        published: object = None,
        kind: object = None,
        direction: object = None,
        confidence: object = None,
        summary: object = None,
        archived_url: object = None,
        prefix: str = "",
    ) -> EvidenceInput:
        """Check every field; raise :class:`InvalidInput` naming the first bad one."""
        p = prefix
        clean_url = v.url(url, f"{p}url")
        assert clean_url is not None
        return cls(
            url=clean_url,
            title=v.required_text(title, f"{p}title", limit="title"),
            publisher=v.text(publisher, f"{p}publisher", limit="publisher", required=False),
            published=None
            if published is None or (isinstance(published, str) and not published.strip())
            else v.parse_date(published, f"{p}published"),
            kind=v.choice(kind or "news_report", f"{p}kind", EVIDENCE_KINDS),
            direction=v.choice(direction or "context", f"{p}direction", DIRECTIONS),
            confidence=v.choice(confidence or "secondary", f"{p}confidence", CONFIDENCES),
            summary=v.text(summary, f"{p}summary", limit="evidence_summary", required=False),
            archived_url=v.url(archived_url, f"{p}archived_url", required=False),
        )

    def fields(self) -> dict[str, object]:
        return {
            "url": self.url,
            "title": self.title,
            "publisher": self.publisher,
            "published": self.published,
            "kind": self.kind,
            "direction": self.direction,
            "confidence": self.confidence,
            "summary": self.summary,
            "archived_url": self.archived_url,
        }


EDITABLE_EVIDENCE_FIELDS = tuple(EvidenceInput.__dataclass_fields__)


def actor_name(value: object) -> str:
    return v.required_text(value, "actor (--as)", limit="actor")


# --- look-ups -------------------------------------------------------------------------------


def get_commitment(session: Session, ref: str, *, lock: bool = False) -> Commitment:
    """The commitment ``ref``. ``lock`` (for a write) reads it ``FOR UPDATE`` on PostgreSQL,
    so a write made without an expected version waits for a concurrent one to commit and
    then works from its result, instead of being refused as a conflict the person never
    caused. SQLite needs no row lock: a write transaction there starts ``BEGIN IMMEDIATE``."""
    clean = v.ref(ref)
    query = select(Commitment).where(Commitment.ref == clean)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is None:
        raise NotFound("ref", clean, "commitment")
    return found


def resolve_evidence(
    session: Session, commitment: Commitment, tokens: Iterable[str | int]
) -> list[Evidence]:
    """Evidence of ``commitment`` named by id (``12`` or ``#12``) or by URL."""
    found: list[Evidence] = []
    for token in tokens:
        raw = str(token).strip()
        ident = raw[1:] if raw.startswith("#") else raw
        if ident.isdigit():
            row = session.get(Evidence, int(ident))
            if row is None or row.commitment_id != commitment.id:
                raise NotFound("evidence", raw, f"evidence on {commitment.ref} with id")
        else:
            clean = v.url(raw, "evidence")
            row = session.scalars(
                select(Evidence).where(
                    Evidence.commitment_id == commitment.id, Evidence.url == clean
                )
            ).first()
            if row is None:
                raise NotFound("evidence", raw, f"evidence on {commitment.ref} with URL")
        if row not in found:
            found.append(row)
    return found


def next_review_for(commitment: Commitment, memorandum: Memorandum) -> date:
    """One cadence after the last review; never reviewed: one cadence after signing."""
    cadence = commitment.review_cadence or memorandum.review_cadence
    return v.add_cadence(commitment.last_reviewed or memorandum.signed, cadence)


def _bump_commitment(
    session: Session,
    commitment: Commitment,
    expected_version: int,
    actor: str,
    at: datetime,
    **values: object,
) -> None:
    """``UPDATE commitment ... WHERE version = :expected``; zero rows means someone got there first."""
    result = session.execute(
        update(Commitment)
        .where(Commitment.id == commitment.id, Commitment.version == expected_version)
        .values(version=expected_version + 1, updated_at=at, updated_by=actor, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(commitment)
        fresh = session.get(Commitment, commitment.id)
        raise ConflictError(
            f"commitment {commitment.ref}",
            fresh.updated_by if fresh else None,
            fresh.updated_at if fresh else None,
        )
    session.expire(commitment)


def _history_entry(session: Session, evidence_ids: list[int], **columns: object) -> HistoryEntry:
    """A new history row with its id and hash chain (:func:`mou_tracker.domain.chain.stamp`);
    the caller adds it, then its history_evidence rows for ``evidence_ids``."""
    (values,) = chain.stamp(session, [{**columns, "evidence_ids": evidence_ids}])
    return HistoryEntry(**values)


def _check_version(what: str, row: Commitment | Evidence, expected: int | None) -> int:
    if expected is not None and expected != row.version:
        raise ConflictError(what, row.updated_by, row.updated_at)
    return row.version


# --- writes -------------------------------------------------------------------------------


def change_status(
    session: Session,
    ref: str,
    new_status: str,
    *,
    actor: str,
    reason: str,
    evidence: Sequence[str | int] = (),
    expected_version: int | None = None,
    at: datetime | None = None,
) -> HistoryEntry:
    """Append a status change (rules 1-3)."""
    actor = actor_name(actor)
    status = v.choice(new_status, "status", STATUSES)
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    commitment = get_commitment(session, ref, lock=True)
    if commitment.strength == "vision":
        raise RuleViolation(
            "status", f"{commitment.ref} is a vision clause: it is shown but not scored"
        )
    seen = _check_version(f"commitment {commitment.ref}", commitment, expected_version)
    if status == commitment.status:
        raise RuleViolation(
            "status",
            f"{commitment.ref} is already {status}; record a review instead "
            f"(mou-tracker review {commitment.ref} --note ...)",
        )
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    latest = session.scalar(
        select(func.max(HistoryEntry.at)).where(HistoryEntry.commitment_id == commitment.id)
    )
    if latest is not None and when < latest:
        raise RuleViolation("at", f"{when.isoformat()} is before the latest history entry")
    cited = resolve_evidence(session, commitment, evidence)
    if status not in STATUSES_WITHOUT_EVIDENCE and not cited:
        raise RuleViolation(
            "evidence",
            f"a change to {status} must cite at least one evidence record of {commitment.ref} "
            "(--evidence URL_OR_ID)",
        )
    for item in cited:
        if item.published is None:
            raise RuleViolation(
                "evidence",
                f"#{item.id} has no publication date, so it cannot support a status change",
            )
        if item.published > when.date():
            raise RuleViolation(
                "evidence",
                f"#{item.id} was published {item.published.isoformat()}, after the change "
                f"({when.date().isoformat()})",
            )
    entry = _history_entry(
        session,
        [item.id for item in cited if item.id is not None],
        commitment_id=commitment.id,
        kind="status",
        from_status=commitment.status,
        to_status=status,
        at=when,
        actor=actor,
        reason=clean_reason,
    )
    session.add(entry)
    session.flush()
    for item in cited:
        session.add(HistoryEvidence(history_id=entry.id, evidence_id=item.id))  # type: ignore[arg-type]
    # A status change is an assessment: someone looked, so it counts as a review too.
    memorandum = session.get(Memorandum, commitment.memorandum_id)
    assert memorandum is not None
    reviewed = when.date()
    if commitment.last_reviewed is not None and commitment.last_reviewed > reviewed:
        reviewed = commitment.last_reviewed  # a back-dated change never rewinds the schedule
    _bump_commitment(
        session,
        commitment,
        seen,
        actor,
        when,
        status=status,
        status_changed_at=when,
        last_reviewed=reviewed,
        next_review=v.add_cadence(reviewed, commitment.review_cadence or memorandum.review_cadence),
    )
    session.flush()
    return entry


def record_review(
    session: Session,
    ref: str,
    *,
    actor: str,
    note: str,
    reviewed_on: date | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> HistoryEntry:
    """Record that someone looked and the status stands: a history entry with no change."""
    actor = actor_name(actor)
    clean_note = v.required_text(note, "note", limit="reason", multiline=True)
    commitment = get_commitment(session, ref, lock=True)
    seen = _check_version(f"commitment {commitment.ref}", commitment, expected_version)
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    day = reviewed_on or when.date()
    memorandum = session.get(Memorandum, commitment.memorandum_id)
    assert memorandum is not None
    entry = _history_entry(
        session,
        [],
        commitment_id=commitment.id,
        kind="review",
        from_status=commitment.status,
        to_status=commitment.status,
        at=when,
        actor=actor,
        reason=clean_note,
    )
    session.add(entry)
    cadence = commitment.review_cadence or memorandum.review_cadence
    _bump_commitment(
        session,
        commitment,
        seen,
        actor,
        when,
        last_reviewed=day,
        next_review=v.add_cadence(day, cadence),
    )
    session.flush()
    return entry


def add_evidence(
    session: Session,
    ref: str,
    item: EvidenceInput,
    *,
    actor: str,
    at: datetime | None = None,
) -> Evidence:
    actor = actor_name(actor)
    commitment = get_commitment(session, ref)
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    duplicate = session.scalar(
        select(Evidence.id).where(Evidence.commitment_id == commitment.id, Evidence.url == item.url)
    )
    if duplicate is not None:
        raise RuleViolation("url", f"already recorded on {commitment.ref} as evidence #{duplicate}")
    row = Evidence(
        commitment_id=commitment.id,  # type: ignore[arg-type]
        added_by=actor,
        added_at=when,
        updated_by=actor,
        updated_at=when,
        **item.fields(),  # type: ignore[arg-type]
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise RuleViolation("url", f"already recorded on {commitment.ref}") from None
    return row


def get_evidence(session: Session, evidence_id: int | str, *, lock: bool = False) -> Evidence:
    raw = str(evidence_id).lstrip("#")
    if not raw.isdigit():
        raise InvalidInput("id", f"{str(evidence_id)!r} is not an evidence id (a number)")
    row = session.get(Evidence, int(raw), with_for_update=lock, populate_existing=lock)
    if row is None:
        raise NotFound("id", int(raw), "evidence with id")
    return row


def edit_evidence(
    session: Session,
    evidence_id: int | str,
    changes: dict[str, object],
    *,
    actor: str,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> EvidenceRevision:
    """Correct an evidence record; the old values are kept in an append-only revision."""
    actor = actor_name(actor)
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    row = get_evidence(session, evidence_id, lock=True)
    unknown = sorted(set(changes) - set(EDITABLE_EVIDENCE_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], "is not an editable evidence field")
    current = {name: getattr(row, name) for name in EDITABLE_EVIDENCE_FIELDS}
    merged = EvidenceInput.build(**{**current, **changes})
    new_values = merged.fields()
    diff = [
        {"field": name, "old": _plain(current[name]), "new": _plain(new_values[name])}
        for name in EDITABLE_EVIDENCE_FIELDS
        if current[name] != new_values[name]
    ]
    if not diff:
        raise RuleViolation("changes", f"evidence #{row.id} already has these values")
    seen = _check_version(f"evidence #{row.id}", row, expected_version)
    if merged.published != row.published:
        cited_at = session.scalars(
            select(HistoryEntry.at)
            .join(HistoryEvidence, HistoryEvidence.history_id == HistoryEntry.id)
            .where(HistoryEvidence.evidence_id == row.id)
        ).all()
        for when_cited in cited_at:
            if merged.published is None or merged.published > when_cited.date():
                raise RuleViolation(
                    "published",
                    f"evidence #{row.id} supports a status change on "
                    f"{when_cited.date().isoformat()}; its date cannot move after that or be removed",
                )
    if merged.url != row.url:
        clash = session.scalar(
            select(Evidence.id).where(
                Evidence.commitment_id == row.commitment_id,
                Evidence.url == merged.url,
                Evidence.id != row.id,
            )
        )
        if clash is not None:
            raise RuleViolation("url", f"already recorded on this commitment as evidence #{clash}")
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    # The revision goes in first: the database lets the date of cited evidence move only when
    # the newest revision records that move (a refused update rolls the revision back too).
    revision = EvidenceRevision(
        evidence_id=row.id,  # type: ignore[arg-type]
        at=when,
        by=actor,
        reason=clean_reason,
        changes=diff,
    )
    session.add(revision)
    session.flush()
    result = session.execute(
        update(Evidence)
        .where(Evidence.id == row.id, Evidence.version == seen)
        .values(version=seen + 1, updated_at=when, updated_by=actor, **new_values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(row)
        fresh = session.get(Evidence, row.id)
        raise ConflictError(
            f"evidence #{row.id}",
            fresh.updated_by if fresh else None,
            fresh.updated_at if fresh else None,
        )
    session.expire(row)
    session.flush()
    return revision


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def add_note(
    session: Session,
    ref: str,
    body: str,
    *,
    actor: str,
    visibility: str = "public",
    at: datetime | None = None,
) -> Note:
    actor = actor_name(actor)
    clean_body = v.required_text(body, "text", limit="note", multiline=True)
    clean_visibility = v.choice(visibility, "visibility", VISIBILITIES)
    commitment = get_commitment(session, ref)
    note = Note(
        commitment_id=commitment.id,  # type: ignore[arg-type]
        visibility=clean_visibility,
        body=clean_body,
        author=actor,
        at=v.aware_utc(at, "at") if at is not None else utcnow(),
    )
    session.add(note)
    session.flush()
    return note


IMPORT_COLUMNS = (
    "ref",
    "url",
    "title",
    "publisher",
    "published",
    "kind",
    "direction",
    "confidence",
    "summary",
    "archived_url",
)
IMPORT_REQUIRED = ("ref", "url", "title")


class ImportRefused(InvalidInput):
    """Some rows of an import are bad; nothing was imported."""

    def __init__(self, source: str, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        row, message = errors[0]
        more = ""
        if len(errors) > 1:
            rows = ", ".join(str(r) for r, _ in errors[1:6])
            tail = ", …" if len(errors) > 6 else ""
            more = f"; {len(errors) - 1} more row(s) have errors (rows {rows}{tail})"
        super().__init__(f"{source} row {row}", f"{message}{more}; nothing was imported")


def import_evidence(
    session: Session,
    rows: Iterable[tuple[int, dict[str, str | None]]],
    *,
    actor: str,
    source: str = "import",
    at: datetime | None = None,
) -> int:
    """Add many evidence records in the caller's transaction: all of them, or none.

    ``rows`` yields ``(row_number, {column: value})``. Every row is checked before anything is
    written; the refusal lists the row numbers of every bad row.
    """
    from sqlalchemy import insert

    actor = actor_name(actor)
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    ids = dict(session.execute(select(Commitment.ref, Commitment.id)).all())
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], int] = {}
    records: list[dict[str, object]] = []
    for number, raw in rows:
        try:
            ref = v.ref(raw.get("ref"), "ref")
            cid = ids.get(ref)
            if cid is None:
                raise NotFound("ref", ref, "commitment")
            item = EvidenceInput.build(**{k: raw.get(k) for k in IMPORT_COLUMNS if k != "ref"})
        except (InvalidInput, NotFound) as exc:
            errors.append((number, str(exc)))
            continue
        key = (cid, item.url)
        if key in seen:
            errors.append((number, f"url: repeats row {seen[key]} for {ref}"))
            continue
        seen[key] = number
        records.append(
            {
                "commitment_id": cid,
                **item.fields(),
                "added_by": actor,
                "added_at": when,
                "updated_by": actor,
                "updated_at": when,
                "version": 1,
            }
        )
    if seen:
        existing: set[tuple[int, str]] = set()
        cids = sorted({cid for cid, _ in seen})
        for start in range(0, len(cids), 1000):
            chunk = cids[start : start + 1000]
            existing.update(
                session.execute(
                    select(Evidence.commitment_id, Evidence.url).where(
                        Evidence.commitment_id.in_(chunk)  # type: ignore[attr-defined]
                    )
                ).all()
            )
        refs = {cid: ref for ref, cid in ids.items()}
        for key, number in seen.items():
            if key in existing:
                errors.append((number, f"url: already recorded on {refs[key[0]]}"))
    if errors:
        errors.sort()
        raise ImportRefused(source, errors)
    if not records:
        raise InvalidInput(source, "has no rows to import")
    from mou_tracker.faults import crashpoint

    for start in range(0, len(records), 5000):
        # A Core insert on the table: one executemany per batch, none of the ORM's bookkeeping.
        session.execute(insert(Evidence.__table__), records[start : start + 5000])  # type: ignore[attr-defined]
        crashpoint("import:batch")
    return len(records)


def set_target(
    session: Session,
    ref: str,
    new_target: date | str,
    *,
    actor: str,
    reason: str,
    evidence: Sequence[str | int] = (),
    expected_version: int | None = None,
    at: datetime | None = None,
) -> TargetChange:
    """Set a commitment's target date, or re-baseline it. The first target becomes the original;
    every later one is a re-baselining that must cite public evidence (e.g. an announced delay).
    The old targets stay in the append-only target history."""
    actor = actor_name(actor)
    target = v.parse_date(new_target, "target") if isinstance(new_target, str) else new_target
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    commitment = get_commitment(session, ref, lock=True)
    if commitment.strength == "vision":
        raise RuleViolation("target", f"{commitment.ref} is a vision clause: it has no target")
    seen = _check_version(f"commitment {commitment.ref}", commitment, expected_version)
    if target == commitment.target:
        raise RuleViolation(
            "target", f"{commitment.ref} already has the target {target.isoformat()}"
        )
    when = v.aware_utc(at, "at") if at is not None else utcnow()
    cited = resolve_evidence(session, commitment, evidence)
    rebaseline = commitment.original_target is not None
    if rebaseline and not cited:
        raise RuleViolation(
            "evidence",
            f"re-baselining the target of {commitment.ref} must cite the evidence for it "
            "(--evidence URL_OR_ID)",
        )
    if len(cited) > 1:
        raise InvalidInput("evidence", "a target change cites one evidence record")
    for item in cited:
        if item.published is None or item.published > when.date():
            raise RuleViolation(
                "evidence", f"#{item.id} must be dated on or before the change to support it"
            )
    change = TargetChange(
        commitment_id=commitment.id,  # type: ignore[arg-type]
        at=when,
        by=actor,
        old_target=commitment.target,
        new_target=target,
        reason=clean_reason,
        evidence_id=cited[0].id if cited else None,
    )
    session.add(change)
    values: dict[str, object] = {"target": target}
    if not rebaseline:
        values["original_target"] = target
    _bump_commitment(session, commitment, seen, actor, when, **values)
    session.flush()
    return change
