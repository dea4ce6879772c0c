"""Undo the last action of this session (issue 18, item 10), where the rules allow it: a note
(or a batch of notes), an evidence record (or a batch of them), a status change. Nothing is
deleted: each undo is recorded through ``domain.undo`` as a new entry that names what it takes
back and why. A review, a target change or a correction is not undone this way (each moves a
schedule or a public record on; record another one instead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.tui.modals.base import FormScreen, field_row, run_in_write


@dataclass(frozen=True)
class Undoable:
    """One action of this session that can be taken back.

    ``kind`` is ``note``, ``evidence`` or ``status``; ``ids`` the notes, evidence records or
    the history entry it wrote; ``versions`` what each record's version was just after it
    (evidence, and the commitment for a status change), so an undo after someone else's write
    is refused as a conflict."""

    kind: str
    what: str  # e.g. "public note on OAI-2.1"
    refs: tuple[str, ...]
    ids: tuple[int, ...]
    versions: tuple[int, ...] = ()

    def consequence(self) -> str:
        each = "each" if len(self.ids) > 1 else "it"
        if self.kind == "note":
            return (
                f"A note saying it was added by mistake goes beside {each}, with the same "
                "visibility; the original stays in the history, marked withdrawn."
            )
        if self.kind == "evidence":
            return (
                f"A correction marks {each} withdrawn (summary, direction context, confidence "
                "withdrawn, so it no longer counts as latest evidence); the old values are kept "
                "and published with your reason. Evidence a status change cites stands."
            )
        return (
            "A status change back, citing the evidence the earlier status rested on; both "
            "changes stay in the history."
        )


class UndoForm(FormScreen[str]):
    TITLE = "Undo the last action"
    SAVE_LABEL = "Undo"
    FIELD_IDS = {"reason": "undo_reason"}

    def __init__(self, item: Undoable) -> None:
        super().__init__()
        self.item = item

    def heading(self) -> Text:
        text = Text("Take back: ", style="bold")
        text.append(self.item.what, style="bold reverse")
        text.append("\n")
        text.append(self.item.consequence())
        return text

    def fields(self) -> ComposeResult:
        yield from field_row(
            "Reason",
            Input(placeholder="why it was a mistake (published)", id="undo_reason", compact=True),
        )

    def check_names(self) -> tuple[str, ...]:
        return ("undo_reason",)

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value("undo_reason")
        if not raw.strip():
            return "required: why it was a mistake", ""
        try:
            v.required_text(raw, "reason", limit="reason")
        except InvalidInput as exc:
            return str(exc), "error"
        return "✓", "ok"

    def values(self) -> dict[str, Any]:
        return {"reason": self.value("undo_reason")}

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import undo

        item, actor = self.item, self.tracker.actor
        reason = values["reason"]

        def take_back(session: Any) -> str:
            if item.kind == "note":
                for note_id in item.ids:
                    undo.withdraw_note(session, note_id, actor=actor, reason=reason)
                return f"Undone: {item.what} withdrawn; a note says so beside it."
            if item.kind == "evidence":
                versions = item.versions or (None,) * len(item.ids)
                for evidence_id, version in zip(item.ids, versions, strict=True):
                    undo.withdraw_evidence(
                        session,
                        evidence_id,
                        actor=actor,
                        reason=reason,
                        expected_version=version,
                    )
                return f"Undone: {item.what} withdrawn; the correction keeps the old values."
            entry = undo.undo_status_change(
                session,
                item.ids[0],
                actor=actor,
                reason=reason,
                expected_version=item.versions[0] if item.versions else None,
            )
            return (
                f"Undone: {item.refs[0]} is {entry.to_status.replace('_', ' ')} again "
                "(a new status change)."
            )

        return run_in_write(self.tracker, take_back)
