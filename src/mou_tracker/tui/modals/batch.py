"""One review or one note for every marked commitment (issue 18, item 9): marked with space (or
``V`` for a range) in the table, saved in one transaction by ``domain.batch``. If any of them
is refused, none is stored and the form says which and why."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, Select, TextArea

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentRow
from mou_tracker.tui.modals.base import FormScreen, Hint, field_row, run_in_write
from mou_tracker.tui.modals.note import VISIBILITY_OPTIONS

SHOWN = 8  # refs listed in the heading before "and N more"


def refs_text(rows: list[CommitmentRow]) -> Text:
    text = Text()
    for n, row in enumerate(rows[:SHOWN]):
        if n:
            text.append("\n")
        text.append(f" {row.ref} ", style="bold reverse")
        text.append(" ")
        text.append(row.title)
    if len(rows) > SHOWN:
        text.append(f"\n…and {len(rows) - SHOWN} more")
    return text


class BatchReviewForm(FormScreen[str]):
    TITLE = "Record one review for the marked commitments"
    SAVE_LABEL = "Record reviews"
    FIELD_IDS = {"note": "batch_note"}
    RELOADS_ON_CONFLICT = True

    def __init__(self, rows: list[CommitmentRow]) -> None:
        super().__init__()
        self.rows = rows
        self.versions = {row.ref: row.version for row in rows}

    def heading(self) -> Text:
        text = Text(
            f"{len(self.rows)} commitments: each keeps its status, and its next review moves on "
            "by its own cadence. One transaction: all are recorded, or none.\n",
            style="bold",
        )
        text.append_text(refs_text(self.rows))
        return text

    def fields(self) -> ComposeResult:
        yield Label("Note (the same for each; Enter starts a new line)", classes="section-label")
        yield TextArea(id="batch_note", compact=True, soft_wrap=True, show_line_numbers=False)
        yield Hint(Text(""), id="batch_note-hint")

    def first_focus(self) -> Any:
        return self.query_one("#batch_note", TextArea)

    def check_names(self) -> tuple[str, ...]:
        return ("batch_note",)

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value("batch_note")
        try:
            v.required_text(raw, "note", limit="reason", multiline=True)
        except InvalidInput as exc:
            return (str(exc), "error") if raw.strip() else ("required: what you checked", "")
        return "✓", "ok"

    def values(self) -> dict[str, Any]:
        return {
            "note": self.value("batch_note"),
            "items": [(row.ref, self.versions[row.ref]) for row in self.rows],
        }

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import batch

        actor, today = self.tracker.actor, self.tracker.today()

        def review(session: Any) -> str:
            entries = batch.record_reviews(
                session, values["items"], actor=actor, note=values["note"], reviewed_on=today
            )
            return f"Review recorded on {len(entries)} commitments; every status stands."

        return run_in_write(self.tracker, review)

    def load_fresh(self, session: Any) -> dict[str, int]:
        from mou_tracker.domain import service

        return {row.ref: service.get_commitment(session, row.ref).version for row in self.rows}

    def show_fresh(self, fresh: dict[str, int]) -> None:
        self.versions = fresh


class BatchNoteForm(FormScreen[str]):
    TITLE = "Add one note to the marked commitments"
    SAVE_LABEL = "Add notes"
    FIELD_IDS = {"text": "batch_body"}

    def __init__(self, rows: list[CommitmentRow]) -> None:
        super().__init__()
        self.rows = rows

    def heading(self) -> Text:
        text = Text(
            f"{len(self.rows)} commitments. One transaction: all get the note, or none.\n",
            style="bold",
        )
        text.append_text(refs_text(self.rows))
        return text

    def fields(self) -> ComposeResult:
        yield from field_row(
            "Visibility",
            Select(
                VISIBILITY_OPTIONS,
                value="internal",
                allow_blank=False,
                id="batch_visibility",
                compact=True,
            ),
        )
        yield Label("Text (Markdown; Enter starts a new line)", classes="section-label")
        yield TextArea(id="batch_body", compact=True, soft_wrap=True, show_line_numbers=False)
        yield Hint(Text(""), id="batch_body-hint")

    def first_focus(self) -> Any:
        return self.query_one("#batch_body", TextArea)

    def check_names(self) -> tuple[str, ...]:
        return ("batch_visibility", "batch_body")

    def check(self, name: str) -> tuple[str | Text, str]:
        if name == "batch_visibility":
            if self.value("batch_visibility") == "internal":
                return Text("INTERNAL: kept out of every export", style="bold"), ""
            return Text("PUBLIC: journalists will read this in the exports", style="bold"), ""
        body = self.value("batch_body")
        try:
            v.required_text(body, "text", limit="note", multiline=True)
        except InvalidInput as exc:
            return (str(exc), "error") if body.strip() else ("", "")
        return "✓", "ok"

    def values(self) -> dict[str, Any]:
        return {
            "visibility": self.value("batch_visibility"),
            "body": self.value("batch_body"),
            "refs": [row.ref for row in self.rows],
        }

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import batch

        actor = self.tracker.actor

        def add(session: Any) -> str:
            notes = batch.add_notes(
                session,
                values["refs"],
                values["body"],
                actor=actor,
                visibility=values["visibility"],
            )
            return f"{values['visibility'].capitalize()} note added to {len(notes)} commitments."

        return run_in_write(self.tracker, add)
