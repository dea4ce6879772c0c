"""Planning a sync: the checked document against the database, without writing anything.

For every record the plan says whether it is new, unchanged, newer in the file (to update),
newer in the database (kept) or changed on both sides (a conflict, database kept). Updates
carry the ``version`` each row had when it was read, so :mod:`.apply` writes them only if
nobody has saved the row since (:func:`mou_tracker.domain.versioned.versioned_update`).
``sync --dry-run`` prints the plan; ``sync`` applies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.models import (
    Commitment,
    Evidence,
    Memorandum,
    Owner,
    Party,
    table_of,
    utcnow,
)
from mou_tracker.storage.sync.common import (
    CHUNK,
    COMMITMENT_FIELDS,
    EVIDENCE_FIELDS,
    MEMO_FIELDS,
    PARTY_FIELDS,
    _hash,
    _plain,
    collector_paused,
)
from mou_tracker.storage.sync.compare import (
    _commitment_values,
    _corrections_in_db,
    _corrections_to_append,
    _file_values,
    _SamePage,
    _three_way,
    _unexplained_changes,
)
from mou_tracker.storage.sync.plan_logs import (
    _plan_history,
    _plan_link_checks,
    _plan_notes,
    _plan_retargets,
    _plan_sync_runs,
)
from mou_tracker.storage.sync.read import Document
from mou_tracker.storage.sync.report import SyncReport


@dataclass
class CommitmentChange:
    """A commitment the file changed since the last sync (the database did not)."""

    id: int
    ref: str
    seen: int  # its version when read
    item: dict[str, Any]
    values: dict[str, Any]  # what the file says, as compared (its hash becomes source_hash)
    follow_target: bool  # never re-baselined: the current target follows the file's
    changes: list[dict[str, str]]  # what sync records in the public corrections log


@dataclass
class EvidenceChange:
    """An evidence record the file changed since the last sync."""

    id: int
    seen: int
    ref: str
    url: str
    values: dict[str, Any]
    changes: list[dict[str, str]]


@dataclass
class SyncPlan:
    doc: Document
    actor: str
    now: datetime
    into_empty: bool
    report: SyncReport = field(default_factory=SyncReport)
    new_parties: list[dict[str, Any]] = field(default_factory=list)
    # (id, the values read, the file's values): a party has no version, so the values read are
    # what the update checks.
    changed_parties: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    rehashed_parties: list[tuple[int, str]] = field(default_factory=list)
    new_memoranda: list[dict[str, Any]] = field(default_factory=list)
    changed_memoranda: list[tuple[int, int, str, dict[str, Any]]] = field(default_factory=list)
    # ref -> (id, version) of every commitment the database had when it was read.
    commitments: dict[str, tuple[int, int]] = field(default_factory=dict)
    new_commitments: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    changed_commitments: list[CommitmentChange] = field(default_factory=list)
    corrections: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # (commitment id, URL) -> id of every evidence record the database had when it was read.
    evidence: dict[tuple[int, str], int] = field(default_factory=dict)
    new_evidence: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed_evidence: list[EvidenceChange] = field(default_factory=list)
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    retargets: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    link_checks: list[dict[str, Any]] = field(default_factory=list)
    sync_runs: list[dict[str, Any]] = field(default_factory=list)

    def recorded(self, value: datetime | None, effective: datetime) -> datetime:
        """When a record of change is recorded here: the time of this sync, except when a dump
        is restored into an empty database, which keeps the dump's times (a file that has
        none, such as the shipped commitments.toml, gives the effective time)."""
        if not self.into_empty:
            return self.now
        return value if value is not None else effective

    def summary(self) -> str:
        """What applying the plan would do, in one line."""
        r = self.report
        if not r.changed and not r.conflicts and not r.kept:
            return "already in sync: nothing to do"
        parts = [f"would add {n} {what}" for what, n in sorted(r.added.items()) if n]
        parts += [f"would update {n} {what}" for what, n in sorted(r.updated.items()) if n]
        if r.kept:
            parts.append(f"would keep {len(r.kept)} newer database record(s)")
        if r.conflicts:
            parts.append(f"{len(r.conflicts)} conflict(s), the database would be kept")
        return "; ".join(parts)

    def describe(self) -> list[str]:
        """The plan for a person: one line per record to update, kept or in conflict."""
        lines = [f"update: {what}" for what in self._updates()]
        lines += [f"kept (database newer): {what}" for what in self.report.kept]
        lines += [f"conflict: {what}" for what in self.report.conflicts]
        return lines

    def _updates(self) -> Iterable[str]:
        for _id, _seen_values, values in self.changed_parties:
            yield f"party {values['code']}"
        for _id, _seen, slug, _values in self.changed_memoranda:
            yield f"memorandum {slug}"
        for c in self.changed_commitments:
            fields = ", ".join(ch["field"] for ch in c.changes)
            yield f"commitment {c.ref}" + (f" ({fields})" if fields else "")
        for e in self.changed_evidence:
            fields = ", ".join(ch["field"] for ch in e.changes)
            yield f"evidence {e.ref} {e.url} ({fields})"


@collector_paused
def plan_sync(
    session: Session, doc: Document, *, actor: str, now: datetime | None = None
) -> SyncPlan:
    """Compare ``doc`` with the database; read only. Raises :class:`InvalidInput` for a new
    evidence record that is the same page as one already recorded at another address."""
    actor = v.required_text(actor, "actor (--as)", limit="actor")
    into_empty = (
        session.scalar(select(col(Party.id)).limit(1)) is None
        and session.scalar(select(col(Memorandum.id)).limit(1)) is None
    )
    plan = SyncPlan(doc=doc, actor=actor, now=now or utcnow(), into_empty=into_empty)
    _plan_parties(session, plan)
    memo_slugs = _plan_memoranda(session, plan)
    _plan_commitments(session, plan, memo_slugs)
    url_of = _plan_evidence(session, plan)
    _plan_history(session, plan, url_of)
    _plan_retargets(session, plan, url_of)
    _plan_notes(session, plan)
    _plan_link_checks(session, plan)
    _plan_sync_runs(session, plan)
    return plan


def _rows(session: Session, model: Any) -> Any:
    """Every row of ``model``'s table as plain rows (no ORM objects: a large sync reads
    hundreds of thousands)."""
    return session.execute(select(model.__table__))


def _both_changed(what: str) -> str:
    return f"{what}: the file and the database both changed it since the last sync"


def _plan_parties(session: Session, plan: SyncPlan) -> None:
    report = plan.report
    parties = {p.code: p for p in _rows(session, Party)}
    for item in plan.doc.parties:
        values = {k: item[k] for k in PARTY_FIELDS}
        row = parties.get(item["code"])
        if row is None:
            plan.new_parties.append({"code": item["code"], "source_hash": _hash(values), **values})
            report.added["parties"] += 1
            continue
        seen = {k: getattr(row, k) for k in PARTY_FIELDS}
        verdict = _three_way(values, seen, row.source_hash)
        if verdict == "file":
            new = {"code": row.code, **values, "source_hash": _hash(values)}
            plan.changed_parties.append((row.id, seen, new))
            report.updated["parties"] += 1
        elif verdict == "same" and row.source_hash != _hash(values):
            plan.rehashed_parties.append((row.id, _hash(values)))
        elif verdict == "db":
            report.kept.append(f"party {row.code}")
        elif verdict == "conflict":
            report.conflicts.append(_both_changed(f"party {row.code}"))


def _plan_memoranda(session: Session, plan: SyncPlan) -> dict[int, str]:
    """Plan the memoranda; return the slug of each one the database has, by id."""
    report = plan.report
    memos = {m.slug: m for m in _rows(session, Memorandum)}
    for item in plan.doc.memoranda:
        values = {k: item[k] for k in MEMO_FIELDS}
        row = memos.get(item["slug"])
        if row is None:
            plan.new_memoranda.append(
                {
                    "slug": item["slug"],
                    "source_hash": _hash(values),
                    "version": 1,
                    "updated_at": plan.now,
                    "updated_by": plan.actor,
                    **values,
                }
            )
            report.added["memoranda"] += 1
            continue
        verdict = _three_way(values, {k: getattr(row, k) for k in MEMO_FIELDS}, row.source_hash)
        if verdict == "file":
            plan.changed_memoranda.append(
                (row.id, row.version, row.slug, {**values, "source_hash": _hash(values)})
            )
            report.updated["memoranda"] += 1
        elif verdict == "db":
            report.kept.append(f"memorandum {row.slug}")
        elif verdict == "conflict":
            report.conflicts.append(_both_changed(f"memorandum {row.slug}"))
    return {m.id: m.slug for m in memos.values()}


def _plan_commitments(session: Session, plan: SyncPlan, memo_slugs: dict[int, str]) -> None:
    report = plan.report
    table = table_of(Commitment).c
    # Only the columns compared (no timestamps to convert for every commitment).
    compared = [k for k in COMMITMENT_FIELDS if k not in ("memorandum", "owners", "target")]
    names = ("id", "ref", "version", "source_hash", "memorandum_id", "target", "original_target")
    query = select(*(table[name] for name in (*names, "restates", *compared)))
    existing = {c.ref: c for c in session.execute(query)}
    plan.commitments = {ref: (c.id, c.version) for ref, c in existing.items()}
    owners_db: dict[int, list[dict[str, str]]] = defaultdict(list)
    query = select(col(Owner.commitment_id), col(Party.code), col(Owner.role)).join(
        Party, col(Party.id) == col(Owner.party_id)
    )
    for cid, code, role in session.execute(query):
        owners_db[cid].append({"party": code, "role": role})
    corrections_db = _corrections_in_db(session) if existing else {}
    from_file = 0
    for position, item in enumerate(plan.doc.commitments):
        row = existing.get(item["ref"])
        if row is None:
            plan.new_commitments.append((position, item))
            continue
        values = _file_values(item)
        db_values = _commitment_values(row, memo_slugs[row.memorandum_id], owners_db[row.id])
        verdict = _three_way(values, db_values, row.source_hash)
        extra: list[dict[str, Any]] = []
        if verdict in ("file", "same"):
            extra = _corrections_to_append(item, corrections_db.get(row.id, []), report)
            plan.corrections += [
                (row.ref, {**c, "recorded_at": plan.recorded(c["recorded_at"], c["at"])})
                for c in extra
            ]
            from_file += len(extra)
        if verdict == "file":
            # The change is public: recorded in the corrections log, unless the file's own
            # new corrections already say how each field changed.
            changes = _unexplained_changes(db_values, values, extra)
            if changes:
                reason = f"changed in {plan.doc.source_name[:300]} by sync"
                plan.corrections.append(
                    (
                        row.ref,
                        {
                            "at": plan.now,
                            "recorded_at": plan.now,
                            "by": plan.actor,
                            "reason": reason,
                            "changes": changes,
                        },
                    )
                )
            plan.changed_commitments.append(
                CommitmentChange(
                    id=row.id,
                    ref=row.ref,
                    seen=row.version,
                    item=item,
                    values=values,
                    follow_target=row.target == row.original_target,
                    changes=changes,
                )
            )
            report.updated["commitments"] += 1
        elif verdict == "db":
            report.kept.append(f"commitment {row.ref}")
        elif verdict == "conflict":
            report.conflicts.append(_both_changed(f"commitment {row.ref}"))
    for _position, item in plan.new_commitments:
        plan.corrections += [
            (item["ref"], {**c, "recorded_at": plan.recorded(c["recorded_at"], c["at"])})
            for c in item["corrections"]
        ]
        from_file += len(item["corrections"])
    if plan.new_commitments:
        report.added["commitments"] += len(plan.new_commitments)
    if from_file:  # corrections the file brought (those sync records itself are "updated")
        report.added["corrections"] += from_file


def _plan_evidence(session: Session, plan: SyncPlan) -> dict[int, str]:
    """Plan the evidence; return the URL of every record the database has, by id."""
    report = plan.report
    table = table_of(Evidence).c
    columns = ("id", "commitment_id", "url", "version", "source_hash", *EVIDENCE_FIELDS)
    # Only the columns compared: no timestamps to convert for a hundred thousand rows.
    rows = list(session.execute(select(*(table[name] for name in columns))))
    evidence_db = {(e[1], e[2]): e for e in rows}
    same_page = _SamePage(rows)
    compared = itemgetter(*EVIDENCE_FIELDS)  # the file's values in the order of row[5:]
    for item in plan.doc.commitments:
        known = plan.commitments.get(item["ref"])
        if known is None:  # a new commitment: all its evidence is new
            ref = item["ref"]
            plan.new_evidence.extend([(ref, ev) for ev in item["evidence"]])
            continue
        for n, ev in enumerate(item["evidence"], start=1):
            row = evidence_db.get((known[0], ev["url"]))
            if row is not None and row[5:] == compared(ev):
                continue  # equal values: what _three_way calls "same", without two dicts
            if row is None:
                twin = same_page.find(known[0], ev["url"])
                if twin is not None:
                    raise InvalidInput(
                        f"{plan.doc.source_name}: commitment[{item['ref']}].evidence[{n}].url",
                        f"same page as evidence #{twin.id} ({twin.url})",
                    )
                plan.new_evidence.append((item["ref"], ev))
                continue
            values = {k: ev[k] for k in EVIDENCE_FIELDS}
            old = {k: getattr(row, k) for k in EVIDENCE_FIELDS}
            verdict = _three_way(values, old, row.source_hash)
            if verdict == "file":
                changes = [
                    {"field": k, "old": _plain(old[k]), "new": _plain(values[k])}
                    for k in EVIDENCE_FIELDS
                    if old[k] != values[k]
                ]
                plan.changed_evidence.append(
                    EvidenceChange(row.id, row.version, item["ref"], ev["url"], values, changes)
                )
                report.updated["evidence"] += 1
            elif verdict == "db":
                report.kept.append(f"evidence {item['ref']} {ev['url']}")
            elif verdict == "conflict":
                report.conflicts.append(_both_changed(f"evidence {item['ref']} {ev['url']}"))
    if plan.new_evidence:
        report.added["evidence"] += len(plan.new_evidence)
    wanted = [ev["id"] for _ref, ev in plan.new_evidence]
    taken = taken_ids(session, wanted)
    report.renumbered = sum(1 for i in wanted if i is not None and i in taken)
    plan.evidence = {key: e[0] for key, e in evidence_db.items()}
    return {e[0]: e[2] for e in rows}


def taken_ids(session: Session, wanted: Iterable[int | None]) -> set[int]:
    """Which of the evidence ids a file asks for the database has already."""
    requested = sorted({i for i in wanted if i is not None})
    taken: set[int] = set()
    for start in range(0, len(requested), CHUNK):
        chunk = requested[start : start + CHUNK]
        taken.update(session.scalars(select(col(Evidence.id)).where(col(Evidence.id).in_(chunk))))
    return taken
