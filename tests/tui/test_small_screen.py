"""Issue 18, item 6: at 80×24 every form keeps its Save/Cancel row on screen and the footer keeps
"? Help"."""

from __future__ import annotations

import pytest
from tests.tui.helpers import settle
from tests.tui.test_forms import open_on
from textual.widgets import Footer


def inside(region, screen_region) -> bool:  # type: ignore[no-untyped-def]
    return (
        region.y >= screen_region.y + 1
        and region.bottom <= screen_region.bottom - 1  # not on the border row
        and region.height > 0
    )


@pytest.mark.parametrize("key", ["s", "e", "n", "v", "x", "t"])
async def test_every_form_fits_80x24(shipped, make_app, key):
    app = make_app(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press(key)
        await settle(pilot)
        form = app.screen
        assert form is not app.main
        frame = form.query_one("#form").region
        for widget in ("#form-save", "#form-cancel", "#form-keys"):
            region = form.query_one(widget).region
            assert inside(region, frame), (key, widget, region, frame)
        fields = form.query_one("#form-fields").region
        assert fields.bottom <= form.query_one("#form-buttons").region.y


async def test_a_long_refusal_still_leaves_the_buttons_on_screen(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        form.query_one("#status").value = "met"
        await pilot.press("ctrl+s")  # refused: no reason, no evidence
        await settle(pilot)
        frame = form.query_one("#form").region
        assert form.query_one("#form-error").region.height >= 1
        assert inside(form.query_one("#form-save").region, frame)


async def test_the_footer_keeps_help_at_80_columns(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = {k.key: k.region for k in app.main.query_one(Footer).children if hasattr(k, "key")}
        help_region = keys["question_mark"]
        assert help_region.right <= 80 and help_region.width > 0
        # nothing drawn over it (the palette key is docked at the right edge)
        others = [r for k, r in keys.items() if k != "question_mark"]
        assert not any(r.overlaps(help_region) for r in others)
