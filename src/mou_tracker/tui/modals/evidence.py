"""Add an evidence record: URL, title, publisher, publication date (read back in words), kind,
direction, confidence, a one-line summary and an archived copy. Checked as you type with the
domain's own validators; saved by ``service.add_evidence`` with ``EvidenceInput.build``.

Correct one (:class:`CorrectEvidenceForm`): the same fields, filled in, and a reason; saved by
``service.edit_evidence``, which keeps the old values as a revision."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Select

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail, EvidenceView
from mou_tracker.domain.vocab import CONFIDENCES, DIRECTIONS, EVIDENCE_KINDS
from mou_tracker.tui.modals.base import FormScreen, field_row, run_in_write
from mou_tracker.tui.modals.undo import Undoable
from mou_tracker.tui.text import long_day

DIRECTION_WORDS = {
    "progress": "progress: shows the commitment moving",
    "against": "against: shows it stalling, reversed or missed",
    "context": "context: relevant background, neither way",
}
CONFIDENCE_WORDS = {
    "primary": "primary: the publisher's own site or document",
    "secondary": "secondary: another outlet or a copy",
    "unverified": "unverified: date or content not checked",
    "withdrawn": "withdrawn: added by mistake, not counted",
}


def _options(values: tuple[str, ...], words: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [((words or {}).get(value, value.replace("_", " ")), value) for value in values]


class EvidenceForm(FormScreen[EvidenceView]):
    TITLE = "Add evidence"
    SAVE_LABEL = "Add evidence"

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail
        self.known_urls = {e.url: e.id for e in detail.evidence}

    def heading(self) -> Text:
        text = Text("Evidence for ")
        text.append(self.detail.ref, style="bold reverse")
        text.append(" ")
        text.append(self.detail.title, style="bold")
        return text

    def fields(self) -> ComposeResult:
        yield from field_row("URL", Input(placeholder="https://…", id="url", compact=True))
        yield from field_row(
            "Title", Input(placeholder="the headline or document title", id="title", compact=True)
        )
        yield from field_row(
            "Publisher",
            Input(placeholder="optional, e.g. The Guardian", id="publisher", compact=True),
        )
        yield from field_row(
            "Published",
            Input(placeholder="2026-04-09 or 9 April 2026", id="published", compact=True),
        )
        yield from field_row(
            "Kind",
            Select(
                _options(EVIDENCE_KINDS),
                value="news_report",
                allow_blank=False,
                id="kind",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row(
            "Direction",
            Select(
                _options(DIRECTIONS, DIRECTION_WORDS),
                value="context",
                allow_blank=False,
                id="direction",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row(
            "Confidence",
            Select(
                _options(CONFIDENCES, CONFIDENCE_WORDS),
                value="secondary",
                allow_blank=False,
                id="confidence",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row(
            "Summary",
            Input(placeholder="optional: what it shows, in one line", id="summary", compact=True),
        )
        yield from field_row(
            "Archived",
            Input(
                placeholder="optional: a saved copy, e.g. https://web.archive.org/…",
                id="archived_url",
                compact=True,
            ),
        )

    def check_names(self) -> tuple[str, ...]:
        return ("url", "title", "publisher", "published", "summary", "archived_url")

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value(name)
        try:
            if name == "url":
                if not raw.strip():
                    return "required: an absolute http or https URL", ""
                clean = v.url(raw, "url") or ""
                if clean in self.known_urls:
                    return (
                        f"url: already recorded on {self.detail.ref} as evidence #{self.known_urls[clean]}",
                        "error",
                    )
                page = v.same_page(clean)
                for known, eid in self.known_urls.items():
                    if v.same_page(known) == page:  # the same page at another address
                        return f"url: same page as evidence #{eid} ({known})", "error"
                return "✓", "ok"
            if name == "title":
                if not raw.strip():
                    return "required", ""
                v.required_text(raw, "title", limit="title")
                return "✓", "ok"
            if name == "publisher":
                v.text(raw, "publisher", limit="publisher", required=False)
                return "", ""
            if name == "archived_url":
                if not raw.strip():
                    return "", ""
                v.url(raw, "archived_url")
                return "✓", "ok"
            if name == "summary":
                v.text(raw, "summary", limit="evidence_summary", required=False)
                return (
                    (f"{len(raw.strip())}/{v.LIMITS['evidence_summary']}", "")
                    if raw.strip()
                    else ("", "")
                )
            if name == "published":
                if not raw.strip():
                    return "optional, but undated evidence cannot support a status change", ""
                parsed = v.publication_date(raw, "published")  # the rule saving applies
                text = Text(f"read as {parsed.isoformat()}, {long_day(parsed)}")
                if parsed > self.tracker.today():
                    text.append(" (after today: it cannot support a change yet)")
                return text, "ok"
        except InvalidInput as exc:
            return str(exc), "error"
        return "", ""

    def values(self) -> dict[str, Any]:
        return {
            name: self.value(name)
            for name in (
                "url",
                "title",
                "publisher",
                "published",
                "kind",
                "direction",
                "confidence",
                "summary",
                "archived_url",
            )
        }

    def perform(self, values: dict[str, Any]) -> EvidenceView:
        from mou_tracker.domain import service

        item = service.EvidenceInput.build(**values)
        ref = self.detail.ref
        actor = self.tracker.actor

        def add(session: Any) -> EvidenceView:
            row = service.add_evidence(session, ref, item, actor=actor)
            assert row.id is not None
            self.undoable = Undoable(
                "evidence", f"evidence #{row.id} on {ref}", (ref,), (row.id,), (row.version,)
            )
            return _view(row)

        return run_in_write(self.tracker, add)


def _view(row: Any) -> EvidenceView:
    return EvidenceView(
        id=row.id,
        url=row.url,
        title=row.title,
        publisher=row.publisher,
        published=row.published,
        kind=row.kind,
        direction=row.direction,
        confidence=row.confidence,
        summary=row.summary,
        archived_url=row.archived_url,
        added_by=row.added_by,
        added_at=row.added_at,
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class CorrectEvidenceForm(EvidenceForm):
    """Correct an evidence record. Every field starts with its current value; the reason is
    required, and the old values are kept (``service.edit_evidence`` writes a revision)."""

    TITLE = "Correct evidence"
    SAVE_LABEL = "Save correction"
    RELOADS_ON_CONFLICT = True
    TEXT_FIELDS = ("url", "title", "publisher", "published", "summary", "archived_url")
    CHOICES = ("kind", "direction", "confidence")

    def __init__(self, detail: CommitmentDetail, item: EvidenceView) -> None:
        super().__init__(detail)
        self.item = item
        self.known_urls = {e.url: e.id for e in detail.evidence if e.id != item.id}

    def heading(self) -> Text:
        text = Text(f"Evidence #{self.item.id} on ")
        text.append(self.detail.ref, style="bold reverse")
        text.append(
            f" · as loaded: version {self.item.version}, last saved by {self.item.updated_by}. "
            "The current values are kept in its history.",
            style="grey62",
        )
        return text

    def current(self) -> dict[str, str]:
        item = self.item
        return {
            "url": item.url,
            "title": item.title,
            "publisher": item.publisher or "",
            "published": item.published.isoformat() if item.published else "",
            "summary": item.summary or "",
            "archived_url": item.archived_url or "",
            "kind": item.kind,
            "direction": item.direction,
            "confidence": item.confidence,
        }

    def load_fresh(self, session: Any) -> tuple[CommitmentDetail, EvidenceView]:
        from mou_tracker.domain.queries import commitment_detail

        fresh = commitment_detail(session, self.detail.ref)
        item = next((e for e in fresh.evidence if e.id == self.item.id), None)
        if item is None:  # moved to another commitment, say: read it on its own
            from mou_tracker.domain import service

            item = _view(service.get_evidence(session, self.item.id))
        return fresh, item

    def show_fresh(self, fresh: tuple[CommitmentDetail, EvidenceView]) -> None:
        """Fields the person has not touched take the new values (so saving on top does not
        undo the other person's correction); fields they changed keep their input."""
        detail, item = fresh
        before = self.current()
        self.detail, self.item = detail, item
        self.known_urls = {e.url: e.id for e in detail.evidence if e.id != item.id}
        for name, value in self.current().items():
            widget = self.query_one(f"#{name}")
            if self.value(name).strip() == before[name] and before[name] != value:
                if isinstance(widget, (Input, Select)):
                    widget.value = value

    def fields(self) -> ComposeResult:
        yield from super().fields()
        yield from field_row(
            "Reason", Input(placeholder="why: what was wrong", id="reason", compact=True)
        )

    def on_mount(self) -> None:
        for name, value in self.current().items():
            widget = self.query_one(f"#{name}")
            if isinstance(widget, Input):
                widget.value = value
            elif isinstance(widget, Select):
                widget.value = value
        super().on_mount()

    def first_focus(self) -> Any:
        return self.query_one("#title", Input)

    def check_names(self) -> tuple[str, ...]:
        return (*super().check_names(), "reason")

    def check(self, name: str) -> tuple[str | Text, str]:
        if name == "reason":
            raw = self.value("reason")
            if not raw.strip():
                return "required: what was wrong, in a sentence", ""
            try:
                v.required_text(raw, "reason", limit="reason")
            except InvalidInput as exc:
                return str(exc), "error"
            changed = self.changes()
            if not changed:
                return "nothing changed yet", ""
            return "changes " + ", ".join(sorted(changed)), "ok"
        return super().check(name)

    def depends_on(self, name: str) -> tuple[str, ...]:
        return ("reason",) if name != "reason" else ()

    def changes(self) -> dict[str, str | None]:
        before = self.current()
        result: dict[str, str | None] = {}
        for name in (*self.TEXT_FIELDS, *self.CHOICES):
            now = self.value(name)
            if now.strip() != before[name]:
                result[name] = now if now.strip() else None
        return result

    def values(self) -> dict[str, Any]:
        return {"changes": self.changes(), "reason": self.value("reason")}

    def perform(self, values: dict[str, Any]) -> EvidenceView:
        from mou_tracker.domain import service

        item_id, version, actor = self.item.id, self.item.version, self.tracker.actor

        def correct(session: Any) -> EvidenceView:
            service.edit_evidence(
                session,
                item_id,
                values["changes"],
                actor=actor,
                reason=values["reason"],
                expected_version=version,
            )
            return _view(service.get_evidence(session, item_id))

        return run_in_write(self.tracker, correct)
