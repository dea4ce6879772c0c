"""Issue 18, item 12 (and ctrl+z from item 8): help can be searched and scrolled with j/k/g/G,
the detail scrolls with them too, and ':' jumps to a ref."""

from __future__ import annotations

import io

from tests.tui.helpers import settle, type_text
from textual.widgets import Input

from mou_tracker.tui.screens.help import HelpScreen, help_lines, help_table, matches


def rendered(renderable) -> str:  # type: ignore[no-untyped-def]
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_help_search_keeps_only_matching_rows() -> None:
    rows = help_lines()
    found = [row for row in rows if matches(row, "target")]
    assert found and all("target" in " ".join(r).lower() for r in found)
    assert len(found) < len(rows)
    assert any(keys == "t" for _, keys, _ in found)
    assert "No key matches 'zzzz'." in rendered(help_table("zzzz"))


async def test_help_is_searched_and_scrolled_with_vim_keys(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        area = app.screen.query_one("#help")
        await pilot.press("G")
        await pilot.pause()
        assert area.scroll_y > 0 and area.scroll_y == area.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert area.scroll_y == 0
        await pilot.press("j")
        await pilot.pause()
        assert area.scroll_y > 0
        await pilot.press("slash")
        await type_text(pilot, "range")
        await pilot.pause()
        shown = rendered(app.screen.query_one("#help-text").content)
        assert "Mark range" in shown and "Export" not in shown
        await pilot.press("escape")  # clears the search first
        assert app.screen.query_one("#help-search", Input).value == ""
        await pilot.press("escape")
        assert app.screen is app.main


async def test_colon_jumps_to_a_ref_and_the_detail_scrolls_with_j_and_g(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        await type_text(pilot, "oai-p4")
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.table.current.ref == "OAI-P4"
        assert app.main.detail.ref == "OAI-P4"
        await pilot.press("z")  # the detail, full screen
        await pilot.pause()
        pane = app.main.pane
        await pilot.press("G")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert pane.scroll_y == 0
        await pilot.press("j", "j")
        await pilot.pause()
        assert pane.scroll_y > 0


def test_ctrl_z_suspends() -> None:
    from mou_tracker.tui.app import TrackerApp

    keys = {b.key: b.action for b in TrackerApp.BINDINGS if hasattr(b, "key")}
    assert keys["ctrl+z"] == "suspend_process"
