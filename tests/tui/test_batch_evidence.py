"""Issue 18, item 9 (the rest): one evidence link for every marked commitment, in one
transaction, checked against the CLI; a commitment that has the page already stores none."""

from __future__ import annotations

import asyncio
import contextlib
import io

from tests.tui.helpers import plain, settle
from tests.tui.test_forms import detail, open_on
from textual.widgets import Input

URL = "https://www.gov.uk/government/news/batch-evidence-example"


def run_cli(engine, *args: str) -> str:  # type: ignore[no-untyped-def]
    """``mou-tracker ARGS`` in-process against the test's database; its stdout."""
    from mou_tracker.cli.main import main

    url = engine.url.render_as_string(hide_password=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", url, "--as", "checker", *args])
    assert code == 0, err.getvalue()
    return out.getvalue()


async def fill_evidence(pilot, title: str, published: str) -> None:  # type: ignore[no-untyped-def]
    form = pilot.app.screen
    form.query_one("#url", Input).value = URL
    form.query_one("#title", Input).value = title
    form.query_one("#publisher", Input).value = "DSIT"
    form.query_one("#published", Input).value = published
    await pilot.pause()


async def test_one_evidence_link_for_three_marked_commitments(shipped, make_app):
    from mou_tracker.tui.modals.batch import BatchEvidenceForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("space", "space", "space")
        marked = list(app.main.table.marked)
        before = {ref: len(detail(shipped, ref).evidence) for ref in marked}
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, BatchEvidenceForm)
        assert all(ref in plain(form.query_one("#form-heading")) for ref in marked)
        await fill_evidence(pilot, "Compute partnership update", "20 Nov 2026")
        assert "read as 2026-11-20" in plain(form.query_one("#published-hint"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        assert "Evidence added to 3 commitments" in app.notices_text()
        assert app.main.table.marked == {}
        for ref in marked:
            after = detail(shipped, ref)
            assert len(after.evidence) == before[ref] + 1
            record = next(e for e in after.evidence if e.url == URL)
            assert (record.title, record.added_by, str(record.published)) == (
                "Compute partnership update",
                "pm",
                "2026-11-20",
            )
            listing = await asyncio.to_thread(run_cli, shipped, "evidence", "list", ref)
            assert f"#{record.id}" in listing and "Compute partnership update" in listing
        # each commitment can cite its own record: the CLI's history shows the change
        first = marked[0]
        own = next(e for e in detail(shipped, first).evidence if e.url == URL)
        await asyncio.to_thread(
            run_cli,
            shipped,
            "status",
            first,
            "in_progress",
            "--reason",
            "The update shows work",
            "--evidence",
            str(own.id),
        )
        history = await asyncio.to_thread(run_cli, shipped, "history", first)
        assert f"#{own.id}" in history


async def test_a_batch_link_one_commitment_has_already_stores_nothing(shipped, make_app):
    from mou_tracker.domain import service
    from mou_tracker.storage.engine import run_write

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("space", "space")
        marked = list(app.main.table.marked)
        item = service.EvidenceInput.build(url=URL, title="Already here")
        run_write(shipped, lambda s: service.add_evidence(s, marked[1], item, actor="bob"))
        counts = {ref: len(detail(shipped, ref).evidence) for ref in marked}
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        await fill_evidence(pilot, "Second try", "2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, the input kept
        error = plain(form.query_one("#form-error"))
        assert marked[1] in error and "already recorded" in error
        assert {ref: len(detail(shipped, ref).evidence) for ref in marked} == counts
        assert form.query_one("#title", Input).value == "Second try"
