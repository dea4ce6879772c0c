"""Plain-JSON views of the read models, shared by ``show --format json`` and the JSON export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from mou_tracker.domain import derived
from mou_tracker.domain.queries import (
    CommitmentDetail,
    EvidenceView,
    HistoryView,
    MemorandumView,
    RevisionView,
)


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # one format for every timestamp (UTC, whole seconds, Z), so pandas and csvkit read
        # every row of a column as a datetime
        moment = value.astimezone(UTC)
        if moment.year < 1000:  # strftime does not pad the year to four digits there
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        # the same text as the strftime above, several times faster
        return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def memorandum_to_json(m: MemorandumView) -> dict[str, Any]:
    return {
        "slug": m.slug,
        "title": m.title,
        "parties": list(m.parties),
        "signatories": [{"name": n, "role": r, "party": p} for n, r, p in m.signatories],
        "signed": iso(m.signed),
        "source_url": m.source_url,
        "landing_url": m.landing_url,
        "legal_status": m.legal_status,
        "review_cadence": m.review_cadence,
        "summary": m.summary,
    }


def evidence_to_json(e: EvidenceView) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": e.url,
        "title": e.title,
        "publisher": e.publisher,
        "published": iso(e.published),
        "kind": e.kind,
        "direction": e.direction,
        "confidence": e.confidence,
        "summary": e.summary,
        "archived_url": e.archived_url,
        "added_by": e.added_by,
        "added_at": iso(e.added_at),
        "recorded_at": iso(e.recorded_at),
        "corrections": [
            {
                "at": iso(r.at),
                "recorded_at": iso(r.recorded_at),
                "by": r.by,
                "reason": r.reason,
                "changes": [{"field": f, "old": o, "new": n} for f, o, n in r.changes],
            }
            for r in e.revisions
        ],
    }


def correction_to_json(r: RevisionView) -> dict[str, Any]:
    """One correction of a commitment (its public corrections log)."""
    return {
        "at": iso(r.at),
        "recorded_at": iso(r.recorded_at),
        "by": r.by,
        "reason": r.reason,
        "changes": [{"field": f, "old": o, "new": n} for f, o, n in r.changes],
    }


def history_to_json(h: HistoryView) -> dict[str, Any]:
    return {
        "kind": h.kind,
        "at": iso(h.at),
        "recorded_at": iso(h.recorded_at),
        "from": h.from_status,
        "to": h.to_status,
        "by": h.actor,
        "reason": h.reason,
        "evidence_ids": list(h.evidence_ids),
    }


def detail_to_json(d: CommitmentDetail, *, include_internal: bool = True) -> dict[str, Any]:
    notes = [n for n in d.notes if include_internal or n.visibility == "public"]
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
        "restates": list(d.restates),
        "status": d.status,
        "status_changed_at": iso(d.status_changed_at),
        "status_reason": d.status_reason,
        "owners": [{"party": o.code, "name": o.name, "role": o.role} for o in d.owners],
        "review_cadence": d.review_cadence,
        "last_reviewed": iso(d.last_reviewed),
        "next_review": iso(d.next_review) if d.strength != "vision" else None,
        "target": iso(d.target),
        "evidence": [evidence_to_json(e) for e in d.evidence],
        "history": [history_to_json(h) for h in d.history],
        "corrections": [correction_to_json(r) for r in d.corrections],
        "notes": notes_to_json(notes),
    }


def notes_to_json(notes: list[Any], *, visibility: bool = True) -> list[dict[str, Any]]:
    """The notes; a withdrawn one carries ``withdrawn`` (when, by whom, and the body of the
    note that withdraws it, which says why), a field present only when it applies. The same
    shape in ``show --format json`` and the export's ``tracker.json`` (which lists only the
    public notes, so without ``visibility``)."""
    withdrawn = derived.withdrawals(notes)
    result = []
    for n in notes:
        item: dict[str, Any] = {"visibility": n.visibility} if visibility else {}
        item.update(at=iso(n.at), recorded_at=iso(n.recorded_at), author=n.author, body=n.body)
        by = withdrawn.get(n.id)
        if by is not None:
            item["withdrawn"] = {"at": iso(by.at), "by": by.author, "reason": by.body}
        result.append(item)
    return result
