"""Reports that tell the truth about time (issue 12): every record of change carries when it
takes effect and when the tracker recorded it; digests list what was *recorded* in their
window, with the effective date beside a back-dated change; earlier digests are kept.

A story told across several days with the tracker's clock injected (never slept)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.conftest import frozen_clock
from tests.reports.helpers import plain_text

from mou_tracker.domain import service
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

DAY1 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _export(engine, out: Path, **kw) -> None:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        export(s, out, **kw)


def _dump(engine) -> str:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return dump_document(s)


def _end_of_entry(text: str, marker: str) -> int:
    """Where the TOML table holding ``marker`` ends (a blank line, or the end of the file)."""
    found = text.find("\n\n", text.index(marker))
    return found if found != -1 else len(text.rstrip("\n"))


def _story(engine) -> None:  # type: ignore[no-untyped-def]
    """Day 1: evidence and a status change made the same day. Day 10: a review. Day 20: a
    status change dated day 2 arrives through sync (back-dated)."""
    with frozen_clock(DAY1):
        ev = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url="https://news.example.org/site",
                    title="Site chosen",
                    publisher="Example News",
                    published="2026-05-30",
                    direction="progress",
                ),
                actor="staff",
            ),
        )
        run_write(
            engine,
            lambda s: service.change_status(
                s, "T-2", "in_progress", actor="pm", reason="A site is chosen.", evidence=[ev.id]
            ),
        )
    with frozen_clock(DAY1 + timedelta(days=9)):
        run_write(engine, lambda s: service.record_review(s, "T-2", actor="pm", note="Still on."))
    text = _dump(engine)
    end = _end_of_entry(text, 'reason = "Still on."')
    text = (
        text[:end] + "\n\n[[commitment.history]]\n"
        "at = 2026-06-10T10:00:00Z\n"
        'by = "editor"\n'
        'from = "in_progress"\n'
        'to = "stalled"\n'
        'reason = "Work stopped that day, we learnt later."\n'
        'evidence = ["https://news.example.org/site"]' + text[end:]
    )
    assert "Work stopped" in text
    with frozen_clock(DAY1 + timedelta(days=19)):
        doc = parse_document(text, "edited.toml")
        report = run_write(engine, lambda s: sync_document(s, doc, actor="editor"))
    assert report.added["history entries"] == 1


def test_a_back_dated_change_is_in_the_digest_of_when_it_was_recorded(mini, tmp_path):
    _story(mini)
    out = tmp_path / "exports"
    _export(mini, out, report_date=date(2026, 6, 20), since=date(2026, 6, 15))
    window = plain_text((out / "changes-since-2026-06-15.md").read_text("utf-8"))
    # recorded on day 20, effective day 10: in the window from 15 June, with both dates
    assert "Moved to ⊘ stalled (1)" in window
    assert "effective 2026-06-10, recorded on 2026-06-20" in window
    assert "Site chosen (#" in window  # the status change links the evidence it cites
    # the day-1 change and the day-10 review were recorded before the window
    assert "Moved to ◔ in progress" not in window and "Still on." not in window
    month = plain_text((out / "changes.md").read_text("utf-8"))
    assert "What changed in the 30 days to 20 June 2026" in month
    assert "Moved to ◔ in progress (1)" in month and "on 2026-06-01 (pm)" in month
    assert "Reviews that left the status unchanged (1)" in month
    page = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    assert "2026-06-10 10:00 UTC (recorded 2026-06-20)" in page
    index = plain_text((out / "README.md").read_text("utf-8"))
    assert "Latest change recorded in the tracker: 20 June 2026, the same day." in index
    rows = list(csv.DictReader(io.StringIO((out / "data/history.csv").read_text("utf-8"))))
    late = [r for r in rows if r["to_status"] == "stalled"]
    assert late[0]["at"] == "2026-06-10T10:00:00Z"
    assert late[0]["recorded_at"].startswith("2026-06-20T")
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    t2 = next(c for c in data["commitments"] if c["ref"] == "T-2")
    assert t2["history"][-1]["recorded_at"].startswith("2026-06-20T")


def test_recorded_times_survive_a_dump_and_a_restore(mini, other_url, tmp_path):
    _story(mini)
    first = _dump(mini)
    assert "recorded_at = 2026-06-20T" in first  # only where it differs from `at`
    assert first.count("recorded_at") == 1
    from mou_tracker.storage.engine import create_schema, make_engine

    fresh = make_engine(other_url)
    create_schema(fresh)
    try:
        doc = parse_document(first, "backup.toml")
        run_write(fresh, lambda s: sync_document(s, doc, actor="restorer"))
        assert _dump(fresh) == first
        one, two = tmp_path / "one", tmp_path / "two"
        _export(mini, one, report_date=date(2026, 6, 20))
        _export(fresh, two, report_date=date(2026, 6, 20))
    finally:
        fresh.dispose()
    names = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_a_sync_into_a_tracker_in_use_cannot_choose_its_recorded_time(mini):
    text = _dump(mini)
    end = _end_of_entry(text, 'body = "Public context."')
    text = (
        text[:end] + "\n\n[[commitment.note]]\n"
        "at = 2025-03-07T10:00:00Z\n"
        "recorded_at = 2025-03-07T10:00:00Z\n"
        'author = "someone"\n'
        'visibility = "public"\n'
        'body = "Claims to be old."' + text[end:]
    )
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    with frozen_clock(now):
        doc = parse_document(text, "edited.toml")
        run_write(mini, lambda s: sync_document(s, doc, actor="editor"))
    from sqlalchemy import select

    from mou_tracker.domain.models import Note

    with read(mini) as s:
        note = s.scalars(select(Note).where(Note.body == "Claims to be old.")).one()
    assert note.at == datetime(2025, 3, 7, 10, 0, tzinfo=UTC)
    assert note.recorded_at == now  # the time of the sync, not the file's claim


def test_earlier_digests_are_kept_and_listed(mini, tmp_path):
    _story(mini)
    out = tmp_path / "exports"
    _export(mini, out, report_date=date(2026, 6, 20), since=date(2026, 6, 15))
    shared = (out / "changes-since-2026-06-15.md").read_bytes()
    _export(mini, out, report_date=date(2026, 6, 21))  # no --since this time
    assert (out / "changes-since-2026-06-15.md").read_bytes() == shared
    assert (out / "html/changes-since-2026-06-15.html").is_file()
    index = plain_text((out / "README.md").read_text("utf-8"))
    assert "What changed since 15 June 2026 (kept from an earlier export)" in index
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "changes-since-2026-06-15.md" in manifest["files"]
    _export(mini, out, report_date=date(2026, 6, 21))  # and the export after that
    assert (out / "changes-since-2026-06-15.md").read_bytes() == shared


def test_a_review_on_an_earlier_day_takes_effect_that_day_and_is_shown_as_a_record(mini, tmp_path):
    with frozen_clock(DAY1):
        run_write(
            mini,
            lambda s: service.record_review(
                s, "T-2", actor="pm", note="Checked on Friday.", reviewed_on="2026-05-29"
            ),
        )
    from mou_tracker.domain.queries import commitment_detail

    with read(mini) as s:
        d = commitment_detail(s, "T-2")
    entry = d.history[-1]
    assert entry.kind == "review" and entry.at == datetime(2026, 5, 29, 23, 59, 59, tzinfo=UTC)
    assert entry.recorded_at == DAY1 and d.last_reviewed == date(2026, 5, 29)
    out = tmp_path / "exports"
    _export(mini, out, report_date=date(2026, 6, 1))
    page = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    assert "last reviewed 2026-05-29 by pm" in page
    assert "2026-05-29 23:59 UTC (recorded 2026-06-01)" in page


def test_a_review_date_with_no_record_is_not_called_a_review(mini, tmp_path):
    # mini.toml gives T-1 `last_reviewed = 2025-06-01` but no review entry that day
    out = tmp_path / "exports"
    _export(mini, out)
    page = plain_text((out / "commitments/t-1.md").read_text("utf-8"))
    assert "the schedule counts from 2025-06-01 (no review record on that day)" in page
    assert "last reviewed 2025-06-01" not in page
