"""How a batch evidence link and an undo look (issue 18, items 9 and 10), with the real MoU and
a fixed "today". Update after a deliberate change of look:
pytest tests/tui/test_snapshots_batch_undo.py --snapshot-update (then check the SVGs by eye).
Print them as text: python -m tests.tui.test_snapshots_batch_undo DB_FILE
"""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import settle
from textual.widgets import Input, Select, TextArea


def batch_evidence(app: Any) -> None:
    screen = app.screen
    screen.query_one("#url", Input).value = "https://www.gov.uk/government/news/compute-roadmap"
    screen.query_one("#title", Input).value = "UK compute roadmap names Stargate UK sites"
    screen.query_one("#publisher", Input).value = "DSIT"
    screen.query_one("#published", Input).value = "20 Nov 2026"
    screen.query_one("#direction", Select).value = "progress"
    screen.query_one("#confidence", Select).value = "primary"


async def before_batch(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.main.go_to("OAI-3.1")
    await settle(pilot)
    await pilot.press("space", "space", "space", "e")
    await settle(pilot)
    batch_evidence(pilot.app)
    pilot.app.clear_notifications()
    await settle(pilot)


async def before_undo(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.main.go_to("OAI-2.1")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    pilot.app.screen.query_one("#visibility", Select).value = "public"
    pilot.app.screen.query_one("#body", TextArea).text = "Ask **DSIT** for the site list"
    await pilot.press("ctrl+s")
    await settle(pilot)
    await pilot.press("u")
    await settle(pilot)
    pilot.app.screen.query_one("#undo_reason", Input).value = "Meant for OAI-3.1"
    pilot.app.clear_notifications()  # the note's "Saved" toast would time out at any moment
    await settle(pilot)


def test_batch_evidence_form(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(make_app(shipped_sqlite), terminal_size=(110, 40), run_before=before_batch)


def test_undo_form(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(make_app(shipped_sqlite), terminal_size=(110, 36), run_before=before_undo)


async def _print(url: str) -> None:
    from tests.tui.conftest import TODAY
    from tests.tui.helpers import RecordingApp
    from tests.tui.screens_as_text import screen_text

    from mou_tracker.storage.engine import make_engine

    for size, before in (((110, 40), before_batch), ((110, 36), before_undo)):
        app = RecordingApp(make_engine(url), actor="pm", today=TODAY, poll_seconds=0)
        async with app.run_test(size=size) as pilot:
            await before(pilot)
            print(screen_text(app))
            await pilot.press("ctrl+s")
            await settle(pilot)
            print("\n".join(n[2] for n in app.notices[-1:]))
            print()


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(_print(f"sqlite:///{sys.argv[1]}"))
