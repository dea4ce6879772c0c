"""Issue 18, item 10: `u` takes back the last action of this session where the rules allow (a
note, an evidence link, a status change), as a new entry in the history: nothing is deleted,
and the CLI sees both the action and its undo."""

from __future__ import annotations

import asyncio

from tests.tui.helpers import plain, settle, type_text
from tests.tui.test_batch_evidence import URL, fill_evidence, run_cli
from tests.tui.test_forms import dated_evidence, detail, open_on
from textual.widgets import Input, Select, TextArea


async def undo(pilot, reason: str) -> None:  # type: ignore[no-untyped-def]
    from mou_tracker.tui.modals.undo import UndoForm

    await pilot.press("u")
    await pilot.pause()
    assert isinstance(pilot.app.screen, UndoForm)
    await type_text(pilot, reason)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_nothing_to_undo_says_so(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        assert app.screen is app.main
        assert "Nothing to undo" in app.notices_text()


async def test_undo_a_public_note_withdraws_it_beside_the_original(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_on(pilot, "OAI-2.1")
        count = len(detail(shipped, "OAI-2.1").notes)
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#visibility", Select).value = "public"
        app.screen.query_one("#body", TextArea).text = "Wrong **commitment**"
        await pilot.press("ctrl+s")
        await settle(pilot)
        added = detail(shipped, "OAI-2.1").notes[-1]
        assert added.body == "Wrong **commitment**"
        await undo(pilot, "Meant for OAI-2.2")
        assert app.screen is app.main
        assert "Undone: the public note on OAI-2.1 withdrawn" in app.notices_text()
        notes = detail(shipped, "OAI-2.1").notes
        assert len(notes) == count + 2  # the original stays; the withdrawal is beside it
        assert notes[-2].body == "Wrong **commitment**"
        withdrawal = notes[-1]
        assert withdrawal.visibility == "public" and withdrawal.author == "pm"
        assert withdrawal.body.startswith(f"Withdrawn: note #{added.id} (pm, ")
        assert withdrawal.body.endswith("was added by mistake. Meant for OAI-2.2")
        shown = plain(app.main.pane.query_one("#detail-notes"))
        assert " WITHDRAWN " in shown and "Wrong commitment" in shown  # rendered, not raw
        cli = await asyncio.to_thread(run_cli, shipped, "show", "OAI-2.1")
        assert "Wrong **commitment**" in cli and f"Withdrawn: note #{added.id}" in cli
        # that was the last undoable action: nothing more to take back
        await pilot.press("u")
        await pilot.pause()
        assert app.screen is app.main and "Nothing to undo" in app.notices_text()


async def test_undo_evidence_added_by_mistake_is_a_published_correction(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_on(pilot, "OAI-2.3")
        await pilot.press("e")
        await pilot.pause()
        await fill_evidence(pilot, "Not about this clause", "2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        record = next(e for e in detail(shipped, "OAI-2.3").evidence if e.url == URL)
        await undo(pilot, "It concerns another clause")
        after = next(e for e in detail(shipped, "OAI-2.3").evidence if e.id == record.id)
        assert (after.summary, after.direction, after.confidence) == (
            "Withdrawn: added by mistake",
            "context",
            "withdrawn",
        )
        assert after.title == "Not about this clause" and after.url == URL  # kept, not deleted
        (revision,) = after.revisions
        assert revision.by == "pm" and revision.reason == "Withdrawn: It concerns another clause"
        shown = await asyncio.to_thread(run_cli, shipped, "evidence", "show", str(record.id))
        assert "It concerns another clause" in shown
        from mou_tracker.tui.widgets.detail import evidence_prompt

        assert evidence_prompt(after).plain.splitlines()[1].startswith(" WITHDRAWN ")


async def test_undo_a_status_change_is_a_change_back_citing_the_earlier_evidence(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_on(pilot, "OAI-3.1")
        before = detail(shipped, "OAI-3.1")
        cited = dated_evidence(shipped, "OAI-3.1")
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        form.query_one("#status", Select).value = "in_progress"
        form.query_one("#reason", Input).value = "Sites announced"
        form.query_one("#evidence").select(cited.id)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert detail(shipped, "OAI-3.1").status == "in_progress"
        await undo(pilot, "Misread the announcement")
        after = detail(shipped, "OAI-3.1")
        assert after.status == before.status
        back = after.history[-1]
        assert (back.from_status, back.to_status, back.actor) == (
            "in_progress",
            before.status,
            "pm",
        )
        assert back.reason.startswith("Undo of the change to in_progress of ")
        assert back.reason.endswith(": Misread the announcement")
        history = await asyncio.to_thread(run_cli, shipped, "history", "OAI-3.1")
        assert "Sites announced" in history and "Misread the announcement" in history


async def test_undo_refused_after_someone_else_changed_it_stores_nothing(shipped, make_app):
    from mou_tracker.domain import service
    from mou_tracker.storage.engine import run_write

    app = make_app(shipped)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_on(pilot, "OAI-2.3")
        await pilot.press("e")
        await pilot.pause()
        await fill_evidence(pilot, "Added here", "2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        record = next(e for e in detail(shipped, "OAI-2.3").evidence if e.url == URL)
        run_write(
            shipped,
            lambda s: service.edit_evidence(
                s, record.id, {"title": "Bob's title"}, actor="bob", reason="typo"
            ),
        )
        await undo(pilot, "Mistake")
        form = app.screen
        assert form is not app.main  # refused: changed by bob since
        assert "changed by bob" in plain(form.query_one("#form-error"))
        after = next(e for e in detail(shipped, "OAI-2.3").evidence if e.id == record.id)
        assert after.summary is None and len(after.revisions) == 1


async def test_undo_a_batch_note_withdraws_it_on_every_commitment(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("space", "space")
        marked = list(app.main.table.marked)
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "Chase the wrong owners")
        await pilot.press("ctrl+s")
        await settle(pilot)
        added = {ref: detail(shipped, ref).notes[-1] for ref in marked}
        assert all(n.body == "Chase the wrong owners" for n in added.values())
        await undo(pilot, "Wrong batch")
        assert "Undone: the internal note on 2 commitments withdrawn" in app.notices_text()
        for ref in marked:
            notes = detail(shipped, ref).notes
            assert notes[-2] == added[ref]  # kept as it was
            assert notes[-1].visibility == "internal"
            assert notes[-1].body.startswith(f"Withdrawn: note #{added[ref].id} ")
            history = await asyncio.to_thread(run_cli, shipped, "show", ref)
            assert f"Withdrawn: note #{added[ref].id}" in history
