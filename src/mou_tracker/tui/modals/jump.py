"""``:`` then a ref: jump straight to that commitment (the filters are cleared if it is not in
the current list), as taskwarrior-tui jumps to a task id."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class JumpScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "close", "Cancel", id="jump.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text("Jump to a commitment: type its ref, then Enter", style="bold"))
            yield Input(placeholder="e.g. OAI-3.1", id="jump-ref", compact=True)

    def on_mount(self) -> None:
        self.query_one("#jump-ref", Input).focus()

    @on(Input.Submitted, "#jump-ref")
    def _go(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().upper() or None)

    def action_close(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of text: Enter answers, Esc cancels."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="prompt.cancel")]

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text(self.question, style="bold"))
            yield Input(placeholder=self.placeholder, id="prompt-answer", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-answer", Input).focus()

    @on(Input.Submitted, "#prompt-answer")
    def _answer(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_close(self) -> None:
        self.dismiss(None)
