"""A virtual table of commitments: it knows how many rows the query has, holds only the pages
around what is on screen, and asks its screen for missing pages (which a worker fetches).

Why not ``DataTable``: it measures every cell it holds, so 100,000 rows take seconds to add and
a full copy in memory; here the scrollbar spans every row but at most ``MAX_PAGES`` pages of
``page_size`` rows are held, and drawing a line costs the same at row 5 and row 99,999.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mou_tracker.domain.queries import CommitmentRow
from mou_tracker.tui.data import COLUMNS, PAGE_SIZE, ViewQuery
from mou_tracker.tui.text import SIGNAL_STYLES, STRENGTH_STYLES, day, status_text

MAX_PAGES = 6  # pages held: what is on screen plus a margin either side
TITLE_MIN = 24


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width: int  # 0: takes the remaining width
    keep: int  # lower is kept longer when the terminal is narrow
    right: bool = False


SPEC = {
    "ref": Column("ref", "Ref", 10, 0),
    "title": Column("title", "Title", 0, 0),
    "status": Column("status", "Status", 13, 0),
    "next_review": Column("next_review", "Next review", 11, 1),
    "owners": Column("owners", "Owners", 14, 2),
    "evidence": Column("evidence", "Ev", 3, 3, right=True),
    "latest": Column("latest", "Latest ev.", 10, 4),
    "strength": Column("strength", "Strength", 8, 5),
}
ORDER = tuple(key for key, _ in COLUMNS)


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns that fit ``width``, in display order, with their widths."""
    chosen = [c for c in SPEC.values() if c.keep == 0]
    spare = width - 1 - sum(c.width + 1 for c in chosen if c.width)
    for column in sorted((c for c in SPEC.values() if c.keep), key=lambda c: c.keep):
        if spare - (column.width + 1) >= TITLE_MIN + 1:
            chosen.append(column)
            spare -= column.width + 1
    title = max(8, spare - 1)
    keys = {c.key for c in chosen}
    return [(SPEC[k], SPEC[k].width or title) for k in ORDER if k in keys]


def owners_text(row: CommitmentRow) -> Text:
    text = Text()
    leads = [o.code for o in row.owners if o.role == "lead"]
    supports = [o.code for o in row.owners if o.role != "lead"]
    text.append(", ".join(leads))
    if supports:
        text.append((", " if leads else "") + ", ".join(supports), style="grey58")
    return text


def cell(row: CommitmentRow, key: str, today: date) -> Text:
    if key == "ref":
        return Text(row.ref, style="bold")
    if key == "title":
        return Text(row.title)
    if key == "owners":
        return owners_text(row)
    if key == "strength":
        return Text(row.strength, style=STRENGTH_STYLES.get(row.strength, ""))
    if key == "status":
        return status_text(row.status, row.strength)
    if key == "evidence":
        return Text(
            str(row.evidence_count), style="" if row.evidence_count else SIGNAL_STYLES["muted"]
        )
    if key == "latest":
        return Text(
            day(row.latest_evidence), style="" if row.latest_evidence else SIGNAL_STYLES["muted"]
        )
    if key == "next_review":
        if row.strength == "vision" or row.next_review is None:
            return Text("—", style=SIGNAL_STYLES["muted"])
        if row.overdue(today):
            return Text(day(row.next_review) + "!", style=SIGNAL_STYLES["overdue"])
        return Text(day(row.next_review))
    raise KeyError(key)


def fit(text: Text, width: int, right: bool = False) -> Text:
    text = text.copy()
    text.no_wrap = True
    text.truncate(width, overflow="ellipsis")
    pad = width - text.cell_len
    if pad > 0:
        if right:
            text = Text(" " * pad) + text
        else:
            text.append(" " * pad)
    return text


class CommitmentList(ScrollView, can_focus=True, inherit_bindings=False):
    """The commitments table. Rows come in pages through :meth:`set_page`."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="list.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="list.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("space", "toggle_mark", "Mark", show=False, id="list.mark"),
        Binding("V", "mark_range", "Mark range", show=False, id="list.mark_range"),
        Binding("home,g", "jump(0)", "First row", show=False, id="list.first"),
        Binding("end,G", "jump(-1)", "Last row", show=False, id="list.last"),
        Binding("enter", "select", "Detail", show=False, id="list.select"),
    ]

    COMPONENT_CLASSES = {
        "clist--header",
        "clist--sorted",
        "clist--cursor",
        "clist--cursor-blurred",
        "clist--placeholder",
    }

    DEFAULT_CSS = """
    CommitmentList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        background: $surface;
    }
    CommitmentList > .clist--header { text-style: bold; color: $text-accent; background: $panel; }
    CommitmentList > .clist--sorted { text-style: bold reverse; color: $text-accent; }
    CommitmentList > .clist--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    CommitmentList > .clist--cursor-blurred { background: $block-cursor-blurred-background; }
    CommitmentList > .clist--placeholder { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class PageWanted(Message):
        def __init__(self, generation: int, page: int) -> None:
            super().__init__()
            self.generation = generation
            self.page = page

    class Highlighted(Message):
        def __init__(self, row: CommitmentRow | None, index: int) -> None:
            super().__init__()
            self.row = row
            self.index = index

    class Selected(Message):
        def __init__(self, row: CommitmentRow) -> None:
            super().__init__()
            self.row = row

    class SortRequested(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class MarksChanged(Message):
        """The marked commitments (for a batch) changed."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class ViewportChanged(Message):
        def __init__(self, first: int, last: int, total: int, exact: bool) -> None:
            super().__init__()
            self.first = first
            self.last = last
            self.total = total
            self.exact = exact

    def __init__(
        self,
        today: Callable[[], date],
        *,
        page_size: int = PAGE_SIZE,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._today = today
        self.page_size = page_size
        self.generation = 0
        self.total = 0
        self.exact = True
        self.view_query = ViewQuery()
        self.loaded = False
        self._pages: OrderedDict[int, tuple[CommitmentRow, ...]] = OrderedDict()
        self._stale: dict[int, tuple[CommitmentRow, ...]] = {}
        self._wanted: set[int] = set()
        self._posted: tuple[str, int] | None = None
        self._viewport: tuple[int, int, int, bool] | None = None
        # Marked for a batch, by ref, with the row as it was when marked (its version is the
        # one a batch write checks). Kept across filters and sorts.
        self.marked: dict[str, CommitmentRow] = {}
        self._anchor: int | None = None

    # --- marks (batches) ----------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        if row.ref in self.marked:
            del self.marked[row.ref]
        else:
            self.marked[row.ref] = row
        self._anchor = self.cursor
        self.post_message(self.MarksChanged(len(self.marked)))
        self.move_to(self.cursor + 1)
        self.refresh()

    def action_mark_range(self) -> None:
        """Mark every row from the last one marked (or the top) to the cursor."""
        start = self._anchor if self._anchor is not None else 0
        low, high = sorted((start, self.cursor))
        for index in range(low, high + 1):
            row = self.row_at(index)
            if row is not None:
                self.marked.setdefault(row.ref, row)
        self._anchor = self.cursor
        self.post_message(self.MarksChanged(len(self.marked)))
        self.refresh()

    def clear_marks(self) -> None:
        self.marked.clear()
        self._anchor = None
        self.post_message(self.MarksChanged(0))
        self.refresh()

    # --- data in ------------------------------------------------------------------------------

    def reset(
        self,
        generation: int,
        query: ViewQuery,
        page: int,
        rows: tuple[CommitmentRow, ...],
        total: int,
        exact: bool,
        *,
        keep_position: bool,
    ) -> None:
        """A new result set (new filter or sort, or a refresh): one page is given, the rest is
        fetched on demand. With ``keep_position`` the cursor and scroll stay and the old rows
        stay on screen until their fresh pages arrive (no flicker on a background refresh)."""
        self.generation = generation
        self.view_query = query
        self._stale = dict(self._pages) if keep_position else {}
        self._pages = OrderedDict()
        self._wanted = set()
        self._pages[page] = rows
        if keep_position and not exact:
            total = max(total, self.total)  # keep the scroll range until the count arrives
        self.total = total
        self.exact = exact
        self.loaded = True
        self._update_size()
        if not keep_position:
            self._posted = None
            self.scroll_to(y=0, animate=False)
            self.cursor = 0
        else:
            self.cursor = min(self.cursor, max(0, self.total - 1))
        self._lines_changed()

    def set_total(self, generation: int, total: int) -> None:
        if generation != self.generation:
            return
        self.total = total
        self.exact = True
        self._update_size()
        if self.cursor >= total:
            self.cursor = max(0, total - 1)
        self._lines_changed()

    def set_page(self, generation: int, page: int, rows: tuple[CommitmentRow, ...]) -> None:
        if generation != self.generation:
            return
        self._wanted.discard(page)
        self._stale.pop(page, None)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        if not self.exact and len(rows) == self.page_size:
            self.total = max(self.total, (page + 1) * self.page_size + 1)
            self._update_size()
        self._evict()
        self._lines_changed()

    def row_at(self, index: int) -> CommitmentRow | None:
        if index < 0 or index >= self.total:
            return None
        page, slot = divmod(index, self.page_size)
        rows = self._pages.get(page)
        if rows is None:
            rows = self._stale.get(page)
            self._want(page)
        else:
            self._pages.move_to_end(page)
        if rows is None or slot >= len(rows):
            return None
        return rows[slot]

    @property
    def current(self) -> CommitmentRow | None:
        return self.row_at(self.cursor)

    @property
    def held_rows(self) -> int:
        return sum(len(r) for r in self._pages.values()) + sum(len(r) for r in self._stale.values())

    def _want(self, page: int) -> None:
        if page in self._wanted or page in self._pages:
            return
        self._wanted.add(page)
        self.post_message(self.PageWanted(self.generation, page))

    def _visible_pages(self) -> set[int]:
        top = int(self.scroll_y)
        bottom = top + self._body_height()
        return {p for p in range(top // self.page_size, bottom // self.page_size + 1)} | {
            self.cursor // self.page_size
        }

    def _evict(self) -> None:
        keep = self._visible_pages()
        while len(self._pages) > MAX_PAGES:
            for page in self._pages:
                if page not in keep:
                    del self._pages[page]
                    break
            else:
                break

    # --- geometry -----------------------------------------------------------------------------

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        # a short list gives its spare lines to the detail below it (stacked layout)
        self.styles.max_height = max(4, self.total + 2)

    def on_resize(self, event: events.Resize) -> None:
        self._update_size()
        self._scroll_to_cursor()
        self._lines_changed()

    def _scroll_to_cursor(self) -> None:
        height = self._body_height()
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._lines_changed()

    def _lines_changed(self) -> None:
        self.refresh()
        self._post_highlight()
        self._post_viewport()

    def _post_viewport(self) -> None:
        top = int(self.scroll_y)
        last = min(self.total, top + self._body_height())
        state = (min(top + 1, last), last, self.total, self.exact)
        if state != self._viewport:
            self._viewport = state
            self.post_message(self.ViewportChanged(*state))

    def _post_highlight(self) -> None:
        if not self.loaded:
            return
        row = self.current
        if row is None and self.total:
            return  # its page is on the way; posted when it lands
        key = (row.ref, row.version) if row else ("", 0)
        if key != self._posted:
            self._posted = key
            self.post_message(self.Highlighted(row, self.cursor))

    # --- movement -----------------------------------------------------------------------------

    def watch_cursor(self, value: int) -> None:
        self._scroll_to_cursor()
        self._lines_changed()

    def move_to(self, index: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, index))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self._body_height() - 1))

    def action_jump(self, where: int) -> None:
        self.move_to(self.total - 1 if where < 0 else where)

    def action_select(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Selected(row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 1
            for column, width in layout(self.scrollable_content_region.width):
                if x <= offset.x < x + width + 1:
                    self.post_message(self.SortRequested(column.key))
                    return
                x += width + 1
            return
        index = int(self.scroll_y) + offset.y - 1
        if index < self.total:
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.move_to(index)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout(width)
        if y == 0:
            return self._header(columns, width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        row = self.row_at(index)
        base = self.rich_style
        on_cursor = index == self.cursor
        if on_cursor:
            name = "clist--cursor" if self.has_focus else "clist--cursor-blurred"
            base = base + self.get_component_rich_style(name)
            palette = getattr(self.app, "palette", None)
            if palette is not None:  # one colour measured against the highlight (issue 18)
                fg, bg = (
                    (palette.cursor_fg, palette.cursor_bg)
                    if self.has_focus
                    else (palette.blurred_fg, palette.blurred_bg)
                )
                base = base + Style(color=fg, bgcolor=bg)
        if row is None:
            style = base + self.get_component_rich_style("clist--placeholder")
            return Strip([Segment(" …".ljust(width), style)], width)
        today = self._today()
        line = Text(no_wrap=True)
        line.append("●" if row.ref in self.marked else " ", style="bold")
        for column, col_width in columns:
            value = cell(row, column.key, today)
            if on_cursor:  # the row's own colours would vanish on the highlight: words only
                bold = column.key in ("ref", "status") or value.plain.endswith("!")
                value = Text(value.plain, style="bold" if bold else "")
            line.append_text(fit(value, col_width, column.right))
            line.append(" ")
        return self._strip(line, width, base)

    def _header(self, columns: list[tuple[Column, int]], width: int) -> Strip:
        base = self.rich_style + self.get_component_rich_style("clist--header")
        sorted_style = self.get_component_rich_style("clist--sorted")
        line = Text(" ", no_wrap=True)
        for column, col_width in columns:
            heading = column.heading
            if column.key == self.view_query.sort:
                heading = f"{heading}{'▼' if self.view_query.descending else '▲'}"
                line.append_text(fit(Text(heading, style=sorted_style), col_width, column.right))
            else:
                line.append_text(fit(Text(heading), col_width, column.right))
            line.append(" ")
        return self._strip(line, width, base)

    def _strip(self, line: Text, width: int, base: Style) -> Strip:
        line.truncate(width, pad=True)
        segments = [
            Segment(seg.text, base + seg.style if seg.style else base)
            for seg in line.render(self.app.console)
            if seg.text != "\n"
        ]
        return Strip(segments, width).crop(0, width)
