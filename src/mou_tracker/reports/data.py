"""Machine-readable exports: ``data/tracker.json`` and three CSV files, with stable schemas
(documented in README.md, "Export formats"). Written a commitment at a time."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import IO, Any

from mou_tracker.domain import derived
from mou_tracker.domain.queries import CommitmentDetail, CommitmentRow, RevisionView
from mou_tracker.domain.serialize import (
    correction_to_json,
    evidence_to_json,
    iso,
    memorandum_to_json,
    notes_to_json,
)
from mou_tracker.links import publishable_url
from mou_tracker.reports.markdown import page_path
from mou_tracker.reports.model import Snapshot

JSON_SCHEMA = "mou-tracker-export/1"

COMMITMENT_COLUMNS = (
    "ref",
    "memorandum",
    "section",
    "origin",
    "title",
    "theme",
    "strength",
    "scored",
    "status",
    "status_since",
    "lead_owners",
    "support_owners",
    "evidence_count",
    "latest_evidence",
    "stale",
    "last_reviewed",
    "next_review",
    "review_overdue",
    "original_target",
    "current_target",
    "text_basis",
    "source_url",
    "page",
    "restates",
    "counted",
)
EVIDENCE_COLUMNS = (
    "ref",
    "evidence_id",
    "published",
    "title",
    "publisher",
    "url",
    "kind",
    "direction",
    "confidence",
    "summary",
    "archived_url",
    "added_at",
    "recorded_at",
    "added_by",
    "corrections",
    "link_state",
    "link_checked_at",
)
HISTORY_COLUMNS = (
    "ref",
    "at",
    "recorded_at",
    "kind",
    "from_status",
    "to_status",
    "by",
    "reason",
    "evidence_ids",
)
# One row per field changed by a correction, of a commitment (evidence_id empty) or of one of
# its evidence records: the public corrections log in one table.
CORRECTION_COLUMNS = (
    "ref",
    "evidence_id",
    "at",
    "recorded_at",
    "by",
    "reason",
    "field",
    "old",
    "new",
)


def _text(value: Any) -> str:
    """A CSV cell. Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _row(values: Iterable[Any]) -> list[str]:
    return [_text(v) for v in values]


def _stale(row: CommitmentRow | None, snap: Snapshot) -> bool:
    return bool(row and row.stale(snap.today))


def _corrections_of(d: CommitmentDetail) -> list[tuple[int | None, RevisionView]]:
    """The corrections of a commitment (evidence id None) and of its evidence, oldest first
    (by the time each takes effect; the commitment's own first on the same time)."""
    found: list[tuple[int | None, RevisionView]] = [(None, r) for r in d.corrections]
    for e in d.evidence:
        found += [(e.id, r) for r in e.revisions]
    found.sort(key=lambda item: (item[1].at, item[0] or 0))
    return found


def _public_notes(d: CommitmentDetail) -> list[dict[str, Any]]:
    """The public notes, a withdrawn one marked (:func:`serialize.notes_to_json`)."""
    return notes_to_json([n for n in d.notes if n.visibility == "public"], visibility=False)


class DataWriter:
    """Writes the JSON and CSV files as commitment details stream past.

    Each commitment's share of each file is one piece of text (:meth:`pieces`): its line of
    ``tracker.json`` (without the separator before it) and its rows of each CSV file. A
    re-export writes the pieces of unchanged commitments as the previous export wrote them
    (see ``reports/reuse.py``) and asks this class only for the changed ones."""

    NAMES = ("json", "commitments", "evidence", "history", "corrections")

    def __init__(
        self,
        snap: Snapshot,
        *,
        json_file: IO[str] | None,
        commitments_csv: IO[str] | None,
        evidence_csv: IO[str] | None,
        history_csv: IO[str] | None,
        corrections_csv: IO[str] | None = None,
    ) -> None:
        self.snap = snap
        self.rows = {r.ref: r for r in snap.rows}
        self.first = True
        self.handles: dict[str, IO[str]] = {}
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer, lineterminator="\n")
        for name, handle in zip(
            self.NAMES,
            (json_file, commitments_csv, evidence_csv, history_csv, corrections_csv),
            strict=True,
        ):
            if handle is not None:
                self.handles[name] = handle
                handle.write(self.head(name))

    @property
    def wanted(self) -> tuple[str, ...]:
        return tuple(self.handles)

    def head(self, name: str) -> str:
        """What a file holds before the first commitment's piece."""
        if name != "json":
            columns = {
                "commitments": COMMITMENT_COLUMNS,
                "evidence": EVIDENCE_COLUMNS,
                "history": HISTORY_COLUMNS,
                "corrections": CORRECTION_COLUMNS,
            }[name]
            return self._csv_text([list(columns)])
        snap = self.snap
        head = {
            "schema": JSON_SCHEMA,
            "generator": "mou-tracker",
            "as_of": iso(snap.as_of),
            "report_date": iso(snap.report_date),
            "parties": [
                {"code": p.code, "name": p.name, "kind": p.kind}
                for p in sorted(snap.parties.values(), key=lambda p: p.code)
            ],
            "memoranda": [memorandum_to_json(m) for m in snap.memoranda],
        }
        text = json.dumps(head, indent=2, ensure_ascii=False)
        return text[:-2] + ',\n  "commitments": ['

    @staticmethod
    def separator(name: str, first: bool) -> str:
        """What goes before a commitment's piece of a file (only ``tracker.json`` has one)."""
        if name != "json":
            return ""
        return "\n    " if first else ",\n    "

    @staticmethod
    def tail(name: str, empty: bool) -> str:
        """What a file holds after the last commitment's piece."""
        if name != "json":
            return ""
        return ("\n  " if not empty else "") + "]\n}\n"

    def _csv_text(self, rows: Iterable[list[str]]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.csv.writerows(rows)
        return self.buffer.getvalue()

    def pieces(self, d: CommitmentDetail, names: Iterable[str] | None = None) -> dict[str, str]:
        """The commitment's piece of each file named (default: the files this writer has)."""
        row = self.rows.get(d.ref)
        found: dict[str, str] = {}
        for name in self.wanted if names is None else names:
            if name == "json":
                # One commitment per line: a diff of two exports shows which commitments
                # changed, and the one-line form uses json's C encoder (the indented form is
                # pure Python).
                found[name] = json.dumps(self._commitment(d, row), ensure_ascii=False)
            elif name == "commitments":
                found[name] = self._csv_text([self._commitment_row(d, row)])
            elif name == "evidence":
                found[name] = self._csv_text(self._evidence_rows(d))
            elif name == "history":
                found[name] = self._csv_text(self._history_rows(d))
            else:
                found[name] = self._csv_text(self._correction_rows(d))
        return found

    def add(self, d: CommitmentDetail) -> None:
        for name, text in self.pieces(d).items():
            self.handles[name].write(self.separator(name, self.first) + text)
        self.first = False

    def close(self) -> None:
        for name, handle in self.handles.items():
            handle.write(self.tail(name, self.first))

    @staticmethod
    def _evidence_rows(d: CommitmentDetail) -> list[list[str]]:
        return [
            _row(
                (
                    d.ref,
                    e.id,
                    iso(e.published),
                    e.title,
                    e.publisher,
                    e.url,
                    e.kind,
                    e.direction,
                    e.confidence,
                    e.summary,
                    e.archived_url,
                    iso(e.added_at),
                    iso(e.recorded_at),
                    e.added_by,
                    len(e.revisions),
                    e.link.label if e.link else "not checked",
                    iso(e.link.checked_at) if e.link else None,
                )
            )
            for e in d.evidence
        ]

    @staticmethod
    def _history_rows(d: CommitmentDetail) -> list[list[str]]:
        return [
            _row(
                (
                    d.ref,
                    iso(h.at),
                    iso(h.recorded_at),
                    h.kind,
                    h.from_status,
                    h.to_status,
                    h.actor,
                    h.reason,
                    " ".join(str(i) for i in h.evidence_ids),
                )
            )
            for h in d.history
        ]

    @staticmethod
    def _correction_rows(d: CommitmentDetail) -> list[list[str]]:
        return [
            _row(
                (d.ref, evidence_id, iso(r.at), iso(r.recorded_at), r.by, r.reason, field, old, new)
            )
            for evidence_id, r in _corrections_of(d)
            for field, old, new in r.changes
        ]

    def _commitment(self, d: CommitmentDetail, row: CommitmentRow | None) -> dict[str, Any]:
        today = self.snap.today
        scored = d.strength != "vision"
        newest = derived.newest_current_evidence(d.evidence)
        return {
            "ref": d.ref,
            "memorandum": d.memorandum.slug,
            "section": d.section,
            "origin": d.origin,
            "title": d.title,
            "summary": d.summary,
            "source_url": d.source_url,
            "text_basis": d.text_basis,
            "theme": d.theme,
            "strength": d.strength,
            "scored": scored,
            "restates": list(d.restates),
            "counted": scored and not d.restates,
            "status": d.status,
            "status_since": iso(d.status_changed_at),
            "status_reason": d.status_reason,
            "owners": [{"party": o.code, "name": o.name, "role": o.role} for o in d.owners],
            "tracked_since": iso(d.added_at) if d.added_at else iso(d.memorandum.signed),
            "review": {
                "cadence": d.review_cadence,
                "last_reviewed": iso(d.last_reviewed),
                "next_review": iso(d.next_review) if scored else None,
                "overdue": derived.is_overdue(d.strength, d.next_review, today),
            },
            "evidence_newest_published": iso(newest),
            "stale": _stale(row, self.snap),
            "target": {
                "original": iso(d.original_target),
                "current": iso(d.target),
                "changes": [
                    {
                        "at": iso(t.at),
                        "recorded_at": iso(t.recorded_at),
                        "by": t.by,
                        "from": iso(t.old_target),
                        "to": iso(t.new_target),
                        "reason": t.reason,
                        "evidence_id": t.evidence_id,
                    }
                    for t in d.targets
                ],
            },
            "page": page_path(d.ref),
            "evidence": [
                {
                    **evidence_to_json(e),
                    "link": None
                    if e.link is None
                    else {
                        "state": e.link.state,
                        "label": e.link.label,
                        "http_status": e.link.http_status,
                        "final_url": publishable_url(e.link.final_url),
                        "moved": e.link.moved,
                        "changed": e.link.changed,
                        "checked_at": iso(e.link.checked_at),
                    },
                }
                for e in d.evidence
            ],
            "history": [
                {
                    "at": iso(h.at),
                    "recorded_at": iso(h.recorded_at),
                    "kind": h.kind,
                    "from": h.from_status,
                    "to": h.to_status,
                    "by": h.actor,
                    "reason": h.reason,
                    "evidence_ids": list(h.evidence_ids),
                }
                for h in d.history
            ],
            "corrections": [correction_to_json(r) for r in d.corrections],
            "notes": _public_notes(d),
            "internal_notes_withheld": self.snap.internal_notes.get(d.ref, 0),
        }

    def _commitment_row(self, d: CommitmentDetail, row: CommitmentRow | None) -> list[str]:
        scored = d.strength != "vision"
        newest = derived.newest_current_evidence(d.evidence)
        return _row(
            (
                d.ref,
                d.memorandum.slug,
                d.section,
                d.origin,
                d.title,
                d.theme,
                d.strength,
                scored,
                d.status,
                iso(d.status_changed_at),
                " ".join(o.code for o in d.owners if o.role == "lead"),
                " ".join(o.code for o in d.owners if o.role != "lead"),
                sum(derived.counts_as_evidence(e.confidence) for e in d.evidence),
                iso(newest),
                _stale(row, self.snap),
                iso(d.last_reviewed),
                iso(d.next_review) if scored else None,
                derived.is_overdue(d.strength, d.next_review, self.snap.today),
                iso(d.original_target),
                iso(d.target),
                d.text_basis,
                d.source_url,
                page_path(d.ref),
                " ".join(d.restates),
                scored and not d.restates,
            )
        )
