"""Issue 18, item 9: mark several commitments (space, V for a range) and record one review or
one note for all of them in one transaction; checked against the CLI's ``history``."""

from __future__ import annotations

import asyncio
import contextlib
import io

from tests.tui.conftest import TODAY
from tests.tui.helpers import plain, settle, showing, type_text
from tests.tui.test_forms import detail, open_on


def cli_history(engine, ref: str) -> str:  # type: ignore[no-untyped-def]
    """``mou-tracker history REF``, run in-process against the test's database."""
    from mou_tracker.cli.main import main

    url = engine.url.render_as_string(hide_password=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", url, "--as", "checker", "history", ref])
    assert code == 0, err.getvalue()
    return out.getvalue()


async def test_one_review_for_three_marked_commitments(shipped, make_app):
    from mou_tracker.tui.modals.batch import BatchReviewForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        table = app.main.table
        first = table.cursor
        await pilot.press("space", "space", "space")  # marks three rows, moving down each time
        marked = list(table.marked)
        assert len(marked) == 3 and marked[0] == "OAI-3.1" and table.cursor == first + 3
        assert "3 marked" in showing(app)
        before = {ref: detail(shipped, ref) for ref in marked}
        await pilot.press("v")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, BatchReviewForm)
        heading = plain(form.query_one("#form-heading"))
        assert all(ref in heading for ref in marked)
        await type_text(pilot, "Quarterly check: no news")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        assert "Review recorded on 3 commitments" in app.notices_text()
        assert table.marked == {}
        for ref in marked:
            after = detail(shipped, ref)
            last = after.history[-1]
            assert (last.kind, last.actor, last.reason) == (
                "review",
                "pm",
                "Quarterly check: no news",
            )
            assert after.status == before[ref].status and after.version == before[ref].version + 1
            history = await asyncio.to_thread(cli_history, shipped, ref)
            assert "Quarterly check: no news" in history and "by pm" in history


async def test_a_range_of_marks_and_escape_clears_them(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        table = app.main.table
        await pilot.press("g", "space", "j", "j", "j", "V")
        assert len(table.marked) == 5  # rows 0..4: the anchor after space is row 0
        assert table.render_line(1).text.startswith("●")
        await pilot.press("escape")
        assert table.marked == {} and "marked" not in showing(app)


async def test_a_batch_with_a_stale_commitment_stores_none_then_saves_on_top(shipped, make_app):
    from mou_tracker.domain import service
    from mou_tracker.storage.engine import run_write

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("space", "space")
        marked = list(app.main.table.marked)
        # someone else reviews the second one first
        run_write(
            shipped,
            lambda s: service.record_review(
                s, marked[1], actor="bob", note="bob looked", reviewed_on=TODAY
            ),
        )
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "Chase the owners")
        await pilot.press("ctrl+s")  # a note does not check versions: saved on both
        await settle(pilot)
        assert app.screen is app.main
        for ref in marked:
            note = detail(shipped, ref).notes[-1]
            assert (note.body, note.visibility) == ("Chase the owners", "internal")
        assert app.main.table.marked == {}  # a saved batch clears its marks
        app.main.go_to(marked[0])
        await settle(pilot)
        await pilot.press("space", "space")
        await pilot.press("v")
        await pilot.pause()
        form = app.screen
        # bob reviews the first one after it was marked: the batch must not go on top blindly
        run_write(
            shipped,
            lambda s: service.record_review(
                s, marked[0], actor="bob", note="bob again", reviewed_on=TODAY
            ),
        )
        counts = {ref: len(detail(shipped, ref).history) for ref in marked}
        await type_text(pilot, "Team review")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: nothing of the batch stored
        assert {ref: len(detail(shipped, ref).history) for ref in marked} == counts
        assert "ctrl+s saves on top" in plain(form.query_one("#form-heading"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        for ref in marked:
            assert detail(shipped, ref).history[-1].reason == "Team review"
