"""Planning the append-only records of a sync: status history, target changes, notes, the
link-check log and the log of syncs. What the file adds after the database's records is
appended; a history that diverges is a conflict, reported, never rewritten.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session, col

from mou_tracker.domain.models import (
    HistoryEntry,
    HistoryEvidence,
    LinkCheck,
    Note,
    SyncRun,
    TargetChange,
    table_of,
)
from mou_tracker.storage.sync.common import CHUNK, _scalar, _without_recorded

if TYPE_CHECKING:
    from mou_tracker.storage.sync.plan import SyncPlan


def _rows(session: Session, model: Any) -> Any:
    """Every row of ``model``'s table as plain rows (no ORM objects)."""
    return session.execute(select(model.__table__))


def _plan_history(session: Session, plan: SyncPlan, url_of: dict[int, str]) -> None:
    """History is append-only: entries the file adds after the database's are appended; a
    history that diverges is a conflict."""
    history_db: dict[int, list[dict[str, Any]]] = defaultdict(list)
    cites: dict[int, list[int]] = defaultdict(list)
    if plan.commitments:
        query = select(col(HistoryEvidence.history_id), col(HistoryEvidence.evidence_id))
        for hid, eid in session.execute(query):
            cites[hid].append(eid)
        order = (col(HistoryEntry.at), col(HistoryEntry.id))
        compared = (
            col(HistoryEntry.id),
            col(HistoryEntry.commitment_id),
            col(HistoryEntry.kind),
            col(HistoryEntry.at),
            col(HistoryEntry.actor),
            col(HistoryEntry.from_status),
            col(HistoryEntry.to_status),
            col(HistoryEntry.reason),
        )  # only what is compared: no chain hashes or recording times to convert
        for h in session.execute(select(*compared).order_by(*order)):
            history_db[h.commitment_id].append(
                {
                    "kind": h.kind,
                    "at": h.at,
                    "by": h.actor,
                    "from": h.from_status,
                    "to": h.to_status,
                    "reason": h.reason,
                    "evidence": sorted(url_of[e] for e in cites.get(h.id, [])),
                }
            )
    for item in plan.doc.commitments:
        known = plan.commitments.get(item["ref"])
        theirs = history_db.get(known[0], []) if known else []
        ours = [_without_recorded(e) for e in item["history"]] if theirs else []
        if theirs and ours == theirs[: len(ours)]:
            continue
        if not theirs or theirs == ours[: len(theirs)]:
            plan.history.extend(
                (item["ref"], {**e, "recorded_at": plan.recorded(e["recorded_at"], e["at"])})
                for e in item["history"][len(theirs) :]
            )
            continue
        at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b) + 1
        plan.report.conflicts.append(
            f"commitment {item['ref']}: its history in the file diverges from the database at "
            f"entry {at}; database kept"
        )
    if plan.history:
        plan.report.added["history entries"] += len(plan.history)


def _plan_retargets(session: Session, plan: SyncPlan, url_of: dict[int, str]) -> None:
    """Target changes are append-only, like the status history."""
    in_db: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if plan.commitments:
        order = (col(TargetChange.at), col(TargetChange.id))
        for t in session.execute(select(table_of(TargetChange)).order_by(*order)):
            in_db[t.commitment_id].append(
                {
                    "at": t.at,
                    "by": t.by,
                    "from": t.old_target,
                    "to": t.new_target,
                    "reason": t.reason,
                    "evidence": url_of.get(t.evidence_id),
                }
            )
    for item in plan.doc.commitments:
        known = plan.commitments.get(item["ref"])
        ours = [_without_recorded(e) for e in item["retargets"]]
        theirs = in_db.get(known[0], []) if known else []
        if ours and ours[0]["from"] is not None and theirs and theirs[0]["from"] is None:
            # A file written before dumps kept the first setting: compare the re-baselines.
            theirs = theirs[1:]
        if ours == theirs[: len(ours)]:
            continue
        if theirs != ours[: len(theirs)]:
            plan.report.conflicts.append(
                f"commitment {item['ref']}: its target history in the file diverges from the "
                "database; database kept"
            )
            continue
        extra = [
            {**e, "recorded_at": plan.recorded(e["recorded_at"], e["at"])}
            for e in item["retargets"][len(theirs) :]
        ]
        plan.retargets.append((item["ref"], extra))
        plan.report.added["target changes"] += len(extra)


def _plan_notes(session: Session, plan: SyncPlan) -> None:
    """Notes are append-only: a note the database lacks (same time, author, visibility and
    text) is added."""
    by_id = {cid: ref for ref, (cid, _version) in plan.commitments.items()}
    notes_db: set[tuple[str, Any, str, str, str]] = set()
    if plan.commitments:
        for n in _rows(session, Note):
            notes_db.add((by_id[n.commitment_id], n.at, n.author, n.visibility, n.body))
    for item in plan.doc.commitments:
        for note in item["notes"]:
            key = (item["ref"], note["at"], note["author"], note["visibility"], note["body"])
            if key not in notes_db:
                notes_db.add(key)
                recorded = plan.recorded(note["recorded_at"], note["at"])
                plan.notes.append((item["ref"], {**note, "recorded_at": recorded}))
    if plan.notes:
        plan.report.added["notes"] += len(plan.notes)


def _plan_link_checks(session: Session, plan: SyncPlan) -> None:
    """The link-check log is append-only: a check in the file that the database lacks is
    added; one it has (same URL and time) with other values is a conflict."""
    checks = plan.doc.link_checks
    if not checks:
        return
    fields = tuple(k for k in checks[0] if k not in ("url", "checked_at"))
    urls = sorted({c["url"] for c in checks})
    known: dict[tuple[str, datetime], tuple[Any, ...]] = {}
    for start in range(0, len(urls), CHUNK):
        chunk = urls[start : start + CHUNK]
        for row in session.scalars(select(LinkCheck).where(col(LinkCheck.url).in_(chunk))):
            stored = {k: getattr(row, k) for k in fields}
            if stored["snapshot"] is not None:
                stored["snapshot"] = bytes(stored["snapshot"])
            known[(row.url, row.checked_at)] = tuple(stored[k] for k in fields)
    for check in checks:
        key = (check["url"], check["checked_at"])
        values = tuple(check[k] for k in fields)
        if key not in known:
            known[key] = values
            plan.link_checks.append(check)
        elif known[key] != values:
            plan.report.conflicts.append(
                f"link check of {check['url']} at {_scalar(check['checked_at'])}: the file and "
                "the database disagree; database kept"
            )
    if plan.link_checks:
        plan.report.added["link checks"] += len(plan.link_checks)


def _plan_sync_runs(session: Session, plan: SyncPlan) -> None:
    """Runs recorded in the file (a dump) that the database lacks are added, as notes are."""
    if not plan.doc.sync_runs:
        return
    known = {(r.at, r.actor, r.file_name, r.file_sha256) for r in _rows(session, SyncRun)}
    for run in plan.doc.sync_runs:
        key = (run["at"], run["actor"], run["file_name"], run["file_sha256"])
        if key not in known:
            known.add(key)
            plan.sync_runs.append({**run, "into_empty": False})
    if plan.sync_runs:
        plan.report.added["sync runs"] += len(plan.sync_runs)
