"""The selected commitment in full: clause, status and why, owners, evidence (a list you can
move through and open), the status timeline, and the notes with public and internal told apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mou_tracker.domain import derived
from mou_tracker.domain.queries import CommitmentDetail, EvidenceView, TargetView
from mou_tracker.domain.vocab import STRENGTH_WORDS, WITHDRAWN
from mou_tracker.tui.markdown import markdown_text
from mou_tracker.tui.text import (
    DIRECTION_STYLES,
    SIGNAL_STYLES,
    day,
    status_text,
)

TEXT_BASIS_WORDS = {
    "verified": "wording checked against the source",
    "excerpt_only": "only an excerpt of the wording was seen",
    "reconstructed": "wording reconstructed from secondary sources",
}


def evidence_sorted(detail: CommitmentDetail) -> list[EvidenceView]:
    """Newest first; undated evidence last."""
    return sorted(
        detail.evidence,
        key=lambda e: (e.published is not None, e.published or date.min, e.id),
        reverse=True,
    )


def evidence_prompt(item: EvidenceView) -> Text:
    """Three short lines that wrap well at any width: when and which way, the title, what it shows."""
    text = Text()
    text.append(day(item.published, "undated"), style="bold" if item.published else "grey50")
    text.append("  ")
    text.append(item.direction, style=DIRECTION_STYLES.get(item.direction, ""))
    extra = " · ".join(
        part
        for part in (
            item.publisher or "",
            item.kind.replace("_", " "),
            item.confidence,
            f"#{item.id}",
        )
        if part
    )
    text.append(f"  {extra}", style="grey58")
    if item.link and item.link.needs_attention:
        text.append(f"  link {item.link.label}", style="bold red1")
    text.append("\n")
    if item.confidence == WITHDRAWN:
        text.append(" WITHDRAWN ", style="bold reverse")
        text.append(" ")
    text.append(item.title, style="bold strike" if item.confidence == WITHDRAWN else "bold")
    if item.summary:
        text.append("\n")
        text.append(item.summary, style="italic grey70")
    text.append("\n")
    text.append(item.url, style=SIGNAL_STYLES["muted"])  # where it is, before anyone opens it
    for revision in item.revisions:  # the correction history, oldest first
        text.append("\n")
        fields = ", ".join(name for name, _, _ in revision.changes)
        text.append(
            f"corrected {revision.at.date().isoformat()} by {revision.by} ({fields}): ",
            style=SIGNAL_STYLES["muted"],
        )
        text.append(revision.reason, style="italic")
    return text


def head_text(detail: CommitmentDetail, today: date) -> Text:
    text = Text()
    text.append(detail.ref, style="bold reverse")
    text.append(" ")
    text.append(detail.title, style="bold")
    text.append("\n")
    text.append(f"{detail.section} · {detail.origin.replace('_', ' ')} · ", style="grey62")
    text.append(TEXT_BASIS_WORDS.get(detail.text_basis, detail.text_basis), style="grey62")
    text.append("\n\nStatus   ", style="bold")
    text.append_text(status_text(detail.status, detail.strength))
    if detail.strength == "vision":
        text.append(" (a vision clause: shown, not scored)", style="grey62")
    elif detail.status_changed_at is not None:
        text.append(f" since {detail.status_changed_at.date().isoformat()}")
    reason = detail.status_reason
    if reason:
        text.append("\nReason   ", style="bold")
        text.append(reason)
    text.append("\nStrength ", style="bold")
    text.append(detail.strength)
    text.append(f" — {STRENGTH_WORDS.get(detail.strength, '')}", style="grey62")
    text.append("\nOwners   ", style="bold")
    text.append(", ".join(f"{o.name} ({o.code}, {o.role})" for o in detail.owners) or "none")
    text.append("\nTheme    ", style="bold")
    text.append(detail.theme)
    text.append("\nReview   ", style="bold")
    if detail.strength == "vision":
        text.append("not reviewed (vision clause)", style="grey62")
    else:
        text.append(
            f"every {detail.review_cadence}; last {day(detail.last_reviewed, 'never')}; next "
        )
        if derived.is_overdue(detail.strength, detail.next_review, today):
            text.append(f"{day(detail.next_review)} (overdue)", style=SIGNAL_STYLES["overdue"])
        else:
            text.append(day(detail.next_review))
    if detail.target is not None:
        text.append("\nTarget   ", style="bold")
        text.append(day(detail.target))
        if detail.original_target and detail.original_target != detail.target:
            text.append(f" (originally {day(detail.original_target)})", style="grey62")
        if target_passed(detail, today):
            late = (today - detail.target).days
            text.append(
                f"  PASSED {late} day{'s' if late != 1 else ''} ago, not met",
                style=SIGNAL_STYLES["overdue"],
            )
    elif detail.strength != "vision":
        text.append("\nTarget   ", style="bold")
        text.append("none set · t sets one", style="grey62")
    text.append("\nSource   ", style="bold")
    text.append(detail.source_url, style="underline")
    text.append("\n\n")
    text.append("Summary\n", style="bold")
    text.append(detail.summary)
    return text


def target_passed(detail: CommitmentDetail, today: date) -> bool:
    """The target date is behind us and the commitment is neither met nor judged not met."""
    return (
        detail.target is not None
        and detail.target < today
        and detail.strength != "vision"
        and detail.status not in ("met", "not_met")
    )


def _target_lines(text: Text, change: TargetView) -> None:
    text.append(change.at.date().isoformat(), style="bold")
    if change.old_target is None:
        text.append(f" target set: {change.new_target.isoformat()}")
    else:
        text.append(
            f" target moved: {change.old_target.isoformat()} → {change.new_target.isoformat()}"
        )
    text.append(f"  by {change.by}", style="grey62")
    text.append("\n           ")
    text.append(change.reason)
    if change.evidence_id is not None:
        text.append(f"\n           cites #{change.evidence_id}", style="grey58")


def timeline_text(detail: CommitmentDetail) -> Text:
    text = Text()
    count = len(detail.history) + len(detail.targets)
    text.append(f"Status timeline ({len(detail.history)})", style="bold")
    if detail.targets:
        text.append(f" · target dates ({len(detail.targets)})", style="bold")
    text.append("\n")
    if not count:
        text.append("No assessment recorded yet.", style="grey62")
        return text
    events: list[tuple[Any, int, Any]] = [(e.at, 0, e) for e in detail.history]
    events += [(t.at, 1, t) for t in detail.targets]
    events.sort(key=lambda item: (item[0], item[1]), reverse=True)
    for n, (_, kind, entry) in enumerate(events):
        if n:
            text.append("\n")
        if kind == 1:
            _target_lines(text, entry)
            continue
        text.append(entry.at.date().isoformat(), style="bold")
        text.append(" ")
        if entry.kind == "review":
            text.append("reviewed: ", style="grey62")
            text.append_text(status_text(entry.to_status))
            text.append(" stands")
        else:
            text.append_text(status_text(entry.from_status))
            text.append(" → ")
            text.append_text(status_text(entry.to_status))
        text.append(f"  by {entry.actor}", style="grey62")
        if entry.recorded_at is not None and entry.recorded_at.date() != entry.at.date():
            text.append(
                f"\n           effective {entry.at.date().isoformat()}, recorded "
                f"{entry.recorded_at.date().isoformat()}",
                style="grey62",
            )
        text.append("\n           ")
        text.append(entry.reason)
        if entry.evidence_ids:
            cites = ", ".join(f"#{i}" for i in entry.evidence_ids)
            text.append(f"\n           cites {cites}", style="grey58")
    return text


def notes_text(detail: CommitmentDetail) -> Text:
    text = Text()
    text.append(f"Notes ({len(detail.notes)})\n", style="bold")
    if not detail.notes:
        text.append("No notes.", style="grey62")
        return text
    withdrawn = derived.withdrawn_note_ids(detail.notes)
    for n, note in enumerate(reversed(detail.notes)):
        if n:
            text.append("\n")
        if note.id in withdrawn:
            text.append(" WITHDRAWN ", style="bold reverse")
            text.append(" ")
        if note.visibility == "internal":
            text.append(" INTERNAL ", style="bold black on gold1")
            text.append(" never exported", style="gold1")
        else:
            text.append(" PUBLIC ", style="bold black on green3")
            text.append(" appears in exports", style="green3")
        text.append(f"  {note.at.date().isoformat()} {note.author} #{note.id}\n", style="grey62")
        body = markdown_text(note.body)  # rendered, as the exports show it (issue 18, item 8)
        if note.id in withdrawn:
            body.stylize("strike")
        text.append_text(body)
        text.append("\n")
    return text


class EvidenceList(OptionList):
    """The evidence of the selected commitment, newest first; ``o`` opens the highlighted one."""

    DEFAULT_CSS = """
    EvidenceList { height: auto; border: none; padding: 0; background: $surface; }
    EvidenceList:focus { background-tint: $foreground 5%; }
    """


class DetailPane(VerticalScroll):
    """The selected commitment. ``show(detail)`` replaces what it shows; the evidence highlight
    and scroll position are kept when the same commitment is shown again (a refresh)."""

    DEFAULT_CSS = """
    DetailPane { padding: 0 1; background: $surface; scrollbar-size-vertical: 1; }
    DetailPane > Static { width: 100%; margin-bottom: 1; }
    DetailPane > #detail-evidence-title { margin: 0; text-style: bold; }
    DetailPane > EvidenceList { margin-bottom: 1; }
    """

    can_focus = True
    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False, id="detail.down"),
        Binding("k", "scroll_up", "Up", show=False, id="detail.up"),
        Binding("g", "scroll_home", "Top", show=False, id="detail.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="detail.bottom"),
    ]

    def __init__(self, today: Callable[[], date], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._today = today
        self.detail: CommitmentDetail | None = None
        self.evidence: list[EvidenceView] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Loading…", style="grey62"), id="detail-head")
        yield Static(Text("Evidence"), id="detail-evidence-title")
        yield EvidenceList(id="detail-evidence")
        yield Static(Text(""), id="detail-timeline")
        yield Static(Text(""), id="detail-notes")

    def show_message(self, message: str) -> None:
        self.detail = None
        self.evidence = []
        self.query_one("#detail-head", Static).update(Text(message, style="grey62"))
        self.query_one("#detail-evidence-title", Static).update(Text(""))
        self.query_one(EvidenceList).clear_options()
        self.query_one("#detail-timeline", Static).update(Text(""))
        self.query_one("#detail-notes", Static).update(Text(""))

    def show(self, detail: CommitmentDetail) -> None:
        same = self.detail is not None and self.detail.ref == detail.ref
        options = self.query_one(EvidenceList)
        keep_id = None
        if same and options.highlighted is not None and options.highlighted < len(self.evidence):
            keep_id = self.evidence[options.highlighted].id
        self.detail = detail
        self.evidence = evidence_sorted(detail)
        self.query_one("#detail-head", Static).update(head_text(detail, self._today()))
        title = Text(f"Evidence ({len(self.evidence)})", style="bold")
        if self.evidence:
            title.append("   o open · e add", style="grey58")
        else:
            title.append("   none yet · e add", style="grey58")
        self.query_one("#detail-evidence-title", Static).update(title)
        options.clear_options()
        options.add_options([Option(evidence_prompt(e), id=str(e.id)) for e in self.evidence])
        if self.evidence:
            index = 0
            if keep_id is not None:
                index = next((i for i, e in enumerate(self.evidence) if e.id == keep_id), 0)
            options.highlighted = index
        self.query_one("#detail-timeline", Static).update(timeline_text(detail))
        self.query_one("#detail-notes", Static).update(notes_text(detail))
        if not same:
            self.scroll_home(animate=False)

    @property
    def highlighted_evidence(self) -> EvidenceView | None:
        options = self.query_one(EvidenceList)
        index = options.highlighted
        if index is None or index >= len(self.evidence):
            return None
        return self.evidence[index]
