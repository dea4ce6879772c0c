"""Issue 14 in the exports: corrections of commitments and of evidence are as visible as status
changes (the page's "Corrections", the digest, ``data/corrections.csv``, the JSON), and a
restatement is counted once, at the clause it restates (index, JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import MINI
from tests.reports.helpers import check_page, plain_text

from mou_tracker.domain import service
from mou_tracker.reports.data import CORRECTION_COLUMNS
from mou_tracker.reports.export import export
from mou_tracker.reports.model import group_counts, snapshot
from mou_tracker.storage.engine import read, run_write
from mou_tracker.storage.tomlio import parse_document, sync_document

MINI_TEXT = MINI.read_text(encoding="utf-8")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T2_OWNERS = 'owners = [{ party = "ACME", role = "lead" }]'


def _export(engine: Any, out: Path) -> None:
    with read(engine) as s:
        export(s, out)


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "data" / name).read_text("utf-8"))))


def _corrected(engine: Any) -> None:
    """T-2 corrected (strength and owners, back-dated) and evidence #1 of T-1 corrected."""
    run_write(
        engine,
        lambda s: service.correct_commitment(
            s,
            "T-2",
            {"strength": "may", "owners": "ACME:lead,GOV:support"},
            actor="editor",
            reason="The press release says 'may also explore'; GOV supports it.",
            at=T0,
        ),
    )
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s,
            1,
            {"title": "Pilot announced in March"},
            actor="staff",
            reason="The headline was cut short.",
        ),
    )


def test_the_page_shows_each_correction_old_and_new(mini, tmp_path):
    _corrected(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    page = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    section = page[page.index("Corrections") :]
    assert "the commitment, by editor" in section
    assert "strength: “explore” → “may”" in section
    assert "owners: “ACME (lead)” → “ACME (lead), GOV (support)”" in section
    assert "Why: The press release says 'may also explore'; GOV supports it." in section
    assert "2026-03-01 09:00 UTC (recorded " in section  # back-dated: both times
    t1 = plain_text((out / "commitments/t-1.md").read_text("utf-8"))
    section = t1[t1.index("Corrections") :]
    assert "evidence #1, by staff: title: “Pilot announced” → “Pilot announced in March”" in section
    t0 = plain_text((out / "commitments/t-0.md").read_text("utf-8"))
    assert "None: nothing recorded about this commitment or its evidence has been changed" in t0
    for page_file in sorted(out.rglob("*.md")):
        assert check_page(page_file, out) == [], page_file


def test_the_digest_lists_commitment_corrections(mini, tmp_path):
    _corrected(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    digest = plain_text((out / "changes.md").read_text("utf-8"))
    part = digest[digest.index("Commitments corrected (1)") :]
    assert "T-2 Explore data centres effective 2026-03-01, recorded on" in part
    assert "(editor): strength: “explore” → “may”" in part
    assert "Evidence corrected (1)" in digest


def test_corrections_csv_has_a_row_per_changed_field_of_both_kinds(mini, tmp_path):
    _corrected(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    text = (out / "data/corrections.csv").read_text("utf-8")
    assert text.splitlines()[0] == ",".join(CORRECTION_COLUMNS)
    rows = _rows(out, "corrections.csv")
    assert [(r["ref"], r["evidence_id"], r["field"], r["old"], r["new"]) for r in rows] == [
        ("T-1", "1", "title", "Pilot announced", "Pilot announced in March"),
        ("T-2", "", "strength", "explore", "may"),
        ("T-2", "", "owners", "ACME (lead)", "ACME (lead), GOV (support)"),
    ]
    t2 = rows[1]
    assert t2["at"] == "2026-03-01T09:00:00Z" and t2["recorded_at"] > t2["at"]
    assert t2["by"] == "editor" and t2["reason"].startswith("The press release says")
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "data/corrections.csv" in manifest["files"]
    assert "corrections.csv" in (out / "README.md").read_text("utf-8")


def test_the_json_carries_each_commitments_corrections(mini, tmp_path):
    _corrected(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    by_ref = {c["ref"]: c for c in data["commitments"]}
    (correction,) = by_ref["T-2"]["corrections"]
    assert correction["at"] == "2026-03-01T09:00:00Z" and correction["by"] == "editor"
    assert correction["changes"][0] == {"field": "strength", "old": "explore", "new": "may"}
    assert by_ref["T-1"]["corrections"] == []
    assert by_ref["T-1"]["evidence"][0]["corrections"][0]["reason"] == (
        "The headline was cut short."
    )


# --- restatements counted once ---------------------------------------------------------------------


def _restating(engine: Any) -> None:
    """mini.toml with T-2 restating T-1, and T-2 assessed (stalled) on its own evidence."""
    body = MINI_TEXT.replace(T2_OWNERS, T2_OWNERS + '\nrestates = ["T-1"]')
    doc = parse_document(body)
    run_write(engine, lambda s: sync_document(s, doc, actor="tester"))
    item = service.EvidenceInput.build(
        url="https://news.example.org/pause", title="Paused", published="2026-02-01"
    )
    evidence = run_write(engine, lambda s: service.add_evidence(s, "T-2", item, actor="staff"))
    run_write(
        engine,
        lambda s: service.change_status(
            s, "T-2", "stalled", actor="pm", reason="Paused.", evidence=[evidence.id]
        ),
    )


def test_a_restatement_is_counted_once_on_the_index(engine, tmp_path):
    _restating(engine)
    out = tmp_path / "exports"
    _export(engine, out)
    raw = (out / "README.md").read_text("utf-8")
    index = plain_text(raw)
    assert (
        "Each promise is counted once: a commitment that restates another (a press-release "
        "undertaking repeating a clause) keeps its own page and status but is counted with the "
        "clause it restates, so the figures below count 1 commitment and leave out 1 "
        "restatement (T-2)." in index
    )
    status_table = raw[raw.index("### By status") : raw.index("### By strength")]
    assert "| ◔ in progress | 1 | 100% |" in status_table
    assert "| ⊘ stalled | 0 | 0% |" in status_table  # T-2's own status is not counted again
    assert "Explore data centres (restates [T-1](commitments/t-1.md))" in raw
    strength_table = raw[raw.index("### By strength") : raw.index("### By theme")]
    assert "explore" not in strength_table and "| will | 1 |" in strength_table
    with read(engine) as s:
        snap = snapshot(s)
    assert [name for name, _ in group_counts(snap.rows, "theme")] == ["Adoption"]
    t2 = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    assert "Restates: T-1: the same promise, counted there and not again" in t2
    assert "Status: ⊘ stalled" in t2  # still tracked and shown
    t1 = (out / "commitments/t-1.md").read_text("utf-8")
    assert "**Restated by:** [T-2](t-2.md) (counted once, here)" in t1
    for page_file in sorted(out.rglob("*.md")):
        assert check_page(page_file, out) == [], page_file


def test_json_and_csv_say_what_restates_what_and_what_is_counted(engine, tmp_path):
    _restating(engine)
    out = tmp_path / "exports"
    _export(engine, out)
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    flags = {c["ref"]: (c["restates"], c["scored"], c["counted"]) for c in data["commitments"]}
    assert flags == {
        "T-0": ([], False, False),
        "T-1": ([], True, True),
        "T-2": (["T-1"], True, False),
    }
    rows = {r["ref"]: r for r in _rows(out, "commitments.csv")}
    assert (rows["T-2"]["restates"], rows["T-2"]["counted"]) == ("T-1", "false")
    assert (rows["T-1"]["restates"], rows["T-1"]["counted"]) == ("", "true")
    header = (out / "data/commitments.csv").read_text("utf-8").splitlines()[0]
    assert header.endswith(",page,restates,counted")  # new columns only at the end
    # counted as the index counts: one promise in progress
    counted = [c for c in data["commitments"] if c["counted"]]
    assert [(c["ref"], c["status"]) for c in counted] == [("T-1", "in_progress")]


def test_without_restatements_the_index_states_the_rule_and_counts_every_scored_one(mini, tmp_path):
    out = tmp_path / "exports"
    _export(mini, out)
    index = plain_text((out / "README.md").read_text("utf-8"))
    assert "none does, so the figures below count all 2 scored commitments." in index
