"""What every command shares: opening the tracker (and seeding a new default database), who is
acting, the one-line error for anything that reaches the top, and small text helpers.

Imports only the standard library and the domain's errors at module level; each helper loads
SQLAlchemy or storage code when it is called."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mou_tracker.domain.errors import InvalidInput, TrackerError


def describe_error(exc: BaseException) -> tuple[str, int]:
    """A one-line message and an exit code for any exception that reaches the top."""
    if isinstance(exc, TrackerError):
        return one_line(str(exc)), exc.exit_code
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "unavailable"
        return one_line(f"database: {detail}"), 1
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return one_line(f"database refused the write: {detail}; nothing was saved"), 1
    if isinstance(exc, OSError):
        return one_line(f"{exc.filename or 'file'}: {exc.strerror or exc}"), 1
    return one_line(
        f"unexpected {type(exc).__name__}: {exc} (set MOU_TRACKER_DEBUG=1 for details)"
    ), 1


def one_line(text: str) -> str:
    return " ".join(text.split())


def _claimed_actor(args: argparse.Namespace) -> tuple[str, bool]:
    """Who the person says they are, and whether they said it (``--as``/``MOU_TRACKER_USER``)
    or it is only their login name."""
    if args.actor is not None:
        return args.actor, True
    env = os.environ.get("MOU_TRACKER_USER")
    if env:
        return env, True
    import getpass

    try:
        return getpass.getuser(), False
    except Exception:
        return "unknown", False


def _on_postgresql(args: argparse.Namespace) -> bool:
    from mou_tracker.storage import engine as eng

    return eng.normalise_url(eng.db_url_from_env(args.db)).startswith("postgresql")


def identity_of(args: argparse.Namespace) -> Any:
    """The connected PostgreSQL role (:class:`mou_tracker.storage.roles.Identity`), once per
    command."""
    if "_identity" not in args.__dict__:
        from mou_tracker.storage.roles import identity

        args._identity = identity(open_engine(args))
    return args._identity


def actor_of(args: argparse.Namespace) -> str:
    """The actor to record. SQLite: ``--as``, else ``MOU_TRACKER_USER``, else the login name.
    PostgreSQL with tracker roles set up: the connected role's display name (or the role), and
    an ``--as`` naming anyone else is refused; the database stamps the role itself in
    ``db_user`` on every backend-side insert either way."""
    claimed, explicit = _claimed_actor(args)
    if not _on_postgresql(args):
        return claimed
    return str(identity_of(args).actor_for(claimed, explicit=explicit))


def open_engine(args: argparse.Namespace, *, seed_if_new: bool = True) -> Any:
    from mou_tracker.storage import engine as eng
    from mou_tracker.storage.migrate import ensure_schema

    raw = eng.db_url_from_env(args.db)
    if "_pg_engine" in args.__dict__:  # opened already to learn who is connected
        return args._pg_engine
    engine = eng.make_engine(raw)
    # dispatch() disposes of it when the command ends, so in-process callers leak no connections
    args.__dict__.setdefault("_engines", []).append(engine)
    if not eng.has_schema(engine):
        if engine.dialect.name == "postgresql":
            _check_pg_schema(engine)
        eng.create_schema(engine)
        if raw is None and seed_if_new:
            path = eng.default_db_path()
            report = seed(engine, eng.seed_file(), actor="mou-tracker (first run)")
            print(
                f"mou-tracker: created {path} and seeded it from {eng.seed_file()} ({report.summary()})",
                file=sys.stderr,
            )
    elif getattr(args, "command", None) != "migrate":
        message = ensure_schema(engine)
        if message:
            print(f"mou-tracker: {message}", file=sys.stderr)
    if engine.dialect.name == "postgresql":
        args._pg_engine = engine
    _resume_collector(args)
    return engine


# Commands that may run for minutes or hold a whole tracker in memory: the collector runs again
# once they have loaded their code. Every other command is over in a second or two and builds
# rows with few reference cycles, so it runs with the collector paused throughout.
RUNS_LONG = frozenset(
    ("ui", "export", "sync", "dump", "init", "migrate", "check-links", "verify", "evidence import")
)


def pause_collector(args: argparse.Namespace) -> None:
    """Pause the cyclic garbage collector while the command runs. Importing SQLAlchemy,
    SQLModel and pydantic and mapping the tables makes hundreds of thousands of objects that
    live until the process ends, and the collector would scan them again and again as they
    pile up (about 15% of the import time), and again while a command builds thousands of rows
    (``list``). :func:`open_engine` turns it back on for the commands in :data:`RUNS_LONG`;
    :func:`restore_collector` leaves it as it was when the command ends."""
    import gc

    if gc.isenabled():
        gc.disable()
        args._gc_paused = True


def _resume_collector(args: argparse.Namespace) -> None:
    """A long command has imported its code and opened the database: freeze what exists (it
    lives until the command ends, so no collection need scan it again) and let the collector
    run for whatever the command builds from here on."""
    paused = args.__dict__.get("_gc_paused") and not args.__dict__.get("_gc_frozen")
    if paused and _what(args) in RUNS_LONG:
        import gc

        gc.freeze()
        gc.enable()
        args._gc_frozen = True


def restore_collector(args: argparse.Namespace) -> None:
    """Leave the collector as the command found it (for callers of ``main()`` in-process)."""
    import gc

    if args.__dict__.pop("_gc_frozen", False):
        gc.unfreeze()
    if args.__dict__.pop("_gc_paused", False):
        gc.enable()


def _check_pg_schema(engine: Any) -> None:
    """A role that may not use the tracker's schema sees no tables: say so, rather than try to
    create them somewhere."""
    from sqlalchemy import text

    with engine.connect() as conn:
        schema, role = conn.execute(text("SELECT current_schema(), session_user")).one()
    if schema is None:
        raise TrackerError(
            f"database: {role} may use no schema on its search_path (the schema does not exist, "
            "or the role is in no tracker role: it needs at least mou_viewer); nothing was changed"
        )


def seed(engine: Any, path: Path, *, actor: str) -> Any:
    from mou_tracker.domain.models import Meta
    from mou_tracker.storage.engine import run_write
    from mou_tracker.storage.tomlio import read_document, sync_document

    doc = read_document(path)

    def action(session: Any) -> Any:
        report = sync_document(session, doc, actor=actor)
        for key, value in (
            ("seeded_from", str(path)),
            ("seeded_at", datetime.now(UTC).isoformat(timespec="seconds")),
        ):
            row = session.get(Meta, key)
            if row is None:
                session.add(Meta(key=key, value=value))
        return report

    return run_write(engine, action)


def _what(args: argparse.Namespace) -> str:
    """The command as typed: ``status``, ``evidence add``..."""
    command = args.command or "ui"
    for attr in (
        "evidence_command",
        "commitment_command",
        "note_command",
        "roles_command",
        "users_command",
    ):
        sub = getattr(args, attr, None)
        if sub:
            return f"{command} {sub}"
    return command


def permission_refused(args: argparse.Namespace, exc: BaseException) -> TrackerError | None:
    """PostgreSQL said "permission denied" (SQLSTATE 42501, psycopg's InsufficientPrivilege,
    also raised by a row-level security policy): one line naming the tracker role the action
    needs. ``None`` for any other error."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) != "42501":
        return None
    from mou_tracker.storage.roles import NEEDS

    what = _what(args)
    needs = NEEDS.get(what, NEEDS.get(what.split()[0], "a tracker role"))
    detail = str(orig).strip().splitlines()[0]
    who = getattr(args.__dict__.get("_identity"), "role", None)
    engine = args.__dict__.get("_pg_engine")
    if who is None:
        who = engine.url.username if engine is not None else None
    if needs != "a tracker role" and _holds(engine, needs):
        return TrackerError(
            f"{what}: refused by the database ({detail}), although {who or 'this login'} is in "
            f"{needs}, the role it needs: the database's grants are behind this version of "
            "mou-tracker (an administrator can run: mou-tracker roles setup); nothing was saved"
        )
    connected = f"; you are connected as {who}" if who else ""
    return TrackerError(
        f"{what}: refused by the database ({detail}): it needs the {needs} role{connected}; "
        "nothing was saved"
    )


def _holds(engine: Any, group: str) -> bool:
    """Whether the login of ``engine`` has the privileges of the tracker role ``group``, asked on
    a fresh connection (the refused one may be in a failed transaction). ``False`` when it
    cannot be asked: the message then names the role, as it would for a member of none."""
    if engine is None:
        return False
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT to_regrole(:group) IS NOT NULL "
                        "AND pg_has_role(session_user, :group, 'USAGE')"
                    ),
                    {"group": group},
                ).scalar()
            )
    except Exception:  # the connection itself refused: say what was needed, as before
        return False


def env_switch(name: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (or unset)."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise InvalidInput(name, f"expected 1 or 0, not {value!r}")


def printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def print_changes(changes: list[dict[str, Any]]) -> None:
    """A correction's changes, one line each (``  title: old -> new``), user text made safe to
    print (a control character would otherwise reach the terminal)."""
    for change in changes:
        old = printable(str(change["old"] or "")) or "(empty)"
        new = printable(str(change["new"] or "")) or "(empty)"
        print(f"  {change['field']}: {old} -> {new}")


def fmt_ts(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def progress_bar(label: str) -> Any:
    """A one-line progress bar on stderr (only used when stderr is a terminal)."""

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show
