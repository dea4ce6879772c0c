"""How it looks, with the real MoU (commitments.toml) and a fixed "today" (2026-11-27).

Update after a deliberate change of look: pytest tests/tui/test_snapshots.py --snapshot-update
(then open the report or the SVGs and check them by eye).
"""

from __future__ import annotations

from tests.tui.helpers import settle
from textual.widgets import Input, Select, SelectionList, TextArea


def on(ref: str, *keys: str, then=None):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        pilot.app.main.go_to(ref)
        await settle(pilot)
        for key in keys:  # one at a time: a key may open a screen the next key is meant for
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            then(pilot.app)
            await settle(pilot)

    return run_before


def test_main_screen(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(make_app(shipped_sqlite), terminal_size=(120, 36), run_before=on("OAI-3.1"))


def test_main_screen_80x24(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(make_app(shipped_sqlite), terminal_size=(80, 24), run_before=on("OAI-3.1"))


def test_main_screen_wide_filtered(snap_compare, shipped_sqlite, make_app):
    def filtered(app) -> None:  # type: ignore[no-untyped-def]
        from dataclasses import replace

        app.main.set_query(
            replace(app.main.view_query, search="infrastructure", status=("stalled",))
        )

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(170, 40), run_before=on("OAI-3.1", then=filtered)
    )


def test_detail_view(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(100, 60), run_before=on("OAI-3.1", "z")
    )


def test_status_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#status", Select).value = "in_progress"
        app.screen.query_one("#reason", Input).value = "Stargate UK works resumed at Cobalt Park"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 36), run_before=on("OAI-3.1", "s", then=fill)
    )


def test_evidence_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        screen = app.screen
        screen.query_one("#url", Input).value = "https://news.example.org/stargate resumes"
        screen.query_one("#title", Input).value = "Stargate UK resumes [bold]at[/] Cobalt Park"
        screen.query_one("#publisher", Input).value = "Example News"
        screen.query_one("#published", Input).value = "10 July 2026"
        screen.query_one("#direction", Select).value = "progress"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 36), run_before=on("OAI-3.1", "e", then=fill)
    )


def test_correct_evidence_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#confidence", Select).value = "unverified"
        app.screen.query_one("#reason", Input).value = "Only a copy was seen, not the Guardian page"

    assert snap_compare(
        make_app(shipped_sqlite),
        terminal_size=(110, 38),
        run_before=on("OAI-3.1", "E", "E", then=fill),
    )


def test_note_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#visibility", Select).value = "internal"
        app.screen.query_one(
            "#body", TextArea
        ).text = "Ask NECA for the Cobalt Park meeting log.\nThen update the status."

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 30), run_before=on("OAI-3.1", "n", then=fill)
    )


def test_review_form(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 24), run_before=on("OAI-3.2", "v")
    )


def test_export_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#since", Input).value = "1 June 2026"
        app.screen.query_one("#formats", SelectionList).deselect("csv")

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 30), run_before=on("OAI-3.1", "x", then=fill)
    )


def test_filter_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#status", SelectionList).select("stalled")
        app.screen.query_one("#owner", Select).value = "OPENAI"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 32), run_before=on("OAI-3.1", "f", then=fill)
    )


def test_help_screen(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(110, 50), run_before=on("OAI-3.1", "question_mark")
    )


# --- issue 18 ---------------------------------------------------------------------------------


def test_status_form_80x24(snap_compare, shipped_sqlite, make_app):
    """The Save/Cancel row and the key hints stay on screen; the fields scroll."""

    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#status", Select).value = "in_progress"
        app.screen.query_one("#reason", Input).value = "Stargate UK works resumed at Cobalt Park"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(80, 24), run_before=on("OAI-2.1", "s", then=fill)
    )


def test_main_screen_200x60(snap_compare, shipped_sqlite, make_app):
    assert snap_compare(make_app(shipped_sqlite), terminal_size=(200, 60), run_before=on("OAI-3.1"))


def test_main_screen_light_theme(snap_compare, shipped_sqlite, make_app):
    def light(app) -> None:  # type: ignore[no-untyped-def]
        app.theme = "textual-light"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(120, 36), run_before=on("OAI-3.1", then=light)
    )


def test_target_form(snap_compare, shipped_sqlite, make_app):
    def fill(app) -> None:  # type: ignore[no-untyped-def]
        app.screen.query_one("#target", Input).value = "31 March 2027"
        app.screen.query_one("#target_reason", Input).value = "DSIT named spring 2027"

    assert snap_compare(
        make_app(shipped_sqlite), terminal_size=(100, 24), run_before=on("OAI-3.1", "t", then=fill)
    )
