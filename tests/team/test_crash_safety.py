"""SIGKILL at chosen points of sync, evidence import and any write: afterwards the database is
either exactly as it was or fully updated, never in between."""

from __future__ import annotations

import signal

import pytest
from tests.conftest import MINI

from mou_tracker.storage.engine import make_engine, read
from mou_tracker.storage.tomlio import dump_document

# real processes: a process that kills itself mid-write
pytestmark = pytest.mark.process


def _dump(url: str) -> str:
    engine = make_engine(url)
    try:
        with read(engine) as s:
            return dump_document(s)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "point", ["sync:commitments", "sync:evidence", "sync:history", "write:before-commit"]
)
def test_killed_first_sync_leaves_nothing(cli, point):
    assert cli("init", "--empty").code == 0
    empty = _dump(cli.db)
    killed = cli("sync", str(MINI), env={"MOU_TRACKER_CRASH_AT": point})
    assert killed.code == -signal.SIGKILL
    assert _dump(cli.db) == empty
    done = cli("sync", str(MINI))
    assert done.code == 0 and "added 3 commitments" in done.out


def test_killed_after_commit_keeps_everything(cli):
    killed = cli("sync", str(MINI), env={"MOU_TRACKER_CRASH_AT": "write:after-commit"})
    assert killed.code == -signal.SIGKILL
    again = cli("sync", str(MINI))
    assert "already in sync" in again.out


def _csv(cli, rows: int) -> str:
    path = cli.home / "many.csv"
    lines = ["ref,url,title,published"]
    lines += [
        f"T-{1 + i % 2},https://bulk.example.org/{i},Item {i},2026-01-01" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("point", ["import:batch", "write:before-commit"])
def test_killed_import_leaves_nothing(mini_cli, point):
    before = _dump(mini_cli.db)
    path = _csv(mini_cli, 12_000)  # three batches: the first crash point is after one of them
    killed = mini_cli("evidence", "import", path, env={"MOU_TRACKER_CRASH_AT": point})
    assert killed.code == -signal.SIGKILL
    assert _dump(mini_cli.db) == before
    done = mini_cli("evidence", "import", path)
    assert done.code == 0 and "imported 12000" in done.out


def test_killed_status_change_is_all_or_nothing(mini_cli):
    before = _dump(mini_cli.db)
    killed = mini_cli(
        "status",
        "T-2",
        "not_started",
        "--reason",
        "r",
        env={"MOU_TRACKER_CRASH_AT": "write:before-commit"},
    )
    assert killed.code == -signal.SIGKILL
    assert _dump(mini_cli.db) == before
