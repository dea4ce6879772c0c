"""Applying a sync plan in the caller's write transaction.

Every update of a versioned row goes through
:func:`mou_tracker.domain.versioned.versioned_update` with the version the plan read, so a
row someone saved after the plan was made is refused as a conflict (who and when) and the
transaction rolls back whole. Records the plan found new are checked to be still absent.
New rows are inserted in bulk with ids assigned here, inside the transaction (PostgreSQL
takes them from the table's sequence; SQLite, which holds its write lock, continues from the
largest id), so no insert has to return its id row by row.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, tuple_, update
from sqlmodel import Session, col

from mou_tracker.domain import chain, derived
from mou_tracker.domain.bulk import insert_rows
from mou_tracker.domain.errors import ConflictError
from mou_tracker.domain.models import (
    Commitment,
    CommitmentRevision,
    Evidence,
    HistoryEntry,
    HistoryEvidence,
    LinkCheck,
    Memorandum,
    Note,
    Owner,
    Party,
    SyncRun,
    TargetChange,
    table_of,
)
from mou_tracker.domain.versioned import check_versions, versioned_update, versioned_update_many
from mou_tracker.storage import search_index
from mou_tracker.storage.sync.apply_evidence import apply_evidence
from mou_tracker.storage.sync.bulk_load import analyze_loaded, indexes_after, search_filled_after
from mou_tracker.storage.sync.common import (
    CHUNK,
    COMMITMENT_FIELDS,
    _bulk,
    _hash,
    collector_paused,
)
from mou_tracker.storage.sync.plan import SyncPlan, plan_sync
from mou_tracker.storage.sync.read import Document
from mou_tracker.storage.sync.report import SyncReport
from mou_tracker.storage.sync.rows import allocate_ids, insert_plain


def sync_document(session: Session, doc: Document, *, actor: str) -> SyncReport:
    """Plan ``doc`` against the database and apply it, both in the caller's transaction."""
    return apply_plan(session, plan_sync(session, doc, actor=actor))


@collector_paused
def apply_plan(session: Session, plan: SyncPlan) -> SyncReport:
    """Write ``plan`` in the caller's transaction; return its report. Raises
    :class:`ConflictError` if the database changed under the plan (the caller rolls back)."""
    _check_still_new(session, plan)
    # Into an empty tracker the search index is filled once at the end, not row by row, and
    # the secondary indexes of the large tables are built once after the load (on PostgreSQL
    # only when the role syncing owns the tables: see bulk_load).
    connection = session.connection()
    empty = plan.into_empty
    indexes = indexes_after(connection) if empty else nullcontext()
    search = search_index.filled_after(connection) if empty else nullcontext()
    pg_search = search_filled_after(connection) if empty else nullcontext()
    with indexes, search, pg_search:
        party_ids = _apply_parties(session, plan)
        memos = _apply_memoranda(session, plan)
        ids, versions = _apply_commitments(session, plan, party_ids, memos)
        sys.audit("mou_tracker.crashpoint", "sync:commitments")  # see faults.py
        evidence_ids = apply_evidence(session, plan, ids)
        sys.audit("mou_tracker.crashpoint", "sync:evidence")
        _apply_history(session, plan, ids, versions, evidence_ids)
        _apply_retargets(session, plan, ids, versions, evidence_ids)
        sys.audit("mou_tracker.crashpoint", "sync:history")
        _apply_notes(session, plan, ids)
    if empty:
        analyze_loaded(connection)
    if plan.link_checks:
        session.execute(_bulk(LinkCheck), plan.link_checks)
    if plan.sync_runs:
        session.execute(_bulk(SyncRun), plan.sync_runs)
    report = plan.report
    if report.changed:
        session.add(
            SyncRun(
                at=plan.now,
                actor=plan.actor,
                file_name=plan.doc.source_name[:300],
                file_sha256=plan.doc.source_sha256,
                added={what: n for what, n in sorted(report.added.items()) if n},
                updated={what: n for what, n in sorted(report.updated.items()) if n},
                kept=len(report.kept),
                conflicts=len(report.conflicts),
                into_empty=plan.into_empty,
            )
        )
    session.flush()
    return report


def _apply_notes(session: Session, plan: SyncPlan, ids: dict[str, int]) -> None:
    """New notes; then the withdrawals among them, each with ``withdraws`` set to the id of the
    note it names by time, author and ``nth`` (the nth note of its commitment with that time
    and author that is not a withdrawal: a withdrawal is never withdrawn, so two passes reach
    every link)."""
    plain = [n for n in plan.notes if n[1]["withdraws"] is None]
    later = [n for n in plan.notes if n[1]["withdraws"] is not None]
    # without the key, so that a sync with no withdrawal writes what it wrote before 0011
    insert_plain(
        session,
        Note,
        [
            {"commitment_id": ids[ref], **{k: x for k, x in note.items() if k != "withdraws"}}
            for ref, note in plain
        ],
    )
    if not later:
        return
    cids = {ids[ref] for ref, _note in later}
    rows = session.execute(
        select(col(Note.id), col(Note.commitment_id), col(Note.at), col(Note.author))
        .where(col(Note.commitment_id).in_(cids), col(Note.withdraws).is_(None))
        .order_by(col(Note.id))
    ).all()
    taken = set(
        session.scalars(
            select(col(Note.withdraws)).where(
                col(Note.commitment_id).in_(cids), col(Note.withdraws).is_not(None)
            )
        )
    )
    # (commitment, time, author) -> the ids of the notes that are not withdrawals, in the
    # order they were added: a withdrawal names the nth of them (records._withdrawn_note).
    named: dict[tuple[int, Any, str], list[int]] = {}
    for note_id, cid, at, author in rows:
        named.setdefault((cid, at, author), []).append(note_id)
    resolved = []
    for ref, note in later:
        at, author, nth = note["withdraws"]
        candidates = named.get((ids[ref], at, author), [])
        target = candidates[nth - 1] if nth <= len(candidates) else None
        if target is None or target in taken:
            plan.report.conflicts.append(
                f"commitment {ref}: the note of {at.isoformat()} withdrawing the note of "
                f"{author} names {'no note' if target is None else 'a note already withdrawn'}"
                " in the database; added as a plain note"
            )
            target = None
        else:
            taken.add(target)
        resolved.append({"commitment_id": ids[ref], **note, "withdraws": target})
    insert_plain(session, Note, resolved)


def _check_still_new(session: Session, plan: SyncPlan) -> None:
    """What the plan adds must still be absent: a record someone added since is a conflict."""
    if plan.into_empty and session.scalar(select(col(Memorandum.id)).limit(1)) is not None:
        raise ConflictError("database", None, None)
    for item in plan.new_parties:
        if session.scalar(select(col(Party.id)).where(col(Party.code) == item["code"])):
            raise ConflictError(f"party {item['code']}", None, None)
    for item in plan.new_memoranda:
        found = session.execute(
            select(col(Memorandum.updated_by), col(Memorandum.updated_at)).where(
                col(Memorandum.slug) == item["slug"]
            )
        ).first()
        if found is not None:
            raise ConflictError(f"memorandum {item['slug']}", found[0], found[1])
    refs = [item["ref"] for _position, item in plan.new_commitments]
    for start in range(0, len(refs), CHUNK):
        query = select(
            col(Commitment.ref), col(Commitment.updated_by), col(Commitment.updated_at)
        ).where(col(Commitment.ref).in_(refs[start : start + CHUNK]))
        for ref, by, at in session.execute(query):
            raise ConflictError(f"commitment {ref}", by, at)
    wanted = [
        (plan.commitments[ref][0], ev["url"])
        for ref, ev in plan.new_evidence
        if ref in plan.commitments
    ]
    for start in range(0, len(wanted), CHUNK):
        query = select(col(Evidence.url), col(Evidence.updated_by), col(Evidence.updated_at)).where(
            tuple_(col(Evidence.commitment_id), col(Evidence.url)).in_(
                wanted[start : start + CHUNK]
            )
        )
        for url, by, at in session.execute(query):
            raise ConflictError(f"evidence {url}", by, at)


def _apply_parties(session: Session, plan: SyncPlan) -> dict[str, int]:
    for pid, seen, values in plan.changed_parties:
        # A party has no version: the update holds only if it still has the values read.
        result = cast(
            "CursorResult[Any]",
            session.execute(
                update(Party)
                .where(
                    col(Party.id) == pid,
                    col(Party.name) == seen["name"],
                    col(Party.kind) == seen["kind"],
                )
                .values(**values)
                .execution_options(synchronize_session=False),
            ),
        )
        if result.rowcount != 1:
            raise ConflictError(f"party {values['code']}", None, None)
    for pid, source_hash in plan.rehashed_parties:
        session.execute(
            update(Party)
            .where(col(Party.id) == pid)
            .values(source_hash=source_hash)
            .execution_options(synchronize_session=False)
        )
    for row in plan.new_parties:
        session.add(Party(**row))
    session.flush()
    return {code: pid for pid, code in session.execute(select(col(Party.id), col(Party.code)))}


def _apply_memoranda(session: Session, plan: SyncPlan) -> dict[str, Any]:
    for mid, seen, slug, values in plan.changed_memoranda:
        versioned_update(
            session,
            Memorandum,
            mid,
            seen,
            what=f"memorandum {slug}",
            actor=plan.actor,
            at=plan.now,
            **values,
        )
    for row in plan.new_memoranda:
        session.add(Memorandum(**row))
    session.flush()
    columns = (
        col(Memorandum.slug),
        col(Memorandum.id),
        col(Memorandum.signed),
        col(Memorandum.review_cadence),
    )
    return {row.slug: row for row in session.execute(select(*columns))}


def _apply_commitments(
    session: Session, plan: SyncPlan, party_ids: dict[str, int], memos: dict[str, Any]
) -> tuple[dict[str, int], dict[int, int]]:
    """Update what the file changed, insert what is new, append corrections. Returns every
    commitment's id by ref, and the version this sync last wrote or read, by id."""
    ids = {ref: cid for ref, (cid, _version) in plan.commitments.items()}
    versions = {cid: version for cid, version in plan.commitments.values()}
    for change in plan.changed_commitments:
        item = change.item
        memo = memos[item["memorandum"]]
        cadence = item["review_cadence"] or memo.review_cadence
        skip = ("memorandum", "owners", "target")
        columns = {k: item[k] for k in COMMITMENT_FIELDS if k not in skip}
        columns["restates"] = item["restates"] or None
        columns["original_target"] = item["target"]
        if change.follow_target:
            columns["target"] = item["target"]
        versions[change.id] = versioned_update(
            session,
            Commitment,
            change.id,
            change.seen,
            what=f"commitment {change.ref}",
            actor=plan.actor,
            at=plan.now,
            memorandum_id=memo.id,
            next_review=derived.next_review(item["last_reviewed"], memo.signed, cadence),
            source_hash=_hash(change.values),
            **columns,
        )
        session.execute(delete(Owner).where(col(Owner.commitment_id) == change.id))
        insert_plain(session, Owner, _owners(change.id, item["owners"], party_ids))
    new_ids = allocate_ids(session, Commitment, len(plan.new_commitments))
    base = len(plan.commitments)
    payload, owners = [], []
    # Many commitments share a last review, a memorandum and a cadence: each date once.
    next_review = functools.cache(derived.next_review)
    for cid, (position, item) in zip(new_ids, plan.new_commitments, strict=True):
        memo = memos[item["memorandum"]]
        position = base + position if base else position
        payload.append(_new_commitment(plan, cid, position, item, memo, next_review))
        owners += _owners(cid, item["owners"], party_ids)
        ids[item["ref"]] = cid
        versions[cid] = 1
    insert_rows(session, table_of(Commitment), payload)
    insert_rows(session, table_of(Owner), owners)
    insert_plain(
        session,
        CommitmentRevision,
        [{"commitment_id": ids[ref], **c} for ref, c in plan.corrections],
    )
    return ids, versions


def _owners(cid: int, owners: Iterable[dict[str, str]], party_ids: dict[str, int]) -> list[Any]:
    return [
        {"commitment_id": cid, "party_id": party_ids[o["party"]], "role": o["role"]} for o in owners
    ]


def _new_commitment(
    plan: SyncPlan,
    cid: int,
    position: int,
    item: dict[str, Any],
    memo: Any,
    next_review: Callable[[date | None, date, str], date],
) -> dict[str, Any]:
    values = {k: item[k] for k in COMMITMENT_FIELDS}
    if item["restates"]:
        values["restates"] = list(item["restates"])
    cadence = item["review_cadence"] or memo.review_cadence
    return {
        "id": cid,
        "memorandum_id": memo.id,
        "ref": item["ref"],
        "position": position,
        **{k: item[k] for k in ("section", "origin", "title", "summary", "source_url")},
        **{k: item[k] for k in ("text_basis", "theme", "strength", "review_cadence")},
        "status": "not_assessed",
        "last_reviewed": item["last_reviewed"],
        "next_review": next_review(item["last_reviewed"], memo.signed, cadence),
        "target": item["target"],
        "original_target": item["target"],
        "added_at": item["added_at"],
        "restates": item["restates"] or None,
        "source_hash": _hash(values),
        "version": 1,
        "updated_at": plan.now,
        "updated_by": plan.actor,
    }


def _apply_history(
    session: Session,
    plan: SyncPlan,
    ids: dict[str, int],
    versions: dict[int, int],
    evidence_ids: dict[tuple[int, str], int],
) -> None:
    """Move each commitment's status on (version-checked), then append the history the file
    adds, with ids and hash chain from :func:`mou_tracker.domain.chain.stamp`."""
    if not plan.history:
        return
    entries = [(ids[ref], e) for ref, e in plan.history]
    # The version checks first: a status someone changed since the plan is a conflict, not
    # an entry out of order. The status itself moves after its history entry is in.
    last_status: dict[int, dict[str, Any]] = {}
    touched: dict[int, str] = {}
    for (cid, e), (ref, _e) in zip(entries, plan.history, strict=True):
        touched[cid] = ref
        if e["kind"] == "status":
            last_status[cid] = e

    def what(cid: int) -> str:
        return f"commitment {touched[cid]}"

    check_versions(session, Commitment, [(cid, versions[cid]) for cid in touched], what=what)
    stamped = chain.stamp(
        session,
        [
            {
                "commitment_id": cid,
                "kind": e["kind"],
                "from_status": e["from"],
                "to_status": e["to"],
                "at": e["at"],
                "recorded_at": e["recorded_at"],
                "actor": e["by"],
                "reason": e["reason"],
                "evidence_ids": [evidence_ids[(cid, url)] for url in e["evidence"]],
            }
            for cid, e in entries
        ],
    )
    insert_plain(session, HistoryEntry, stamped)
    links = [
        {"history_id": row["id"], "evidence_id": evidence_ids[(cid, url)]}
        for row, (cid, e) in zip(stamped, entries, strict=True)
        for url in e["evidence"]
    ]
    insert_rows(session, table_of(HistoryEvidence), links)
    updates = []
    for cid in touched:
        values: dict[str, Any] = {}
        if cid in last_status:
            values.update(status=last_status[cid]["to"], status_changed_at=last_status[cid]["at"])
        updates.append((cid, versions[cid], values))
        versions[cid] += 1
    versioned_update_many(session, Commitment, updates, what=what, actor=plan.actor, at=plan.now)


def _apply_retargets(
    session: Session,
    plan: SyncPlan,
    ids: dict[str, int],
    versions: dict[int, int],
    evidence_ids: dict[tuple[int, str], int],
) -> None:
    """Append the target changes the file adds; the last one is the commitment's target."""
    rows = []
    for ref, extra in plan.retargets:
        cid = ids[ref]
        for e in extra:
            evidence = None if e["evidence"] is None else evidence_ids[(cid, e["evidence"])]
            rows.append(
                {
                    "commitment_id": cid,
                    "at": e["at"],
                    "recorded_at": e["recorded_at"],
                    "by": e["by"],
                    "old_target": e["from"],
                    "new_target": e["to"],
                    "reason": e["reason"],
                    "evidence_id": evidence,
                }
            )
    refs = {ids[ref]: ref for ref, _extra in plan.retargets}

    def what(cid: int) -> str:
        return f"commitment {refs[cid]}"

    check_versions(session, Commitment, [(cid, versions[cid]) for cid in refs], what=what)
    insert_plain(session, TargetChange, rows)
    updates = []
    for ref, extra in plan.retargets:
        cid = ids[ref]
        updates.append((cid, versions[cid], {"target": extra[-1]["to"]}))
        versions[cid] += 1
    versioned_update_many(session, Commitment, updates, what=what, actor=plan.actor, at=plan.now)
