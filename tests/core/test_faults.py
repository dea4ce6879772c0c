"""The kill tests' crash points are reachable only when asked for: no module on the tracker's
import path loads ``mou_tracker.faults``; the command line arms them only when
``MOU_TRACKER_CRASH_AT`` is set; and every crash point named in ``faults.POINTS`` is raised
somewhere in the code (and no other)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mou_tracker import faults

# fresh interpreters: what a process loads, and a process that kills itself
pytestmark = pytest.mark.process

SRC = Path(__file__).resolve().parents[2] / "src" / "mou_tracker"
IMPORTS_FAULTS = re.compile(
    r"^\s*(from mou_tracker import faults|from mou_tracker\.faults |import mou_tracker\.faults)",
    re.M,
)
RAISED = re.compile(r"""sys\.audit\(\s*["']mou_tracker\.crashpoint["']\s*,\s*["']([^"']+)["']""")


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("MOU_TRACKER")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full | (env or {}),
        timeout=120,
    )


def test_every_crash_point_is_raised_in_the_code_and_no_other():
    raised: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name == "faults.py":
            continue
        for name in RAISED.findall(path.read_text(encoding="utf-8")):
            raised.setdefault(name, []).append(str(path.relative_to(SRC)))
    assert set(raised) == set(faults.POINTS), raised


def test_no_module_imports_faults_except_the_cli_entry_point():
    importers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "faults.py" and IMPORTS_FAULTS.search(path.read_text(encoding="utf-8"))
    )
    assert importers == ["cli/main.py"]


def test_a_command_loads_faults_only_when_a_crash_point_is_asked_for(tmp_path):
    code = (
        "import sys, contextlib, io\n"
        "from mou_tracker.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    main(['--db', {str(tmp_path / 't.db')!r}, 'init', '--empty'])\n"
        "print('mou_tracker.faults' in sys.modules)"
    )
    assert _python(code).stdout.strip() == "False"
    armed = _python(code, {"MOU_TRACKER_CRASH_AT": "no-such-point"})
    assert armed.returncode == 0 and armed.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("asked", "reached", "killed"),
    [
        ("write:before-commit", "write:before-commit", True),
        ("write:before-commit", "write:after-commit", False),
        ("", "write:before-commit", False),
    ],
)
def test_an_installed_hook_kills_at_the_named_point_only(asked, reached, killed):
    code = (
        "import sys\nfrom mou_tracker import faults\nfaults.install()\nfaults.install()\n"
        f"sys.audit('mou_tracker.crashpoint', {reached!r})\nprint('alive')"
    )
    result = _python(code, {"MOU_TRACKER_CRASH_AT": asked} if asked else None)
    if killed:
        assert result.returncode == -signal.SIGKILL and result.stdout == ""
    else:
        assert result.returncode == 0 and result.stdout == "alive\n"


def test_without_the_hook_a_crash_point_does_nothing():
    result = _python(
        "import sys\nsys.audit('mou_tracker.crashpoint', 'write:before-commit')\nprint('alive')",
        {"MOU_TRACKER_CRASH_AT": "write:before-commit"},
    )
    assert result.returncode == 0 and result.stdout == "alive\n"
