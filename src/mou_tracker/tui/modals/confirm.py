"""A yes/no question as a ``ModalScreen[bool]``."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """With ``deliberate=True`` (discarding typed input) a bare ``y`` does nothing: text typed
    ahead after an accidental Esc must not answer yes. Yes is then ctrl+d, or Tab to the button
    and Enter; ``n``, Esc and Enter on the focused "no" button still answer no."""

    BINDINGS = [
        Binding("y", "letter_yes", "Yes", id="confirm.yes", show=False),
        Binding("ctrl+d", "answer(True)", "Yes", id="confirm.deliberate_yes", show=False),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(
        self, question: str, *, yes: str = "Yes", no: str = "No", deliberate: bool = False
    ) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.deliberate = deliberate

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text(self.question, style="bold"))
            with Horizontal(id="confirm-buttons"):
                key = "ctrl+d" if self.deliberate else "y"
                yield Button(f"{self.yes} ({key})", variant="error", id="confirm-yes", compact=True)
                yield Button(f"{self.no} (n)", variant="primary", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_letter_yes(self) -> None:
        if not self.deliberate:
            self.dismiss(True)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
