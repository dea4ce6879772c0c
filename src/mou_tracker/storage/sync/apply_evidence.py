"""Applying a sync plan's evidence: corrections of existing records (each with its public
revision, version-checked) and new records in bulk, with the ids a dump names kept where they
are free."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from mou_tracker.domain.bulk import insert_rows
from mou_tracker.domain.models import Evidence, EvidenceRevision, table_of
from mou_tracker.domain.versioned import versioned_update
from mou_tracker.storage.sync.common import EVIDENCE_FIELDS, EVIDENCE_HASH_KEYS, _fields_hash, _hash
from mou_tracker.storage.sync.plan import SyncPlan, taken_ids
from mou_tracker.storage.sync.rows import allocate_ids, insert_plain


def apply_evidence(
    session: Session, plan: SyncPlan, ids: dict[str, int]
) -> dict[tuple[int, str], int]:
    """Update what the file changed (each with a public revision), insert what is new.
    Returns the id of every evidence record, existing or new, by (commitment id, URL)."""
    for change in plan.changed_evidence:
        # The revision goes in first: the database lets the date of cited evidence move only
        # when the newest revision records that move.
        revision = {
            "evidence_id": change.id,
            "at": plan.now,
            "by": plan.actor,
            "reason": "updated from commitments.toml by sync",
            "changes": change.changes,
        }
        insert_plain(session, EvidenceRevision, [revision])
        versioned_update(
            session,
            Evidence,
            change.id,
            change.seen,
            what=f"evidence {change.ref} {change.url}",
            actor=plan.actor,
            at=plan.now,
            source_hash=_hash(change.values),
            **change.values,
        )
    evidence_ids = dict(plan.evidence)
    if not plan.new_evidence:
        return evidence_ids
    cids = [ids[ref] for ref, _ev in plan.new_evidence]
    wanted = [ev["id"] for _ref, ev in plan.new_evidence]
    taken = taken_ids(session, wanted)
    plan.report.renumbered = sum(1 for i in wanted if i is not None and i in taken)
    given = [i if i is not None and i not in taken else None for i in wanted]
    fixed = [n for n, i in enumerate(given) if i is not None]
    _insert_evidence(session, plan, fixed, given, cids)
    if fixed and session.get_bind().dialect.name == "postgresql":
        # The serial sequence knows nothing of ids given explicitly: move it past them, or
        # the next record added would collide with a restored one.
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('evidence', 'id'), "
                "(SELECT max(id) FROM evidence))"
            )
        )
    free = [n for n, i in enumerate(given) if i is None]
    for n, new_id in zip(free, allocate_ids(session, Evidence, len(free)), strict=True):
        given[n] = new_id
    _insert_evidence(session, plan, free, given, cids)
    revisions = []
    for given_id, cid, (_ref, ev) in zip(given, cids, plan.new_evidence, strict=True):
        assert given_id is not None
        evidence_ids[(cid, ev["url"])] = given_id
        for rev in ev["revisions"]:
            recorded = plan.recorded(rev["recorded_at"], rev["at"])
            revisions.append({"evidence_id": given_id, **rev, "recorded_at": recorded})
    insert_plain(session, EvidenceRevision, revisions)
    return evidence_ids


# The columns of a new evidence row, in the order :func:`_new_evidence` gives their values.
NEW_EVIDENCE_COLUMNS = (
    "id",
    "commitment_id",
    "url",
    *EVIDENCE_FIELDS,
    "added_by",
    "added_at",
    "recorded_at",
    "source_hash",
    "version",
    "updated_at",
    "updated_by",
)


def _insert_evidence(
    session: Session, plan: SyncPlan, which: list[int], given: list[int | None], cids: list[int]
) -> None:
    """Insert the new evidence records at positions ``which`` of ``plan.new_evidence``, with
    the ids ``given`` and commitment ids ``cids`` at the same positions."""
    new = plan.new_evidence
    rows = [_new_evidence(plan, given[n], cids[n], new[n][1]) for n in which]
    insert_rows(session, table_of(Evidence), rows, columns=NEW_EVIDENCE_COLUMNS)


def _new_evidence(
    plan: SyncPlan, evidence_id: int | None, cid: int, ev: dict[str, Any]
) -> tuple[Any, ...]:
    """One row of :data:`NEW_EVIDENCE_COLUMNS`."""
    last = ev["revisions"][-1] if ev["revisions"] else None
    added_at = ev["added_at"]
    return (
        evidence_id,
        cid,
        ev["url"],
        ev["title"],  # the EVIDENCE_FIELDS, in their order
        ev["publisher"],
        ev["published"],
        ev["kind"],
        ev["direction"],
        ev["confidence"],
        ev["summary"],
        ev["archived_url"],
        ev["added_by"],
        added_at,
        plan.recorded(ev["recorded_at"], added_at),
        _fields_hash(ev, EVIDENCE_HASH_KEYS),
        1,
        last["at"] if last else added_at,
        last["by"] if last else ev["added_by"],
    )
