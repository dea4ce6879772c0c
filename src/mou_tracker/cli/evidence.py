"""Evidence commands: ``evidence add|import|list|show|edit`` and ``check-links``."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mou_tracker.cli.common import (
    actor_of,
    env_switch,
    fmt_ts,
    open_engine,
    print_changes,
    printable,
    progress_bar,
)
from mou_tracker.domain.errors import InvalidInput


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
    actor = actor_of(args)
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
    from mou_tracker.storage import search_index

    path = Path(args.file)
    rows = list(_csv_rows(path))
    actor = actor_of(args)
    engine = open_engine(args)

    def action(session: Any) -> int:
        # the new rows are indexed for search once, after the insert (SQLite)
        return search_index.evidence_in_bulk(
            session.connection(),
            lambda: service.import_evidence(session, rows, actor=actor, source=path.name),
        )

    count = eng.run_write(engine, action)
    print(f"imported {count} evidence record(s) from {path.name}")
    return 0


def cmd_evidence_list(args: argparse.Namespace) -> int:
    from mou_tracker.cli.reading import print_evidence
    from mou_tracker.domain import queries as q
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        d = q.commitment_detail(session, args.ref)
    print(f"{d.ref}  {printable(d.title)}")
    print_evidence(d.evidence)
    return 0


def cmd_evidence_show(args: argparse.Namespace) -> int:
    from mou_tracker.domain import queries as q
    from mou_tracker.domain import service
    from mou_tracker.domain.models import Commitment
    from mou_tracker.storage import engine as eng

    engine = open_engine(args)
    with eng.read(engine) as session:
        row = service.get_evidence(session, args.id)
        owner = session.get(Commitment, row.commitment_id)
        assert owner is not None  # a foreign key: every evidence record has its commitment
        ref = owner.ref
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
        ("added", f"{fmt_ts(e.added_at)} by {e.added_by}"),
        ("last changed", f"{fmt_ts(e.updated_at)} by {e.updated_by}"),
    ):
        print(f"  {label + ':':<14} {printable(value) if value else '-'}")
    if e.link is None:
        print("  link health:   never checked (mou-tracker check-links)")
    else:
        final = f" -> {e.link.final_url}" if e.link.moved else ""
        print(f"  link health:   {e.link.label}{final} (checked {fmt_ts(e.link.checked_at)})")
    with eng.read(engine) as session:
        from mou_tracker.links import latest_snapshot

        snap = latest_snapshot(session, e.url)
    if snap is None:
        print("  stored copy:   none yet")
    else:
        print(
            f"  stored copy:   {len(snap[1]):,} characters of text taken {fmt_ts(snap[0])}"
            + ("" if args.snapshot else " (--snapshot prints it)")
        )
    cited_by = [h for h in d.history if e.id in h.evidence_ids]
    if cited_by:
        print(
            "  cited by:      "
            + "; ".join(f"{fmt_ts(h.at)} {h.from_status} -> {h.to_status}" for h in cited_by)
        )
    print(f"  corrections ({len(e.revisions)}):")
    for r in e.revisions:
        print(f"    {fmt_ts(r.at)} by {r.by}: {printable(r.reason)}")
        for name, old, new in r.changes:
            print(f"      {name}: {printable(old) or '(empty)'} -> {printable(new) or '(empty)'}")
    if args.snapshot and snap is not None:
        print("")
        print(f"--- stored text of {e.url} ({fmt_ts(snap[0])}) ---")
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
        for key in service.EDITABLE_EVIDENCE_FIELDS
        if getattr(args, key) is not None
    }
    if not changes:
        raise InvalidInput("evidence edit", "give at least one field to correct (e.g. --title)")
    actor = actor_of(args)
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
    print_changes(revision.changes)
    print(
        f"evidence #{revision.evidence_id} corrected; the previous values are kept in its history"
    )
    return 0


def cmd_check_links(args: argparse.Namespace) -> int:
    import time

    from mou_tracker import links
    from mou_tracker.domain import validate as v
    from mou_tracker.storage import engine as eng

    refs = [v.ref(r, "REF") for r in args.refs]
    allow_private = args.allow_private_addresses or env_switch(links.ALLOW_PRIVATE_ENV)
    engine = open_engine(args)
    with eng.read(engine) as session:
        where, memo_urls = _urls_to_check(session, refs)
    progress = progress_bar("checking links") if sys.stderr.isatty() else None
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
    if progress is not None:
        print(file=sys.stderr)
    report = eng.run_write(
        engine, lambda s: links.record(s, results, memo_urls=memo_urls, at=datetime.now(UTC))
    )
    _print_link_report(report, where, time.monotonic() - started)
    return 0


def _urls_to_check(session: Any, refs: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every URL to fetch with where it is used (``#12 OAI-1.1``, ``memorandum slug``), and the
    official text of each memorandum concerned: of every one when ``refs`` is empty."""
    from sqlmodel import col, select

    from mou_tracker.domain.models import Commitment, Evidence, Memorandum

    query = select(
        col(Evidence.id), col(Evidence.url), col(Commitment.ref), col(Commitment.memorandum_id)
    ).join(Commitment, col(Commitment.id) == col(Evidence.commitment_id))
    if refs:
        known = set(
            session.scalars(select(col(Commitment.ref)).where(col(Commitment.ref).in_(refs)))
        )
        missing = [r for r in refs if r not in known]
        if missing:
            raise InvalidInput("REF", f"no commitment {missing[0]!r}")
        query = query.where(col(Commitment.ref).in_(refs))
    rows = session.execute(query.order_by(col(Evidence.id))).all()
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
    return where, memo_urls


def _print_link_report(report: Any, where: dict[str, list[str]], elapsed: float) -> None:
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
