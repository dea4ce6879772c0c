"""The command line as a person uses it, on every backend: in-process through ``main(argv)``
(same environment, working directory and streams as a process), and as a real process
(``python -m mou_tracker``) where only a process can show it: the entry point, the exit status
a shell sees, and the terminal check."""

from __future__ import annotations

import csv
import io
import json

import pytest
from tests.conftest import MINI, SHIPPED


def test_version_and_help(cli):
    assert cli("--version", db=False).out.startswith("mou-tracker ")
    result = cli("--help", db=False)
    assert result.code == 0 and "evidence" in result.out and "status" in result.out


def test_sync_is_idempotent_and_says_so(cli_main):
    first = cli_main("sync", str(MINI))
    assert first.code == 0 and "added 3 commitments" in first.out
    second = cli_main("sync", str(MINI))
    assert second.code == 0 and "already in sync: nothing changed" in second.out


def test_list_in_three_formats(mini_cli_main):
    table = mini_cli_main("list")
    assert table.code == 0
    assert table.out.splitlines()[0].split()[:3] == ["REF", "STATUS", "STRENGTH"]
    assert "3 commitment(s)" in table.out
    rows = json.loads(mini_cli_main("list", "--format", "json").out)
    assert [r["ref"] for r in rows] == ["T-0", "T-1", "T-2"]
    assert rows[1]["status"] == "in_progress" and rows[1]["evidence_count"] == 2
    assert rows[1]["owners"] == "GOV (lead), ACME (support)"
    parsed = list(csv.DictReader(io.StringIO(mini_cli_main("list", "--format", "csv").out)))
    assert [r["ref"] for r in parsed] == ["T-0", "T-1", "T-2"]


@pytest.mark.parametrize(
    ("args", "refs"),
    [
        (["--status", "in_progress"], ["T-1"]),
        (["--status", "in_progress,not_assessed"], ["T-0", "T-1", "T-2"]),
        (["--owner", "acme", "--strength", "explore"], ["T-2"]),
        (["--theme", "adoption"], ["T-1"]),
        (["--search", "pilot"], ["T-1"]),  # an evidence title
        (["--search", "Department of Ex"], ["T-0", "T-1"]),  # an owner's name
        (["--overdue"], ["T-1", "T-2"]),
        (["--sort", "ref", "--limit", "1"], ["T-0"]),
    ],
)
def test_list_filters(mini_cli_main, args, refs):
    rows = json.loads(mini_cli_main("list", "--format", "json", *args).out)
    assert [r["ref"] for r in rows] == refs


def test_show_prints_everything_about_a_commitment(mini_cli_main):
    out = mini_cli_main("show", "T-1").out
    for expected in (
        "T-1  Find uses in public services",
        "strength:    will:",
        "Department of Examples [GOV] (lead)",
        "status:      in progress since 2025-03-05 17:00 UTC",
        "why:       The pilot started.",
        "next due 2025-09-01 (OVERDUE)",
        "#1 2025-03-01 [progress; secondary; news_report] Pilot announced",
        "not_assessed -> in_progress  by seed",
        "[internal]",
    ):
        assert expected in out, expected
    data = json.loads(mini_cli_main("show", "T-1", "--format", "json").out)
    assert data["status_reason"] == "The pilot started." and len(data["evidence"]) == 2


def test_evidence_then_status_then_history(mini_cli_main):
    added = mini_cli_main(
        "evidence",
        "add",
        "T-2",
        "https://news.example.org/dc",
        "--title",
        "Site chosen",
        "--publisher",
        "Paper",
        "--published",
        "20 Feb 2026",
        "--direction",
        "progress",
        "--note",
        "A site was picked.",
    )
    assert added.code == 0, added.err
    assert "published: 2026-02-20 (read from '20 Feb 2026')" in added.err
    assert "added evidence #3" in added.out
    changed = mini_cli_main(
        "--as",
        "alice",
        "status",
        "T-2",
        "in_progress",
        "--reason",
        "Site chosen",
        "--evidence",
        "#3",
    )
    assert changed.code == 0, changed.err
    assert "T-2: not_assessed -> in_progress" in changed.out and "by alice; cites #3" in changed.out
    history = mini_cli_main("history", "T-2").out
    assert "not_assessed -> in_progress  by alice" in history and "cites #3" in history
    assert "1 evidence" not in mini_cli_main("evidence", "list", "T-2").out
    assert "Site chosen" in mini_cli_main("evidence", "list", "T-2").out


def test_actor_comes_from_the_environment(mini_cli_main):
    result = mini_cli_main("note", "add", "T-1", "from env", env={"MOU_TRACKER_USER": "env-user"})
    assert result.code == 0
    assert "env-user:" in mini_cli_main("show", "T-1").out


def test_evidence_import_is_all_or_nothing_and_fast_to_use(mini_cli_main):
    path = mini_cli_main.home / "ev.csv"
    path.write_text(
        "ref,url,title,publisher,published,kind,direction,confidence,summary\n"
        "T-1,https://a.example.org/1,One,Pub,2026-01-01,news_report,progress,secondary,first\n"
        'T-2,https://a.example.org/2,"Two, with comma",,20 Feb 2026,,,,\n',
        encoding="utf-8",
    )
    result = mini_cli_main("evidence", "import", str(path))
    assert result.code == 0 and "imported 2 evidence record(s)" in result.out
    rows = {r["ref"]: r for r in json.loads(mini_cli_main("list", "--format", "json").out)}
    assert rows["T-1"]["evidence_count"] == 3 and rows["T-2"]["evidence_count"] == 1


def test_evidence_edit_keeps_history(mini_cli_main):
    result = mini_cli_main(
        "--as",
        "bob",
        "evidence",
        "edit",
        "1",
        "--title",
        "Pilot formally announced",
        "--reason",
        "wording",
    )
    assert result.code == 0 and "title: Pilot announced -> Pilot formally announced" in result.out
    shown = mini_cli_main("evidence", "show", "1").out
    assert "corrections (1):" in shown and "by bob: wording" in shown


def test_review_records_without_changing_status(mini_cli_main):
    result = mini_cli_main("review", "T-1", "--note", "Checked again", "--on", "2026-01-31")
    assert result.code == 0 and "status stays in_progress" in result.out
    row = json.loads(mini_cli_main("list", "--format", "json", "--search", "T-1").out)[0]
    assert (row["last_reviewed"], row["next_review"]) == ("2026-01-31", "2026-04-30")


def test_dump_then_sync_into_empty_database_reproduces_it(mini_cli_main, tmp_path):
    mini_cli_main("note", "add", "T-2", "private", "--internal")
    dumped = mini_cli_main.home / "dump.toml"
    assert mini_cli_main("dump", str(dumped)).code == 0
    other = f"sqlite:///{tmp_path / 'restored.db'}"
    assert mini_cli_main("--db", other, "sync", str(dumped), db=False).code == 0
    assert mini_cli_main("--db", other, "dump", db=False).out == mini_cli_main("dump").out


@pytest.mark.skipif(not SHIPPED.exists(), reason="commitments.toml not written yet")
def test_first_run_creates_and_seeds_the_default_database(cli_main):
    result = cli_main("info", db=False)
    assert result.code == 0, result.err
    assert "created" in result.err and "seeded it from" in result.err
    assert "seeded from:" in result.out and "commitments.toml" in result.out
    listing = cli_main("list", db=False)
    assert "OAI-2.1" in listing.out
    assert (cli_main.home / "data" / "mou-tracker" / "tracker.db").exists()
    again = cli_main("info", db=False)
    assert "created" not in again.err


def test_ui_without_a_terminal_explains_itself(mini_cli):
    result = mini_cli()
    assert result.code == 1 and "needs a terminal" in result.err


def test_a_repeated_sync_is_quick_but_never_misses_a_change(mini_cli_main):
    """The second sync of an unchanged file into an unchanged database skips the parse; any
    change on either side goes through the full three-way sync again."""
    from tests.conftest import MINI

    again = mini_cli_main("sync", str(MINI))
    assert again.code == 0 and "already in sync: nothing changed" in again.out
    edit = mini_cli_main("evidence", "list", "T-1")
    assert edit.code == 0
    first_id = edit.out.split("#", 1)[1].split()[0]
    changed = mini_cli_main(
        "evidence", "edit", first_id, "--title", "Edited here", "--reason", "fix"
    )
    assert changed.code == 0, changed.err
    kept = mini_cli_main("sync", str(MINI))
    assert kept.code == 0 and "kept (database newer): evidence T-1" in kept.err, kept
    copy = mini_cli_main.home / "mini-edited.toml"
    copy.write_text(
        MINI.read_text("utf-8").replace(
            'title = "Shared intent"', 'title = "Shared intent, edited"'
        ),
        encoding="utf-8",
    )
    updated = mini_cli_main("sync", str(copy))
    assert updated.code == 0 and "updated 1 commitments" in updated.out, updated.out
    assert "already in sync" in mini_cli_main("sync", str(copy)).out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["list", "--format", "json"], 0),
        (["show", "T-1"], 0),
        (["status", "T-2", "met", "--reason", "r"], 1),  # refused: no evidence cited
        (["frobnicate"], 2),  # usage error
        (["--version"], 0),
    ],
)
def test_in_process_calls_answer_as_the_process_does(mini_cli, args, code):
    """The in-process fixtures stand in for the process in most tests: on the same database
    and home, both give the same exit code and the same bytes on stdout and stderr."""
    from tests.conftest import InProcessCli

    in_process = InProcessCli(mini_cli.db, mini_cli.home, mini_cli.actor)
    db = args[0] != "--version"
    by_process, by_main = mini_cli(*args, db=db), in_process(*args, db=db)
    assert by_process.code == code, by_process
    assert by_main == by_process
