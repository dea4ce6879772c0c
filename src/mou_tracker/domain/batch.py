"""Batches (issue 18, item 9): one review, one note or one evidence link for several
commitments, in one transaction. Each item goes through the same service function a single
write uses, so every rule holds for each of them; if any item is refused, the caller's
transaction rolls back and nothing of the batch is stored. Call inside ``run_write``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.domain.models import Evidence, HistoryEntry, Note

MAX_BATCH = 500


def _refs(items: Sequence[str]) -> list[str]:
    if not items:
        raise InvalidInput("refs", "choose at least one commitment for the batch")
    if len(items) > MAX_BATCH:
        raise InvalidInput("refs", f"{len(items)} commitments; a batch holds at most {MAX_BATCH}")
    seen: set[str] = set()
    for ref in items:
        if ref in seen:
            raise InvalidInput("refs", f"{ref} is in the batch twice")
        seen.add(ref)
    return list(items)


def _named(ref: str, exc: TrackerError) -> TrackerError:
    """The refusal, with the commitment it concerns in front unless it names it already."""
    if ref not in str(exc):
        exc.args = (f"{ref}: {exc.args[0]}" if exc.args else ref, *exc.args[1:])
    return exc


def record_reviews(
    session: Session,
    items: Sequence[tuple[str, int | None]],
    *,
    actor: str,
    note: str,
    reviewed_on: date | None = None,
) -> list[HistoryEntry]:
    """The same review note on every ``(ref, version seen)``; a version of None skips the
    check (as the CLI does)."""
    _refs([ref for ref, _ in items])
    entries = []
    for ref, version in items:
        try:
            entries.append(
                service.record_review(
                    session,
                    ref,
                    actor=actor,
                    note=note,
                    reviewed_on=reviewed_on,
                    expected_version=version,
                )
            )
        except TrackerError as exc:
            raise _named(ref, exc) from None
    return entries


def add_notes(
    session: Session, refs: Sequence[str], body: str, *, actor: str, visibility: str
) -> list[Note]:
    """The same note on every commitment of ``refs``."""
    notes = []
    for ref in _refs(refs):
        try:
            notes.append(service.add_note(session, ref, body, actor=actor, visibility=visibility))
        except TrackerError as exc:
            raise _named(ref, exc) from None
    return notes


def add_evidence_to_all(
    session: Session, refs: Sequence[str], item: service.EvidenceInput, *, actor: str
) -> list[Evidence]:
    """One evidence link (the same URL, title, date...) recorded on every commitment of
    ``refs``: a record each, as ``evidence add`` would make, so each commitment can cite it.
    A commitment that holds the page already refuses the whole batch, naming itself."""
    rows = []
    for ref in _refs(refs):
        try:
            rows.append(service.add_evidence(session, ref, item, actor=actor))
        except TrackerError as exc:
            raise _named(ref, exc) from None
    return rows
