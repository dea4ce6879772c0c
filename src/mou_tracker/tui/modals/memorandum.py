"""The memorandum itself: parties, signatories, legal status in full, source."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mou_tracker.domain.queries import MemorandumView
from mou_tracker.tui.text import long_day


def memorandum_text(memo: MemorandumView) -> Text:
    text = Text()
    text.append(memo.title, style="bold")
    text.append(f"\n\nSigned {long_day(memo.signed)} by\n")
    for name, role, party in memo.signatories:
        text.append(f"  {name}, {role} ({party})\n")
    text.append("\nLegal status\n", style="bold gold1")
    text.append(memo.legal_status)
    if memo.summary:
        text.append("\n\nIn short\n", style="bold")
        text.append(memo.summary)
    text.append(f"\n\nReview cadence: every {memo.review_cadence}")
    text.append("\nSource: ")
    text.append(memo.source_url, style="underline")
    if memo.landing_url:
        text.append("\nLanding page: ")
        text.append(memo.landing_url, style="underline")
    return text


class MemorandumScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,m,q", "close", "Close", id="memorandum.close")]

    def __init__(self, memo: MemorandumView) -> None:
        super().__init__()
        self.memo = memo

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(memorandum_text(self.memo))

    def on_mount(self) -> None:
        self.query_one("#form").border_title = "Memorandum"
        self.query_one("#form").border_subtitle = "esc close"

    def action_close(self) -> None:
        self.dismiss(None)
