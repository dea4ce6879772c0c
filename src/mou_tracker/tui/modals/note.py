"""Add a note to a commitment: Markdown text, public (appears in exports) or internal (never
leaves the database). Saved by ``service.add_note``."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, Select, TextArea

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail
from mou_tracker.tui.modals.base import FormScreen, Hint, field_row, run_in_write
from mou_tracker.tui.modals.undo import Undoable

VISIBILITY_OPTIONS = [
    ("public: appears in every export", "public"),
    ("internal: never leaves the database", "internal"),
]


class NoteForm(FormScreen[str]):
    TITLE = "Add a note"
    SAVE_LABEL = "Add note"
    FIELD_IDS = {"text": "body"}

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail

    def heading(self) -> Text:
        text = Text("Note on ")
        text.append(self.detail.ref, style="bold reverse")
        text.append(" ")
        text.append(self.detail.title, style="bold")
        return text

    def fields(self) -> ComposeResult:
        yield from field_row(
            "Visibility",
            Select(
                # Internal unless chosen otherwise: a note published by mistake cannot be taken
                # back out of the exports people have already copied (issue 18, item 8).
                VISIBILITY_OPTIONS,
                value="internal",
                allow_blank=False,
                id="visibility",
                compact=True,
            ),
        )
        yield Label(
            "Text (Markdown; Enter starts a new line, ctrl+s saves)", classes="section-label"
        )
        yield TextArea(id="body", compact=True, soft_wrap=True, show_line_numbers=False)
        yield Hint(Text(""), id="body-hint")

    def first_focus(self) -> TextArea:
        return self.query_one("#body", TextArea)

    def check_names(self) -> tuple[str, ...]:
        return ("visibility", "body")

    def check(self, name: str) -> tuple[str | Text, str]:
        if name == "visibility":
            if self.value("visibility") == "internal":
                return Text("INTERNAL: kept out of every export", style="bold gold1"), ""
            return Text(
                "PUBLIC: journalists will read this in the exports", style="bold green3"
            ), ""
        if name == "body":
            body = self.value("body")
            try:
                v.required_text(body, "text", limit="note", multiline=True)
            except InvalidInput as exc:
                return str(exc), "error" if body.strip() else ""
            return f"{len(body.strip())}/{v.LIMITS['note']} characters", "ok"
        return "", ""

    def values(self) -> dict[str, Any]:
        return {"visibility": self.value("visibility"), "body": self.value("body")}

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import service

        ref = self.detail.ref
        actor = self.tracker.actor

        def add(session: Any) -> str:
            note = service.add_note(
                session, ref, values["body"], actor=actor, visibility=values["visibility"]
            )
            assert note.id is not None
            self.undoable = Undoable(
                "note", f"the {note.visibility} note on {ref}", (ref,), (note.id,)
            )
            return f"{note.visibility.capitalize()} note added to {ref}."

        return run_in_write(self.tracker, add)
