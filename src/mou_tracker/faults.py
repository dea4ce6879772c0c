"""Crash points for the kill tests: ``MOU_TRACKER_CRASH_AT=name`` makes the process SIGKILL
itself when it reaches ``crashpoint(name)``, exactly as a power cut or ``kill -9`` would.
Unset (always, outside tests), it costs one dictionary look-up."""

from __future__ import annotations

import os
import signal

ENV = "MOU_TRACKER_CRASH_AT"


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
