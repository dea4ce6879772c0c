"""Every key binding, listed from the bindings themselves so the help cannot drift from the keys."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

EXPLAIN = {
    "search": "live filter: every word must appear in the ref, title, summary, theme, owners or an evidence title",
    "filter": "filter by status, strength, owner, theme, review overdue",
    "filter.clear": "clear the search and every filter",
    "filter.overdue": "toggle: only commitments whose review is overdue",
    "status": "change the selected commitment's status (reason and evidence required)",
    "evidence": "add an evidence record to the selected commitment",
    "evidence.correct": "correct the highlighted evidence record (the old values are kept)",
    "commitment.correct": "correct the selected commitment's title, summary, strength, theme, owners, text basis or origin (a reason is required; old and new values are published)",
    "note": "add a public or internal note to the selected commitment",
    "review": "record a review: the status stands, the next review moves on",
    "export": "write the reports now (Markdown, HTML, JSON, CSV)",
    "open.evidence": "open the highlighted evidence in the browser (also copied)",
    "open.source": "open the clause's source text in the browser (also copied)",
    "copy.ref": "copy the selected commitment's ref",
    "detail": "show the selected commitment full screen, and back",
    "back": "leave the search, or the full-screen detail",
    "memorandum": "the memorandum: signatories, legal status in full, source",
    "refresh": "reload everything now (it also happens by itself when someone else writes)",
    "quit": "quit (asks first if a form holds typed input)",
    "help": "this screen",
    "list.select": "show the selected commitment full screen",
    "list.page_down": "page down",
    "list.mark": "mark or unmark the row for a batch, and move down; v, n or e then works on every marked row",
    "undo": "take back this session's last note, evidence or status change: recorded as a new entry (a withdrawal or a change back) with your reason, never a delete",
    "list.mark_range": "mark every row from the last one marked to this one",
    "target": "set or re-baseline the selected commitment's target date (re-baselining cites evidence)",
    "jump": "type a ref and Enter to jump to it",
    "suspend": "back to the shell; fg returns",
    "status.new_evidence": "add evidence without leaving the status form; it is ticked for you",
    "form.save": "save (the domain checks it exactly as the CLI does)",
    "form.cancel": "cancel (asks first if you typed something)",
    "filters.apply": "apply the filter",
    "filters.clear": "clear every filter",
    "confirm.yes": "yes; never to discard typed input, so text typed ahead cannot answer",
    "confirm.deliberate_yes": "yes, also to discard what you typed in a form",
}


def _rows(bindings: Iterable[BindingType]) -> list[Binding]:
    rows = []
    for item in bindings:
        if isinstance(item, Binding):
            rows.append(item)
        else:
            rows.append(Binding(*item))
    return rows


def sections() -> list[tuple[str, list[Binding]]]:
    from mou_tracker.tui.app import TrackerApp
    from mou_tracker.tui.modals.base import FormScreen
    from mou_tracker.tui.modals.confirm import ConfirmScreen
    from mou_tracker.tui.modals.filters import FilterForm
    from mou_tracker.tui.modals.status import StatusForm
    from mou_tracker.tui.screens.main import MainScreen, SearchInput
    from mou_tracker.tui.widgets.commitment_list import CommitmentList
    from mou_tracker.tui.widgets.detail import DetailPane

    return [
        (
            "Anywhere",
            _rows(TrackerApp.BINDINGS)
            + [
                Binding(
                    "ctrl+p", "command_palette", "Command palette: every tracker command by name"
                ),
                Binding(
                    "tab,shift+tab",
                    "",
                    "Next / previous area: search, table, detail, evidence list",
                ),
                Binding("ctrl+c", "", "Copy text selected with the mouse"),
            ],
        ),
        ("Main screen", _rows(MainScreen.BINDINGS)),
        ("Commitments table", _rows(CommitmentList.BINDINGS)),
        (
            "Search box",
            _rows(SearchInput.BINDINGS)
            + [
                Binding("enter", "", "To the table"),
                Binding("escape", "", "Clear the search; again: to the table"),
            ],
        ),
        (
            "Evidence list (tab)",
            [
                Binding("up,down", "", "Move"),
                Binding("enter,o", "", "Open the evidence in the browser"),
            ],
        ),
        (
            "Forms",
            _rows(FormScreen.BINDINGS)
            + [
                Binding("tab,shift+tab", "", "Next / previous field"),
                Binding("enter", "", "In a one-line field: save"),
            ],
        ),
        (
            "Status form",
            _rows(StatusForm.BINDINGS)
            + [Binding("space", "", "Tick or untick the highlighted evidence")],
        ),
        ("Detail (z or tab)", _rows(DetailPane.BINDINGS)),
        ("Help (this screen)", _rows(HelpScreen.BINDINGS) + _rows(HelpScrollArea.BINDINGS)),
        ("Filter form", _rows(FilterForm.BINDINGS)),
        ("Questions", _rows(ConfirmScreen.BINDINGS)),
    ]


def help_lines() -> list[tuple[str, str, str]]:
    """(section, keys, what they do) for every binding, in order."""
    rows = []
    for title, bindings in sections():
        for binding in bindings:
            keys = ", ".join(_display(k) for k in binding.key.split(","))
            what = binding.description
            more = EXPLAIN.get(binding.id or "")
            if more and more.lower() != what.lower():
                what = f"{what} — {more}"
            rows.append((title, keys, what))
    return rows


def help_text() -> Text:
    """The same as a plain text (for tests and for searching)."""
    return Text("\n".join(f"{keys:<22}{what}" for _, keys, what in help_lines()))


def matches(row: tuple[str, str, str], query: str) -> bool:
    """Every word of ``query`` appears in the section, the keys or the description."""
    haystack = " ".join(row).lower()
    return all(word in haystack for word in query.lower().split())


def help_table(query: str = "") -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(width=24, no_wrap=True, style="bold")
    table.add_column(ratio=1)
    current = None
    rows = [row for row in help_lines() if matches(row, query)]
    if not rows:
        table.add_row("", Text(f"No key matches {query!r}."))
        return table
    for section, keys, what in rows:
        if section != current:
            if current is not None:
                table.add_row("", "")
            table.add_row(Text(section, style="bold underline"), "")
            current = section
        table.add_row(Text(keys), Text(what))
    if query.strip():
        return table
    from mou_tracker.domain.vocab import STATUSES
    from mou_tracker.tui.text import STATUS_STYLES, status_label

    legend = Text("Status colours: ")
    for n, status in enumerate(STATUSES):
        legend.append(", " if n else "")
        legend.append(status_label(status), style=STATUS_STYLES.get(status, ""))
    legend.append(
        ". A date marked ! under 'Next review' is overdue. Vision clauses are shown, not scored. "
        "On the highlighted row every cell is in one colour, so it stays readable."
    )
    table.add_row("", "")
    table.add_row("", legend)
    return table


def _display(key: str) -> str:
    names = {
        "slash": "/",
        "question_mark": "?",
        "space": "space",
        "escape": "esc",
        "pageup": "page up",
        "pagedown": "page down",
        "colon": ":",
    }
    return names.get(key.strip(), key.strip())


class HelpScrollArea(VerticalScroll):
    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False, id="help.down"),
        Binding("k", "scroll_up", "Up", show=False, id="help.up"),
        Binding("g", "scroll_home", "Top", show=False, id="help.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="help.bottom"),
    ]


class HelpScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help.close"),
        Binding("slash", "search", "Search the keys", id="help.search"),
    ]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search the keys: e.g. evidence, target, mark", id="help-search")
        with HelpScrollArea(id="help"):
            yield Static(Text("mou-tracker: keys", style="bold reverse"))
            yield Static(help_table(), id="help-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_search(self) -> None:
        self.query_one("#help-search", Input).focus()

    @on(Input.Changed, "#help-search")
    def _search(self, event: Input.Changed) -> None:
        self.query_one("#help-text", Static).update(help_table(event.value))

    @on(Input.Submitted, "#help-search")
    def _to_list(self) -> None:
        self.query_one("#help").focus()

    def action_close(self) -> None:
        search = self.query_one("#help-search", Input)
        if search.has_focus and search.value:
            search.value = ""  # esc clears the search first, as in the main screen
            return
        self.dismiss(None)
