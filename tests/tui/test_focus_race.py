"""Issue 18, item 2: keys typed with no pause after Tab land in the next field, even when the
event loop is slow (a loaded machine: every live check takes a while)."""

from __future__ import annotations

import time

from tests.tui.helpers import settle
from tests.tui.test_forms import open_on
from textual import events
from textual.widgets import Input

from mou_tracker.tui.modals.base import FormScreen

NAMES = {" ": "space", "/": "slash", ":": "colon", ".": "full_stop", "-": "minus"}


def burst(app, *keys: str | tuple[str, str | None]) -> None:  # type: ignore[no-untyped-def]
    """Send keys the way one read from a terminal delivers them: all at once, no waiting."""
    for key in keys:
        name, char = key if isinstance(key, tuple) else (key, None)
        event = events.Key(name, char)
        event.set_sender(app)
        app._driver.send_message(event)


def typed(text: str) -> list[tuple[str, str | None]]:
    return [(NAMES.get(c, c), c) for c in text]


async def test_keys_after_tab_go_to_the_next_field_under_a_throttled_loop(
    shipped, make_app, monkeypatch
):
    slow = FormScreen.recheck

    def throttled(self, name):  # type: ignore[no-untyped-def]
        time.sleep(0.02)  # the live checks of a busy machine: the loop falls behind the keys
        slow(self, name)

    monkeypatch.setattr(FormScreen, "recheck", throttled)
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.3")
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert app.focused is form.query_one("#url", Input)
        burst(
            app,
            *typed("https://x.org/u5"),
            "tab",
            *typed("Title5"),
            "tab",
            *typed("Pub5"),
            "tab",
            *typed("2026-01-06"),
        )
        await settle(pilot)
        for _ in range(20):
            await pilot.pause(0.05)
        values = {n: form.query_one(f"#{n}", Input).value for n in ("url", "title", "publisher")}
        assert values == {"url": "https://x.org/u5", "title": "Title5", "publisher": "Pub5"}
        assert form.query_one("#published", Input).value == "2026-01-06"
        # shift+tab goes back the same way
        burst(app, "shift+tab", *typed("X"))
        await settle(pilot)
        for _ in range(10):
            await pilot.pause(0.05)
        assert form.query_one("#published", Input).value == "2026-01-06"
        assert form.query_one("#publisher", Input).value.endswith("X")  # focus selects the text
