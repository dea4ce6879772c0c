"""Commands that change a commitment's record: ``status``, ``review``, ``target``,
``commitment correct``, ``note add``. Every write goes through ``mou_tracker.domain.service``
inside one transaction; a refusal is one line and exit 1."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mou_tracker.cli.common import (
    actor_of,
    fmt_ts,
    open_engine,
    print_changes,
)
from mou_tracker.domain.errors import InvalidInput


def cmd_status(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    actor = actor_of(args)
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
        from sqlmodel import col, select

        from mou_tracker.domain.models import HistoryEvidence

        cited = session.scalars(
            select(col(HistoryEvidence.evidence_id)).where(
                col(HistoryEvidence.history_id) == entry.id
            )
        ).all()
        return entry, sorted(cited)

    entry, cited = eng.run_write(engine, action)
    cites = f"; cites {', '.join(f'#{i}' for i in cited)}" if cited else ""
    print(
        f"{args.ref}: {entry.from_status} -> {entry.to_status} (recorded {fmt_ts(entry.at)} by {entry.actor}{cites})"
    )
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.domain import validate as v
    from mou_tracker.storage import engine as eng

    actor = actor_of(args)
    on = v.parse_date(args.on, "--on") if args.on else None
    engine = open_engine(args)
    entry = eng.run_write(
        engine,
        lambda s: service.record_review(s, args.ref, actor=actor, note=args.note, reviewed_on=on),
    )
    if on is not None:  # after the write: a refusal is one line on stderr, nothing else
        print(f"review date: {on.isoformat()} (read from {args.on!r})", file=sys.stderr)
    print(
        f"{args.ref}: reviewed, status stays {entry.to_status} (recorded {fmt_ts(entry.at)} by {entry.actor})"
    )
    return 0


def cmd_target(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.domain import validate as v
    from mou_tracker.storage import engine as eng

    target = v.parse_date(args.date, "DATE")
    print(f"target: {target.isoformat()} (read from {args.date!r})", file=sys.stderr)
    actor = actor_of(args)
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
    actor = actor_of(args)
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
    print_changes(revision.changes)
    print(f"{args.ref}: corrected; the old values are kept in its public corrections log")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from mou_tracker.domain import service
    from mou_tracker.storage import engine as eng

    actor = actor_of(args)
    engine = open_engine(args)
    visibility = "internal" if args.internal else "public"
    note = eng.run_write(
        engine,
        lambda s: service.add_note(s, args.ref, args.text, actor=actor, visibility=visibility),
    )
    print(f"{args.ref}: added {visibility} note #{note.id}")
    return 0
