"""Issue 18, the walk's small defects (section 3.3 of the walk): a discard needs a deliberate key
(D24), a multi-line paste into a one-line field is joined, not cut (D18), `d` and `F` keep the
selected row (D16), the full-screen detail scrolls with j/k/g/G (D17), undated clauses sort
last by next review (D15), and messages name statuses and fields as the UI shows them (D13)."""

from __future__ import annotations

from datetime import date

from tests.tui.helpers import plain, settle, type_text
from tests.tui.test_forms import hint, open_on
from textual import events
from textual.widgets import Input, TextArea

from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read
from mou_tracker.tui.text import status_label


def note_count(engine, ref: str) -> int:
    with read(engine) as s:
        return len(commitment_detail(s, ref).notes)


# --- D24 ----------------------------------------------------------------------------------------


async def test_text_typed_ahead_into_the_discard_question_does_not_discard(shipped, make_app):
    from mou_tracker.tui.modals.confirm import ConfirmScreen
    from mou_tracker.tui.modals.note import NoteForm

    notes = note_count(shipped, "OAI-2.1")
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "draft")
        await pilot.press("escape")  # by accident, then the user carries on typing
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "(ctrl+d)" in str(app.screen.query_one("#confirm-yes").label)
        await type_text(pilot, "yes yy")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # still asking: nothing discarded
        await pilot.press("n")  # keep editing: the text is all there
        await pilot.pause()
        assert isinstance(app.screen, NoteForm)
        assert app.screen.query_one("#body", TextArea).text == "draft"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("tab", "enter")  # to the Discard button, and press it
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "second")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert app.screen is app.main
    assert note_count(shipped, "OAI-2.1") == notes


# --- D18 ----------------------------------------------------------------------------------------


async def test_a_multi_line_paste_into_a_one_line_field_is_joined_and_said(shipped, make_app):
    from mou_tracker.tui.modals.evidence import EvidenceForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.3")
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceForm)
        title = app.screen.query_one("#title", Input)
        title.focus()
        await pilot.pause()
        app.post_message(events.Paste("Departments trial\r\n  AI tools \n\nacross Whitehall\n"))
        await pilot.pause()
        assert title.value == "Departments trial AI tools across Whitehall"
        assert "Pasted 3 lines into a one-line field" in app.notices_text()
        # a one-line paste is as Textual has it, with no message
        url = app.screen.query_one("#url", Input)
        url.focus()
        await pilot.pause()
        shown = len(app.notices)
        app.post_message(events.Paste("https://example.org/story"))
        await pilot.pause()
        assert url.value == "https://example.org/story" and len(app.notices) == shown


async def test_a_paste_into_a_text_area_keeps_its_lines(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press("n")
        await pilot.pause()
        body = app.screen.query_one("#body", TextArea)
        assert app.focused is body
        app.post_message(events.Paste("one\ntwo"))
        await pilot.pause()
        assert body.text == "one\ntwo"


# --- D16 ----------------------------------------------------------------------------------------


async def test_overdue_toggle_and_clear_filters_keep_the_selected_row(shipped, make_app):
    app = make_app(shipped, today=date(2027, 11, 27))  # a year on: reviews are overdue
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.main.table
        table.focus()
        await pilot.press("d")  # overdue only
        await settle(pilot)
        assert table.total >= 3
        await pilot.press("down", "down")
        await settle(pilot)
        ref = table.current.ref
        assert ref != table.row_at(0).ref
        await pilot.press("d")  # off: every row, the same one selected
        await settle(pilot)
        assert app.main.view_query.overdue is False
        assert table.current.ref == ref and app.main.detail.ref == ref
        assert table.row_at(0).ref != ref  # not simply back at the top
        await pilot.press("d")  # on again: it is overdue, so still shown and selected
        await settle(pilot)
        assert table.current.ref == ref
        await pilot.press("F")
        await settle(pilot)
        assert not app.main.view_query.filtered and table.current.ref == ref


# --- D17 ----------------------------------------------------------------------------------------


async def test_full_screen_detail_scrolls_with_j_k_g_G(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("z")
        await settle(pilot)
        pane = app.main.pane
        assert app.main.has_class("-detail-only") and app.focused is pane
        assert pane.max_scroll_y > 2 and pane.scroll_y == 0
        await pilot.press("G")
        await settle(pilot)
        assert pane.scroll_y == pane.max_scroll_y
        await pilot.press("g")
        await settle(pilot)
        assert pane.scroll_y == 0
        await pilot.press("j", "j")
        await settle(pilot)
        assert pane.scroll_y >= 2
        before = pane.scroll_y
        await pilot.press("k")
        await settle(pilot)
        assert pane.scroll_y < before


# --- D15 ----------------------------------------------------------------------------------------


async def test_sort_by_next_review_puts_undated_clauses_last_both_ways(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.main.table

        def reviews() -> list[object]:
            rows = [table.row_at(i) for i in range(table.total)]
            return [None if r.strength == "vision" else r.next_review for r in rows]

        await pilot.press("8")
        await settle(pilot)
        shown = reviews()
        dated = [d for d in shown if d is not None]
        assert dated and None in shown
        assert shown == dated + [None] * (len(shown) - len(dated))
        assert dated == sorted(dated)
        await pilot.press("8")  # descending: the dates reversed, the undated still last
        await settle(pilot)
        shown = reviews()
        dated = [d for d in shown if d is not None]
        assert shown == dated + [None] * (len(shown) - len(dated))
        assert dated == sorted(dated, reverse=True)


# --- D13 ----------------------------------------------------------------------------------------


def test_form_messages_name_statuses_as_the_ui_does() -> None:
    from mou_tracker.tui.modals.base import without_cli_hints

    message = (
        "a change to in_progress must cite at least one evidence record of OAI-3.1 "
        "(--evidence URL_OR_ID)"
    )
    assert without_cli_hints(message) == (
        "a change to in progress must cite at least one evidence record of OAI-3.1"
    )
    assert without_cli_hints("from not_assessed to partially_met") == (
        "from not yet assessed to partially met"
    )


async def test_the_export_form_names_its_own_fields(shipped, make_app):
    from mou_tracker.tui.modals.export import ExportForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportForm)
        app.screen.query_one("#since", Input).value = "Clause 12"
        await settle(pilot)
        text = hint(app, "since")
        assert text.startswith("since:") and "--since" not in text
        assert "--" not in plain(app.screen.query_one("#since-hint"))


async def test_the_export_keys_line_says_export_and_the_review_form_says_required(
    shipped, make_app
):
    from mou_tracker.tui.modals.export import ExportForm
    from mou_tracker.tui.modals.review import ReviewForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExportForm)
        assert plain(app.screen.query_one("#form-keys")).startswith("ctrl+s export ·")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ReviewForm)
        assert hint(app, "review_note").startswith("required")
        assert plain(app.screen.query_one("#form-keys")).startswith("ctrl+s save ·")
        app.screen.query_one("#review_note", Input).value = "   "
        await settle(pilot)
        assert hint(app, "review_note").startswith("required")


async def test_the_status_form_names_statuses_as_the_list_does(shipped, make_app):
    from textual.widgets import Select

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.3")
        current = app.main.detail.status
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        form.query_one("#status", Select).value = "partially_met"
        await settle(pilot)
        assert hint(app, "evidence").startswith("evidence: a change to partially met must cite")
        form.query_one("#status", Select).value = current
        await settle(pilot)
        assert f"is already {status_label(current)};" in hint(app, "status")
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = plain(form.query_one("#form-error"))
        assert error and "_" not in error.split("OAI-2.3")[-1]
