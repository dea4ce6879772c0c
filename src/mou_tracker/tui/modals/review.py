"""Record a review: someone looked, and the status stands. Moves the next review date on by the
review cadence. Saved by ``service.record_review`` with the version you opened."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input

from mou_tracker.domain import derived
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail
from mou_tracker.tui.modals.base import FormScreen, field_row, run_in_write
from mou_tracker.tui.text import status_label, status_text


class ReviewForm(FormScreen[str]):
    TITLE = "Record a review"
    SAVE_LABEL = "Record review"
    FIELD_IDS = {"note": "review_note"}
    RELOADS_ON_CONFLICT = True

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail

    def heading(self) -> Text:
        d = self.detail
        text = Text()
        text.append(d.ref, style="bold reverse")
        text.append(" ")
        text.append(d.title, style="bold")
        text.append("\nThe status stays ")
        text.append_text(status_text(d.status, d.strength))
        today = self.tracker.today()
        following = derived.next_review(today, d.memorandum.signed, d.review_cadence)
        text.append(
            f"; the next review moves to {following.isoformat()} (every {d.review_cadence})."
        )
        text.append(
            f"\nas loaded: version {d.version}, last saved by {d.updated_by}", style="grey58"
        )
        return text

    def load_fresh(self, session: Any) -> CommitmentDetail:
        from mou_tracker.domain.queries import commitment_detail

        return commitment_detail(session, self.detail.ref)

    def show_fresh(self, fresh: CommitmentDetail) -> None:
        self.detail = fresh  # the heading shows the status as it is now; the version moves on

    def fields(self) -> ComposeResult:
        yield from field_row(
            "Note",
            Input(
                placeholder="what you checked and why the status stands",
                id="review_note",
                compact=True,
            ),
        )

    def check_names(self) -> tuple[str, ...]:
        return ("review_note",)

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value("review_note")
        if not raw.strip():  # as the other forms say it, before anything is typed
            return "required: what you checked, in a sentence", ""
        try:
            v.required_text(raw, "note", limit="reason", multiline=True)
        except InvalidInput as exc:
            return str(exc), "error" if raw else ""
        return "✓", "ok"

    def values(self) -> dict[str, Any]:
        return {"note": self.value("review_note"), "version": self.detail.version}

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import service

        ref = self.detail.ref
        actor = self.tracker.actor
        today = self.tracker.today()

        def review(session: Any) -> str:
            entry = service.record_review(
                session,
                ref,
                actor=actor,
                note=values["note"],
                reviewed_on=today,
                expected_version=values["version"],
            )
            return f"{ref}: review recorded; {status_label(entry.to_status)} stands."

        return run_in_write(self.tracker, review)
