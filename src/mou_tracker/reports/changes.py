"""Which commitments changed since the previous export, told without loading their details.

A commitment's page and its lines in the data files are built from its details
(``queries.commitment_details``), a few facts of the whole tracker and the report date. Loading
every commitment's details is the costliest part of an export, so a re-export first reads, with
one grouped query a table, a cheap summary of each commitment's rows in every table its details
read, and loads details only for the commitments whose summary differs from the one recorded
for the previous export.

What each table contributes (per commitment), and why it is enough:

* ``commitment``: the row's ``version`` and ``updated_at`` (every write bumps both) beside its
  place in the report (memorandum, position) and its status columns;
* ``evidence``: count, sum and max of ids, sum of ``version`` and latest ``updated_at`` (an
  edit bumps the version; a new record adds an id);
* the append-only tables (``evidence_revision``, ``history``, ``history_evidence``, ``note``,
  ``target_change``, ``commitment_revision``, ``link_check`` through the evidence URLs): count,
  latest id and latest ``recorded_at``/``at``. Triggers forbid updating, deleting or replacing
  their rows (migration 0005), so a change is always a new row;
* ``owner`` and ``party`` names: the owners on the commitment's list row (``snap.rows``), which
  the snapshot reads anyway; ``party`` and ``memorandum`` as a whole go into the tracker-wide
  part of every key, as do the report date and the code's version.

Anything written behind the tracker's back (an ``UPDATE`` by hand that leaves ``version`` and
``updated_at`` alone) is not seen: ``mou-tracker export --rebuild`` builds every file again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlmodel import Session, col

from mou_tracker.domain import queries
from mou_tracker.domain.models import (
    Commitment,
    CommitmentRevision,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    LinkCheck,
    Note,
    TargetChange,
)
from mou_tracker.reports.model import Snapshot


def _raw(column: Any) -> Any:
    """A timestamp as the driver gives it (text on SQLite): compared, never shown, so the
    column type's conversion of every value is not needed."""
    return type_coerce(column, String)


def report_order(session: Session) -> list[tuple[int, str]]:
    """(id, ref) of every commitment in the order its details are written (report order)."""
    query = select(col(Commitment.id), col(Commitment.ref)).order_by(*queries.report_order())
    return [(int(cid), str(ref)) for cid, ref in session.execute(query)]


def _grouped(
    session: Session,
    found: dict[int, list[Any]],
    name: str,
    owner: Any,
    columns: list[ColumnElement[Any]],
    join: Callable[[Any], Any] | None = None,
) -> None:
    """Append ``(name, aggregates...)`` to each commitment's summary, grouped by ``owner``."""
    query = select(owner, *columns)
    if join is not None:
        query = join(query)
    for row in session.execute(query.group_by(owner)):
        found[int(row[0])].append((name, *row[1:]))


def summaries(session: Session) -> dict[int, list[Any]]:
    """commitment id -> the cheap summary of its rows in every table its details read."""
    found: dict[int, list[Any]] = defaultdict(list)
    query = select(
        col(Commitment.id),
        col(Commitment.version),
        _raw(col(Commitment.updated_at)),
        col(Commitment.memorandum_id),
        col(Commitment.position),
        col(Commitment.status),
        _raw(col(Commitment.status_changed_at)),
    )
    for cid, *rest in session.execute(query):
        found[int(cid)].append(("commitment", *rest))
    ev_owner = col(Evidence.commitment_id)
    _grouped(
        session,
        found,
        "evidence",
        ev_owner,
        [
            func.count(col(Evidence.id)),
            func.sum(col(Evidence.id)),
            func.max(col(Evidence.id)),
            func.sum(col(Evidence.version)),
            _raw(func.max(col(Evidence.updated_at))),
        ],
    )
    _grouped(
        session,
        found,
        "evidence_revision",
        ev_owner,
        [
            func.count(col(EvidenceRevision.id)),
            func.max(col(EvidenceRevision.id)),
            _raw(func.max(col(EvidenceRevision.recorded_at))),
        ],
        lambda q: q.join(EvidenceRevision, col(EvidenceRevision.evidence_id) == col(Evidence.id)),
    )
    _grouped(
        session,
        found,
        "link_check",
        ev_owner,
        [func.count(col(LinkCheck.id)), func.max(col(LinkCheck.id))],
        lambda q: q.join(LinkCheck, col(LinkCheck.url) == col(Evidence.url)),
    )
    for model in (HistoryEntry, Note, TargetChange, CommitmentRevision):
        _grouped(
            session,
            found,
            str(model.__tablename__),
            col(model.commitment_id),
            [
                func.count(col(model.id)),
                func.max(col(model.id)),
                _raw(func.max(col(model.recorded_at))),
                _raw(func.max(col(model.at))),
            ],
        )
    _grouped(
        session,
        found,
        "history_evidence",
        col(HistoryEntry.commitment_id),
        [
            func.count(col(HistoryEvidence.evidence_id)),
            func.sum(col(HistoryEvidence.evidence_id)),
            func.max(col(HistoryEvidence.history_id)),
        ],
        lambda q: q.select_from(HistoryEntry).join(
            HistoryEvidence, col(HistoryEvidence.history_id) == col(HistoryEntry.id)
        ),
    )
    return found


def tracker_facts(snap: Snapshot, salt: str) -> str:
    """What every commitment's page and data lines may show of the tracker as a whole."""
    parties = sorted(snap.parties.items())
    return repr((salt, snap.report_date, snap.memoranda, parties))


def keys(
    session: Session, snap: Snapshot, order: list[tuple[int, str]], salt: str
) -> dict[str, str]:
    """ref -> a key that changes whenever anything the commitment's page or data lines are
    built from changes (see the module's docstring)."""
    found = summaries(session)
    rows = {row.ref: row for row in snap.rows}
    head = hashlib.sha256(tracker_facts(snap, salt).encode("utf-8", "surrogatepass")).digest()
    result: dict[str, str] = {}
    for cid, ref in order:
        row = rows.get(ref)
        text = repr(
            (
                ref,
                sorted(found.get(cid, ()), key=lambda item: str(item[0])),
                None if row is None else _row_facts(row),
                snap.restated_by.get(ref, ()),
                snap.internal_notes.get(ref, 0),
            )
        )
        digest = hashlib.sha256(head)
        digest.update(text.encode("utf-8", "surrogatepass"))
        result[ref] = digest.hexdigest()
    return result


def _row_facts(row: Any) -> tuple[Any, ...]:
    """What a commitment's list row adds to its summary: its owners (with the parties' names)
    and the facts derived from its evidence (count, newest), as plain values."""
    return (
        tuple((o.code, o.name, o.role) for o in row.owners),
        row.evidence_count,
        row.latest_evidence,
        row.last_reviewed,
        row.next_review,
        row.status,
        row.version,
        row.restates,
    )
