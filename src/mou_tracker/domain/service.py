"""Every write the tracker makes, with the rules of DESIGN.md enforced here and nowhere else.

The CLI, the terminal UI, CSV import and TOML sync all call these functions inside one
transaction (see ``mou_tracker.storage.engine.write``), so none of them can bypass a rule.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from mou_tracker.domain import chain, derived, rules
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import ConflictError, InvalidInput, NotFound, RuleViolation
from mou_tracker.domain.models import (
    Commitment,
    CommitmentRevision,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    Memorandum,
    Note,
    Owner,
    Party,
    TargetChange,
    table_of,
    utcnow,
)
from mou_tracker.domain.versioned import versioned_update
from mou_tracker.domain.vocab import (
    CONFIDENCES,
    DIRECTIONS,
    EVIDENCE_KINDS,
    ORIGINS,
    ROLES,
    STATUSES,
    STRENGTHS,
    TEXT_BASES,
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
        now: datetime | None = None,
    ) -> EvidenceInput:
        """Check every field; raise :class:`InvalidInput` naming the first bad one. A
        publication date may not be in the future, judged on ``now`` (default: the clock)."""
        p = prefix
        clean_url = v.url(url, f"{p}url")
        assert clean_url is not None
        return cls(
            url=clean_url,
            title=v.required_text(title, f"{p}title", limit="title"),
            publisher=v.text(publisher, f"{p}publisher", limit="publisher", required=False),
            published=None
            if published is None or (isinstance(published, str) and not published.strip())
            else v.publication_date(published, f"{p}published", now=now or utcnow()),
            kind=v.choice(kind or "news_report", f"{p}kind", EVIDENCE_KINDS),
            direction=v.choice(direction or "context", f"{p}direction", DIRECTIONS),
            confidence=v.choice(confidence or "secondary", f"{p}confidence", CONFIDENCES),
            summary=v.text(summary, f"{p}summary", limit="evidence_summary", required=False),
            archived_url=v.url(archived_url, f"{p}archived_url", required=False),
        )

    def fields(self) -> dict[str, Any]:
        """The fields by name, as keyword arguments of :class:`Evidence` (values of mixed types)."""
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


MAX_ID = 2**63 - 1  # the largest id a SQLite or PostgreSQL bigint can hold


def actor_name(value: object) -> str:
    return v.required_text(value, "actor (--as)", limit="actor")


# --- look-ups -------------------------------------------------------------------------------


def get_commitment(session: Session, ref: str, *, lock: bool = False) -> Commitment:
    """The commitment ``ref``. ``lock`` (for a write) reads it ``FOR UPDATE`` on PostgreSQL,
    so a write made without an expected version waits for a concurrent one to commit and
    then works from its result, instead of being refused as a conflict the person never
    caused. SQLite needs no row lock: a write transaction there starts ``BEGIN IMMEDIATE``."""
    clean = v.ref(ref)
    query = select(Commitment).where(col(Commitment.ref) == clean)
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
            row = session.get(Evidence, int(ident)) if int(ident) <= MAX_ID else None
            if row is None or row.commitment_id != commitment.id:
                raise NotFound("evidence", raw, f"evidence on {commitment.ref} with id")
        else:
            clean = v.url(raw, "evidence")
            row = session.scalars(
                select(Evidence).where(
                    col(Evidence.commitment_id) == commitment.id, col(Evidence.url) == clean
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
    return derived.next_review(commitment.last_reviewed, memorandum.signed, cadence)


def _bump_commitment(
    session: Session,
    commitment: Commitment,
    expected_version: int,
    actor: str,
    at: datetime,
    **values: object,
) -> None:
    """The version-checked write of a commitment (:func:`versioned_update`)."""
    assert commitment.id is not None
    try:
        versioned_update(
            session,
            Commitment,
            commitment.id,
            expected_version,
            what=f"commitment {commitment.ref}",
            actor=actor,
            at=at,
            **values,
        )
    finally:
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
    when = v.effective_time(at, "at", now=utcnow())
    latest = session.scalar(
        select(func.max(col(HistoryEntry.at))).where(
            col(HistoryEntry.commitment_id) == commitment.id
        )
    )
    if latest is not None and when < latest:
        raise RuleViolation(
            "at",
            f"{v.utc_z(when)} is before the latest history entry of {commitment.ref} "
            f"({v.utc_z(latest)}); history is recorded in order",
        )
    cited = resolve_evidence(session, commitment, evidence)
    problem = rules.cited_evidence_problem(
        status,
        when.date(),
        [(f"#{item.id}", item.published) for item in cited],
        ref=commitment.ref,
        hint=" (--evidence URL_OR_ID)",
    )
    if problem is not None:
        raise RuleViolation("evidence", problem)
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
    assert entry.id is not None  # flushed above
    for item in cited:
        assert item.id is not None  # read from the database
        session.add(HistoryEvidence(history_id=entry.id, evidence_id=item.id))
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
        next_review=derived.next_review(
            reviewed, memorandum.signed, commitment.review_cadence or memorandum.review_cadence
        ),
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
    now = utcnow()
    when = v.effective_time(at, "at", now=now)
    day = when.date()
    field = "at"
    if reviewed_on is not None:
        field = "review date (--on)"
        day = v.day_not_in_future(v.parse_date(reviewed_on, field), field, now=now)
        if at is None and day < when.date():
            # a review made on an earlier day takes effect that day (its last second, UTC, so
            # that it follows anything else recorded that day); it is recorded now, and the
            # record keeps both times
            when = datetime.combine(day, time(23, 59, 59), UTC)
    if commitment.last_reviewed is not None and day < commitment.last_reviewed:
        if reviewed_on is None and at is None:
            day = commitment.last_reviewed  # a review made now never rewinds the schedule
        else:
            raise RuleViolation(
                field,
                f"{day.isoformat()} is before the last review of {commitment.ref} "
                f"({commitment.last_reviewed.isoformat()}); reviews are recorded in order",
            )
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
        next_review=derived.next_review(day, memorandum.signed, cadence),
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
    now = utcnow()
    when = v.effective_time(at, "at", now=now)
    if item.published is not None:  # checked again here: an EvidenceInput made without build()
        v.day_not_in_future(item.published, "published", now=now)
    assert commitment.id is not None  # read from the database
    duplicate = _same_page_on(session, commitment.id, item.url)
    if duplicate is not None:
        raise duplicate_url(commitment.ref, item.url, *duplicate)
    row = Evidence(
        commitment_id=commitment.id,
        added_by=actor,
        added_at=when,
        updated_by=actor,
        updated_at=when,
        **item.fields(),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise RuleViolation("url", f"already recorded on {commitment.ref}") from None
    return row


def _same_page_on(
    session: Session, commitment_id: int, url: str, *, other_than: int | None = None
) -> tuple[int, str] | None:
    """(id, url) of evidence of the commitment at ``url`` or at another address of the same
    page (:func:`mou_tracker.domain.validate.same_page`), or None. A commitment holds a few
    records, so they are compared here rather than in SQL."""
    key = v.same_page(url)
    query = select(col(Evidence.id), col(Evidence.url)).where(
        col(Evidence.commitment_id) == commitment_id
    )
    found = None
    for eid, existing in session.execute(query.order_by(col(Evidence.id))):
        if eid == other_than:
            continue
        if existing == url:
            return eid, existing
        if found is None and v.same_page(existing) == key:
            found = (eid, existing)
    return found


def duplicate_url(ref: str, url: str, existing_id: int, existing_url: str) -> RuleViolation:
    """The refusal of a URL already recorded on ``ref``, naming the record that has it."""
    if existing_url == url:
        return RuleViolation("url", f"already recorded on {ref} as evidence #{existing_id}")
    return RuleViolation("url", f"same page as evidence #{existing_id} ({existing_url})")


def get_evidence(session: Session, evidence_id: int | str, *, lock: bool = False) -> Evidence:
    raw = str(evidence_id).lstrip("#")
    if not raw.isdigit():
        raise InvalidInput("id", f"{str(evidence_id)!r} is not an evidence id (a number)")
    if int(raw) > MAX_ID:  # no database holds such an id; SQLite would overflow on it
        raise NotFound("id", int(raw), "evidence with id")
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
            select(col(HistoryEntry.at))
            .join(HistoryEvidence, col(HistoryEvidence.history_id) == col(HistoryEntry.id))
            .where(col(HistoryEvidence.evidence_id) == row.id)
        ).all()
        for when_cited in cited_at:
            if merged.published is None or merged.published > when_cited.date():
                raise RuleViolation(
                    "published",
                    f"evidence #{row.id} supports a status change on "
                    f"{when_cited.date().isoformat()}; its date cannot move after that or be removed",
                )
    if merged.url != row.url:
        clash = _same_page_on(session, row.commitment_id, merged.url, other_than=row.id)
        if clash is not None and clash[1] == merged.url:
            raise RuleViolation(
                "url", f"already recorded on this commitment as evidence #{clash[0]}"
            )
        if clash is not None:
            raise duplicate_url("", merged.url, *clash)
    when = v.effective_time(at, "at", now=utcnow())
    # The revision goes in first: the database lets the date of cited evidence move only when
    # the newest revision records that move (a refused update rolls the revision back too).
    assert row.id is not None  # read from the database
    revision = EvidenceRevision(
        evidence_id=row.id,
        at=when,
        by=actor,
        reason=clean_reason,
        changes=diff,
    )
    session.add(revision)
    session.flush()
    try:
        versioned_update(
            session,
            Evidence,
            row.id,
            seen,
            what=f"evidence #{row.id}",
            actor=actor,
            at=when,
            **new_values,
        )
    finally:
        session.expire(row)
    session.flush()
    return revision


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- corrections of a commitment ---------------------------------------------------------------

# What a correction may change (DESIGN.md rule 8), in the order a correction lists the changes.
CORRECTABLE_FIELDS = (
    "title",
    "summary",
    "strength",
    "origin",
    "text_basis",
    "section",
    "source_url",
    "theme",
    "owners",
)


def owners_text(owners: Iterable[tuple[str, str]]) -> str:
    """Owners as a correction records them: leads first, each role by party code, e.g.
    ``DSIT (lead), OPENAI (support)``."""
    ordered = sorted(owners, key=lambda o: (o[1], o[0]))  # "lead" sorts before "support"
    return ", ".join(f"{code} ({role})" for code, role in ordered)


def restates_text(refs: Iterable[str] | None) -> str:
    """The refs a commitment restates, as a correction records them: ``OAI-3.1, OAI-3.2``."""
    return ", ".join(refs or ())


def parse_owners(value: object, field: str = "owners") -> list[tuple[str, str]]:
    """Owners given as ``"DSIT:lead,OPENAI:support"`` (or as (code, role) pairs), checked:
    a party code and a role each, no party twice, at least one."""
    pairs: list[tuple[object, object]] = []
    if isinstance(value, str):
        for part in value.split(","):
            if not part.strip():
                continue
            code, sep, role = part.partition(":")
            if not sep:
                raise InvalidInput(
                    field, f"{part.strip()!r} must be CODE:ROLE, e.g. DSIT:lead or OPENAI:support"
                )
            pairs.append((code.strip(), role.strip()))
    elif isinstance(value, list | tuple):
        for item in value:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise InvalidInput(field, "each owner is a (party code, role) pair")
            pairs.append((item[0], item[1]))
    else:
        raise InvalidInput(field, f"must be text like DSIT:lead, got {type(value).__name__}")
    result: list[tuple[str, str]] = []
    for given_code, given_role in pairs:
        clean = v.party_code(given_code, field)
        if any(clean == seen for seen, _ in result):
            raise InvalidInput(field, f"{clean} is listed twice")
        result.append((clean, v.choice(given_role, f"{field} ({clean})", ROLES)))
    if not result:
        raise InvalidInput(field, "needs at least one owner, e.g. DSIT:lead")
    return result


def _commitment_field(name: str, value: object) -> str:
    """One correctable field (not owners), checked as sync checks the file's."""
    if name == "title":
        return v.required_text(value, "title", limit="commitment_title")
    if name == "summary":
        return v.required_text(value, "summary", limit="summary", multiline=True)
    if name in ("section", "theme"):
        return v.required_text(value, name, limit=name)
    if name == "source_url":
        clean = v.url(value, "source_url")
        assert clean is not None
        return clean
    allowed = {"strength": STRENGTHS, "origin": ORIGINS, "text_basis": TEXT_BASES}[name]
    return v.choice(value, name, allowed)


def commitment_owners(session: Session, commitment_id: int) -> list[tuple[str, str]]:
    """(party code, role) of each owner of a commitment."""
    query = (
        select(col(Party.code), col(Owner.role))
        .join(Owner, col(Owner.party_id) == col(Party.id))
        .where(col(Owner.commitment_id) == commitment_id)
    )
    return [(code, role) for code, role in session.execute(query)]


def correct_commitment(
    session: Session,
    ref: str,
    changes: dict[str, object],
    *,
    actor: str,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> CommitmentRevision:
    """Correct how a commitment is recorded (its wording, summary, strength, owners, origin,
    text basis, section, source or theme). The old and new values go into the append-only,
    public corrections log with who, when and why; a correction with no reason, or one that
    changes nothing, is refused. ``owners`` is the whole new list (``"DSIT:lead,MOJ:support"``)."""
    actor = actor_name(actor)
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    wanted, new_owners = _corrected_values(changes)
    commitment = get_commitment(session, ref, lock=True)
    assert commitment.id is not None  # read from the database
    seen = _check_version(f"commitment {commitment.ref}", commitment, expected_version)
    owners = commitment_owners(session, commitment.id)
    diff: list[dict[str, str]] = []
    for name in CORRECTABLE_FIELDS:
        if name not in wanted:
            continue
        if name == "owners":
            old, new = owners_text(owners), wanted["owners"]
        else:
            old, new = str(getattr(commitment, name)), str(wanted[name])
        if old != new:
            diff.append({"field": name, "old": old, "new": new})
    if not diff:
        raise RuleViolation("changes", f"{commitment.ref} already has these values")
    changed = {c["field"] for c in diff}
    if "strength" in changed and wanted["strength"] == "vision":
        _refuse_vision_with_history(session, commitment)
    party_ids = _party_ids(session, new_owners) if "owners" in changed else {}
    now = utcnow()
    when = v.effective_time(at, "at", now=now)
    revision = CommitmentRevision(
        commitment_id=commitment.id,
        at=when,
        recorded_at=now,
        by=actor,
        reason=clean_reason,
        changes=diff,
    )
    session.add(revision)
    columns = {name: wanted[name] for name in changed if name != "owners"}
    _bump_commitment(session, commitment, seen, actor, when, **columns)
    if "owners" in changed:
        from sqlalchemy import delete, insert

        session.execute(delete(Owner).where(col(Owner.commitment_id) == commitment.id))
        session.execute(
            insert(Owner),
            [
                {"commitment_id": commitment.id, "party_id": party_ids[code], "role": role}
                for code, role in new_owners
            ],
        )
    session.flush()
    return revision


def _corrected_values(
    changes: dict[str, object],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each field a correction names, checked, as text (owners as :func:`owners_text`), and the
    new owners as (party code, role) when it names them."""
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"is not a field a correction changes ({', '.join(CORRECTABLE_FIELDS)})",
        )
    wanted: dict[str, str] = {}
    new_owners: list[tuple[str, str]] = []
    for name, value in changes.items():
        if name == "owners":
            new_owners = parse_owners(value)
            wanted[name] = owners_text(new_owners)
        else:
            wanted[name] = _commitment_field(name, value)
    return wanted, new_owners


def _refuse_vision_with_history(session: Session, commitment: Commitment) -> None:
    """A vision clause is not scored: one with a status or target history cannot become one."""
    scored = session.scalar(
        select(func.count())
        .select_from(HistoryEntry)
        .where(col(HistoryEntry.commitment_id) == commitment.id)
    ) or session.scalar(
        select(func.count())
        .select_from(TargetChange)
        .where(col(TargetChange.commitment_id) == commitment.id)
    )
    if scored:
        raise RuleViolation(
            "strength",
            f"{commitment.ref} has a status or target history; a vision clause is not "
            "scored, so it cannot become one",
        )


def _party_ids(session: Session, owners: list[tuple[str, str]]) -> dict[str, int]:
    """party code -> id for each of ``owners``; a code no party has is refused."""
    codes = [code for code, _ in owners]
    party_ids = {
        code: party_id
        for code, party_id in session.execute(
            select(col(Party.code), col(Party.id)).where(col(Party.code).in_(codes))
        )
        if party_id is not None
    }
    missing = [code for code in codes if code not in party_ids]
    if missing:
        raise NotFound("owners", missing[0], "party with code")
    return party_ids


def add_note(
    session: Session,
    ref: str,
    body: str,
    *,
    actor: str,
    visibility: str = "public",
    at: datetime | None = None,
    withdraws: int | None = None,
) -> Note:
    actor = actor_name(actor)
    clean_body = v.required_text(body, "text", limit="note", multiline=True)
    clean_visibility = v.choice(visibility, "visibility", VISIBILITIES)
    commitment = get_commitment(session, ref)
    assert commitment.id is not None  # read from the database
    note = Note(
        commitment_id=commitment.id,
        visibility=clean_visibility,
        body=clean_body,
        author=actor,
        at=v.effective_time(at, "at", now=utcnow()),
        withdraws=withdraws,
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


def evidence_checks(now: datetime) -> tuple[tuple[str, Any], ...]:
    """The check of every column of an evidence record, built once for many rows (an import,
    a sync): ``(column, check)`` in the order :meth:`EvidenceInput.build` checks them, each
    ``check(value, field)`` giving the clean value or raising :class:`InvalidInput`."""

    def text_of(limit: str, required: bool) -> Any:
        return lambda x, name: v.text(x, name, limit=limit, required=required)

    def choice_of(default: str, allowed: tuple[str, ...]) -> Any:
        return lambda x, name: v.choice(x or default, name, allowed)

    def published(x: object, name: str) -> date | None:
        if x is None or (isinstance(x, str) and not x.strip()):
            return None
        return v.publication_date(x, name, now=now)

    return (
        ("url", lambda x, name: v.url(x, name)),
        ("title", text_of("title", True)),
        ("publisher", text_of("publisher", False)),
        ("published", published),
        ("kind", choice_of("news_report", EVIDENCE_KINDS)),
        ("direction", choice_of("context", DIRECTIONS)),
        ("confidence", choice_of("secondary", CONFIDENCES)),
        ("summary", text_of("evidence_summary", False)),
        ("archived_url", lambda x, name: v.url(x, name, required=False)),
    )


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
    written; the refusal lists the row numbers of every bad row. What is refused, and how, is
    decided here in Python, so SQLite and PostgreSQL refuse the same rows with the same words.
    """
    actor = actor_name(actor)
    now = utcnow()
    when = v.effective_time(at, "at", now=now)
    ids: dict[str, int] = {
        ref: cid
        for ref, cid in session.connection().execute(
            select(col(Commitment.ref), col(Commitment.id))
        )
        if cid is not None
    }
    records, errors, seen = _checked_import_rows(rows, ids, now)
    if seen:
        errors += _already_recorded(session, seen, ids)
    if errors:
        errors.sort()
        raise ImportRefused(source, errors)
    if not records:
        raise InvalidInput(source, "has no rows to import")
    from mou_tracker.domain.bulk import insert_rows

    stamp = {"added_by": actor, "added_at": when, "updated_by": actor, "updated_at": when}
    insert_rows(
        session,
        table_of(Evidence),
        records,
        same={**stamp, "recorded_at": now, "version": 1},
        after_batch=lambda: sys.audit("mou_tracker.crashpoint", "import:batch"),  # faults.py
    )
    return len(records)


def _checked_import_rows(
    rows: Iterable[tuple[int, dict[str, str | None]]], ids: dict[str, int], now: datetime
) -> tuple[list[dict[str, Any]], list[tuple[int, str]], dict[tuple[int, str], tuple[int, str]]]:
    """Every row checked, column by column, with checks built once: the clean records, the
    errors by row number, and the page each record is of, by commitment (for duplicates)."""
    checks = evidence_checks(now)
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], tuple[int, str]] = {}  # (commitment, page) -> (row, url)
    records: list[dict[str, Any]] = []
    for number, raw in rows:
        try:
            ref = v.ref(raw.get("ref"), "ref")
            cid = ids.get(ref)
            if cid is None:
                raise NotFound("ref", ref, "commitment")
            item: dict[str, Any] = {"commitment_id": cid}
            for name, check in checks:
                item[name] = check(raw.get(name), name)
        except (InvalidInput, NotFound) as exc:
            errors.append((number, str(exc)))
            continue
        url = item["url"]
        key = (cid, v.same_page(url))
        if key in seen:
            first, first_url = seen[key]
            if first_url == url:
                errors.append((number, f"url: repeats row {first} for {ref}"))
            else:
                errors.append((number, f"url: same page as row {first} for {ref} ({first_url})"))
            continue
        seen[key] = (number, url)
        records.append(item)
    return records, errors, seen


def _already_recorded(
    session: Session, seen: dict[tuple[int, str], tuple[int, str]], ids: dict[str, int]
) -> list[tuple[int, str]]:
    """Rows whose page the database already records on the same commitment (the same page at
    another address counts: validate.same_page), each refused naming the record's id."""
    existing: dict[tuple[int, str], tuple[int, str]] = {}
    cids = sorted({cid for cid, _ in seen})
    connection = session.connection()
    for start in range(0, len(cids), 1000):
        chunk = cids[start : start + 1000]
        for eid, cid, url in connection.execute(
            select(col(Evidence.id), col(Evidence.commitment_id), col(Evidence.url))
            .where(col(Evidence.commitment_id).in_(chunk))
            .order_by(col(Evidence.id))
        ):
            assert eid is not None  # a stored row
            existing.setdefault((cid, v.same_page(url)), (eid, url))
    refs = {cid: ref for ref, cid in ids.items()}
    errors = []
    for key, (number, url) in seen.items():
        if key in existing:
            eid, old_url = existing[key]
            errors.append((number, str(duplicate_url(refs[key[0]], url, eid, old_url))))
    return errors


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
    when = v.effective_time(at, "at", now=utcnow())
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
    assert commitment.id is not None  # read from the database
    change = TargetChange(
        commitment_id=commitment.id,
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
