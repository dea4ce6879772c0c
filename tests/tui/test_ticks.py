"""Issue 18, item 8: a ticked box and an unticked one differ in their character, not only in
colour (monochrome terminals, colour-blind readers)."""

from __future__ import annotations

from tests.tui.helpers import settle
from tests.tui.test_forms import open_on

from mou_tracker.tui.widgets.ticks import TICKED, TickList


async def test_ticked_boxes_show_a_tick_and_unticked_ones_are_blank(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(110, 40)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("s")
        await settle(pilot)
        listing = app.screen.query_one("#evidence", TickList)
        first = listing.get_option_at_index(0)
        assert listing.render_line(0).text.startswith("▐ ▌")
        listing.select(first.value)
        await pilot.pause()
        assert listing.render_line(0).text.startswith(f"▐{TICKED}▌")
        assert not listing.render_line(1).text.startswith(f"▐{TICKED}▌")
