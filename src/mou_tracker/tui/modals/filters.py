"""Filter the list by status, strength, owner, theme and "review overdue"."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from mou_tracker.domain.vocab import STATUSES, STRENGTHS
from mou_tracker.tui.data import Choices, ViewQuery
from mou_tracker.tui.text import STATUS_STYLES, STRENGTH_STYLES, status_label
from mou_tracker.tui.widgets.ticks import TickList


class FilterForm(ModalScreen[ViewQuery]):
    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", priority=True, id="filters.apply"),
        Binding("escape", "cancel", "Cancel", id="filters.cancel"),
        Binding("ctrl+x", "clear", "Clear all", id="filters.clear"),
    ]

    def __init__(self, query: ViewQuery, choices: Choices) -> None:
        super().__init__()
        self.start = query
        self.choices = choices

    def compose(self) -> ComposeResult:
        q = self.start
        with Vertical(id="form"):
            yield Static(
                Text("Show only the commitments that match every choice below.", style="bold"),
                id="form-heading",
            )
            with Horizontal(id="filter-lists"):
                with Vertical():
                    yield Label("Status (any if none ticked)", classes="section-label")
                    yield TickList(
                        *[
                            Selection(
                                Text(status_label(s), style=STATUS_STYLES[s]), s, s in q.status
                            )
                            for s in STATUSES
                        ],
                        id="status",
                        compact=True,
                    )
                with Vertical():
                    yield Label("Strength", classes="section-label")
                    yield TickList(
                        *[
                            Selection(Text(s, style=STRENGTH_STYLES[s]), s, s in q.strength)
                            for s in STRENGTHS
                        ],
                        id="strength",
                        compact=True,
                    )
            with Horizontal(classes="field"):
                yield Label("Owner", classes="field-label")
                yield Select(
                    [(Text(f"{code} — {name}"), code) for code, name in self.choices.owners],
                    value=q.owner
                    if q.owner in {c for c, _ in self.choices.owners}
                    else Select.NULL,
                    prompt="any owner",
                    id="owner",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Theme", classes="field-label")
                yield Select(
                    [(Text(t), t) for t in self.choices.themes],
                    value=q.theme if q.theme in self.choices.themes else Select.NULL,
                    prompt="any theme",
                    id="theme",
                    compact=True,
                )
            yield Checkbox("Review overdue only", q.overdue, id="overdue", compact=True)
            with Horizontal(id="form-buttons"):
                yield Static(
                    Text("ctrl+s apply · ctrl+x clear all · esc cancel", style="grey58"),
                    id="form-keys",
                )
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Clear all", id="clear", compact=True)

    def on_mount(self) -> None:
        self.query_one("#form", Vertical).border_title = "Filter"
        self.query_one("#status", SelectionList).focus()

    def result(self) -> ViewQuery:
        owner = self.query_one("#owner", Select).value
        theme = self.query_one("#theme", Select).value
        return replace(
            self.start,
            status=tuple(
                s for s in STATUSES if s in self.query_one("#status", SelectionList).selected
            ),
            strength=tuple(
                s for s in STRENGTHS if s in self.query_one("#strength", SelectionList).selected
            ),
            owner=None if owner is Select.NULL else str(owner),
            theme=None if theme is Select.NULL else str(theme),
            overdue=self.query_one("#overdue", Checkbox).value,
        )

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        self.dismiss(self.result())

    @on(Button.Pressed, "#clear")
    def action_clear(self) -> None:
        self.dismiss(self.start.cleared())

    def action_cancel(self) -> None:
        self.dismiss(None)
