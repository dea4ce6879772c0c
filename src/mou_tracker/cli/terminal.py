"""``ui``: the one command that loads the terminal UI (Textual), and only when it runs."""

from __future__ import annotations

import argparse
import os
import sys

from mou_tracker.cli.common import (
    actor_of,
    open_engine,
)


def cmd_ui(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty() and not os.environ.get("MOU_TRACKER_FORCE_UI"):
        print(
            "mou-tracker: error: the terminal UI needs a terminal; use a command instead "
            "(mou-tracker --help)",
            file=sys.stderr,
        )
        return 1
    engine = open_engine(args)
    try:
        from mou_tracker.tui.app import run_app
    except ImportError:
        print(
            "mou-tracker: the terminal UI is not part of this build yet; "
            "try `mou-tracker list` or `mou-tracker --help`",
            file=sys.stderr,
        )
        return 0
    return run_app(engine, actor=actor_of(args)) or 0
