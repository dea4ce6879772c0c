"""Review scheduling (month ends, leap years), stale flags and re-baselined targets."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput, RuleViolation
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.domain.validate import add_cadence, cadence
from mou_tracker.storage.engine import read, run_write


@pytest.mark.parametrize(
    ("start", "every", "due"),
    [
        (date(2025, 1, 31), "1 month", date(2025, 2, 28)),
        (date(2024, 1, 31), "1 month", date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), "1 year", date(2025, 2, 28)),
        (date(2024, 2, 29), "4 years", date(2028, 2, 29)),
        (date(2025, 11, 30), "3 months", date(2026, 2, 28)),
        (date(2025, 8, 31), "quarterly", date(2025, 11, 30)),
        (date(2025, 12, 25), "2 weeks", date(2026, 1, 8)),
    ],
)
def test_next_review_handles_month_ends_and_leap_years(start, every, due):
    assert add_cadence(start, cadence(every)) == due


@pytest.mark.parametrize("bad", ["soon", "0 months", "3 fortnights", "every", ""])
def test_bad_cadences_are_refused(bad):
    with pytest.raises(InvalidInput, match="review_cadence"):
        cadence(bad)


def test_review_is_history_without_a_status_change(mini_cli_main):
    result = mini_cli_main("review", "T-2", "--note", "Looked; nothing new", "--on", "31 Jan 2026")
    assert result.code == 0 and "review date: 2026-01-31" in result.err
    row = json.loads(mini_cli_main("list", "--format", "json", "--search", "Explore").out)[0]
    assert (row["status"], row["next_review"]) == ("not_assessed", "2026-04-30")
    assert "reviewed, status stays not_assessed" in mini_cli_main("history", "T-2").out
    overdue = {
        r["ref"] for r in json.loads(mini_cli_main("list", "--overdue", "--format", "json").out)
    }
    assert "T-1" in overdue  # last reviewed 2025-06-01, due 2025-09-01
    stale = {
        r["ref"]: r["stale"] for r in json.loads(mini_cli_main("list", "--format", "json").out)
    }
    assert stale == {"T-0": False, "T-1": True, "T-2": True}


def test_targets_keep_their_history(mini):
    ev = run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-1",
            service.EvidenceInput.build(
                url="https://news.example.org/delay",
                title="Delay announced",
                published="2026-03-01",
            ),
            actor="a",
        ),
    )
    run_write(
        mini,
        lambda s: service.set_target(
            s,
            "T-1",
            "2026-06-30",
            actor="pm",
            reason="Stated in the launch plan",
            at=datetime(2026, 1, 10, tzinfo=UTC),
        ),
    )
    with pytest.raises(RuleViolation, match="must cite"):
        run_write(
            mini, lambda s: service.set_target(s, "T-1", "2026-12-31", actor="pm", reason="slipped")
        )
    run_write(
        mini,
        lambda s: service.set_target(
            s,
            "T-1",
            "2026-12-31",
            actor="pm",
            reason="Delay announced",
            evidence=[ev.id],
            at=datetime(2026, 3, 2, tzinfo=UTC),
        ),
    )
    with read(mini) as s:
        d = commitment_detail(s, "T-1")
    assert (d.original_target, d.target) == (date(2026, 6, 30), date(2026, 12, 31))
    assert [(t.old_target, t.new_target, t.evidence_url) for t in d.targets] == [
        (None, date(2026, 6, 30), None),
        (date(2026, 6, 30), date(2026, 12, 31), "https://news.example.org/delay"),
    ]


def test_target_cli_and_dump_round_trip(mini_cli_main, tmp_path):
    assert (
        mini_cli_main(
            "evidence",
            "add",
            "T-1",
            "https://news.example.org/late",
            "--title",
            "Late",
            "--published",
            "2026-02-01",
        ).code
        == 0
    )
    assert mini_cli_main("target", "T-1", "30 June 2026", "--reason", "Plan").code == 0
    moved = mini_cli_main(
        "target",
        "T-1",
        "2026-12-31",
        "--reason",
        "Slipped",
        "--evidence",
        "https://news.example.org/late",
    )
    assert moved.code == 0 and "re-baselined 2026-06-30 -> 2026-12-31" in moved.out
    shown = mini_cli_main("show", "T-1").out
    assert "target:      2026-12-31 (original 2026-06-30; re-baselined 1 time(s))" in shown
    dump = mini_cli_main("dump").out
    assert "target = 2026-06-30" in dump and "[[commitment.retarget]]" in dump
    path = tmp_path / "d.toml"
    path.write_text(dump, encoding="utf-8")
    other = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    assert mini_cli_main(*other, "sync", str(path), db=False).code == 0
    assert mini_cli_main(*other, "dump", db=False).out == dump


def test_a_status_change_counts_as_a_review(mini):
    """Someone who assessed a commitment looked at it: its review clock restarts."""
    ev = run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://e.example.org/r", title="R", published="2026-05-31"
            ),
            actor="staff",
            at=datetime(2026, 5, 31, 9, tzinfo=UTC),
        ),
    )
    run_write(
        mini,
        lambda s: service.change_status(
            s,
            "T-2",
            "in_progress",
            actor="pm",
            reason="Started",
            evidence=[ev.id],
            at=datetime(2026, 5, 31, 10, tzinfo=UTC),
        ),
    )
    with read(mini) as s:
        d = commitment_detail(s, "T-2")
    assert d.last_reviewed == date(2026, 5, 31)
    assert d.next_review == date(2026, 8, 31)  # three months on, month end kept
