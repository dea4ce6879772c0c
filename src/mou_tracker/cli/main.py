"""``mou-tracker``: parse the command line, run the one command asked for, and turn anything
that reaches the top into one line on stderr and an exit code.

The commands live in one module per audience, and only the module of the command being run is
imported:

- ``reading``: info, list, show, history, verify;
- ``editing``: status, review, target, commitment correct, note add;
- ``evidence``: evidence add|import|list|show|edit, check-links;
- ``data``: init, sync, dump, export;
- ``admin``: migrate, roles, users;
- ``terminal``: ui (the only one that loads Textual).

The arguments are in ``parser``; what the commands share is in ``common``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from mou_tracker.cli.parser import COMMANDS, build_parser, command_in

__all__ = ["COMMANDS", "HANDLERS", "build_parser", "command_in", "dispatch", "main"]

# command -> (module in mou_tracker.cli, function)
HANDLERS = {
    "info": ("reading", "cmd_info"),
    "list": ("reading", "cmd_list"),
    "show": ("reading", "cmd_show"),
    "history": ("reading", "cmd_history"),
    "verify": ("reading", "cmd_verify"),
    "status": ("editing", "cmd_status"),
    "review": ("editing", "cmd_review"),
    "target": ("editing", "cmd_target"),
    "commitment": ("editing", "cmd_commitment"),
    "note": ("editing", "cmd_note"),
    "evidence": ("evidence", "cmd_evidence"),
    "check-links": ("evidence", "cmd_check_links"),
    "init": ("data", "cmd_init"),
    "sync": ("data", "cmd_sync"),
    "dump": ("data", "cmd_dump"),
    "export": ("data", "cmd_export"),
    "migrate": ("admin", "cmd_migrate"),
    "roles": ("admin", "cmd_roles"),
    "users": ("admin", "cmd_users"),
    "ui": ("terminal", "cmd_ui"),
}


def handler_for(command: str) -> Callable[[argparse.Namespace], int]:
    module, name = HANDLERS[command]
    found: Callable[[argparse.Namespace], int] = getattr(
        import_module(f"mou_tracker.cli.{module}"), name
    )
    return found


def dispatch(args: argparse.Namespace) -> int:
    """Run the command; a PostgreSQL "permission denied" becomes a line naming the role it
    needs. The garbage collector is paused while the command loads its code (see
    ``common.pause_collector``). Every engine the command opened is disposed of when it ends
    and the collector is left as it was, so in-process callers leak no connections."""
    from mou_tracker.cli.common import pause_collector, permission_refused, restore_collector

    pause_collector(args)
    try:
        return handler_for(args.command or "ui")(args)
    except Exception as exc:
        refused = permission_refused(args, exc)
        if refused is None:
            raise
        raise refused from None
    finally:
        for engine in args.__dict__.pop("_engines", []):
            engine.dispose()
        restore_collector(args)


def skip_exit_collection() -> None:
    """As the interpreter ends, it runs one last full collection over every object still alive
    (SQLAlchemy, pydantic, the mapped tables: most of what a command imported) only to free
    memory that the operating system takes back anyway, some 50-90 ms of a one-second command
    (bench/cli_bench.py). Freezing the heap at exit, after the atexit handlers registered
    before it, puts those objects out of that collection's reach. Only for the process's own
    command line (``main()`` with no arguments): in-process callers keep their collector."""
    import atexit
    import gc

    atexit.register(gc.freeze)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        skip_exit_collection()
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=command_in(words))
    args = parser.parse_args(words)
    if os.environ.get("MOU_TRACKER_CRASH_AT"):  # the kill tests' crash points, only then
        from mou_tracker import faults

        faults.install()
    try:
        return dispatch(args)
    except KeyboardInterrupt:
        print("mou-tracker: interrupted; nothing was saved", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: never a traceback
        from mou_tracker.cli.common import describe_error

        message, code = describe_error(exc)
        print(f"mou-tracker: error: {message}", file=sys.stderr)
        if os.environ.get("MOU_TRACKER_DEBUG"):
            raise
        return code


if __name__ == "__main__":
    raise SystemExit(main())
