"""``dump``: the whole database written back as commitments.toml."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import tomli_w
from sqlalchemy import select
from sqlmodel import Session, col

from mou_tracker.domain.models import (
    LinkCheck,
    Memorandum,
    Party,
    SyncRun,
    table_of,
)
from mou_tracker.storage.sync.common import MEMO_FIELDS, _scalar

DUMP_HEADER = """\
# mou-tracker dump: the whole database as commitments.toml (schema 1, docs/commitments-schema.md).
# `mou-tracker sync FILE` into an empty database restores it, evidence ids, target changes,
# link checks with their page snapshots and the log of syncs included. Internal notes are
# included and marked visibility = "internal": treat this file as internal.
"""


def _emit(lines: list[str], key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        lines.append(f"{key} = {_scalar(value)}")
        return
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        # Always inline tables, one per line: tomli_w switches a list of dicts to an array of
        # tables ([[key]]) when an item is long, which would land outside the enclosing table.
        lines.append(f"{key} = [")
        for item in value:
            pairs = ", ".join(f"{k} = {_scalar(x)}" for k, x in item.items() if x is not None)
            lines.append(f"    {{ {pairs} }},")
        lines.append("]")
        return
    if isinstance(value, dict):  # an inline table, never a [key] section
        pairs = ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in value.items())
        lines.append(f"{key} = {{ {pairs} }}" if pairs else f"{key} = {{}}")
        return
    lines.append(tomli_w.dumps({key: value}, multiline_strings=True).rstrip("\n"))


def _key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else _scalar(name)


def dump_document(session: Session) -> str:
    from mou_tracker.domain.queries import commitment_details

    lines: list[str] = [DUMP_HEADER, "schema = 1", ""]
    for p in session.scalars(select(Party).order_by(Party.code)):
        lines.append("[[party]]")
        for key in ("code", "name", "kind"):
            _emit(lines, key, getattr(p, key))
        lines.append("")
    for m in session.scalars(select(Memorandum).order_by(col(Memorandum.id))):
        lines.append("[[memorandum]]")
        _emit(lines, "slug", m.slug)
        for key in MEMO_FIELDS:
            value = getattr(m, key)
            if key == "signatories":  # fixed key order, whatever order the backend kept
                value = [{"name": s["name"], "role": s["role"], "party": s["party"]} for s in value]
            _emit(lines, key, value)
        lines.append("")
    for d in commitment_details(session):
        _dump_commitment(lines, d)
        _dump_records(lines, d)
    _dump_link_checks(session, lines)
    _dump_sync_runs(session, lines)
    return "\n".join(lines).rstrip("\n") + "\n"


def _dump_commitment(lines: list[str], d: Any) -> None:
    """A commitment's own fields and its public corrections."""
    lines.append("[[commitment]]")
    _emit(lines, "ref", d.ref)
    _emit(lines, "memorandum", d.memorandum.slug)
    for key in (
        "section",
        "origin",
        "title",
        "summary",
        "source_url",
        "text_basis",
        "theme",
        "strength",
    ):
        _emit(lines, key, getattr(d, key))
    if d.review_cadence != d.memorandum.review_cadence:
        _emit(lines, "review_cadence", d.review_cadence)
    _emit(lines, "last_reviewed", d.last_reviewed)
    _emit(lines, "target", d.original_target)
    _emit(lines, "added_at", d.added_at)
    _emit(
        lines,
        "owners",
        [{"party": o.code, "role": o.role} for o in sorted(d.owners, key=lambda o: o.code)],
    )
    if d.restates:  # on one line, as a person writes it
        lines.append(f"restates = [{', '.join(_scalar(r) for r in d.restates)}]")
    lines.append("")
    for r in d.corrections:
        _emit_correction(lines, "[[commitment.correction]]", r)


def _emit_correction(lines: list[str], header: str, r: Any) -> None:
    """One correction (of a commitment or of an evidence record): when, who, why, what."""
    lines.append(header)
    _emit(lines, "at", r.at)
    _emit_recorded(lines, r.recorded_at, r.at)
    _emit(lines, "by", r.by)
    _emit(lines, "reason", r.reason)
    _emit(lines, "changes", [{"field": f, "old": o, "new": n} for f, o, n in r.changes])
    lines.append("")


def _dump_records(lines: list[str], d: Any) -> None:
    """A commitment's evidence (with corrections), history, target changes and notes."""
    for e in d.evidence:
        lines.append("[[commitment.evidence]]")
        for key in (
            "id",
            "url",
            "title",
            "publisher",
            "published",
            "kind",
            "direction",
            "confidence",
            "summary",
            "archived_url",
            "added_by",
            "added_at",
        ):
            _emit(lines, key, getattr(e, key))
        _emit_recorded(lines, e.recorded_at, e.added_at)
        lines.append("")
        for r in e.revisions:
            _emit_correction(lines, "[[commitment.evidence.revision]]", r)
    for h in d.history:
        lines.append("[[commitment.history]]")
        if h.kind != "status":
            _emit(lines, "kind", h.kind)
        _emit(lines, "at", h.at)
        _emit_recorded(lines, h.recorded_at, h.at)
        _emit(lines, "by", h.actor)
        _emit(lines, "from", h.from_status)
        _emit(lines, "to", h.to_status)
        _emit(lines, "reason", h.reason)
        _emit(lines, "evidence", sorted(h.evidence_urls))
        lines.append("")
    for t in d.targets:
        # The first setting has no `from`; its `to` is the commitment's `target`.
        lines.append("[[commitment.retarget]]")
        _emit(lines, "at", t.at)
        _emit_recorded(lines, t.recorded_at, t.at)
        _emit(lines, "by", t.by)
        _emit(lines, "from", t.old_target)
        _emit(lines, "to", t.new_target)
        _emit(lines, "reason", t.reason)
        _emit(lines, "evidence", t.evidence_url)
        lines.append("")
    notes_by_id = {n.id: n for n in d.notes}
    # Where notes that are not withdrawals share a time and an author, a withdrawal names
    # which of them it takes back (``nth``, 1 and left out for the first).
    nth: dict[int, int] = {}
    seen: dict[tuple[Any, str], int] = {}
    for n in d.notes:
        if n.withdraws is None:
            same = (n.at, n.author)
            seen[same] = nth[n.id] = seen.get(same, 0) + 1
    for n in d.notes:
        lines.append("[[commitment.note]]")
        _emit(lines, "at", n.at)
        _emit_recorded(lines, n.recorded_at, n.at)
        _emit(lines, "author", n.author)
        _emit(lines, "visibility", n.visibility)
        _emit(lines, "body", n.body)
        gone = notes_by_id.get(n.withdraws) if n.withdraws is not None else None
        if gone is not None:  # named by time and author: ids change between databases
            named: dict[str, Any] = {"at": gone.at, "author": gone.author}
            if nth.get(gone.id, 1) > 1:
                named["nth"] = nth[gone.id]
            _emit(lines, "withdraws", named)
        lines.append("")


def _emit_recorded(lines: list[str], recorded_at: datetime | None, effective: datetime) -> None:
    """``recorded_at`` only where it differs from the time the record takes effect: a restore
    into an empty database reads a missing one as that time."""
    if recorded_at is not None and recorded_at != effective:
        _emit(lines, "recorded_at", recorded_at)


def _dump_link_checks(session: Session, lines: list[str]) -> None:
    """The link-check log in the order it was recorded (the latest check of a URL is the one
    with the highest id, so a restore must insert them in this order)."""
    query = select(table_of(LinkCheck)).order_by(col(LinkCheck.id))
    for c in session.execute(query):
        lines.append("[[link_check]]")
        _emit(lines, "url", c.url)
        _emit(lines, "checked_at", c.checked_at)
        _emit(lines, "state", c.state)
        _emit(lines, "http_status", c.http_status)
        _emit(lines, "final_url", c.final_url)
        if c.moved:
            _emit(lines, "moved", True)
        if c.changed:
            _emit(lines, "changed", True)
        _emit(lines, "content_hash", c.content_hash)
        _emit(lines, "page_title", c.page_title)
        _emit(lines, "error", c.error)
        if c.snapshot is not None:
            _emit(lines, "snapshot_chars", c.snapshot_chars)
            lines.append(f'snapshot = "{base64.b64encode(bytes(c.snapshot)).decode("ascii")}"')
        lines.append("")


def _dump_sync_runs(session: Session, lines: list[str]) -> None:
    """Every recorded sync except those that filled an empty database (see :class:`SyncRun`)."""
    query = select(SyncRun).where(col(SyncRun.into_empty).is_(False)).order_by(col(SyncRun.id))
    for r in session.scalars(query):
        lines.append("[[sync_run]]")
        _emit(lines, "at", r.at)
        _emit(lines, "by", r.actor)
        _emit(lines, "file", r.file_name)
        _emit(lines, "sha256", r.file_sha256)
        _emit(lines, "added", dict(sorted(r.added.items())))
        _emit(lines, "updated", dict(sorted(r.updated.items())))
        if r.kept:
            _emit(lines, "kept", r.kept)
        if r.conflicts:
            _emit(lines, "conflicts", r.conflicts)
        lines.append("")
