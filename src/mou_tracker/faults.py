"""Crash points for the kill tests: with ``MOU_TRACKER_CRASH_AT=name`` set, the process SIGKILLs
itself when it reaches the crash point of that name, exactly as a power cut or ``kill -9`` would.

The code that has crash points does not import this module. A crash point is an audit event,

    sys.audit("mou_tracker.crashpoint", "write:before-commit")

which costs next to nothing while no audit hook is installed, and none is in normal use: the
command line imports this module, and calls :func:`install`, only when ``MOU_TRACKER_CRASH_AT``
is set (and a test may call :func:`install` itself). The names in use are listed in
:data:`POINTS`; a test checks that each is raised somewhere in the code.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "MOU_TRACKER_CRASH_AT"
EVENT = "mou_tracker.crashpoint"
POINTS = (
    "write:before-commit",
    "write:after-commit",
    "sync:commitments",
    "sync:evidence",
    "sync:history",
    "import:batch",
    "migrate:backup-written",
    "export:batch",
    "export:before-swap",
    "export:between-renames",
)

_installed = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == EVENT and args and args[0] == os.environ.get(ENV):
        os.kill(os.getpid(), signal.SIGKILL)


def install() -> None:
    """Arm the crash points for the rest of this process (an audit hook cannot be removed; it
    does nothing while ``MOU_TRACKER_CRASH_AT`` is unset or names another point)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def crashpoint(name: str) -> None:
    """Raise the crash point ``name`` (what the code does with ``sys.audit`` directly)."""
    sys.audit(EVENT, name)
