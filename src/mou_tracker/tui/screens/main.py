"""The one screen: memorandum, summary, search and filters, the commitments, the selected one.

Every database call runs in a thread worker that posts a message with frozen values; the
handlers below are the only code that touches widgets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.worker import get_current_worker

from mou_tracker.domain.queries import CommitmentDetail, MemorandumView
from mou_tracker.storage.engine import read
from mou_tracker.tui import data
from mou_tracker.tui.data import SORT_LABELS, Choices, Summary, ViewQuery
from mou_tracker.tui.messages import (
    ChoicesLoaded,
    DetailLoaded,
    ListCounted,
    ListLoaded,
    LoadFailed,
    PageLoaded,
    SummaryLoaded,
    TokenChecked,
)
from mou_tracker.tui.text import describe_error
from mou_tracker.tui.widgets.commitment_list import CommitmentList
from mou_tracker.tui.widgets.detail import DetailPane
from mou_tracker.tui.widgets.summary import MemoHeader, SummaryStrip

if TYPE_CHECKING:
    from textual.worker import Worker

    from mou_tracker.tui.app import TrackerApp


class SearchInput(Input):
    """The live filter. Down or Enter moves to the table; Escape clears, then leaves."""

    BINDINGS = [
        Binding("down", "app.focus_list", "To the table", show=False, id="search.to_list"),
    ]


class MainScreen(Screen[None]):
    """The tracker at a glance."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]

    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="search"),
        Binding("f", "filters", "Filter", id="filter"),
        Binding("F", "clear_filters", "Clear filters", show=False, id="filter.clear"),
        Binding("d", "toggle_overdue", "Review overdue only", show=False, id="filter.overdue"),
        Binding("s", "change_status", "Status", id="status"),
        Binding("e", "add_evidence", "Evidence", id="evidence"),
        Binding("E", "correct_evidence", "Correct evidence", show=False, id="evidence.correct"),
        Binding(
            "C", "correct_commitment", "Correct commitment", show=False, id="commitment.correct"
        ),
        Binding("n", "add_note", "Note", id="note"),
        Binding("v", "record_review", "Review", show=False, id="review"),
        Binding("t", "set_target", "Target date", show=False, id="target"),
        Binding("u", "undo", "Undo my last action", show=False, id="undo"),
        Binding("colon", "jump", "Jump to a ref", show=False, id="jump"),
        Binding("x", "export", "Export", id="export"),
        Binding("o", "open_evidence", "Open evidence link", show=False, id="open.evidence"),
        Binding("O", "open_source", "Open clause source", show=False, id="open.source"),
        Binding("c,y", "copy_ref", "Copy ref", show=False, id="copy.ref"),
        Binding("z", "toggle_detail", "Detail", show=False, id="detail"),
        Binding("escape", "back", "Back", show=False, id="back"),
        Binding("m", "memorandum", "Memorandum", show=False, id="memorandum"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("0", "sort('position')", "Sort: clause order", show=False, id="sort.position"),
        Binding("1", "sort('ref')", "Sort: ref", show=False, id="sort.ref"),
        Binding("2", "sort('title')", "Sort: title", show=False, id="sort.title"),
        Binding("3", "sort('owners')", "Sort: owners", show=False, id="sort.owners"),
        Binding("4", "sort('strength')", "Sort: strength", show=False, id="sort.strength"),
        Binding("5", "sort('status')", "Sort: status", show=False, id="sort.status"),
        Binding("6", "sort('evidence')", "Sort: evidence count", show=False, id="sort.evidence"),
        Binding("7", "sort('latest')", "Sort: latest evidence", show=False, id="sort.latest"),
        Binding("8", "sort('next_review')", "Sort: next review", show=False, id="sort.next_review"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view_query = ViewQuery()
        self.generation = 0
        self.summary: Summary | None = None
        self.choices = Choices((), ())
        self.detail: CommitmentDetail | None = None
        self.selected_ref: str | None = None
        self.token: tuple[object, ...] | None = None
        self._list_lock = threading.Lock()
        self._viewport: tuple[int, int, int, bool] | None = None
        self._poll_worker: Worker[None] | None = None
        self.saved_views: dict[str, ViewQuery] = {}
        self._own_write_at = 0.0

    @property
    def tracker(self) -> TrackerApp:
        return self.app  # type: ignore[return-value]  # Textual types Screen.app as App[Any]; this screen runs only in TrackerApp

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield MemoHeader(id="memo")
        yield SummaryStrip(Text("Loading…", style="grey62"), id="summary")
        with Horizontal(id="searchbar"):
            yield Static(Text("/", style="bold"), id="search-label")
            yield SearchInput(
                placeholder="search ref, title, summary, owners, evidence titles",
                id="search",
                compact=True,
            )
            yield Static(Text("loading…"), id="showing")
        with Container(id="body"):
            yield CommitmentList(self.tracker.today, page_size=self.tracker.page_size, id="list")
            yield DetailPane(self.tracker.today, id="detail")
        yield Footer(compact=True)  # at 80 columns "? Help" still fits beside "^p palette"

    def on_mount(self) -> None:
        self.query_one(CommitmentList).focus()
        self._show_filters()
        self.reload_list(keep_position=False)
        self._load_summary()
        self._load_choices()
        if self.tracker.poll_seconds:
            self.set_interval(self.tracker.poll_seconds, self._poll, name="poll")
        if self.tracker.engine.dialect.name == "postgresql":
            self._load_identity()
        self._load_views()

    def _load_views(self) -> None:
        from mou_tracker.tui.views import ViewsError, load_views

        try:
            self.saved_views = load_views(self.tracker.actor)
        except ViewsError as exc:
            self.notify(str(exc), title="Saved views", severity="warning", markup=False)

    def action_save_view(self) -> None:
        from mou_tracker.tui.modals.jump import PromptScreen
        from mou_tracker.tui.views import ViewsError, save_view

        query = self.view_query

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                clean = save_view(self.tracker.actor, name, query)
            except ViewsError as exc:
                self.notify(str(exc), title="Not saved", severity="error", markup=False)
                return
            self._load_views()
            self.notify(f"View '{clean}' saved: ctrl+p, then 'View: {clean}'.", markup=False)

        self.app.push_screen(
            PromptScreen("Name this view (search, filters and sort)", "e.g. overdue DSIT"), named
        )

    @property
    def table(self) -> CommitmentList:
        return self.query_one(CommitmentList)

    @property
    def pane(self) -> DetailPane:
        return self.query_one(DetailPane)

    # --- loading (workers) --------------------------------------------------------------------

    def reload_list(self, *, keep_position: bool, locate: str | None = None) -> None:
        self.generation += 1
        self._load_list(self.generation, self.view_query, keep_position, locate)

    @work(thread=True, exclusive=True, group="list", exit_on_error=False)
    def _load_list(
        self, generation: int, query: ViewQuery, keep_position: bool, locate: str | None
    ) -> None:
        worker = get_current_worker()
        app = self.tracker
        size = app.page_size
        with self._list_lock:  # one list query at a time; a superseded one never starts
            if worker.is_cancelled:
                return
            try:
                today = app.today()
                with read(app.engine) as session:
                    index = data.locate(session, query, today, locate) if locate else None
                    page_no = 0 if index is None else index // size
                    page = data.fetch_page(session, query, today, page_no * size, size)
                    if page_no == 0 and len(page.rows) < size:
                        total, exact = len(page.rows), True
                    elif keep_position or page_no:
                        total, exact = data.count(session, query, today), True
                    else:  # show the first page now, count after
                        total, exact = len(page.rows) + 1, False
                self.post_message(
                    ListLoaded(
                        generation, query, page_no, page.rows, total, exact, keep_position, index
                    )
                )
                if exact or worker.is_cancelled:
                    return
                with read(app.engine) as session:
                    total = data.count(session, query, today)
                self.post_message(ListCounted(generation, total))
            except Exception as exc:  # noqa: BLE001 - shown to the person, never a crash
                self.post_message(LoadFailed("list", describe_error(exc)))

    @work(thread=True, group="pages", exit_on_error=False)
    def _load_page(self, generation: int, query: ViewQuery, page: int) -> None:
        app = self.tracker
        if generation != self.generation:
            return
        try:
            with read(app.engine) as session:
                result = data.fetch_page(
                    session, query, app.today(), page * app.page_size, app.page_size
                )
        except Exception as exc:  # noqa: BLE001
            self.post_message(LoadFailed("list", describe_error(exc)))
            return
        self.post_message(PageLoaded(generation, page, result.rows))

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _load_detail(self, ref: str) -> None:
        from mou_tracker.domain.queries import commitment_detail

        try:
            with read(self.tracker.engine) as session:
                detail = commitment_detail(session, ref)
        except Exception as exc:  # noqa: BLE001
            self.post_message(DetailLoaded(ref, None, describe_error(exc)))
            return
        self.post_message(DetailLoaded(ref, detail))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _load_summary(self) -> None:
        try:
            with read(self.tracker.engine) as session:
                summary = data.summary(session, self.tracker.today())
        except Exception as exc:  # noqa: BLE001
            self.post_message(LoadFailed("summary", describe_error(exc)))
            return
        self.post_message(SummaryLoaded(summary))

    @work(thread=True, exclusive=True, group="choices", exit_on_error=False)
    def _load_choices(self) -> None:
        try:
            with read(self.tracker.engine) as session:
                choices = data.choices(session)
        except Exception as exc:  # noqa: BLE001
            self.post_message(LoadFailed("filter choices", describe_error(exc)))
            return
        self.post_message(ChoicesLoaded(choices))

    def _poll(self) -> None:
        # One check at a time: on a slow database a new check must not cancel the one still
        # running, or no check would ever finish and changes from elsewhere would never show.
        if self._poll_worker is not None and not self._poll_worker.is_finished:
            return
        self._poll_worker = self._check_token()

    @work(thread=True, group="poll", exit_on_error=False)
    def _check_token(self) -> None:
        started = time.monotonic()
        try:
            with read(self.tracker.engine) as session:
                token = data.token(session)
        except Exception:  # noqa: BLE001 - the next poll tries again; reads report errors
            return
        self.post_message(TokenChecked(token, started))

    def refresh_all(self) -> None:
        """Everything again from the database, keeping the cursor, scroll and selection."""
        self.reload_list(keep_position=True)
        self._load_summary()
        self._load_choices()
        if self.selected_ref:
            self._load_detail(self.selected_ref)

    # --- message handlers (the only code touching widgets) ------------------------------------

    def on_list_loaded(self, message: ListLoaded) -> None:
        if message.generation != self.generation:
            return
        self.table.reset(
            message.generation,
            message.query,
            message.page,
            message.rows,
            message.total,
            message.exact,
            keep_position=message.keep_position,
        )
        if message.locate is not None:
            self.table.move_to(message.locate)
        self._show_filters()

    def on_list_counted(self, message: ListCounted) -> None:
        self.table.set_total(message.generation, message.total)

    def on_page_loaded(self, message: PageLoaded) -> None:
        self.table.set_page(message.generation, message.page, message.rows)

    def on_commitment_list_page_wanted(self, message: CommitmentList.PageWanted) -> None:
        if message.generation != self.generation:
            return
        self._load_page(message.generation, self.view_query, message.page)

    def on_commitment_list_highlighted(self, message: CommitmentList.Highlighted) -> None:
        row = message.row
        self.refresh_bindings()  # the footer greys out the actions that need a selection
        if row is None:
            self.selected_ref = None
            self.detail = None
            text = (
                "No commitment matches the filter."
                if self.view_query.filtered
                else "No commitments yet."
            )
            self.pane.show_message(text)
            return
        if (
            row.ref != self.selected_ref
            or self.detail is None
            or self.detail.version != row.version
        ):
            self.selected_ref = row.ref
            self._load_detail(row.ref)

    def on_commitment_list_selected(self, message: CommitmentList.Selected) -> None:
        self.action_toggle_detail()

    def on_commitment_list_sort_requested(self, message: CommitmentList.SortRequested) -> None:
        self.action_sort(message.key)

    def on_commitment_list_marks_changed(self, message: CommitmentList.MarksChanged) -> None:
        self._show_filters()

    def on_commitment_list_viewport_changed(self, message: CommitmentList.ViewportChanged) -> None:
        self._viewport = (message.first, message.last, message.total, message.exact)
        self._show_filters()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.ref != self.selected_ref:
            return
        if message.detail is None:
            self.pane.show_message(f"{message.ref}: {message.error}")
            return
        self.detail = message.detail
        self.pane.show(message.detail)
        self._show_memo()

    def on_summary_loaded(self, message: SummaryLoaded) -> None:
        self.summary = message.summary
        if self.token is None:  # afterwards only the poll and our own saves move it
            self.token = message.summary.token
        self.query_one(SummaryStrip).show(message.summary)
        self._show_memo()
        self._show_filters()

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices

    def own_write(self, token: tuple[object, ...] | None) -> None:
        """A form here saved: remember the database's new fingerprint (so the next poll does
        not report our own write as someone else's) and reload."""
        if token is not None:
            self.token = token
        self._own_write_at = time.monotonic()
        self.refresh_all()

    def on_token_checked(self, message: TokenChecked) -> None:
        from mou_tracker.tui.modals.base import FormScreen

        if any(isinstance(s, FormScreen) and s.saving for s in self.app.screen_stack):
            return  # our own save is committing: its result brings the new fingerprint
        if message.started < self._own_write_at:
            return  # read before our own save was taken in: it would report our write as theirs
        if self.token is None:
            self.token = message.token
            return
        if message.token != self.token:
            self.token = message.token
            self.refresh_all()
            self.notify(
                "The tracker changed elsewhere; the view is up to date.",
                title="Refreshed",
                timeout=3,
            )

    def on_load_failed(self, message: LoadFailed) -> None:
        self.notify(
            f"Could not load the {message.what}: {message.error}", severity="error", markup=False
        )

    def _show_memo(self) -> None:
        memos: tuple[MemorandumView, ...] = self.summary.memoranda if self.summary else ()
        memo = self.detail.memorandum if self.detail else (memos[0] if memos else None)
        if memo is None and self.summary is None:
            return
        self.query_one(MemoHeader).show(memo, max(0, len(memos) - 1))

    def _show_filters(self) -> None:
        """The filter in force and "showing N–M of T": always on screen, beside the search."""
        q = self.view_query
        text = Text(no_wrap=True, overflow="ellipsis", justify="right")
        parts = [p for p in q.describe() if not p.startswith("search ")]
        if parts:
            text.append(" · ".join(parts), style="bold gold1")
            text.append(" (F clears)  ", style="grey58")
        elif not q.search.strip():
            text.append("no filter  ", style="grey58")
        if q.sort != "position":
            arrow = "▼" if q.descending else "▲"
            text.append(f"by {SORT_LABELS.get(q.sort, q.sort)} {arrow}  ", style="grey70")
        marked = len(self.table.marked) if self.is_mounted else 0
        if marked:
            text.append(
                f"{marked} marked (v review · n note · e evidence · esc clears)  ", style="bold"
            )
        if self._viewport is None:
            text.append("loading…", style="grey62")
        else:
            first, last, total, exact = self._viewport
            if total == 0:
                text.append("showing 0", style="bold")
            else:
                text.append(f"showing {first:,}–{last:,}", style="bold")
                text.append(f" of {total:,}" if exact else f" of {total - 1:,}+")
            if self.summary is not None and q.filtered:
                text.append(f" ({self.summary.total:,} in all)", style="grey62")
        self.query_one("#showing", Static).update(text)

    # --- search and filters -------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        # The box's value now, not the event's: keys typed fast (or pasted) arrive before their
        # Changed messages, and an old value must never be written back into the box.
        value = event.input.value
        if value == self.view_query.search:
            return
        self.set_query(replace(self.view_query, search=value), from_search_box=True)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def set_query(
        self, query: ViewQuery, *, locate: str | None = None, from_search_box: bool = False
    ) -> None:
        same = query.normalized() == self.view_query.normalized() and locate is None
        self.view_query = query
        search = self.query_one("#search", Input)
        if not from_search_box and search.value != query.search:
            with search.prevent(Input.Changed):
                search.value = query.search
        if same and self.table.loaded:  # e.g. a space typed after a word: same rows
            self.table.view_query = query
        else:
            self.reload_list(keep_position=False, locate=locate)
        self._show_filters()

    def action_focus_search(self) -> None:
        self._restore_layout()
        self.query_one("#search", Input).focus()

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if self.table.marked and self.focused is self.table:
            self.table.clear_marks()
            self.notify("Marks cleared.", timeout=2)
            return
        if self.has_class("-detail-only"):
            self._restore_layout()
            self.table.focus()
        elif search.has_focus and search.value:
            search.value = ""
        elif search.has_focus or self.focused is not self.table:
            self.table.focus()

    def action_filters(self) -> None:
        from mou_tracker.tui.modals.filters import FilterForm

        def done(result: ViewQuery | None) -> None:
            if result is not None and result != self.view_query:
                self.set_query(result)
                words = [p for p in result.describe() if not p.startswith("search ")]
                self.notify("Filter: " + (" · ".join(words) or "none"), timeout=2, markup=False)

        self.app.push_screen(FilterForm(self.view_query, self.choices), done)

    def action_clear_filters(self) -> None:
        if not self.view_query.filtered:
            self.notify("No filter to clear.", timeout=2)
            return
        # the selected row stays selected where it is still shown (every row is, now)
        self.set_query(self.view_query.cleared(), locate=self.selected_ref)
        self.notify("Filters cleared.", timeout=2)

    def action_toggle_overdue(self) -> None:
        on_now = not self.view_query.overdue
        self.set_query(replace(self.view_query, overdue=on_now), locate=self.selected_ref)
        self.notify("Showing reviews overdue only." if on_now else "Overdue filter off.", timeout=2)

    def action_sort(self, key: str) -> None:
        query = self.view_query.with_sort(key)
        self.set_query(query, locate=self.selected_ref)
        arrow = "descending" if query.descending else "ascending"
        self.notify(f"Sorted by {SORT_LABELS.get(key, key)}, {arrow}.", timeout=2)

    def action_refresh(self) -> None:
        self.refresh_all()
        self.notify("Reloaded from the database.", timeout=2)

    def go_to(self, ref: str) -> None:
        """Select ``ref``: in the current list if it is there, else with the filters cleared."""
        self._restore_layout()
        self.table.focus()
        self.set_query(self.view_query.cleared(), locate=ref)

    # --- layout actions -----------------------------------------------------------------------

    def action_toggle_detail(self) -> None:
        if self.has_class("-detail-only"):
            self._restore_layout()
            self.table.focus()
        else:
            self.add_class("-detail-only")
            self.pane.focus()

    def _restore_layout(self) -> None:
        self.remove_class("-detail-only")

    def action_jump(self) -> None:
        from mou_tracker.tui.modals.jump import JumpScreen

        def chosen(ref: str | None) -> None:
            if ref:
                self.go_to(ref)

        self.app.push_screen(JumpScreen(), chosen)

    def action_memorandum(self) -> None:
        from mou_tracker.tui.modals.memorandum import MemorandumScreen

        memo = (
            self.detail.memorandum
            if self.detail
            else (self.summary.memoranda[0] if self.summary and self.summary.memoranda else None)
        )
        if memo is None:
            self.notify("No memorandum loaded yet.", severity="warning")
            return
        self.app.push_screen(MemorandumScreen(memo))

    # --- the selected commitment --------------------------------------------------------------

    # What each write in the UI needs where the database has the tracker's roles (issue 19):
    # the same table the command line uses.
    ACTION_COMMANDS = {
        "change_status": "status",
        "record_review": "review",
        "set_target": "target",
        "correct_commitment": "commitment correct",
        "add_evidence": "evidence add",
        "correct_evidence": "evidence edit",
        "add_note": "note add",
        "export": "export",
    }

    def _identity(self) -> Any:
        """Who the database says we are (PostgreSQL), read once in a worker when the screen
        opens; None on SQLite (which authenticates nobody), until it is read, or when it
        cannot be read."""
        return getattr(self, "_identity_cache", None)

    @work(thread=True, exclusive=True, group="identity", exit_on_error=False)
    def _load_identity(self) -> None:
        try:
            from mou_tracker.storage import roles

            found = roles.identity(self.tracker.engine)
        except Exception:  # noqa: BLE001 - no roles table yet: behave as before
            return
        self.app.call_from_thread(self._identity_loaded, found)

    def _identity_loaded(self, identity: Any) -> None:
        if not hasattr(self, "_identity_cache"):  # a test may have set one already
            self._identity_cache = identity
        self.refresh_bindings()  # the footer dims what this role may not do

    def role_refusal(self, action: str) -> str | None:
        """Why the connected role may not do ``action`` (the database would refuse the save),
        or None when it may."""
        identity = self._identity()
        command = self.ACTION_COMMANDS.get(action)
        if identity is None or command is None or identity.superuser:
            return None
        if not identity.roles_set_up:
            return None
        from mou_tracker.storage.roles import NEEDS

        needed = NEEDS.get(command)
        if needed is None or needed in identity.groups:
            return None
        return (
            f"{command}: needs the {needed} role; you are connected as {identity.role} "
            f"(an administrator can run: mou-tracker roles grant {identity.role} "
            f"{needed.removeprefix('mou_')})"
        )

    def _refused_by_role(self, action: str) -> bool:
        """True (and say why) when the connected role may not do ``action``: the form would
        only be refused by the database when saved."""
        reason = self.role_refusal(action)
        if reason is None:
            return False
        self.notify(reason, title="Not allowed", severity="error", markup=False)
        return True

    def on_key(self, event: events.Key) -> None:
        """A key whose action the role may not do is dimmed in the footer, so Textual does
        not run it; say why instead of doing nothing."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            action = binding.action.removeprefix("screen.")
            if action in self.ACTION_COMMANDS and self._refused_by_role(action):
                event.stop()
                event.prevent_default()
                return

    def _current_detail(self, doing: str) -> CommitmentDetail | None:
        row = self.table.current
        if row is None:
            self.notify(f"Select a commitment to {doing}.", severity="warning")
            return None
        if self.detail is None or self.detail.ref != row.ref:
            self.notify(
                f"{row.ref} is still loading; try again in a moment.",
                severity="warning",
                markup=False,
            )
            return None
        return self.detail

    def _after_write(self, message: str | None) -> None:
        if message is None:
            return
        self.notify(message, title="Saved", markup=False)

    def action_change_status(self) -> None:
        from mou_tracker.tui.modals.status import StatusForm

        if self._refused_by_role("change_status"):
            return
        detail = self._current_detail("change its status")
        if detail is None:
            return
        if detail.strength == "vision":  # the domain refuses it: say so instead of a dead form
            self.notify(
                f"status: {detail.ref} is a vision clause: it is shown but not scored",
                title="Refused",
                severity="error",
                markup=False,
            )
            return
        self.app.push_screen(StatusForm(detail), self._after_write)

    def action_add_evidence(self) -> None:
        from mou_tracker.tui.modals.evidence import EvidenceForm

        if self._refused_by_role("add_evidence"):
            return
        if self.table.marked:
            from mou_tracker.tui.modals.batch import BatchEvidenceForm

            rows = list(self.table.marked.values())
            self.app.push_screen(BatchEvidenceForm(rows), self._batch_done)  # type: ignore[arg-type]  # the batch form returns a message, not a record
            return
        detail = self._current_detail("add evidence")
        if detail is None:
            return

        def done(result: Any) -> None:
            if result is not None:
                self._after_write(f"Evidence #{result.id} added to {detail.ref}: {result.title}")

        self.app.push_screen(EvidenceForm(detail), done)

    def action_correct_evidence(self) -> None:
        from mou_tracker.tui.modals.evidence import CorrectEvidenceForm

        if self._refused_by_role("correct_evidence"):
            return
        detail = self._current_detail("correct its evidence")
        if detail is None:
            return
        item = self.pane.highlighted_evidence
        if item is None:
            self.notify(
                f"{detail.ref} has no evidence to correct; e adds some.",
                severity="warning",
                markup=False,
            )
            return
        listing = self.pane.query_one("#detail-evidence")
        if len(self.pane.evidence) > 1 and not listing.has_focus:
            # A faint highlight is no choice: let the person pick the record first.
            if self.has_class("-detail-only") is False:
                self.pane.scroll_to_widget(listing, animate=False)
            listing.focus()
            self.notify(
                f"Which evidence of {detail.ref}? Highlight it with ↑/↓, then press E again.",
                title="Correct evidence",
                markup=False,
            )
            return

        def done(result: Any) -> None:
            if result is not None:
                self._after_write(
                    f"Evidence #{result.id} on {detail.ref} corrected; the old values are kept."
                )

        self.app.push_screen(CorrectEvidenceForm(detail, item), done)

    def action_correct_commitment(self) -> None:
        from mou_tracker.tui.modals.commitment import CorrectCommitmentForm

        if self._refused_by_role("correct_commitment"):
            return
        detail = self._current_detail("correct it")
        if detail is not None:
            self.app.push_screen(CorrectCommitmentForm(detail), self._after_write)

    def action_add_note(self) -> None:
        from mou_tracker.tui.modals.note import NoteForm

        if self._refused_by_role("add_note"):
            return
        if self.table.marked:
            from mou_tracker.tui.modals.batch import BatchNoteForm

            rows = list(self.table.marked.values())
            self.app.push_screen(BatchNoteForm(rows), self._batch_done)
            return
        detail = self._current_detail("add a note")
        if detail is not None:
            self.app.push_screen(NoteForm(detail), self._after_write)

    def _batch_done(self, message: str | None) -> None:
        if message is not None:
            self.table.clear_marks()
            self._after_write(message)

    def action_record_review(self) -> None:
        from mou_tracker.tui.modals.review import ReviewForm

        if self._refused_by_role("record_review"):
            return
        if self.table.marked:
            from mou_tracker.tui.modals.batch import BatchReviewForm

            rows = list(self.table.marked.values())
            self.app.push_screen(BatchReviewForm(rows), self._batch_done)
            return
        detail = self._current_detail("record a review")
        if detail is not None:
            self.app.push_screen(ReviewForm(detail), self._after_write)

    def action_undo(self) -> None:
        from mou_tracker.tui.modals.undo import UndoForm

        stack = self.tracker.undo_stack
        if not stack:
            self.notify(
                "Nothing to undo: this session has added no note, evidence or status change "
                "yet (reviews, targets and corrections are not undone; record another).",
                severity="warning",
            )
            return
        item = stack[-1]

        def done(message: str | None) -> None:
            if message is None:
                return
            if stack and stack[-1] is item:
                stack.pop()
            self._after_write(message)

        self.app.push_screen(UndoForm(item), done)

    def action_set_target(self) -> None:
        from mou_tracker.tui.modals.target import TargetForm

        if self._refused_by_role("set_target"):
            return
        detail = self._current_detail("set its target date")
        if detail is None:
            return
        if detail.strength == "vision":
            self.notify(
                f"target: {detail.ref} is a vision clause: it has no target",
                title="Refused",
                severity="error",
                markup=False,
            )
            return
        self.app.push_screen(TargetForm(detail), self._after_write)

    def action_export(self) -> None:
        from mou_tracker.tui.modals.export import ExportForm

        if self._refused_by_role("export"):
            return

        def done(message: str | None) -> None:
            if message:
                self.notify(message, title="Exported", markup=False)

        self.app.push_screen(ExportForm(), done)

    def action_open_evidence(self) -> None:
        item = self.pane.highlighted_evidence
        if item is None:
            if self.detail is not None:
                self.notify(
                    f"{self.detail.ref} has no evidence yet; O opens the clause source.",
                    severity="warning",
                    markup=False,
                )
            return
        self.tracker.open_link(item.url, f"evidence #{item.id}")

    def action_open_source(self) -> None:
        if self.detail is not None:
            self.tracker.open_link(self.detail.source_url, f"the source of {self.detail.ref}")

    @on(OptionList.OptionSelected, "#detail-evidence")
    def _evidence_chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_open_evidence()

    def action_copy_ref(self) -> None:
        row = self.table.current
        if row is None:
            return
        self.app.copy_to_clipboard(row.ref)
        self.notify(f"Copied {row.ref} to the clipboard.", timeout=2, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.ACTION_COMMANDS and self.role_refusal(action) is not None:
            return None  # shown dimmed; pressing it says why (on_key)
        if action in (
            "change_status",
            "add_evidence",
            "correct_evidence",
            "correct_commitment",
            "add_note",
            "record_review",
            "set_target",
            "copy_ref",
            "open_evidence",
            "open_source",
        ):
            return True if self.table.current is not None else None
        return True
