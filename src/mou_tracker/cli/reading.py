"""Commands that read: ``info``, ``list``, ``show``, ``history``, ``verify``. None of them
writes; ``list`` loads only the queries it runs."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from typing import Any

from mou_tracker.cli.common import (
    actor_of,
    fmt_ts,
    identity_of,
    open_engine,
    printable,
)
from mou_tracker.domain.errors import TrackerError


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
        acting = actor_of(args)
    except TrackerError as exc:
        acting = f"refused: {exc}"
    print(f"acting as:    {acting}")
    if engine.dialect.name == "postgresql":
        ident = identity_of(args)
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
        rows = q.list_lines(session, flt, sort=args.sort, limit=args.limit)
    out = sys.stdout
    if args.format == "json":
        out.write("[\n")
        out.write(",\n".join(_json_lines(rows, today)))
        out.write("\n]\n" if rows else "]\n")
        return 0
    records = _records(rows, today)
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=LIST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        _table(records, today)
    return 0


def _records(rows: list[Any], today: date) -> list[dict[str, Any]]:
    """The fields of LIST_FIELDS for each ``queries.ListLine``: each date formatted once, the
    overdue and stale flags from ``domain.derived`` (one definition for every interface)."""
    from mou_tracker.domain.derived import is_overdue, is_stale

    iso = date.isoformat
    return [
        {
            "ref": ref,
            "memorandum": memorandum,
            "status": status,
            "strength": strength,
            "theme": theme,
            "owners": owners,
            "evidence_count": count,
            "latest_evidence": iso(latest) if latest else "",
            "last_reviewed": iso(last) if last else "",
            "next_review": iso(due) if due and strength != "vision" else "",
            "overdue": is_overdue(strength, due, today),
            "stale": is_stale(strength, latest, today),
            "title": title,
        }
        for ref, memorandum, status, strength, theme, owners, count, latest, last, due, title in rows
    ]


def _json_lines(rows: list[Any], today: date) -> list[str]:
    """Each ``queries.ListLine`` as one line of JSON: the bytes that
    ``json.JSONEncoder(ensure_ascii=False).encode`` gives for its :func:`_records` dict (the
    same keys in the same order, its separators, its string escaping), written straight from
    the tuple, without a dict or an encoder call per row. tests/cli/test_list_lines.py compares
    the two on every line."""
    from json.encoder import encode_basestring as text  # the encoder's own, for ensure_ascii=False

    from mou_tracker.domain.derived import is_overdue, is_stale

    iso = date.isoformat
    return [
        f'  {{"ref": {text(ref)}, "memorandum": {text(memorandum)}, "status": {text(status)}, '
        f'"strength": {text(strength)}, "theme": {text(theme)}, "owners": {text(owners)}, '
        f'"evidence_count": {int(count)}, '
        f'"latest_evidence": "{iso(latest) if latest else ""}", '
        f'"last_reviewed": "{iso(last) if last else ""}", '
        f'"next_review": "{iso(due) if due and strength != "vision" else ""}", '
        f'"overdue": {"true" if is_overdue(strength, due, today) else "false"}, '
        f'"stale": {"true" if is_stale(strength, latest, today) else "false"}, '
        f'"title": {text(title)}}}'
        for ref, memorandum, status, strength, theme, owners, count, latest, last, due, title in rows
    ]


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
            printable(r["title"]),
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


def cmd_show(args: argparse.Namespace) -> int:
    from mou_tracker.domain import derived
    from mou_tracker.domain import queries as q
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
    p(f"{d.ref}  {printable(d.title)}")
    p(f"memorandum:  {printable(d.memorandum.title)} ({d.memorandum.slug})")
    p(
        f"section:     {printable(d.section)}  [{d.origin.replace('_', ' ')}; wording {d.text_basis.replace('_', '-')}]"
    )
    p(f"source:      {d.source_url}")
    p(f"theme:       {printable(d.theme)}")
    p(f"strength:    {d.strength}: {STRENGTH_WORDS[d.strength]}")
    p("owners:      " + ", ".join(f"{o.name} [{o.code}] ({o.role})" for o in d.owners))
    if d.restates:
        p(f"restates:    {', '.join(d.restates)} (counted there, not again in headline figures)")
    if d.strength == "vision":
        p("status:      not scored (vision)")
    else:
        since = f" since {fmt_ts(d.status_changed_at)}" if d.status_changed_at else ""
        p(f"status:      {STATUS_LABELS[d.status]}{since}")
        if d.status_reason:
            p(f"  why:       {printable(d.status_reason)}")
        due = d.next_review.isoformat() if d.next_review else "-"
        late = " (OVERDUE)" if derived.is_overdue(d.strength, d.next_review, today) else ""
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
                    f"  {fmt_ts(t.at)}  {t.old_target} -> {t.new_target}  by {printable(t.by)}: {printable(t.reason)}"
                )
        else:
            p(f"target:      {d.target.isoformat()}")
    if d.strength != "vision":
        latest = derived.newest_current_evidence(d.evidence)
        if derived.is_stale(d.strength, latest, today):
            p(
                f"stale:       newest evidence {latest.isoformat() if latest else 'none'}; older than {derived.STALE_AFTER_DAYS} days"
            )
    p(f"version:     {d.version} (last changed by {d.updated_by} at {fmt_ts(d.updated_at)})")
    p("")
    p("summary:")
    for line in d.summary.splitlines():
        p(f"  {printable(line)}")
    p("")
    print_evidence(d.evidence)
    p("")
    print_history(d.history)
    p("")
    print_corrections(d)
    p("")
    p(f"notes ({len(d.notes)}):")
    withdrawn = derived.withdrawals(d.notes)
    for n in d.notes:
        by = withdrawn.get(n.id)
        gone = f" (WITHDRAWN {fmt_ts(by.at)} by {printable(by.author)})" if by else ""
        p(f"  [{n.visibility}] {fmt_ts(n.at)} {printable(n.author)}{gone}:")
        for line in n.body.splitlines():
            p(f"      {printable(line)}")
    return 0


def print_evidence(evidence: Any) -> None:
    print(f"evidence ({len(evidence)}):")
    for e in evidence:
        published = e.published.isoformat() if e.published else "undated"
        print(
            f"  #{e.id} {published} [{e.direction}; {e.confidence}; {e.kind}] {printable(e.title)}"
        )
        print(f"      {printable(e.publisher or 'publisher unknown')}: {e.url}")
        if e.summary:
            print(f"      {printable(e.summary)}")
        if e.archived_url:
            print(f"      archived copy: {e.archived_url}")
        if e.revisions:
            print(f"      corrected {len(e.revisions)} time(s); latest by {e.revisions[-1].by}")


def print_history(history: Any) -> None:
    print(f"history ({len(history)}):")
    for h in history:
        if h.kind == "review":
            print(
                f"  {fmt_ts(h.at)}  reviewed, status stays {h.to_status}  by {printable(h.actor)}"
            )
        else:
            print(f"  {fmt_ts(h.at)}  {h.from_status} -> {h.to_status}  by {printable(h.actor)}")
        recorded_at = getattr(h, "recorded_at", None)
        if recorded_at is not None and recorded_at.date() != h.at.date():
            print(f"      (effective {h.at.date()}, recorded {fmt_ts(recorded_at)})")
        for line in h.reason.splitlines():
            print(f"      {printable(line)}")
        if h.evidence_ids:
            print("      cites " + ", ".join(f"#{i}" for i in h.evidence_ids))


def print_corrections(d: Any) -> None:
    """The public corrections log: the commitment's own corrections and its evidence's,
    oldest first."""
    entries = [(r.at, 0, "commitment", r) for r in d.corrections]
    for e in d.evidence:
        entries += [(r.at, e.id, f"evidence #{e.id}", r) for r in e.revisions]
    entries.sort(key=lambda item: (item[0], item[1]))
    print(f"corrections ({len(entries)}):")
    for _at, _order, what, r in entries:
        print(f"  {fmt_ts(r.at)}  {what}  by {printable(r.by)}: {printable(r.reason)}")
        for name, old, new in r.changes:
            print(f"      {name}: {printable(old) or '(empty)'} -> {printable(new) or '(empty)'}")


def cmd_history(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        d = q.commitment_detail(session, args.ref)
    print(f"{d.ref}  {printable(d.title)}  (now: {d.status})")
    print_history(d.history)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from mou_tracker.domain.chain import verify_history
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        report = verify_history(session)
    for problem in report.problems:
        print(printable(str(problem)))
    print(report.summary())
    return 0 if report.ok else 1
