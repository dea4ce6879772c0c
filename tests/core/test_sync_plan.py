"""Sync as read -> plan -> check -> apply: the plan is read-only and says what the apply will
do; ``sync --dry-run`` prints it and changes nothing; the file is checked with the rule
functions the CLI uses; the storage layer's modules import one way."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.conftest import MINI, SHIPPED

from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read, run_write
from mou_tracker.storage.sync import (
    apply_plan,
    dump_document,
    parse_document,
    plan_sync,
    read_document,
)

MINI_TEXT = MINI.read_text(encoding="utf-8")
RENAMED = MINI_TEXT.replace('title = "Explore data centres"', 'title = "Explore UK data centres"')


def _dump(engine) -> str:  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return dump_document(s)


def test_the_plan_reads_only_and_the_apply_does_what_it_said(mini):
    eid = None
    with read(mini) as s:
        eid = commitment_detail(s, "T-1").evidence[0].id
    run_write(
        mini,
        lambda s: service.edit_evidence(s, eid, {"title": "Edited here"}, actor="x", reason="fix"),
    )
    before = _dump(mini)
    doc = parse_document(RENAMED)
    with read(mini) as s:
        plan = plan_sync(s, doc, actor="syncer")
    assert _dump(mini) == before
    assert plan.describe() == [
        "update: commitment T-2 (title)",
        "kept (database newer): evidence T-1 https://news.example.org/pilot",
    ]
    assert plan.summary() == ("would update 1 commitments; would keep 1 newer database record(s)")
    report = run_write(mini, lambda s: apply_plan(s, plan))
    assert dict(report.updated) == {"commitments": 1} and len(report.kept) == 1
    with read(mini) as s:
        assert commitment_detail(s, "T-2").title == "Explore UK data centres"


def test_the_plan_of_the_shipped_file_into_an_empty_database_counts_what_is_added(engine):
    doc = read_document(SHIPPED)
    with read(engine) as s:
        plan = plan_sync(s, doc, actor="syncer")
    assert plan.into_empty and not plan.describe()
    expected = {
        "commitments": len(doc.commitments),
        "evidence": sum(len(c["evidence"]) for c in doc.commitments),
        "history entries": sum(len(c["history"]) for c in doc.commitments),
    }
    assert {k: plan.report.added[k] for k in expected} == expected
    report = run_write(engine, lambda s: apply_plan(s, plan))
    with read(engine) as s:
        assert len(dump_document(s).split("[[commitment]]")) - 1 == len(doc.commitments)
    assert report.added == plan.report.added


def test_dry_run_prints_the_plan_and_changes_nothing(mini_cli_main, tmp_path):
    path = tmp_path / "renamed.toml"
    path.write_text(RENAMED, encoding="utf-8")
    before = mini_cli_main("dump")
    result = mini_cli_main("sync", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "update: commitment T-2 (title)",
        "sync renamed.toml --dry-run: would update 1 commitments; nothing was changed",
    ]
    assert mini_cli_main("dump").out == before.out
    applied = mini_cli_main("sync", str(path))
    assert applied.code == 0 and applied.out == "sync renamed.toml: updated 1 commitments\n"
    again = mini_cli_main("sync", str(path), "--dry-run")  # the unchanged-file shortcut
    assert again.code == 0 and again.out == "sync renamed.toml: already in sync: nothing changed\n"


def test_dry_run_lists_conflicts_and_strict_refuses_them(mini_cli_main, tmp_path):
    from mou_tracker.storage.engine import make_engine

    engine = make_engine(mini_cli_main.db)
    run_write(
        engine,
        lambda s: service.correct_commitment(
            s, "T-2", {"title": "Database title"}, actor="x", reason="fix"
        ),
    )
    engine.dispose()
    path = tmp_path / "renamed.toml"
    path.write_text(RENAMED, encoding="utf-8")
    before = mini_cli_main("dump").out
    result = mini_cli_main("sync", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert (
        "conflict: commitment T-2: the file and the database both changed it since the last sync"
        in result.out.splitlines()
    )
    strict = mini_cli_main("sync", str(path), "--dry-run", "--strict")
    assert strict.code == 1 and "1 conflict(s)" in strict.err and "Traceback" not in strict.err
    assert mini_cli_main("dump").out == before


def test_the_file_is_checked_with_the_rule_the_cli_applies(engine):
    """Rule 1 (cited evidence published on or before the change) is one function: a file and
    the CLI are refused in the same words; the file's error names its line and field."""
    late = MINI_TEXT.replace("published = 2025-03-01", "published = 2025-03-09")
    with pytest.raises(InvalidInput) as caught:
        parse_document(late, "late.toml")
    message = str(caught.value)
    line = late.splitlines().index('evidence = ["https://news.example.org/pilot"]') + 1
    assert message.startswith(f"late.toml:{line}: commitment[T-1].history[1].evidence: ")
    assert message.endswith(
        "'https://news.example.org/pilot' was published 2025-03-09, after the change (2025-03-05)"
    )


def test_storage_imports_run_one_way():
    """migrate never imports engine (engine names migrate's schema set-up), and sync's
    modules import the domain, never the other way round."""
    code = (
        "import sys, mou_tracker.storage.migrate, mou_tracker.domain.service\n"
        "print(sorted(m for m in sys.modules if m.startswith('mou_tracker.storage')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['mou_tracker.storage', 'mou_tracker.storage.migrate']"
