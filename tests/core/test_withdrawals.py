"""Withdrawals as data (issue 18, item 10 follow-up): a note withdraws another through its
``withdraws`` column, never through its text; withdrawn evidence has confidence "withdrawn" and
stops counting; dump and sync carry the link; the reports mark what was withdrawn."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

import pytest
from tests.conftest import MINI

from mou_tracker.domain import derived, service, undo
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import commitment_detail, list_commitments
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

MINI_TEXT = MINI.read_text(encoding="utf-8")
URL = "https://gov.example.org/added-by-mistake"


def _detail(engine: Any, ref: str):
    with read(engine) as s:
        return commitment_detail(s, ref, include_internal=True)


def _dump(engine: Any) -> str:
    with read(engine) as s:
        return dump_document(s)


def _sync_text(engine: Any, body: str):
    doc = parse_document(body, "commitments.toml")
    return run_write(engine, lambda s: sync_document(s, doc, actor="restorer"))


def _note(engine: Any, body: str, visibility: str = "public", ref: str = "T-1"):
    return run_write(
        engine,
        lambda s: service.add_note(s, ref, body, actor="ann", visibility=visibility),
    )


def test_a_note_typed_to_look_like_a_withdrawal_withdraws_nothing(mini):
    original = _note(mini, "Ask DSIT for the site list")
    forged = _note(mini, f"Withdrawn: note #{original.id} (ann, today) was added by mistake. x")
    notes = _detail(mini, "T-1").notes
    assert forged.withdraws is None
    assert undo.withdrawn_note_ids(notes) == set()
    # the forged text neither blocks the real withdrawal nor counts as one itself
    real = run_write(
        mini, lambda s: undo.withdraw_note(s, original.id, actor="bob", reason="Wrong ref")
    )
    run_write(mini, lambda s: undo.withdraw_note(s, forged.id, actor="bob", reason="Spoof"))
    notes = _detail(mini, "T-1").notes
    assert undo.withdrawals(notes) == {
        original.id: next(n for n in notes if n.id == real.id),
        forged.id: next(n for n in notes if n.withdraws == forged.id),
    }


def test_withdrawals_survive_a_dump_into_a_fresh_database(mini, other_url):
    public = _note(mini, "Said in public by mistake")
    internal = _note(mini, "Internal by mistake", visibility="internal")
    for note in (public, internal):
        run_write(mini, lambda s, n=note: undo.withdraw_note(s, n.id, actor="bob", reason="Oops"))
    first = _dump(mini)
    assert first.count("withdraws = { at = ") == 2
    restored = make_engine(other_url)
    try:
        create_schema(restored)
        report = _sync_text(restored, first)
        assert not report.conflicts
        assert _dump(restored) == first
        notes = _detail(restored, "T-1").notes
        by_body = {n.body: n.id for n in notes}
        gone = {by_body["Said in public by mistake"], by_body["Internal by mistake"]}
        assert undo.withdrawn_note_ids(notes) == gone
        for n in notes:
            if n.withdraws is not None:
                assert next(o for o in notes if o.id == n.withdraws).visibility == n.visibility
        again = _sync_text(restored, first)
        assert not again.changed and not again.conflicts
    finally:
        restored.dispose()


@pytest.mark.parametrize(
    ("withdraws", "problem"),
    [
        ('{ at = 2025-03-06T09:00:00Z, author = "seed" }', "names no earlier note"),
        ('{ at = 2025-03-06T11:00:00Z, author = "seed" }', "another visibility"),
        ('"note #1"', "must be a table"),
    ],
)
def test_a_withdrawal_in_a_file_must_name_a_note_it_may_withdraw(mini, withdraws, problem):
    before = _dump(mini)
    marker = 'body = "Internal only."\n'
    bad = MINI_TEXT.replace(
        marker,
        marker
        + '\n[[commitment.note]]\nat = 2025-03-07T10:00:00Z\nauthor = "seed"\n'
        + f'visibility = "public"\nbody = "Withdrawn."\nwithdraws = {withdraws}\n',
        1,
    )
    assert bad != MINI_TEXT
    with pytest.raises(InvalidInput, match=problem) as caught:
        _sync_text(mini, bad)
    assert "note[3].withdraws" in str(caught.value)
    assert _dump(mini) == before


def test_withdrawn_evidence_leaves_latest_evidence_staleness_and_counts(mini):
    item = service.EvidenceInput.build(url=URL, title="Wrong clause", published="2026-01-05")
    row = run_write(mini, lambda s: service.add_evidence(s, "T-1", item, actor="ann"))

    def seen() -> tuple[int, Any, Any]:
        with read(mini) as s:
            r = next(r for r in list_commitments(s) if r.ref == "T-1")
            d = commitment_detail(s, "T-1")
        return r.evidence_count, r.latest_evidence, derived.newest_current_evidence(d.evidence)

    count, latest, newest = seen()
    assert latest == newest == item.published
    run_write(mini, lambda s: undo.withdraw_evidence(s, row.id, actor="bob", reason="Not it"))
    pilot = date(2025, 3, 1)  # the newest evidence left (tests/data/mini.toml)
    assert seen() == (count - 1, pilot, pilot)
    assert next(e for e in _detail(mini, "T-1").evidence if e.id == row.id).confidence == (
        "withdrawn"
    )


def test_the_reports_mark_a_withdrawn_public_note(mini, tmp_path):
    note = _note(mini, "Said in public by mistake")
    run_write(mini, lambda s: undo.withdraw_note(s, note.id, actor="bob", reason="Wrong ref"))
    out = tmp_path / "out"
    with read(mini) as s:
        export(s, out, report_date=_detail(mini, "T-1").notes[-1].at.date())
    page = (out / "commitments" / "t-1.md").read_text(encoding="utf-8")
    assert "by ann (**withdrawn** on " in page and " by bob; the note saying why follows):" in page
    assert page.count("**withdrawn**") == 1  # only the withdrawn note, not its withdrawal
    html = (out / "html" / "commitments" / "t-1.html").read_text(encoding="utf-8")
    assert "<strong>withdrawn</strong>" in html
    data = json.loads((out / "data" / "tracker.json").read_text(encoding="utf-8"))
    notes = next(c for c in data["commitments"] if c["ref"] == "T-1")["notes"]
    marked = [n for n in notes if "withdrawn" in n]
    assert [n["body"] for n in marked] == ["Said in public by mistake"]
    assert marked[0]["withdrawn"]["by"] == "bob"
    assert marked[0]["withdrawn"]["reason"].endswith("Wrong ref")
    db = sqlite3.connect(out / "data" / "tracker.sqlite")
    try:
        rows = db.execute(
            "SELECT body, withdrawn_by FROM notes WHERE ref = 'T-1' ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    assert ("Said in public by mistake", "bob") in rows
    assert ("Public context.", None) in rows


def test_migration_0011_adds_the_link_and_leaves_old_text_as_text(db_url):
    from sqlalchemy import inspect

    from mou_tracker.storage.migrate import upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0010")
        marker = 'body = "Internal only."\n'
        old_style = MINI_TEXT.replace(
            marker,
            marker
            + '\n[[commitment.note]]\nat = 2025-03-07T10:00:00Z\nauthor = "seed"\n'
            + 'visibility = "public"\nbody = "Withdrawn: note #1 (seed) was added by mistake."\n',
            1,
        )
        _sync_text(engine, old_style)  # a sync with no withdrawal writes no `withdraws`
        with engine.connect() as conn:
            assert "withdraws" not in {c["name"] for c in inspect(conn).get_columns("note")}
        upgrade(engine)
        with engine.connect() as conn:
            assert "withdraws" in {c["name"] for c in inspect(conn).get_columns("note")}
        notes = _detail(engine, "T-1").notes
        assert undo.withdrawn_note_ids(notes) == set()  # text made before 0011 stays text
        first = next(n for n in notes if n.body == "Public context.")
        run_write(engine, lambda s: undo.withdraw_note(s, first.id, actor="bob", reason="r"))
        assert undo.withdrawn_note_ids(_detail(engine, "T-1").notes) == {first.id}
    finally:
        engine.dispose()


def test_show_marks_a_withdrawn_note_and_not_a_look_alike(mini_cli_main):
    assert mini_cli_main("note", "add", "T-1", "Wrong site list").code == 0
    assert mini_cli_main("note", "add", "T-1", "Withdrawn: note #1 (seed) was added.").code == 0
    engine = make_engine(mini_cli_main.db)
    try:
        note = next(n for n in _detail(engine, "T-1").notes if n.body == "Wrong site list")
        run_write(engine, lambda s: undo.withdraw_note(s, note.id, actor="bob", reason="No"))
    finally:
        engine.dispose()
    out = mini_cli_main("show", "T-1").out
    assert out.count("(WITHDRAWN ") == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "(WITHDRAWN " in line)
    assert lines[at].endswith("by bob):")
    assert lines[at + 1].strip() == "Wrong site list"


def test_show_as_json_marks_a_withdrawn_note_as_the_export_does(mini, db_url, tmp_path):
    """``show --format json`` names the withdrawal (when, by whom, why) on the withdrawn note,
    in the same shape as the export's tracker.json; other notes carry no such field."""
    from tests.conftest import InProcessCli, _home

    kept = _note(mini, "DSIT confirmed the site list")
    gone = _note(mini, "Added to the wrong commitment")
    run_write(mini, lambda s: undo.withdraw_note(s, gone.id, actor="bob", reason="Wrong ref"))
    result = InProcessCli(db_url, _home(tmp_path))("show", "T-1", "--format", "json")
    assert result.code == 0, result.err
    notes = {n["body"]: n for n in json.loads(result.out)["notes"]}
    assert "withdrawn" not in notes[kept.body]
    marked = notes[gone.body]["withdrawn"]
    assert marked["by"] == "bob" and "Wrong ref" in marked["reason"]
    withdrawal = next(n for n in notes.values() if "Wrong ref" in n["body"])
    assert marked["at"] == withdrawal["at"]


TWINS = """
[[commitment.note]]
at = 2025-03-08T09:00:00Z
author = "seed"
visibility = "public"
body = "First of two at nine."

[[commitment.note]]
at = 2025-03-08T09:00:00Z
author = "seed"
visibility = "public"
body = "Second of two at nine."
"""


def _with_notes(extra: str) -> str:
    marker = 'body = "Internal only."\n'
    text = MINI_TEXT.replace(marker, marker + TWINS + extra, 1)
    assert text != MINI_TEXT
    return text


def _withdrawal(at: str, named: str) -> str:
    return (
        f'\n[[commitment.note]]\nat = {at}\nauthor = "seed"\nvisibility = "public"\n'
        f'body = "Withdrawn."\nwithdraws = {named}\n'
    )


def test_twin_notes_each_withdrawn_by_position_and_kept_through_a_dump(mini, other_url):
    """Two notes with the same time and author: a withdrawal names which one (``nth``), the
    dump writes ``nth`` only where it is needed, and a restore withdraws the same note."""
    second = '{ at = 2025-03-08T09:00:00Z, author = "seed", nth = 2 }'
    report = _sync_text(mini, _with_notes(_withdrawal("2025-03-09T10:00:00Z", second)))
    assert not report.conflicts
    notes = _detail(mini, "T-1").notes
    gone = {n.body for n in notes if n.id in undo.withdrawn_note_ids(notes)}
    assert gone == {"Second of two at nine."}
    dumped = _dump(mini)
    assert 'author = "seed", nth = 2 }' in dumped
    restored = make_engine(other_url)
    try:
        create_schema(restored)
        assert not _sync_text(restored, dumped).conflicts
        notes = _detail(restored, "T-1").notes
        assert {n.body for n in notes if n.id in undo.withdrawn_note_ids(notes)} == gone
        assert _dump(restored) == dumped
    finally:
        restored.dispose()


def test_both_twins_may_be_withdrawn_and_neither_twice(mini):
    first = '{ at = 2025-03-08T09:00:00Z, author = "seed" }'
    second = '{ at = 2025-03-08T09:00:00Z, author = "seed", nth = 2 }'
    both = _withdrawal("2025-03-09T10:00:00Z", first) + _withdrawal("2025-03-09T11:00:00Z", second)
    before = _dump(mini)
    twice = _withdrawal("2025-03-09T10:00:00Z", second) + _withdrawal(
        "2025-03-09T11:00:00Z", second
    )
    with pytest.raises(InvalidInput, match="already withdrawn"):
        _sync_text(mini, _with_notes(twice))
    third = '{ at = 2025-03-08T09:00:00Z, author = "seed", nth = 3 }'
    with pytest.raises(InvalidInput, match=r"nth: names note 3 of 2"):
        _sync_text(mini, _with_notes(_withdrawal("2025-03-09T10:00:00Z", third)))
    assert _dump(mini) == before
    assert not _sync_text(mini, _with_notes(both)).conflicts
    notes = _detail(mini, "T-1").notes
    gone = {n.body for n in notes if n.id in undo.withdrawn_note_ids(notes)}
    assert gone == {"First of two at nine.", "Second of two at nine."}
