"""A hash chain over each commitment's history, so that a change made behind the tracker's back
(an entry rewritten, removed, or added by hand) shows up later in ``mou-tracker verify``.

Each history row stores two hashes:

* ``chain_prev``: the ``chain`` of the entry before it in the same commitment's history, in
  (``at``, ``id``) order; :data:`GENESIS` for the first entry;
* ``chain``: sha256 of ``chain_prev``, a newline, and :func:`payload`, a compact JSON array of
  the row's id, commitment_id, kind, from_status, to_status, at (UTC to the microsecond, ending
  in ``Z``), actor, reason, and the sorted ids of the evidence it cites (its history_evidence
  rows, which the caller inserts after the row: the ids are known before it is written), and,
  where the database authenticates users (PostgreSQL), ``db_user``: the login role that wrote
  the row, which the database itself stamps. A row without ``db_user`` (SQLite, or written
  before the column existed) hashes exactly as before, so older chains still verify; a
  ``db_user`` changed afterwards breaks the row's hash like any other edit.

Keeping the predecessor's hash in the row lets verification tell a changed entry (its own hash
no longer matches its content) from a removed one (its hash matches, but the entry it names as
its predecessor is gone). The commitment's current status must also be where its newest status
entry left it, which catches the removal of that newest entry.

Every path that records history gets ids and hashes from :func:`stamp`, inside its write
transaction. What the chain does not do: it has no secret key, so someone who can write the
database and recomputes the hashes of every later entry can still rewrite a history unnoticed;
and removing the newest entry of a commitment that is a review (status unchanged) leaves no
trace. It catches rows edited, deleted or added with plain SQL or by any tool that does not
maintain the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from mou_tracker.domain.errors import RuleViolation
from mou_tracker.domain.models import Commitment, HistoryEntry, HistoryEvidence

GENESIS = "0" * 64
HISTORY_COLUMNS = ("commitment_id", "kind", "from_status", "to_status", "at", "actor", "reason")


def utc_text(at: datetime) -> str:
    """``at`` as the chain spells it: UTC, microseconds, ``Z`` (a naive value is taken as UTC,
    which is how SQLite stores it)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload(row: Mapping[str, Any], evidence_ids: Iterable[int]) -> str:
    """The canonical serialisation of one history row (``row`` has ``id`` and the columns)."""
    return json.dumps(
        [
            int(row["id"]),
            int(row["commitment_id"]),
            row["kind"],
            row["from_status"],
            row["to_status"],
            utc_text(row["at"]),
            row["actor"],
            row["reason"],
            sorted(int(e) for e in evidence_ids),
            *([row["db_user"]] if row.get("db_user") is not None else []),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def link(previous: str, row: Mapping[str, Any], evidence_ids: Iterable[int]) -> str:
    """The ``chain`` of ``row`` when the entry before it has the chain ``previous``."""
    return hashlib.sha256(f"{previous}\n{payload(row, evidence_ids)}".encode()).hexdigest()


def _dialect(conn: Session | Connection) -> str:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return bind.dialect.name


def _allocate_ids(conn: Session | Connection, count: int) -> list[int]:
    """``count`` fresh history ids, in increasing order. PostgreSQL takes them from the column's
    sequence (safe with concurrent writers); SQLite continues from the largest id, which is
    what it would pick itself, and a write transaction there holds the database's write lock."""
    if count == 0:
        return []
    if _dialect(conn) == "postgresql":
        ids = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('history', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalars()
        return sorted(int(i) for i in ids)
    top = int(conn.execute(select(func.max(col(HistoryEntry.id)))).scalar() or 0)
    return list(range(top + 1, top + 1 + count))


def _session_user(conn: Session | Connection) -> str | None:
    """The login role PostgreSQL will stamp as ``db_user`` on rows this connection inserts
    (``session_user``, which ``SET ROLE`` does not change); ``None`` on SQLite."""
    if _dialect(conn) != "postgresql":
        return None
    return str(conn.execute(text("SELECT session_user::text")).scalar())


def _tips(
    conn: Session | Connection, commitment_ids: Iterable[int]
) -> dict[int, tuple[datetime, str]]:
    """The newest chained entry (its time and chain) of each of these commitments."""
    wanted = sorted(set(commitment_ids))
    found: dict[int, tuple[datetime, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rank = (
            func.row_number()
            .over(
                partition_by=col(HistoryEntry.commitment_id),
                order_by=(col(HistoryEntry.at).desc(), col(HistoryEntry.id).desc()),
            )
            .label("rank")
        )
        newest = (
            select(
                col(HistoryEntry.commitment_id), col(HistoryEntry.at), col(HistoryEntry.chain), rank
            )
            .where(
                col(HistoryEntry.chain).is_not(None),
                col(HistoryEntry.commitment_id).in_(chunk),
            )
            .subquery()
        )
        for cid, at, chain, _rank in conn.execute(select(newest).where(newest.c.rank == 1)):
            found[int(cid)] = (at, chain)
    return found


def stamp(conn: Session | Connection, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Make history rows ready to insert: give each an id, its ``chain_prev`` and its ``chain``.

    ``rows`` are in the order they are recorded; each has the columns of :data:`HISTORY_COLUMNS`
    and ``evidence_ids``, the ids of the evidence it cites. Returns one dict per row with ``id``,
    those columns, ``chain_prev`` and ``chain`` (not ``evidence_ids``: the caller inserts the
    history_evidence rows). Call it inside the write transaction, after reading the
    commitments the rows belong to, and insert the rows with the ids given.

    A row dated before the newest entry of its commitment is refused: the history is recorded
    in order, so each new entry extends its chain at the end.
    """
    if not rows:
        return []
    tips = _tips(conn, (int(r["commitment_id"]) for r in rows))
    ids = _allocate_ids(conn, len(rows))
    who = _session_user(conn)
    ready: list[dict[str, Any]] = []
    for new_id, row in zip(ids, rows, strict=True):
        cid = int(row["commitment_id"])
        values: dict[str, Any] = {"id": new_id, **{k: row[k] for k in HISTORY_COLUMNS}}
        if row.get("recorded_at") is not None:  # when it was recorded: not part of the chain
            values["recorded_at"] = row["recorded_at"]
        if who is not None:  # what the database's trigger will stamp: part of the chain
            values["db_user"] = who
        at: datetime = values["at"]
        tip = tips.get(cid)
        if tip is not None and at < tip[0]:
            raise RuleViolation(
                "at",
                f"{utc_text(at)} is before the latest history entry of this commitment "
                f"({utc_text(tip[0])}); history is recorded in order",
            )
        previous = tip[1] if tip is not None else GENESIS
        values["chain_prev"] = previous
        values["chain"] = link(previous, values, row.get("evidence_ids", ()))
        tips[cid] = (at, values["chain"])
        ready.append(values)
    return ready


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One finding of :func:`verify_history`: which commitment, which entry, what is wrong."""

    ref: str
    history_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.ref} history #{self.history_id}" if self.history_id else self.ref
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    entries: int
    commitments: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        found = (
            "no problems"
            if self.ok
            else f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        )
        return (
            f"verified {self.entries} history entr{'y' if self.entries == 1 else 'ies'} across "
            f"{self.commitments} commitment{'' if self.commitments == 1 else 's'}: {found}"
        )


@dataclass(frozen=True)
class _Row:
    id: int
    commitment_id: int
    kind: str
    from_status: str
    to_status: str
    at: datetime
    actor: str
    reason: str
    chain_prev: str | None
    chain: str | None
    db_user: str | None

    def values(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "commitment_id": self.commitment_id,
            "kind": self.kind,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "at": self.at,
            "actor": self.actor,
            "reason": self.reason,
            "db_user": self.db_user,
        }


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ids(rows: Iterable[_Row]) -> str:
    return ", ".join(f"#{r.id}" for r in rows)


def _walk(rows: Sequence[_Row], cites: Mapping[int, Sequence[int]]) -> list[tuple[int, str]]:
    """Check one commitment's history, given in (at, id) order: ``(entry id, problem)`` pairs.

    A row that fails is reported once and the walk goes on from the best place to resume, so
    one tampering does not flood the report with its consequences.
    """
    problems: list[tuple[int, str]] = []
    position = {r.id: i for i, r in enumerate(rows)}
    by_chain = {r.chain: r for r in rows if r.chain}
    skipped: set[int] = set()
    prev: _Row | None = None  # the entry the next one should name as its predecessor
    for i, r in enumerate(rows):
        if r.chain is None:
            problems.append((r.id, "has no chain: it was written outside the tracker"))
            skipped.add(r.id)
            continue
        if r.chain_prev is None or link(r.chain_prev, r.values(), cites.get(r.id, ())) != r.chain:
            problems.append(
                (r.id, "changed since it was recorded: its content no longer matches its chain")
            )
            prev = r
            continue
        expected = prev.chain if prev is not None else GENESIS
        if r.chain_prev == expected:
            prev = r
            continue
        linked = by_chain.get(r.chain_prev)
        if linked is not None and position[linked.id] > i:
            problems.append(
                (
                    r.id,
                    f"out of order: dated {_when(r.at)}, before #{linked.id} "
                    f"({_when(linked.at)}), which was recorded before it",
                )
            )
            skipped.add(r.id)
            continue
        if linked is None and r.chain_prev != GENESIS:
            before = f"the entry before it now is #{prev.id}" if prev else "it now comes first"
            problems.append(
                (
                    r.id,
                    "the entry recorded before it is missing (removed, or rewritten with a "
                    f"new chain); {before}",
                )
            )
        else:
            start = position[linked.id] + 1 if linked is not None else 0
            extra = [x for x in rows[start:i] if x.chain is not None and x.id not in skipped]
            problems.append(
                (
                    r.id,
                    f"{_ids(extra) or 'an entry'} dated before it "
                    f"{'were' if len(extra) > 1 else 'was'} not in its history when it was "
                    "recorded (added outside the tracker)",
                )
            )
        prev = r
    return problems


def verify_history(session: Session) -> ChainReport:
    """Walk every commitment's history in (at, id) order and check its hash chain, and that the
    commitment's status is where its newest status entry left it."""
    commitments = {
        int(cid): (ref, status)
        for cid, ref, status in session.execute(
            select(col(Commitment.id), col(Commitment.ref), col(Commitment.status)).order_by(
                col(Commitment.id)
            )
        )
    }
    cites: dict[int, list[int]] = defaultdict(list)
    for hid, eid in session.execute(
        select(col(HistoryEvidence.history_id), col(HistoryEvidence.evidence_id))
    ):
        cites[int(hid)].append(int(eid))
    history = session.execute(
        select(
            col(HistoryEntry.id),
            col(HistoryEntry.commitment_id),
            col(HistoryEntry.kind),
            col(HistoryEntry.from_status),
            col(HistoryEntry.to_status),
            col(HistoryEntry.at),
            col(HistoryEntry.actor),
            col(HistoryEntry.reason),
            col(HistoryEntry.chain_prev),
            col(HistoryEntry.chain),
            col(HistoryEntry.db_user),
        ).order_by(col(HistoryEntry.commitment_id), col(HistoryEntry.at), col(HistoryEntry.id))
    )
    problems: dict[int, list[ChainProblem]] = defaultdict(list)
    newest_status: dict[int, str] = {}
    entries = 0
    orphans = 0
    for cid, group in groupby((_Row(*r) for r in history), key=lambda r: r.commitment_id):
        rows = list(group)
        entries += len(rows)
        if cid in commitments:
            ref = commitments[cid][0]
        else:
            ref, orphans = f"commitment id {cid}", orphans + 1
            problems[cid].append(
                ChainProblem(ref, None, "the commitment was deleted, but its history remains")
            )
        for hid, problem in _walk(rows, cites):
            problems[cid].append(ChainProblem(ref, hid, problem))
        statuses = [r.to_status for r in rows if r.kind == "status"]
        if statuses:
            newest_status[cid] = statuses[-1]
    for cid, (ref, status) in commitments.items():
        expected = newest_status.get(cid, "not_assessed")
        if status != expected:
            problems[cid].append(
                ChainProblem(
                    ref,
                    None,
                    f"status is {status}, but its history leaves it at {expected} (changed "
                    "outside the tracker, or its newest status entry was removed)",
                )
            )
    ordered = [p for cid in sorted(problems) for p in problems[cid]]
    return ChainReport(
        entries=entries, commitments=len(commitments) + orphans, problems=tuple(ordered)
    )
