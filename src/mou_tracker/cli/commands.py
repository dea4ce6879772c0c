"""The command implementations. Every write goes through ``mou_tracker.domain.service`` inside
one transaction; every refusal is a one-line message and exit 1."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mou_tracker.domain.errors import InvalidInput, TrackerError


def describe_error(exc: BaseException) -> tuple[str, int]:
    """A one-line message and an exit code for any exception that reaches the top."""
    if isinstance(exc, TrackerError):
        return _one_line(str(exc)), exc.exit_code
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "unavailable"
        return _one_line(f"database: {detail}"), 1
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return _one_line(f"database refused the write: {detail}; nothing was saved"), 1
    if isinstance(exc, OSError):
        return _one_line(f"{exc.filename or 'file'}: {exc.strerror or exc}"), 1
    return _one_line(
        f"unexpected {type(exc).__name__}: {exc} (set MOU_TRACKER_DEBUG=1 for details)"
    ), 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _claimed_actor(args: argparse.Namespace) -> tuple[str, bool]:
    """Who the person says they are, and whether they said it (``--as``/``MOU_TRACKER_USER``)
    or it is only their login name."""
    if args.actor is not None:
        return args.actor, True
    env = os.environ.get("MOU_TRACKER_USER")
    if env:
        return env, True
    try:
        return getpass.getuser(), False
    except Exception:
        return "unknown", False


def _on_postgresql(args: argparse.Namespace) -> bool:
    from mou_tracker.storage import engine as eng

    return eng.normalise_url(eng.db_url_from_env(args.db)).startswith("postgresql")


def _identity(args: argparse.Namespace) -> Any:
    """The connected PostgreSQL role (:class:`mou_tracker.storage.roles.Identity`), once per
    command."""
    if "_identity" not in args.__dict__:
        from mou_tracker.storage.roles import identity

        args._identity = identity(open_engine(args))
    return args._identity


def _actor(args: argparse.Namespace) -> str:
    """The actor to record. SQLite: ``--as``, else ``MOU_TRACKER_USER``, else the login name.
    PostgreSQL with tracker roles set up: the connected role's display name (or the role), and
    an ``--as`` naming anyone else is refused; the database stamps the role itself in
    ``db_user`` on every backend-side insert either way."""
    claimed, explicit = _claimed_actor(args)
    if not _on_postgresql(args):
        return claimed
    return str(_identity(args).actor_for(claimed, explicit=explicit))


# --- opening the tracker ----------------------------------------------------------------------


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
    return engine


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


def dispatch(args: argparse.Namespace) -> int:
    command = args.command or "ui"
    handler = {
        "info": cmd_info,
        "init": cmd_init,
        "sync": cmd_sync,
        "dump": cmd_dump,
        "list": cmd_list,
        "show": cmd_show,
        "history": cmd_history,
        "verify": cmd_verify,
        "status": cmd_status,
        "review": cmd_review,
        "evidence": cmd_evidence,
        "commitment": cmd_commitment,
        "note": cmd_note,
        "export": cmd_export,
        "migrate": cmd_migrate,
        "target": cmd_target,
        "check-links": cmd_check_links,
        "ui": cmd_ui,
        "roles": cmd_roles,
        "users": cmd_users,
    }[command]
    try:
        return handler(args)
    except Exception as exc:
        refused = _permission_refused(args, exc)
        if refused is None:
            raise
        raise refused from None
    finally:
        for engine in args.__dict__.pop("_engines", []):
            engine.dispose()


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


def _permission_refused(args: argparse.Namespace, exc: BaseException) -> TrackerError | None:
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
    if who is None:
        engine = args.__dict__.get("_pg_engine")
        who = engine.url.username if engine is not None else None
    connected = f"; you are connected as {who}" if who else ""
    return TrackerError(
        f"{what}: refused by the database ({detail}): it needs the {needs} role{connected}; "
        "nothing was saved"
    )


# --- commands -----------------------------------------------------------------------------------


def cmd_roles(args: argparse.Namespace) -> int:
    from mou_tracker.storage import roles

    engine = open_engine(args, seed_if_new=False)
    if args.roles_command == "setup":
        for line in roles.setup(engine):
            print(line)
    elif args.roles_command == "grant":
        print(roles.grant(engine, args.login, args.group))
    elif args.roles_command == "revoke":
        print(roles.revoke(engine, args.login, args.group))
    else:
        found = roles.members(engine)
        ident = _identity(args)
        state = "set up" if ident.roles_set_up else "not set up (mou-tracker roles setup)"
        print(f"tracker roles on this schema: {state}")
        for group in roles.GROUPS:
            names = [m + (f" ({shown!r})" if shown else "") for g, m, shown in found if g == group]
            print(f"{group}: {', '.join(names) if names else '-'}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from mou_tracker.storage import roles

    engine = open_engine(args, seed_if_new=False)
    print(roles.set_display_name(engine, args.role, args.name))
    return 0


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
    return run_app(engine, actor=_actor(args)) or 0


def cmd_target(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.domain import validate as v
    from mou_tracker.storage import engine as eng

    target = v.parse_date(args.date, "DATE")
    print(f"target: {target.isoformat()} (read from {args.date!r})", file=sys.stderr)
    actor = _actor(args)
    engine = open_engine(args)
    change = eng.run_write(
        engine,
        lambda s: service.set_target(
            s,
            args.ref,
            target,
            actor=actor,
            reason=args.reason,
            evidence=args.evidence,
            expected_version=args.expect_version,
        ),
    )
    if change.old_target is None:
        print(f"{args.ref}: target set to {change.new_target.isoformat()}")
    else:
        print(
            f"{args.ref}: target re-baselined {change.old_target.isoformat()} -> {change.new_target.isoformat()} (the old target stays in its history)"
        )
    return 0


def cmd_check_links(args: argparse.Namespace) -> int:
    import time

    from sqlalchemy import select

    from mou_tracker import links
    from mou_tracker.domain import validate as v
    from mou_tracker.domain.models import Commitment, Evidence, Memorandum
    from mou_tracker.storage import engine as eng

    refs = [v.ref(r, "REF") for r in args.refs]
    allow_private = args.allow_private_addresses or _env_switch(links.ALLOW_PRIVATE_ENV)
    engine = open_engine(args)
    with eng.read(engine) as session:
        query = select(Evidence.id, Evidence.url, Commitment.ref, Commitment.memorandum_id).join(
            Commitment, Commitment.id == Evidence.commitment_id
        )
        if refs:
            known = set(session.scalars(select(Commitment.ref).where(Commitment.ref.in_(refs))))
            missing = [r for r in refs if r not in known]
            if missing:
                raise InvalidInput("REF", f"no commitment {missing[0]!r}")
            query = query.where(Commitment.ref.in_(refs))
        rows = session.execute(query.order_by(Evidence.id)).all()
        memo_ids = {m for *_, m in rows} if refs else None
        memo_urls = {
            m.slug: m.source_url
            for m in session.scalars(select(Memorandum))
            if memo_ids is None or m.id in memo_ids
        }
    where: dict[str, list[str]] = {}
    for eid, url, ref, _ in rows:
        where.setdefault(url, []).append(f"#{eid} {ref}")
    for slug, url in memo_urls.items():
        where.setdefault(url, []).append(f"memorandum {slug}")
    progress = None
    if sys.stderr.isatty():

        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            print(
                f"\rchecking links [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    if allow_private:
        print(
            "check-links: private, loopback and link-local addresses are allowed "
            "(--allow-private-addresses or MOU_TRACKER_ALLOW_PRIVATE_URLS); for tests only",
            file=sys.stderr,
        )
    started = time.monotonic()
    results = links.fetch_all(
        where,
        timeout=args.timeout,
        concurrency=args.concurrency,
        allow_private=allow_private,
        progress=progress,
    )
    if progress:
        print(file=sys.stderr)
    report = eng.run_write(
        engine, lambda s: links.record(s, results, memo_urls=memo_urls, at=datetime.now(UTC))
    )
    elapsed = time.monotonic() - started
    for slug, url in report.memoranda_changed:
        print(
            f"WARNING: the official text of memorandum {slug} has changed since it was first recorded: {url}"
        )
    for r in report.broken:
        print(f"broken ({r.error}): {r.url}  [{'; '.join(where[r.url])}]")
    for r in report.unreachable:
        print(f"unreachable ({r.error}): {r.url}  [{'; '.join(where[r.url])}]")
    for url, final in report.moved:
        print(f"moved: {url} -> {final}  [{'; '.join(where[url])}]")
    for url in report.changed:
        print(f"changed since the last check: {url}  [{'; '.join(where[url])}]")
    print(
        f"checked {report.checked} URL(s) in {elapsed:.1f} s: {report.ok} ok, {len(report.broken)} broken, "
        f"{len(report.unreachable)} unreachable, {len(report.moved)} moved, {len(report.changed)} changed"
    )
    return 0


def _env_switch(name: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (or unset)."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise InvalidInput(name, f"expected 1 or 0, not {value!r}")


def cmd_migrate(args: argparse.Namespace) -> int:
    from mou_tracker.storage.migrate import SCHEMA_HEAD, migrate

    engine = open_engine(args, seed_if_new=False)
    message = migrate(engine)
    print(message or f"the database schema is up to date ({SCHEMA_HEAD})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from mou_tracker.domain.models import Commitment, Evidence, HistoryEntry, Memorandum, Meta, Note
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    raw = eng.db_url_from_env(args.db)
    with eng.read(engine) as session:
        meta = {m.key: m.value for m in session.scalars(select(Meta))}
        from mou_tracker.storage.tomlio import describe_syncs

        syncs = describe_syncs(session)
        counts = {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in (
                ("memoranda", Memorandum),
                ("commitments", Commitment),
                ("evidence records", Evidence),
                ("history entries", HistoryEntry),
                ("notes", Note),
            )
        }
    print(f"database:     {engine.url.render_as_string(hide_password=True)}")
    print(
        f"source:       {'--db' if args.db else ('MOU_TRACKER_DB' if raw else 'default location')}"
    )
    print(f"default path: {eng.default_db_path()}")
    print(f"seeded from:  {meta.get('seeded_from', 'not seeded (created empty or by sync)')}")
    if "seeded_at" in meta:
        print(f"seeded at:    {meta['seeded_at']}")
    print(f"shipped file: {eng.seed_file()}")
    from mou_tracker.storage.migrate import current_revision

    print(f"schema:       {current_revision(engine) or 'unversioned'}")
    try:
        acting = _actor(args)
    except TrackerError as exc:
        acting = f"refused: {exc}"
    print(f"acting as:    {acting}")
    if engine.dialect.name == "postgresql":
        ident = _identity(args)
        print(f"connected as: {ident.role} (the database stamps it on every change, as db_user)")
        if ident.roles_set_up:
            print(f"roles:        set up; {ident.role} has {', '.join(ident.groups) or 'none'}")
        else:
            print(
                "roles:        not set up (mou-tracker roles setup): every connection may do what "
                "its grants allow, and --as is not checked"
            )
    else:
        print(
            "users:        SQLite does not authenticate users: the actor is --as or the login name"
        )
    print("holds:        " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    print(f"syncs:        {syncs}")
    return 0


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
    report = seed(engine, eng.seed_file(), actor=_actor(args))
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
    actor = _actor(args)
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


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


LIST_FIELDS = (
    "ref",
    "memorandum",
    "status",
    "strength",
    "theme",
    "owners",
    "evidence_count",
    "latest_evidence",
    "last_reviewed",
    "next_review",
    "overdue",
    "stale",
    "title",
)


def cmd_list(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.domain import validate as v
    from mou_tracker.domain.vocab import STATUSES, STRENGTHS
    from mou_tracker.storage import engine as eng

    today = date.today()
    statuses = _split(args.status)
    strengths = _split(args.strength)
    for s in statuses:
        v.choice(s, "--status", STATUSES)
    for s in strengths:
        v.choice(s, "--strength", STRENGTHS)
    if args.search is not None:
        v.text(args.search, "--search", limit=200, required=False)
    flt = q.ListFilter(
        status=statuses,
        owner=args.owner,
        theme=args.theme,
        strength=strengths,
        memorandum=args.memorandum,
        overdue_on=today if args.overdue else None,
        search=args.search,
    )
    engine = open_engine(args)
    with eng.read(engine) as session:
        q.check_owner(session, args.owner)
        rows = q.list_commitments(session, flt, sort=args.sort, limit=args.limit)
    records = [
        {
            "ref": r.ref,
            "memorandum": r.memorandum,
            "status": r.status,
            "strength": r.strength,
            "theme": r.theme,
            "owners": r.owners_text,
            "evidence_count": r.evidence_count,
            "latest_evidence": r.latest_evidence.isoformat() if r.latest_evidence else "",
            "last_reviewed": r.last_reviewed.isoformat() if r.last_reviewed else "",
            "next_review": r.next_review.isoformat()
            if r.next_review and r.strength != "vision"
            else "",
            "overdue": r.overdue(today),
            "stale": r.stale(today),
            "title": r.title,
        }
        for r in rows
    ]
    out = sys.stdout
    if args.format == "json":
        # One commitment per line (json's C encoder; the indented form is pure Python).
        out.write("[\n")
        out.write(",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records))
        out.write("\n]\n" if records else "]\n")
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=LIST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        _table(records, today)
    return 0


def _table(records: list[dict[str, Any]], today: date) -> None:
    import shutil

    width = shutil.get_terminal_size((120, 24)).columns
    headers = ("REF", "STATUS", "STRENGTH", "OWNERS", "EV", "LATEST", "REVIEW DUE", "TITLE")
    rows = [
        (
            r["ref"],
            r["status"],
            r["strength"],
            r["owners"].replace(" (lead)", "*").replace(" (support)", ""),
            str(r["evidence_count"]),
            r["latest_evidence"] or "-",
            (r["next_review"] + (" !" if r["overdue"] else "")) if r["next_review"] else "-",
            _printable(r["title"]),
        )
        for r in records
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    fixed = sum(widths[:-1]) + 2 * (len(headers) - 1)
    widths[-1] = max(20, min(widths[-1], width - fixed))

    def line(cells: tuple[str, ...]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if i == len(cells) - 1:
                parts.append(cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…")
            else:
                parts.append(cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    print(line(headers))
    for row in rows:
        print(line(row))
    overdue = sum(1 for r in records if r["overdue"])
    print(
        f"{len(records)} commitment(s)"
        + (f"; {overdue} review(s) overdue (!) as of {today.isoformat()}" if overdue else "")
        + "; * = lead owner"
    )


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _fmt_ts(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def cmd_show(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.domain.queries import STALE_AFTER_DAYS
    from mou_tracker.domain.vocab import STATUS_LABELS, STRENGTH_WORDS
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        d = q.commitment_detail(session, args.ref)
    today = date.today()
    if args.format == "json":
        from mou_tracker.domain.serialize import detail_to_json

        json.dump(detail_to_json(d), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    p = print
    p(f"{d.ref}  {_printable(d.title)}")
    p(f"memorandum:  {_printable(d.memorandum.title)} ({d.memorandum.slug})")
    p(
        f"section:     {_printable(d.section)}  [{d.origin.replace('_', ' ')}; wording {d.text_basis.replace('_', '-')}]"
    )
    p(f"source:      {d.source_url}")
    p(f"theme:       {_printable(d.theme)}")
    p(f"strength:    {d.strength}: {STRENGTH_WORDS[d.strength]}")
    p("owners:      " + ", ".join(f"{o.name} [{o.code}] ({o.role})" for o in d.owners))
    if d.restates:
        p(f"restates:    {', '.join(d.restates)} (counted there, not again in headline figures)")
    if d.strength == "vision":
        p("status:      not scored (vision)")
    else:
        since = f" since {_fmt_ts(d.status_changed_at)}" if d.status_changed_at else ""
        p(f"status:      {STATUS_LABELS[d.status]}{since}")
        if d.status_reason:
            p(f"  why:       {_printable(d.status_reason)}")
        due = d.next_review.isoformat() if d.next_review else "-"
        late = " (OVERDUE)" if d.next_review and d.next_review < today else ""
        last = d.last_reviewed.isoformat() if d.last_reviewed else "never"
        p(f"review:      every {d.review_cadence}; last {last}; next due {due}{late}")
    if d.target:
        rebaselined = [t for t in d.targets if t.old_target is not None]
        if rebaselined:
            p(
                f"target:      {d.target.isoformat()} (original {d.original_target.isoformat() if d.original_target else '-'}; re-baselined {len(rebaselined)} time(s))"
            )
            for t in rebaselined:
                p(
                    f"  {_fmt_ts(t.at)}  {t.old_target} -> {t.new_target}  by {_printable(t.by)}: {_printable(t.reason)}"
                )
        else:
            p(f"target:      {d.target.isoformat()}")
    if d.strength != "vision":
        latest = max((e.published for e in d.evidence if e.published), default=None)
        if latest is None or (today - latest).days > STALE_AFTER_DAYS:
            p(
                f"stale:       newest evidence {latest.isoformat() if latest else 'none'}; older than {STALE_AFTER_DAYS} days"
            )
    p(f"version:     {d.version} (last changed by {d.updated_by} at {_fmt_ts(d.updated_at)})")
    p("")
    p("summary:")
    for line in d.summary.splitlines():
        p(f"  {_printable(line)}")
    p("")
    _print_evidence(d.evidence)
    p("")
    _print_history(d.history)
    p("")
    _print_corrections(d)
    p("")
    p(f"notes ({len(d.notes)}):")
    for n in d.notes:
        p(f"  [{n.visibility}] {_fmt_ts(n.at)} {n.author}:")
        for line in n.body.splitlines():
            p(f"      {_printable(line)}")
    return 0


def _print_evidence(evidence: Any) -> None:
    print(f"evidence ({len(evidence)}):")
    for e in evidence:
        published = e.published.isoformat() if e.published else "undated"
        print(
            f"  #{e.id} {published} [{e.direction}; {e.confidence}; {e.kind}] {_printable(e.title)}"
        )
        print(f"      {_printable(e.publisher or 'publisher unknown')}: {e.url}")
        if e.summary:
            print(f"      {_printable(e.summary)}")
        if e.archived_url:
            print(f"      archived copy: {e.archived_url}")
        if e.revisions:
            print(f"      corrected {len(e.revisions)} time(s); latest by {e.revisions[-1].by}")


def _print_history(history: Any) -> None:
    print(f"history ({len(history)}):")
    for h in history:
        if h.kind == "review":
            print(
                f"  {_fmt_ts(h.at)}  reviewed, status stays {h.to_status}  by {_printable(h.actor)}"
            )
        else:
            print(f"  {_fmt_ts(h.at)}  {h.from_status} -> {h.to_status}  by {_printable(h.actor)}")
        recorded_at = getattr(h, "recorded_at", None)
        if recorded_at is not None and recorded_at.date() != h.at.date():
            print(f"      (effective {h.at.date()}, recorded {_fmt_ts(recorded_at)})")
        for line in h.reason.splitlines():
            print(f"      {_printable(line)}")
        if h.evidence_ids:
            print("      cites " + ", ".join(f"#{i}" for i in h.evidence_ids))


def _print_corrections(d: Any) -> None:
    """The public corrections log: the commitment's own corrections and its evidence's,
    oldest first."""
    entries = [(r.at, 0, "commitment", r) for r in d.corrections]
    for e in d.evidence:
        entries += [(r.at, e.id, f"evidence #{e.id}", r) for r in e.revisions]
    entries.sort(key=lambda item: (item[0], item[1]))
    print(f"corrections ({len(entries)}):")
    for _at, _order, what, r in entries:
        print(f"  {_fmt_ts(r.at)}  {what}  by {_printable(r.by)}: {_printable(r.reason)}")
        for name, old, new in r.changes:
            print(f"      {name}: {_printable(old) or '(empty)'} -> {_printable(new) or '(empty)'}")


def cmd_history(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        d = q.commitment_detail(session, args.ref)
    print(f"{d.ref}  {_printable(d.title)}  (now: {d.status})")
    _print_history(d.history)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from mou_tracker.domain.chain import verify_history
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        report = verify_history(session)
    for problem in report.problems:
        print(_printable(str(problem)))
    print(report.summary())
    return 0 if report.ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    actor = _actor(args)
    engine = open_engine(args)

    def action(session: Any) -> Any:
        entry = service.change_status(
            session,
            args.ref,
            args.new_status,
            actor=actor,
            reason=args.reason,
            evidence=args.evidence,
            expected_version=args.expect_version,
        )
        from sqlalchemy import select

        from mou_tracker.domain.models import HistoryEvidence

        cited = session.scalars(
            select(HistoryEvidence.evidence_id).where(HistoryEvidence.history_id == entry.id)
        ).all()
        return entry, sorted(cited)

    entry, cited = eng.run_write(engine, action)
    cites = f"; cites {', '.join(f'#{i}' for i in cited)}" if cited else ""
    print(
        f"{args.ref}: {entry.from_status} -> {entry.to_status} (recorded {_fmt_ts(entry.at)} by {entry.actor}{cites})"
    )
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.domain import validate as v
    from mou_tracker.storage import engine as eng

    actor = _actor(args)
    on = v.parse_date(args.on, "--on") if args.on else None
    engine = open_engine(args)
    entry = eng.run_write(
        engine,
        lambda s: service.record_review(s, args.ref, actor=actor, note=args.note, reviewed_on=on),
    )
    if on is not None:  # after the write: a refusal is one line on stderr, nothing else
        print(f"review date: {on.isoformat()} (read from {args.on!r})", file=sys.stderr)
    print(
        f"{args.ref}: reviewed, status stays {entry.to_status} (recorded {_fmt_ts(entry.at)} by {entry.actor})"
    )
    return 0


def cmd_evidence(args: argparse.Namespace) -> int:
    return {
        "add": cmd_evidence_add,
        "import": cmd_evidence_import,
        "list": cmd_evidence_list,
        "show": cmd_evidence_show,
        "edit": cmd_evidence_edit,
    }[args.evidence_command](args)


def _echo_date(args: argparse.Namespace, value: date | None) -> None:
    if value is not None and args.published:
        print(f"published: {value.isoformat()} (read from {args.published!r})", file=sys.stderr)


def cmd_evidence_add(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    item = service.EvidenceInput.build(
        url=args.url,
        title=args.title,
        publisher=args.publisher,
        published=args.published,
        kind=args.kind,
        direction=args.direction,
        confidence=args.confidence,
        summary=args.summary,
        archived_url=args.archived_url,
    )
    _echo_date(args, item.published)
    actor = _actor(args)
    engine = open_engine(args)
    row = eng.run_write(engine, lambda s: service.add_evidence(s, args.ref, item, actor=actor))
    print(f"{args.ref}: added evidence #{row.id} {row.url}")
    return 0


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    from mou_tracker.domain.service import IMPORT_COLUMNS, IMPORT_REQUIRED

    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InvalidInput("FILE", f"{path} does not exist") from None
    with handle:
        try:
            reader = csv.DictReader(handle, strict=True)
            header = reader.fieldnames or []
            repeated = sorted({h for h in header if header.count(h) > 1})
            if repeated:
                # DictReader would keep only the last cell of a repeated column, silently
                raise InvalidInput(
                    f"{path.name} header", f"column {repeated[0]!r} appears more than once"
                )
            unknown = [h for h in header if h not in IMPORT_COLUMNS]
            if unknown:
                raise InvalidInput(
                    f"{path.name} header",
                    f"unknown column {unknown[0]!r} (columns: {', '.join(IMPORT_COLUMNS)})",
                )
            missing = [c for c in IMPORT_REQUIRED if c not in header]
            if missing:
                raise InvalidInput(f"{path.name} header", f"missing column {missing[0]!r}")
            for row in reader:
                if None in row:
                    raise InvalidInput(
                        f"{path.name} row {reader.line_num}", "has more cells than the header"
                    )
                yield reader.line_num, {k: (val if val != "" else None) for k, val in row.items()}
        except csv.Error as exc:
            raise InvalidInput(
                f"{path.name} line {reader.line_num}", f"malformed CSV ({exc})"
            ) from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name}", "is not UTF-8 text") from None


def cmd_evidence_import(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    path = Path(args.file)
    rows = list(_csv_rows(path))
    actor = _actor(args)
    engine = open_engine(args)
    count = eng.run_write(
        engine, lambda s: service.import_evidence(s, rows, actor=actor, source=path.name)
    )
    print(f"imported {count} evidence record(s) from {path.name}")
    return 0


def cmd_evidence_list(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        d = q.commitment_detail(session, args.ref)
    print(f"{d.ref}  {_printable(d.title)}")
    _print_evidence(d.evidence)
    return 0


def cmd_evidence_show(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.domain import service
    from mou_tracker.domain.models import Commitment
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        row = service.get_evidence(session, args.id)
        ref = session.get(Commitment, row.commitment_id).ref  # type: ignore[union-attr]
        d = q.commitment_detail(session, ref)
    e = next(x for x in d.evidence if x.id == row.id)
    print(f"evidence #{e.id} on {ref} (version {e.version})")
    for label, value in (
        ("url", e.url),
        ("title", e.title),
        ("publisher", e.publisher),
        ("published", e.published.isoformat() if e.published else None),
        ("kind", e.kind),
        ("direction", e.direction),
        ("confidence", e.confidence),
        ("summary", e.summary),
        ("archived copy", e.archived_url),
        ("added", f"{_fmt_ts(e.added_at)} by {e.added_by}"),
        ("last changed", f"{_fmt_ts(e.updated_at)} by {e.updated_by}"),
    ):
        print(f"  {label + ':':<14} {_printable(value) if value else '-'}")
    if e.link is None:
        print("  link health:   never checked (mou-tracker check-links)")
    else:
        final = f" -> {e.link.final_url}" if e.link.moved else ""
        print(f"  link health:   {e.link.label}{final} (checked {_fmt_ts(e.link.checked_at)})")
    with eng.read(engine) as session:
        from mou_tracker.links import latest_snapshot

        snap = latest_snapshot(session, e.url)
    if snap is None:
        print("  stored copy:   none yet")
    else:
        print(
            f"  stored copy:   {len(snap[1]):,} characters of text taken {_fmt_ts(snap[0])}"
            + ("" if args.snapshot else " (--snapshot prints it)")
        )
    cited_by = [h for h in d.history if e.id in h.evidence_ids]
    if cited_by:
        print(
            "  cited by:      "
            + "; ".join(f"{_fmt_ts(h.at)} {h.from_status} -> {h.to_status}" for h in cited_by)
        )
    print(f"  corrections ({len(e.revisions)}):")
    for r in e.revisions:
        print(f"    {_fmt_ts(r.at)} by {r.by}: {_printable(r.reason)}")
        for name, old, new in r.changes:
            print(f"      {name}: {_printable(old) or '(empty)'} -> {_printable(new) or '(empty)'}")
    if args.snapshot and snap is not None:
        print("")
        print(f"--- stored text of {e.url} ({_fmt_ts(snap[0])}) ---")
        print(_printable_block(snap[1]))
    return 0


def _printable_block(text: str) -> str:
    import textwrap

    return "\n".join(
        textwrap.wrap("".join(ch if ch.isprintable() or ch == " " else " " for ch in text), 100)
    )


def cmd_evidence_edit(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    changes = {
        key: getattr(args, key)
        for key in (
            "url",
            "title",
            "publisher",
            "published",
            "kind",
            "direction",
            "confidence",
            "summary",
            "archived_url",
        )
        if getattr(args, key) is not None
    }
    if not changes:
        raise InvalidInput("evidence edit", "give at least one field to correct (e.g. --title)")
    actor = _actor(args)
    engine = open_engine(args)
    revision = eng.run_write(
        engine,
        lambda s: service.edit_evidence(
            s,
            args.id,
            changes,
            actor=actor,
            reason=args.reason,
            expected_version=args.expect_version,
        ),
    )
    for change in revision.changes:
        print(f"  {change['field']}: {change['old'] or '(empty)'} -> {change['new'] or '(empty)'}")
    print(
        f"evidence #{revision.evidence_id} corrected; the previous values are kept in its history"
    )
    return 0


def cmd_commitment(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    changes = {
        key: getattr(args, key)
        for key in service.CORRECTABLE_FIELDS
        if getattr(args, key, None) is not None
    }
    if not changes:
        raise InvalidInput(
            "commitment correct", "give at least one field to correct (e.g. --title or --owners)"
        )
    actor = _actor(args)
    engine = open_engine(args)
    revision = eng.run_write(
        engine,
        lambda s: service.correct_commitment(
            s,
            args.ref,
            changes,
            actor=actor,
            reason=args.reason,
            expected_version=args.expect_version,
        ),
    )
    for change in revision.changes:
        print(
            f"  {change['field']}: {_printable(change['old']) or '(empty)'} -> "
            f"{_printable(change['new']) or '(empty)'}"
        )
    print(f"{args.ref}: corrected; the old values are kept in its public corrections log")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    actor = _actor(args)
    engine = open_engine(args)
    visibility = "internal" if args.internal else "public"
    note = eng.run_write(
        engine,
        lambda s: service.add_note(s, args.ref, args.text, actor=actor, visibility=visibility),
    )
    print(f"{args.ref}: added {visibility} note #{note.id}")
    return 0


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
    progress = _progress_bar("exporting") if sys.stderr.isatty() else None
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
        )
    if progress is not None:
        print(file=sys.stderr)
    print(f"wrote {written} file(s) to {args.out}")
    return 0


def _progress_bar(label: str) -> Any:
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
