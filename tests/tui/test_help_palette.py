"""Discoverable: footer, help screen with every binding, tracker commands in the palette."""

from __future__ import annotations

from tests.tui.helpers import plain, settle, type_text  # noqa: F401

from mou_tracker.tui.screens.help import HelpScreen, _display


async def test_help_lists_every_binding_that_is_active(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        active = dict(app.active_bindings)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from mou_tracker.tui.screens.help import help_text

        text = help_text().plain
        for key, binding in active.items():
            if key == "super+c":
                continue  # the macOS spelling of ctrl+c
            assert _display(key) in text, (
                f"{key} ({binding.binding.description}) is not in the help"
            )
        for words in (
            "ctrl+s",
            "Save",
            "ctrl+n",
            "New evidence",
            "Tick or untick",
            "Open the evidence in the browser",
        ):
            assert words in text
        await pilot.press("escape")
        assert app.screen is app.main
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_footer_shows_the_main_keys(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        shown = {b.binding.description for b in app.active_bindings.values() if b.binding.show}
        assert {"Search", "Filter", "Status", "Evidence", "Note", "Export", "Help", "Quit"} <= shown


async def test_palette_runs_tracker_commands_and_finds_commitments(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "by stat")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.view_query.sort == "status"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "AISI")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.view_query.owner == "AISI"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "OAI-P4")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.view_query.owner is None  # go to clears the filters
        assert app.main.table.current.ref == "OAI-P4" and app.main.detail.ref == "OAI-P4"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "change sta")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        from mou_tracker.tui.modals.status import StatusForm

        assert isinstance(app.screen, StatusForm) and app.screen.detail.ref == "OAI-P4"


async def test_memorandum_screen(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        text = plain(app.screen.query_one("Static"))
        from mou_tracker.domain.queries import memoranda
        from mou_tracker.storage.engine import read

        with read(shipped_sqlite) as session:
            memo = memoranda(session)[0]
        assert memo.legal_status in text
        assert all(name in text for name, _, _ in memo.signatories)
        await pilot.press("escape")
        assert app.screen is app.main
