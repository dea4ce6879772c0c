"""Batches (issue 18, item 9): one review or note for several commitments, all or nothing."""

from __future__ import annotations

import pytest

from mou_tracker.domain import batch
from mou_tracker.domain.errors import ConflictError, InvalidInput, NotFound
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read, run_write


def _detail(engine, ref):  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return commitment_detail(s, ref)


def _state(engine):  # type: ignore[no-untyped-def]
    return {ref: _detail(engine, ref) for ref in ("T-1", "T-2")}


def test_one_review_for_several_commitments(mini):
    before = _state(mini)
    items = [(ref, d.version) for ref, d in before.items()]
    entries = run_write(
        mini, lambda s: batch.record_reviews(s, items, actor="ann", note="Quarterly check")
    )
    assert len(entries) == 2
    for ref, old in before.items():
        new = _detail(mini, ref)
        assert new.version == old.version + 1
        last = new.history[-1]
        assert (last.kind, last.actor, last.reason) == ("review", "ann", "Quarterly check")
        assert last.to_status == old.status == new.status


def test_a_stale_version_refuses_the_whole_batch(mini):
    before = _state(mini)
    items = [("T-1", before["T-1"].version), ("T-2", before["T-2"].version - 1)]
    with pytest.raises(ConflictError):
        run_write(mini, lambda s: batch.record_reviews(s, items, actor="ann", note="x"))
    assert _state(mini) == before  # T-1's review was rolled back with the rest


def test_a_bad_note_or_batch_is_refused_naming_the_field(mini):
    before = _state(mini)
    with pytest.raises(InvalidInput, match="note: must not be empty"):
        run_write(mini, lambda s: batch.record_reviews(s, [("T-1", None)], actor="a", note=" "))
    with pytest.raises(InvalidInput, match="refs: T-1 is in the batch twice"):
        run_write(
            mini,
            lambda s: batch.record_reviews(s, [("T-1", None), ("T-1", None)], actor="a", note="n"),
        )
    with pytest.raises(InvalidInput, match="refs: choose at least one"):
        run_write(mini, lambda s: batch.add_notes(s, [], "n", actor="a", visibility="public"))
    assert _state(mini) == before


def test_one_note_for_several_and_an_unknown_ref_stores_none(mini):
    counts = {ref: len(d.notes) for ref, d in _state(mini).items()}
    with pytest.raises(NotFound):
        run_write(
            mini,
            lambda s: batch.add_notes(
                s, ["T-1", "NOPE-9"], "Chase DSIT", actor="ann", visibility="internal"
            ),
        )
    assert {ref: len(d.notes) for ref, d in _state(mini).items()} == counts
    run_write(
        mini,
        lambda s: batch.add_notes(
            s, ["T-1", "T-2"], "Chase DSIT", actor="ann", visibility="internal"
        ),
    )
    for ref, d in _state(mini).items():
        assert len(d.notes) == counts[ref] + 1
        assert (d.notes[-1].body, d.notes[-1].visibility) == ("Chase DSIT", "internal")
