"""Change a commitment's status: the new status, a reason, and the evidence it cites (pick it,
or add it here with ctrl+n). Saved by ``service.change_status`` with the version you opened, so
a change someone else saved in the meantime is refused, never overwritten."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input, Label, Select, SelectionList
from textual.widgets.selection_list import Selection

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail, EvidenceView
from mou_tracker.domain.vocab import STATUSES, STATUSES_WITHOUT_EVIDENCE
from mou_tracker.tui.modals.base import FormScreen, Hint, field_row, run_in_write
from mou_tracker.tui.modals.undo import Undoable
from mou_tracker.tui.text import DIRECTION_STYLES, day, status_label, status_text
from mou_tracker.tui.widgets.detail import evidence_sorted
from mou_tracker.tui.widgets.ticks import TickList


def evidence_selection(item: EvidenceView, today: Any, selected: bool = False) -> Selection[int]:
    text = Text()
    text.append(day(item.published, "undated   "), style="bold" if item.published else "grey50")
    text.append(f" #{item.id} ", style="grey58")
    text.append(
        item.direction,
        style=DIRECTION_STYLES.get(item.direction, ""),
    )
    text.append(" ")
    text.append(item.title)
    disabled = item.published is None or item.published > today
    if item.published is None:
        text.append("  (no date: cannot support a change)", style="grey50")
    elif item.published > today:
        text.append("  (dated after today)", style="grey50")
    return Selection(text, item.id, selected and not disabled, disabled=disabled)


class StatusForm(FormScreen[str]):
    TITLE = "Change status"
    SAVE_LABEL = "Save status"
    RELOADS_ON_CONFLICT = True
    BINDINGS = [
        Binding("ctrl+n", "new_evidence", "New evidence", priority=True, id="status.new_evidence"),
    ]

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail
        self.version = detail.version

    def heading(self) -> Text:
        d = self.detail
        text = Text()
        text.append(d.ref, style="bold reverse")
        text.append(" ")
        text.append(d.title, style="bold")
        text.append("\nnow ")
        text.append_text(status_text(d.status, d.strength))
        if d.status_changed_at is not None:
            text.append(f" since {d.status_changed_at.date().isoformat()}")
        text.append(
            f" · as loaded: version {self.version}, last saved by {d.updated_by}", style="grey58"
        )
        return text

    def fields(self) -> ComposeResult:
        options = [
            (f"{status_label(s)}{'  (current)' if s == self.detail.status else ''}", s)
            for s in STATUSES
        ]
        yield from field_row(
            "New status", Select(options, prompt="choose the new status", id="status", compact=True)
        )
        yield from field_row(
            "Reason",
            Input(placeholder="why: what the evidence shows", id="reason", compact=True),
        )
        yield Label(
            "Evidence it cites (space to tick; ctrl+n adds new evidence)", classes="section-label"
        )
        today = self.tracker.today()
        yield TickList(
            *[evidence_selection(e, today) for e in evidence_sorted(self.detail)],
            id="evidence",
            compact=True,
        )
        yield Hint(Text(""), id="evidence-hint")
        yield Button("+ New evidence (ctrl+n)", id="new-evidence", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        if self.detail.strength == "vision":
            message = f"status: {self.detail.ref} is a vision clause: it is shown but not scored"
            self.show_error(Text(message))

    def check_names(self) -> tuple[str, ...]:
        return ("status", "reason", "evidence")

    def depends_on(self, name: str) -> tuple[str, ...]:
        return ("evidence",) if name == "status" else ()

    def check(self, name: str) -> tuple[str | Text, str]:
        status = self.value("status")
        if name == "status":
            if not status:
                return "", ""
            if status == self.detail.status:
                return (
                    f"status: {self.detail.ref} is already {status_label(status)}; record a review instead (key v)",
                    "error",
                )
            return f"{status_label(self.detail.status)} → {status_label(status)}", "ok"
        if name == "reason":
            try:
                v.required_text(self.value("reason"), "reason", limit="reason", multiline=True)
            except InvalidInput as exc:
                if not self.value("reason").strip():
                    return "required: why the status changes, in a sentence", ""
                return str(exc), "error"
            return "✓", "ok"
        if name == "evidence":
            chosen = self.query_one("#evidence", SelectionList).selected
            if status and status not in STATUSES_WITHOUT_EVIDENCE and not chosen:
                return (
                    f"evidence: a change to {status_label(status)} must cite at least one evidence record of "
                    f"{self.detail.ref}",
                    "error",
                )
            if chosen:
                return f"cites {', '.join(f'#{i}' for i in chosen)}", "ok"
            return "", ""
        return "", ""

    def values(self) -> dict[str, Any]:
        return {
            "status": self.value("status"),
            "reason": self.value("reason"),
            "evidence": [str(i) for i in self.query_one("#evidence", SelectionList).selected],
            "version": self.version,
        }

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import service

        ref = self.detail.ref
        actor = self.tracker.actor
        if not values["status"]:
            raise InvalidInput("status", "choose the new status")

        def change(session: Any) -> str:
            entry = service.change_status(
                session,
                ref,
                values["status"],
                actor=actor,
                reason=values["reason"],
                evidence=values["evidence"],
                expected_version=values["version"],
            )
            assert entry.id is not None
            after = service.get_commitment(session, ref).version
            self.undoable = Undoable(
                "status",
                f"{ref}: {status_label(entry.from_status)} → {status_label(entry.to_status)}",
                (ref,),
                (entry.id,),
                (after,),
            )
            return f"{ref}: {status_label(entry.from_status)} → {status_label(entry.to_status)}"

        return run_in_write(self.tracker, change)

    # --- someone else saved first ---------------------------------------------------------------

    def load_fresh(self, session: Any) -> CommitmentDetail:
        from mou_tracker.domain.queries import commitment_detail

        return commitment_detail(session, self.detail.ref)

    def show_fresh(self, fresh: CommitmentDetail) -> None:
        self.detail = fresh
        self.version = fresh.version
        self._refresh_evidence()

    def _refresh_evidence(self, also_select: int | None = None) -> None:
        listing = self.query_one("#evidence", SelectionList)
        chosen = set(listing.selected)
        if also_select is not None:
            chosen.add(also_select)
        today = self.tracker.today()
        listing.clear_options()
        listing.add_options(
            [evidence_selection(e, today, e.id in chosen) for e in evidence_sorted(self.detail)]
        )
        self.check_all()

    # --- evidence added from here ---------------------------------------------------------------

    @on(Button.Pressed, "#new-evidence")
    def _new_pressed(self) -> None:
        self.action_new_evidence()

    def action_new_evidence(self) -> None:
        from mou_tracker.tui.modals.evidence import EvidenceForm

        def added(item: EvidenceView | None) -> None:
            if item is None:
                return
            self.detail = replace(self.detail, evidence=(*self.detail.evidence, item))
            self._refresh_evidence(also_select=item.id)
            self.notify(f"Evidence #{item.id} added and ticked: {item.title}", markup=False)

        self.app.push_screen(EvidenceForm(self.detail), added)
