"""Data in and out: ``init``, ``sync``, ``dump`` and ``export``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from mou_tracker.cli.common import (
    actor_of,
    open_engine,
    progress_bar,
    seed,
)
from mou_tracker.domain.errors import InvalidInput, TrackerError


def cmd_init(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from mou_tracker.domain.models import Commitment
    from mou_tracker.storage import engine as eng

    engine = open_engine(args, seed_if_new=False)
    with eng.read(engine) as session:
        existing = session.scalar(select(func.count()).select_from(Commitment))
    if args.empty or existing:
        print(
            f"schema ready at {engine.url.render_as_string(hide_password=True)} ({existing} commitments)"
        )
        return 0
    report = seed(engine, eng.seed_file(), actor=actor_of(args))
    print(
        f"initialised {engine.url.render_as_string(hide_password=True)} from {eng.seed_file()}: {report.summary()}"
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    import hashlib

    from mou_tracker.domain.errors import ConflictError
    from mou_tracker.domain.models import Meta
    from mou_tracker.storage import engine as eng
    from mou_tracker.storage import sync
    from mou_tracker.storage.sync import SYNC_FINGERPRINT, read_document, sync_fingerprint

    path = Path(args.file) if args.file else eng.seed_file()
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = None  # read_document below names the problem
    engine = open_engine(args, seed_if_new=False) if digest else None
    if engine is not None and digest is not None:
        # The same file into a database nobody has changed since: nothing to do or report.
        with eng.read(engine) as session:
            stored = session.get(Meta, SYNC_FINGERPRINT)
            if stored is not None and stored.value == sync_fingerprint(session, digest):
                print(f"sync {path.name}: already in sync: nothing changed")
                return 0
    doc = read_document(path)  # validate before writing anything
    engine = engine or open_engine(args, seed_if_new=False)
    actor = actor_of(args)
    # Plan outside the write lock; the apply refuses any row changed since this read.
    with eng.read(engine) as session:
        plan = sync.plan_sync(session, doc, actor=actor)
    if plan.report.conflicts and args.strict:
        raise TrackerError(
            f"sync: {len(plan.report.conflicts)} conflict(s) ({plan.report.conflicts[0]}); "
            "nothing was saved"
        )
    if args.dry_run:
        for line in plan.describe():
            print(line)
        print(f"sync {path.name} --dry-run: {plan.summary()}; nothing was changed")
        return 0

    def action(session: Any) -> Any:
        report = sync.apply_plan(session, plan)
        if digest is not None and not report.kept and not report.conflicts:
            session.flush()
            value = sync_fingerprint(session, digest)
            row = session.get(Meta, SYNC_FINGERPRINT)
            if row is None:
                session.add(Meta(key=SYNC_FINGERPRINT, value=value))
            else:
                row.value = value
        return report

    try:
        report = eng.run_write(engine, action)
    except ConflictError as exc:
        raise TrackerError(f"sync: {sync.conflict_message(exc)}") from None
    for line in report.conflicts:
        print(f"conflict: {line}", file=sys.stderr)
    for line in report.kept:
        print(f"kept (database newer): {line}", file=sys.stderr)
    print(f"sync {path.name}: {report.summary()}")
    return 0


def cmd_dump(args: argparse.Namespace) -> int:
    from mou_tracker.storage import engine as eng
    from mou_tracker.storage.tomlio import dump_document

    target = Path(args.file) if args.file else None
    if target is not None and (target.is_dir() or not target.parent.is_dir()):
        problem = "is a directory" if target.is_dir() else "is in a folder that does not exist"
        raise InvalidInput("FILE", f"{target} {problem}; give the path of a file to write")
    engine = open_engine(args)
    if engine.dialect.name == "postgresql":
        _refuse_partial_dump(engine)
    with eng.read(engine) as session:
        text = dump_document(session)
    if target is not None:
        # The dump holds internal notes: readable by its owner only, like a private key.
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InvalidInput("FILE", f"cannot write {target}: {exc.strerror or exc}") from None
        print(f"wrote {target}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _refuse_partial_dump(engine: Any) -> None:
    """A dump is a full backup, internal notes included. Row-level security hides those notes
    from a viewer, so a viewer's dump would be silently incomplete: refuse it instead."""
    from mou_tracker.storage import roles

    try:
        who = roles.identity(engine)
    except Exception:  # noqa: BLE001 - a database from before roles: nothing is hidden
        return
    if who.superuser or not who.roles_set_up or roles.STAFF in who.groups:
        return
    raise TrackerError(
        f"dump: it needs the {roles.STAFF} role; you are connected as {who.role} (a dump is a "
        "full backup with the internal notes, which your role cannot read, so it would be "
        "incomplete); use export for the public record"
    )


def cmd_export(args: argparse.Namespace) -> int:
    from mou_tracker.domain import validate as v

    formats = tuple(part.strip() for part in args.format.split(",") if part.strip())
    for fmt in formats:
        v.choice(fmt, "--format", ("md", "html", "json", "csv"))
    if not formats:
        raise InvalidInput("--format", "name at least one of md, html, json, csv")
    since = v.parse_date(args.since, "--since") if args.since else None
    report_date = v.parse_date(args.as_of, "--as-of") if args.as_of else None
    # echo a date only when it was read from something other than its ISO form
    if since is not None and args.since.strip() != since.isoformat():
        print(f"since: {since.isoformat()} (read from {args.since!r})", file=sys.stderr)
    if report_date is not None and args.as_of.strip() != report_date.isoformat():
        print(f"report date: {report_date.isoformat()} (read from {args.as_of!r})", file=sys.stderr)
    from mou_tracker.reports.export import export
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    progress = progress_bar("exporting") if sys.stderr.isatty() else None
    with eng.read(engine) as session:
        from mou_tracker.storage.roles import as_viewer

        as_viewer(session)  # PostgreSQL with roles: internal notes are unreadable from here on
        written = export(
            session,
            Path(args.out),
            formats=formats,
            since=since,
            report_date=report_date,
            progress=progress,
            notice=lambda line: print(line, file=sys.stderr, flush=True),
            rebuild=args.rebuild,
        )
    if progress is not None:
        print(file=sys.stderr)
    print(f"wrote {written} file(s) to {args.out}")
    return 0
