"""The top of the screen: which memorandum, what it legally is, and the tracker at a glance."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mou_tracker.domain.queries import MemorandumView
from mou_tracker.domain.vocab import STATUSES
from mou_tracker.tui.data import Summary
from mou_tracker.tui.text import SIGNAL_STYLES, STATUS_STYLES, long_day, status_label


def memo_text(memo: MemorandumView | None, others: int = 0) -> Text:
    if memo is None:
        return Text(
            "No memorandum yet: quit, then `mou-tracker --db URL init` (the shipped MoU) "
            "or `mou-tracker --db URL sync FILE`",
            style="bold",
        )
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(memo.title, style="bold")
    text.append(f"  signed {long_day(memo.signed)}", style="grey70")
    if others:
        text.append(f"  (+{others} more memoranda)", style="grey62")
    return text


def legal_text(memo: MemorandumView | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if memo is not None:
        text.append("Legal status: ", style="bold gold1")
        text.append(memo.legal_status, style="gold1")
    return text


def summary_text(summary: Summary) -> Text:
    text = Text()
    for n, status in enumerate(STATUSES):
        if n:
            text.append("  ")
        text.append(status_label(status), style=STATUS_STYLES[status])
        text.append(f" {summary.counts.get(status, 0):,}", style="bold")
    counted = sum(summary.counts.values())
    if counted != summary.total:
        # as the exports: each promise once, vision clauses shown but not scored
        text.append(f"  ({counted:,} of {summary.total:,} counted)", style="grey62")
    text.append("  │ ", style="grey50")
    overdue = SIGNAL_STYLES["overdue"]
    text.append("reviews overdue ", style=overdue if summary.overdue else "")
    text.append(f"{summary.overdue:,}", style=overdue if summary.overdue else "bold")
    return text


class MemoHeader(Static):
    DEFAULT_CSS = """
    MemoHeader { height: 2; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, memo: MemorandumView | None, others: int = 0) -> None:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append_text(memo_text(memo, others))
        text.append("\n")
        text.append_text(legal_text(memo))
        self.update(text)


class SummaryStrip(Static):
    DEFAULT_CSS = """
    SummaryStrip { height: auto; padding: 0 1; background: $boost; }
    """

    def show(self, summary: Summary) -> None:
        self.update(summary_text(summary))
