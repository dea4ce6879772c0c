"""One review, one note or one evidence link for every marked commitment (issue 18, item 9):
marked with space (or ``V`` for a range) in the table, saved in one transaction by
``domain.batch``. If any of them
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
from mou_tracker.tui.modals.evidence import EvidenceForm
from mou_tracker.tui.modals.note import VISIBILITY_OPTIONS
from mou_tracker.tui.modals.undo import Undoable

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
            ids = tuple(note.id for note in notes if note.id is not None)
            self.undoable = Undoable(
                "note",
                f"the {values['visibility']} note on {len(notes)} commitments",
                tuple(values["refs"]),
                ids,
            )
            return f"{values['visibility'].capitalize()} note added to {len(notes)} commitments."

        return run_in_write(self.tracker, add)


class BatchEvidenceForm(EvidenceForm):
    """The evidence form, for every marked commitment: each gets its own record of the same
    link (as ``evidence add`` once per ref), in one transaction."""

    TITLE = "Add one evidence link to the marked commitments"
    SAVE_LABEL = "Add to all"

    def __init__(self, rows: list[CommitmentRow]) -> None:
        FormScreen.__init__(self)
        self.rows = rows
        self.known_urls = {}

    def heading(self) -> Text:
        text = Text(
            f"{len(self.rows)} commitments each get this link as an evidence record of their "
            "own. One transaction: all get it, or none (a commitment that has the page "
            "already refuses the batch).\n",
            style="bold",
        )
        text.append_text(refs_text(self.rows))
        return text

    def check(self, name: str) -> tuple[str | Text, str]:
        if name != "url":
            return super().check(name)
        raw = self.value("url")
        if not raw.strip():
            return "required: an absolute http or https URL", ""
        try:
            v.url(raw, "url")
        except InvalidInput as exc:
            return str(exc), "error"
        return "✓", "ok"

    def perform(self, values: dict[str, Any]) -> Any:
        from mou_tracker.domain import batch, service

        item = service.EvidenceInput.build(**values)
        refs = [row.ref for row in self.rows]
        actor = self.tracker.actor

        def add(session: Any) -> str:
            rows = batch.add_evidence_to_all(session, refs, item, actor=actor)
            ids = tuple(row.id for row in rows if row.id is not None)
            self.undoable = Undoable(
                "evidence",
                f"evidence #{', #'.join(map(str, ids))} on {len(rows)} commitments",
                tuple(refs),
                ids,
                tuple(row.version for row in rows),
            )
            return f"Evidence added to {len(rows)} commitments: " + ", ".join(
                f"{ref} #{row.id}" for ref, row in zip(refs, rows, strict=True)
            )

        return run_in_write(self.tracker, add)
