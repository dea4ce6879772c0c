"""How sync compares a record of the file with the database's: the three-way verdict, a
commitment's values on each side, the corrections each side holds, and the same page
recorded at another address."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from mou_tracker.domain import validate as v
from mou_tracker.domain.models import CommitmentRevision, table_of
from mou_tracker.domain.service import owners_text, restates_text
from mou_tracker.storage.sync.common import (
    COMMITMENT_FIELDS,
    CORRECTION_FIELDS,
    _hash,
    _plain,
    _without_recorded,
)
from mou_tracker.storage.sync.report import SyncReport


def _three_way(
    file_values: dict[str, Any], db_values: dict[str, Any], synced_hash: str | None
) -> str:
    """'same', 'file' (file is newer), 'db' (database is newer) or 'conflict'."""
    if file_values == db_values:
        return "same"  # equal values hash alike: a no-op sync hashes nothing
    file_hash, db_hash = _hash(file_values), _hash(db_values)
    if file_hash == db_hash:
        return "same"
    if synced_hash == db_hash:
        return "file"
    if synced_hash == file_hash:
        return "db"
    return "conflict"


class _SamePage:
    """Finds evidence in the database that is the same page as a new record of the file at
    another address (:func:`mou_tracker.domain.validate.same_page`). Built only when the file
    brings new evidence for a commitment the database has."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows
        self._by_commitment: dict[int, list[Any]] | None = None
        self._pages: dict[int, dict[str, Any]] = {}

    def find(self, commitment_id: int, url: str) -> Any:
        if self._by_commitment is None:
            self._by_commitment = defaultdict(list)
            for e in self._rows:
                self._by_commitment[e.commitment_id].append(e)
        if not self._by_commitment.get(commitment_id):
            return None  # nothing recorded on it yet
        pages = self._pages.get(commitment_id)
        if pages is None:
            pages = self._pages[commitment_id] = {}
            for e in sorted(self._by_commitment[commitment_id], key=lambda e: e.id or 0):
                pages.setdefault(v.same_page(e.url), e)
        return pages.get(v.same_page(url))


def _commitment_values(row: Any, memo_slug: str, owners: list[dict[str, str]]) -> dict[str, Any]:
    values = {
        k: getattr(row, k) for k in COMMITMENT_FIELDS if k not in ("memorandum", "owners", "target")
    }
    values["target"] = row.original_target  # the file's `target` is the original one
    values["memorandum"] = memo_slug
    values["owners"] = sorted(owners, key=lambda o: o["party"])
    if row.restates:
        values["restates"] = list(row.restates)
    return values


def _file_values(item: dict[str, Any]) -> dict[str, Any]:
    """A commitment's values as the file states them, for the three-way comparison.
    ``restates`` joins them only when set, so the hash of every commitment that restates
    nothing is what it was before the key existed."""
    values = {k: item[k] for k in COMMITMENT_FIELDS}
    if item["restates"]:
        values["restates"] = list(item["restates"])
    return values


def _corrections_in_db(session: Session) -> dict[int, list[dict[str, Any]]]:
    """Each commitment's corrections log as sync compares it with a file's (oldest first;
    without ``recorded_at``, which is not part of what a correction says)."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    order = (col(CommitmentRevision.at), col(CommitmentRevision.id))
    for r in session.execute(select(table_of(CommitmentRevision)).order_by(*order)):
        found[r.commitment_id].append(
            {
                "at": r.at,
                "by": r.by,
                "reason": r.reason,
                "changes": [
                    {"field": c["field"], "old": c["old"], "new": c["new"]} for c in r.changes
                ],
            }
        )
    return found


def _corrections_to_append(
    item: dict[str, Any], theirs: list[dict[str, Any]], report: SyncReport
) -> list[dict[str, Any]]:
    """The file's corrections of a commitment that the database lacks. The log is
    append-only: a file whose log extends the database's adds the rest; one that diverges
    is reported and changes nothing."""
    ours = [_without_recorded(c) for c in item["corrections"]]
    if ours == theirs[: len(ours)]:
        return []
    if theirs == ours[: len(theirs)]:
        return list(item["corrections"][len(theirs) :])
    at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b) + 1
    report.conflicts.append(
        f"commitment {item['ref']}: its corrections in the file diverge from the database at "
        f"entry {at}; database kept"
    )
    return []


def _correction_value(values: dict[str, Any], name: str) -> str:
    """One field of a commitment as a correction records it (text)."""
    if name == "owners":
        return owners_text((o["party"], o["role"]) for o in values["owners"])
    if name == "restates":
        return restates_text(values.get("restates"))
    return _plain(values[name])


def _unexplained_changes(
    old: dict[str, Any], new: dict[str, Any], appended: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The changes of correctable fields from ``old`` to ``new`` that the corrections
    ``appended`` from the file do not already record (the last change of that field in them
    ends at the new value)."""
    explained: dict[str, str] = {}
    for correction in appended:
        for change in correction["changes"]:
            explained[change["field"]] = change["new"]
    changes = []
    for name in CORRECTION_FIELDS:
        before, after = _correction_value(old, name), _correction_value(new, name)
        if before != after and explained.get(name) != after:
            changes.append({"field": name, "old": before, "new": after})
    return changes
