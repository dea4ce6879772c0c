"""Undo (issue 18, item 10) in the domain: every undo is a new entry, never a delete, and the
rules refuse what may not be taken back."""

from __future__ import annotations

import pytest

from mou_tracker.domain import batch, service, undo
from mou_tracker.domain.errors import ConflictError, RuleViolation
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read, run_write

URL = "https://gov.example.org/added-by-mistake"


def _detail(engine, ref):  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return commitment_detail(s, ref)


def _add_evidence(engine, ref: str = "T-2"):  # type: ignore[no-untyped-def]
    item = service.EvidenceInput.build(url=URL, title="Wrong clause", published="2026-01-05")
    return run_write(engine, lambda s: service.add_evidence(s, ref, item, actor="ann"))


def test_a_withdrawn_note_stays_and_a_note_names_it(mini):
    note = run_write(
        mini, lambda s: service.add_note(s, "T-1", "Oops", actor="ann", visibility="internal")
    )
    run_write(mini, lambda s: undo.withdraw_note(s, note.id, actor="bob", reason="Wrong clause"))
    notes = _detail(mini, "T-1").notes
    assert notes[-2].body == "Oops"
    assert notes[-1].visibility == "internal" and notes[-1].author == "bob"
    assert notes[-1].withdraws == note.id
    assert undo.withdrawn_note_ids(notes) == {note.id}
    with pytest.raises(RuleViolation, match=f"note #{note.id} is already withdrawn"):
        run_write(mini, lambda s: undo.withdraw_note(s, note.id, actor="bob", reason="again"))
    with pytest.raises(RuleViolation, match="is itself a withdrawal"):
        run_write(mini, lambda s: undo.withdraw_note(s, notes[-1].id, actor="bob", reason="x"))
    assert len(_detail(mini, "T-1").notes) == len(notes)


def test_withdrawn_evidence_is_a_correction_and_cited_evidence_stands(mini):
    row = _add_evidence(mini)
    run_write(
        mini,
        lambda s: undo.withdraw_evidence(
            s, row.id, actor="bob", reason="Not this clause", expected_version=1
        ),
    )
    record = next(e for e in _detail(mini, "T-2").evidence if e.id == row.id)
    assert (record.summary, record.direction, record.confidence, record.title) == (
        undo.WITHDRAWN_EVIDENCE,
        "context",
        "withdrawn",
        "Wrong clause",
    )
    assert record.revisions[-1].reason == "Withdrawn: Not this clause"
    with pytest.raises(RuleViolation, match="already withdrawn"):
        run_write(mini, lambda s: undo.withdraw_evidence(s, row.id, actor="bob", reason="x"))
    # evidence that supports a status change is part of its reason: it stands
    cited = _detail(mini, "T-1").history[-1].evidence_ids[0]
    before = _detail(mini, "T-1")
    with pytest.raises(RuleViolation, match="supports the change to"):
        run_write(mini, lambda s: undo.withdraw_evidence(s, cited, actor="bob", reason="x"))
    assert _detail(mini, "T-1") == before


def test_withdrawing_evidence_someone_corrected_since_is_a_conflict(mini):
    row = _add_evidence(mini)
    run_write(
        mini,
        lambda s: service.edit_evidence(s, row.id, {"title": "Fixed"}, actor="cy", reason="t"),
    )
    with pytest.raises(ConflictError, match="changed by cy"):
        run_write(
            mini,
            lambda s: undo.withdraw_evidence(
                s, row.id, actor="ann", reason="x", expected_version=1
            ),
        )


def test_a_status_change_is_undone_by_a_change_back_citing_the_earlier_evidence(mini):
    before = _detail(mini, "T-1")
    earlier = before.history[-1]
    row = _add_evidence(mini, "T-1")
    entry = run_write(
        mini,
        lambda s: service.change_status(
            s, "T-1", "met", actor="ann", reason="Done", evidence=[row.id]
        ),
    )
    version = _detail(mini, "T-1").version
    back = run_write(
        mini,
        lambda s: undo.undo_status_change(
            s, entry.id, actor="ann", reason="Misread", expected_version=version
        ),
    )
    after = _detail(mini, "T-1")
    assert after.status == before.status == back.to_status
    last = after.history[-1]
    assert (last.from_status, last.to_status) == ("met", before.status)
    assert set(last.evidence_ids) == set(earlier.evidence_ids)  # what the old status rested on
    assert last.reason.endswith(": Misread")
    with pytest.raises(RuleViolation, match="only its newest change can be undone"):
        run_write(mini, lambda s: undo.undo_status_change(s, entry.id, actor="a", reason="x"))


def test_batch_evidence_is_all_or_nothing(mini):
    item = service.EvidenceInput.build(url=URL, title="Shared", published="2026-01-05")
    _add_evidence(mini, "T-2")
    before = {ref: len(_detail(mini, ref).evidence) for ref in ("T-1", "T-2")}
    with pytest.raises(RuleViolation, match="T-2"):
        run_write(mini, lambda s: batch.add_evidence_to_all(s, ["T-1", "T-2"], item, actor="a"))
    assert {ref: len(_detail(mini, ref).evidence) for ref in ("T-1", "T-2")} == before
