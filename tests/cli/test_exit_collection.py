"""The ``mou-tracker`` process freezes its heap at exit (``cli.main.skip_exit_collection``), so
the interpreter's last full collection has nothing to scan; in-process callers of ``main(argv)``
keep their collector untouched."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import atexit, gc, sys
from mou_tracker.cli.main import main
{call}
before = gc.get_freeze_count()
atexit._run_exitfuncs()
print(before, gc.get_freeze_count() > 0, gc.isenabled())
"""


def probe(call: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(call=call)], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[-3:]


def test_the_process_command_line_freezes_at_exit() -> None:
    before, frozen, enabled = probe(
        "sys.argv = ['mou-tracker', '--version']\ntry:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert before == "0"  # nothing frozen while the command ran
    assert frozen == "True"
    assert enabled == "True"  # the collector itself is left as the command found it


def test_in_process_callers_keep_their_collector() -> None:
    assert probe("try:\n    main(['--version'])\nexcept SystemExit:\n    pass") == [
        "0",
        "False",
        "True",
    ]
