"""Taking back a write made by mistake (issue 18, item 10), the append-only way: nothing is
deleted or rewritten; each undo is a new, dated, attributed entry that says what it takes back
and why, through the same service functions every other write uses.

* a **note** is withdrawn by a note beside it (same commitment, same visibility) whose
  ``withdraws`` column holds the id of the note it takes back (migration 0011). Its body says
  so for a human reader
  (``Withdrawn: note #12 (pm-alice, 2026-11-27 16:32 UTC) was added by mistake. <reason>``),
  but the body decides nothing: a note typed to look like that is ordinary text.
  :func:`withdrawals` (in ``derived``, which the readers load without the write path) reads
  the column back, so every interface and report can mark the
  original;
* an **evidence record** is withdrawn by a correction (``edit_evidence``: old and new values
  kept and published): its summary says it was withdrawn, its direction becomes ``context``
  and its confidence ``withdrawn`` (:data:`WITHDRAWN`), the state "latest evidence", staleness
  and the counts leave out (:func:`mou_tracker.domain.derived.counts_as_evidence`). Evidence a
  status change cites stands: it is part of the reason for that change (undo the change
  first);
* a **status change** is undone by a status change back, citing the evidence the earlier
  status rested on, so rule 1 holds for the way back too. Only the newest change of a
  commitment can be undone, and only while nobody has changed the commitment since.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from mou_tracker.domain import service
from mou_tracker.domain import validate as v
from mou_tracker.domain.derived import withdrawals, withdrawn_note_ids
from mou_tracker.domain.errors import NotFound, RuleViolation
from mou_tracker.domain.models import (
    Commitment,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    Note,
)
from mou_tracker.domain.vocab import WITHDRAWN

WITHDRAWN_EVIDENCE = "Withdrawn: added by mistake"

__all__ = [
    "WITHDRAWN_EVIDENCE",
    "undo_status_change",
    "withdraw_evidence",
    "withdraw_note",
    "withdrawals",
    "withdrawn_note_ids",
]


def withdraw_note(session: Session, note_id: int, *, actor: str, reason: str) -> Note:
    """Add the note that withdraws note ``note_id`` (see the module's docstring)."""
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    note = session.get(Note, note_id)
    if note is None:
        raise NotFound("note", note_id, "note with id")
    if note.withdraws is not None:
        raise RuleViolation(
            "note", f"note #{note_id} is itself a withdrawal; add a note to say more"
        )
    already = session.scalars(
        select(col(Note.id)).where(col(Note.withdraws) == note_id).limit(1)
    ).first()
    if already is not None:
        raise RuleViolation("note", f"note #{note_id} is already withdrawn")
    commitment = session.get(Commitment, note.commitment_id)
    assert commitment is not None
    body = (
        f"Withdrawn: note #{note_id} ({note.author}, {v.utc_z(note.at)}) was added by mistake. "
        f"{clean_reason}"
    )
    return service.add_note(
        session,
        commitment.ref,
        body,
        actor=actor,
        visibility=note.visibility,
        withdraws=note_id,
    )


def withdraw_evidence(
    session: Session,
    evidence_id: int,
    *,
    actor: str,
    reason: str,
    expected_version: int | None = None,
) -> EvidenceRevision:
    """Correct evidence ``evidence_id`` into a withdrawn record (see the module's docstring);
    refused while a status change cites it."""
    row = service.get_evidence(session, evidence_id, lock=True)
    if row.confidence == WITHDRAWN:
        raise RuleViolation("evidence", f"evidence #{row.id} is already withdrawn")
    cited = session.execute(
        select(col(HistoryEntry.at), col(HistoryEntry.to_status))
        .join(HistoryEvidence, col(HistoryEvidence.history_id) == col(HistoryEntry.id))
        .where(col(HistoryEvidence.evidence_id) == row.id)
        .order_by(col(HistoryEntry.at))
    ).first()
    if cited is not None:
        raise RuleViolation(
            "evidence",
            f"evidence #{row.id} supports the change to {cited[1]} of "
            f"{cited[0].date().isoformat()}; it stands while that change does",
        )
    return service.edit_evidence(
        session,
        evidence_id,
        {"summary": WITHDRAWN_EVIDENCE, "direction": "context", "confidence": WITHDRAWN},
        actor=actor,
        reason=f"Withdrawn: {v.required_text(reason, 'reason', limit='reason', multiline=True)}",
        expected_version=expected_version,
    )


def undo_status_change(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    reason: str,
    expected_version: int | None = None,
) -> HistoryEntry:
    """A status change back to where history entry ``entry_id`` moved the commitment from."""
    clean_reason = v.required_text(reason, "reason", limit="reason", multiline=True)
    entry = session.get(HistoryEntry, entry_id)
    if entry is None or entry.kind != "status":
        raise NotFound("change", entry_id, "status change with id")
    commitment = session.get(Commitment, entry.commitment_id)
    assert commitment is not None
    newest = session.scalars(
        select(col(HistoryEntry.id))
        .where(
            col(HistoryEntry.commitment_id) == entry.commitment_id,
            col(HistoryEntry.kind) == "status",
        )
        .order_by(col(HistoryEntry.at).desc(), col(HistoryEntry.id).desc())
        .limit(1)
    ).first()
    if newest != entry.id or commitment.status != entry.to_status:
        raise RuleViolation(
            "change",
            f"{commitment.ref} has changed status since; only its newest change can be undone",
        )
    # The evidence the earlier status rested on: what the change into it cited.
    before = session.scalars(
        select(col(HistoryEntry.id))
        .where(
            col(HistoryEntry.commitment_id) == entry.commitment_id,
            col(HistoryEntry.kind) == "status",
            col(HistoryEntry.to_status) == entry.from_status,
            col(HistoryEntry.id) != entry.id,
            col(HistoryEntry.at) <= entry.at,
        )
        .order_by(col(HistoryEntry.at).desc(), col(HistoryEntry.id).desc())
        .limit(1)
    ).first()
    cited: list[str | int] = []
    if before is not None:
        cited = list(
            session.scalars(
                select(col(HistoryEvidence.evidence_id)).where(
                    col(HistoryEvidence.history_id) == before
                )
            )
        )
    return service.change_status(
        session,
        commitment.ref,
        entry.from_status,
        actor=actor,
        reason=(
            f"Undo of the change to {entry.to_status} of {v.utc_z(entry.at)} by {entry.actor}: "
            f"{clean_reason}"
        ),
        evidence=cited,
        expected_version=expected_version,
    )
