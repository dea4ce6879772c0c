"""Each command loads only what it uses: the modules of its own audience and the domain code it
runs, never the reports, Markdown, migrations, link checking, TOML sync, the UI or the crash
points. (How long that takes is measured by bench/cli_bench.py, not here.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# in a fresh interpreter: what a person's `mou-tracker ...` loads
pytestmark = pytest.mark.process

NEVER = (
    "textual",
    "markdown_it",
    "alembic",
    "mou_tracker.tui",
    "mou_tracker.reports",
    "mou_tracker.links",
    "mou_tracker.storage.sync",
    "mou_tracker.storage.roles",  # PostgreSQL only
    "mou_tracker.faults",
)
AUDIENCES = ("reading", "editing", "evidence", "data", "admin", "terminal")

CASES = {
    "list": (["list", "--format", "json"], "reading", ("dateutil", "mou_tracker.domain.service")),
    "show": (["show", "T-1"], "reading", ("mou_tracker.domain.service",)),
    "status": (["status", "T-2", "not_started", "--reason", "checked"], "editing", ()),
    "evidence add": (
        ["evidence", "add", "T-1", "https://example.org/imports", "--title", "Imports"],
        "evidence",
        ("mou_tracker.domain.queries",),
    ),
}


def _loaded(db: Path, home: Path, argv: list[str]) -> tuple[int, set[str]]:
    code = (
        "import contextlib, io, json, sys\n"
        "from mou_tracker.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    rc = main({['--db', str(db), *argv]!r})\n"
        "print(json.dumps([rc, sorted(sys.modules)]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOU_TRACKER")}
    env |= {"MOU_TRACKER_USER": "tester", "HOME": str(home), "XDG_DATA_HOME": str(home / "d")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    rc, modules = json.loads(out.stdout)
    return rc, set(modules)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("case", list(CASES))
def test_a_command_loads_only_its_own_audience_and_what_it_runs(
    case, mini_sqlite_template, tmp_path
):
    argv, audience, also_never = CASES[case]
    db = tmp_path / "tracker.db"
    shutil.copyfile(mini_sqlite_template, db)
    rc, loaded = _loaded(db, tmp_path, argv)
    assert rc == 0
    assert f"mou_tracker.cli.{audience}" in loaded
    others = [f"mou_tracker.cli.{a}" for a in AUDIENCES if a != audience]
    if case == "evidence add":
        others.remove("mou_tracker.cli.reading")  # not needed, but cheap: allowed either way
    unexpected = sorted(m for m in loaded for p in (*NEVER, *also_never, *others) if _within(m, p))
    assert unexpected == []


def test_the_check_sees_a_module_that_is_loaded(mini_sqlite_template, tmp_path):
    """The same probe on `export`, which does load the reports: the check can fail."""
    db = tmp_path / "tracker.db"
    shutil.copyfile(mini_sqlite_template, db)
    rc, loaded = _loaded(db, tmp_path, ["export", "--out", str(tmp_path / "out"), "--format", "md"])
    assert rc == 0
    assert "mou_tracker.reports.export" in loaded and "mou_tracker.cli.data" in loaded
    assert "mou_tracker.cli.reading" not in loaded
