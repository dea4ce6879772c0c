"""One version-checked write: an edit saved between sync's read (the plan) and its write (the
apply) is refused as a conflict that names who saved it and when, and nothing is lost: the
other person's edit stays, and nothing of the sync is written. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from tests.conftest import MINI, frozen_clock

from mou_tracker.domain import service
from mou_tracker.domain.errors import ConflictError
from mou_tracker.domain.models import Commitment, Evidence, Memorandum, SyncRun
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.domain.versioned import (
    check_version,
    check_versions,
    versioned_update,
    versioned_update_many,
)
from mou_tracker.storage.engine import read, run_write
from mou_tracker.storage.sync import (
    apply_plan,
    conflict_message,
    dump_document,
    parse_document,
    plan_sync,
    sync_document,
)

MINI_TEXT = MINI.read_text(encoding="utf-8")
ALICE_AT = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
PILOT = "https://news.example.org/pilot"
# The file renames one evidence record and one commitment; both were unedited in the database.
EDITED = MINI_TEXT.replace('title = "Pilot announced"', 'title = "Pilot announced (file)"').replace(
    'title = "Explore data centres"', 'title = "Explore UK data centres"'
)


def _plan(engine, text: str, actor: str = "syncer"):  # type: ignore[no-untyped-def]
    doc = parse_document(text)
    with read(engine) as s:
        return plan_sync(s, doc, actor=actor)


def _dump(engine) -> str:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return dump_document(s)


def _runs(engine) -> int:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return int(s.scalar(select(func.count()).select_from(SyncRun)) or 0)


def _pilot_id(engine) -> int:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return next(e.id for e in commitment_detail(s, "T-1").evidence if e.url == PILOT)


def _alice_edits_the_pilot(engine) -> None:  # type: ignore[no-untyped-def]
    eid = _pilot_id(engine)
    with frozen_clock(ALICE_AT):
        run_write(
            engine,
            lambda s: service.edit_evidence(
                s, eid, {"title": "Pilot announced (Alice)"}, actor="alice", reason="typo"
            ),
        )


def test_evidence_edited_between_read_and_write_is_a_conflict_and_nothing_is_lost(mini, capsys):
    plan = _plan(mini, EDITED)
    assert dict(plan.report.updated) == {"commitments": 1, "evidence": 1}
    _alice_edits_the_pilot(mini)  # saved after sync read the database
    after_alice = _dump(mini)
    runs = _runs(mini)

    with pytest.raises(ConflictError) as caught:
        run_write(mini, lambda s: apply_plan(s, plan))

    message = conflict_message(caught.value)
    with capsys.disabled():
        print(f"\n[{mini.dialect.name}] sync: {message}")
    assert caught.value.by == "alice" and caught.value.at == ALICE_AT
    assert message == (
        f"evidence T-1 {PILOT} was changed by alice at 2026-05-04 12:30:00 UTC after sync read "
        "the database; nothing was saved, run sync again"
    )
    # Nothing lost: Alice's edit stands, and the commitment the sync updated before it met the
    # conflict was rolled back with the rest.
    assert _dump(mini) == after_alice and _runs(mini) == runs
    with read(mini) as s:
        assert commitment_detail(s, "T-1").evidence[0].title == "Pilot announced (Alice)"
        assert commitment_detail(s, "T-2").title == "Explore data centres"

    # The next sync reads Alice's edit: both sides changed the record, a reported conflict
    # that keeps the database; the commitment only the file changed is updated.
    report = run_write(mini, lambda s: sync_document(s, parse_document(EDITED), actor="syncer"))
    assert report.conflicts == [
        f"evidence T-1 {PILOT}: the file and the database both changed it since the last sync"
    ]
    with read(mini) as s:
        assert commitment_detail(s, "T-1").evidence[0].title == "Pilot announced (Alice)"
        assert commitment_detail(s, "T-2").title == "Explore UK data centres"


def test_status_changed_between_read_and_write_refuses_the_files_history(mini):
    text = MINI_TEXT.replace(
        'body = "Public context."',
        'body = "Public context."\n\n[[commitment.history]]\nat = 2025-04-01T09:00:00Z\n'
        'by = "seed"\nfrom = "in_progress"\nto = "partially_met"\nreason = "Half done."\n'
        f'evidence = ["{PILOT}"]',
        1,
    )
    plan = _plan(mini, text)
    assert plan.report.added["history entries"] == 1
    with frozen_clock(ALICE_AT):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-1", "stalled", actor="bob", reason="Nothing since", evidence=[PILOT]
            ),
        )
    before = _dump(mini)
    with pytest.raises(ConflictError) as caught:
        run_write(mini, lambda s: apply_plan(s, plan))
    assert (caught.value.what, caught.value.by, caught.value.at) == (
        "commitment T-1",
        "bob",
        ALICE_AT,
    )
    assert _dump(mini) == before
    with read(mini) as s:
        assert commitment_detail(s, "T-1").status == "stalled"


def test_a_commitment_added_between_read_and_write_is_a_conflict(mini):
    text = MINI_TEXT + (
        '\n[[commitment]]\nref = "T-3"\nmemorandum = "gov-acme-2025"\nsection = "3. Skills"\n'
        'origin = "clause"\ntitle = "Train people"\nsummary = "Courses."\n'
        'source_url = "https://example.org/mou#3"\ntext_basis = "verified"\ntheme = "Skills"\n'
        'strength = "may"\nowners = [{ party = "GOV", role = "lead" }]\n'
    )
    plan = _plan(mini, text, actor="first")
    with frozen_clock(ALICE_AT):  # another sync of the same file gets there first
        run_write(mini, lambda s: sync_document(s, parse_document(text), actor="second"))
    before = _dump(mini)
    with pytest.raises(ConflictError) as caught:
        run_write(mini, lambda s: apply_plan(s, plan))
    assert (caught.value.what, caught.value.by) == ("commitment T-3", "second")
    assert _dump(mini) == before


def test_the_cli_reports_the_conflict_and_saves_nothing(mini_cli_main, tmp_path, monkeypatch):
    from mou_tracker.storage import sync
    from mou_tracker.storage.engine import make_engine

    path = tmp_path / "edited.toml"
    path.write_text(EDITED, encoding="utf-8")
    engine = make_engine(mini_cli_main.db)
    real_plan = sync.plan_sync

    def plan_then_alice(session, doc, **kw):  # type: ignore[no-untyped-def]
        plan = real_plan(session, doc, **kw)
        _alice_edits_the_pilot(engine)
        return plan

    monkeypatch.setattr(sync, "plan_sync", plan_then_alice)
    try:
        result = mini_cli_main("sync", str(path))
        after = _dump(engine)
    finally:
        monkeypatch.undo()
    assert result.code == 1 and result.out == ""
    assert result.err.strip() == (
        f"mou-tracker: error: sync: evidence T-1 {PILOT} was changed by alice at 2026-05-04 12:30:00 "
        "UTC after sync read the database; nothing was saved, run sync again"
    )
    assert "Traceback" not in result.err
    with read(engine) as s:
        assert commitment_detail(s, "T-2").title == "Explore data centres"
    assert "Pilot announced (Alice)" in after
    again = mini_cli_main("sync", str(path))  # read again: a reported conflict, exit 0
    assert again.code == 0 and f"conflict: evidence T-1 {PILOT}" in again.err
    engine.dispose()


@pytest.mark.parametrize("model", [Commitment, Evidence, Memorandum])
def test_the_one_helper_checks_the_row_count_and_names_who_and_when(mini, model):
    with read(mini) as s:
        row_id, seen = s.execute(select(model.id, model.version).limit(1)).one()
    with frozen_clock(ALICE_AT):
        new = run_write(
            mini,
            lambda s: versioned_update(
                s, model, row_id, seen, what="row", actor="alice", at=ALICE_AT
            ),
        )
    assert new == seen + 1
    for attempt in (
        lambda s: versioned_update(s, model, row_id, seen, what="row", actor="bob", at=ALICE_AT),
        lambda s: check_version(s, model, row_id, seen, what="row"),
    ):
        with pytest.raises(ConflictError, match="row: changed by alice at 2026-05-04 12:30:00 UTC"):
            run_write(mini, attempt)
    with read(mini) as s:
        assert s.execute(
            select(model.version, model.updated_by).where(model.id == row_id)
        ).one() == (
            seen + 1,
            "alice",
        )
    with pytest.raises(ConflictError, match="gone: changed by someone at an unknown time"):
        run_write(
            mini,
            lambda s: versioned_update(s, model, 10**9, 1, what="gone", actor="bob", at=ALICE_AT),
        )


def test_no_version_checked_update_is_written_outside_the_helper():
    """Every ``UPDATE ... WHERE version`` of the tracker's own code is in one place."""
    import re
    from pathlib import Path

    import mou_tracker

    root = Path(mou_tracker.__file__).parent
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"\.version\s*==", path.read_text(encoding="utf-8"))
    ]
    assert found == ["domain/versioned.py"]


def test_the_many_rows_form_names_the_row_that_moved_on_and_writes_none(mini):
    with read(mini) as s:
        rows = s.execute(select(Commitment.id, Commitment.version, Commitment.ref)).all()
    refs = {cid: ref for cid, _version, ref in rows}
    stale_id = rows[1][0]
    run_write(
        mini,
        lambda s: versioned_update(
            s, Commitment, stale_id, rows[1][1], what="x", actor="alice", at=ALICE_AT
        ),
    )
    before = _dump(mini)
    updates = [(cid, version, {"theme": "Renamed"}) for cid, version, _ref in rows]
    with pytest.raises(ConflictError) as caught:
        run_write(
            mini,
            lambda s: versioned_update_many(
                s,
                Commitment,
                updates,
                what=lambda i: f"commitment {refs[i]}",
                actor="b",
                at=ALICE_AT,
            ),
        )
    assert (caught.value.what, caught.value.by) == (f"commitment {refs[stale_id]}", "alice")
    with pytest.raises(ConflictError, match=f"commitment {refs[stale_id]}: changed by alice"):
        run_write(
            mini,
            lambda s: check_versions(
                s, Commitment, [(c, v) for c, v, _r in rows], what=lambda i: f"commitment {refs[i]}"
            ),
        )
    assert _dump(mini) == before
