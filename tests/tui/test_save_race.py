"""Issue 18, item 1: a form discarded while its save waits for the database is never stored
behind the person's back. A save that has been sent either completes and the form says so, or
is cancelled before it reaches the database."""

from __future__ import annotations

import threading

import pytest
from tests.tui.helpers import settle, type_text, write_lock_held
from tests.tui.test_forms import detail, open_on

from mou_tracker.tui.modals.base import SaveCancelled, SaveGuard


def test_guard_cancel_before_commit_point_rolls_back() -> None:
    guard = SaveGuard()
    assert guard.cancel() is True
    with pytest.raises(SaveCancelled):
        guard.commit_point()


def test_guard_refuses_cancel_once_committing() -> None:
    guard = SaveGuard()
    guard.commit_point()
    assert guard.cancel() is False
    assert guard.cancelled is False


def test_guard_decides_once_under_contention() -> None:
    """Many cancels racing one commit point: either the commit raised, or every cancel said no."""
    for _ in range(200):
        guard = SaveGuard()
        answers: list[bool] = []
        outcome: list[str] = []
        start = threading.Barrier(3)

        def cancel(
            g: SaveGuard = guard, a: list[bool] = answers, b: threading.Barrier = start
        ) -> None:
            b.wait()
            a.append(g.cancel())

        def commit(
            g: SaveGuard = guard, o: list[str] = outcome, b: threading.Barrier = start
        ) -> None:
            b.wait()
            try:
                g.commit_point()
                o.append("stored")
            except SaveCancelled:
                o.append("cancelled")

        threads = [threading.Thread(target=t) for t in (cancel, cancel, commit)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if outcome == ["stored"]:
            assert answers == [False, False]
        else:
            assert outcome == ["cancelled"] and True in answers


async def _note_form_saving_under_lock(pilot, app, engine, text: str):  # type: ignore[no-untyped-def]
    await open_on(pilot, "OAI-P5")
    await pilot.press("n")
    await pilot.pause()
    form = app.screen
    await type_text(pilot, text)
    await pilot.press("ctrl+s")
    for _ in range(50):  # the save worker is now waiting on the lock
        await pilot.pause(0.02)
    assert form.saving
    return form


async def test_discard_during_a_locked_save_stores_nothing(shipped, make_app):
    from mou_tracker.tui.modals.confirm import ConfirmScreen

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        notes = len(detail(shipped, "OAI-P5").notes)
        with write_lock_held(shipped):
            await _note_form_saving_under_lock(pilot, app, shipped, "Discard race note")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert "Cancel it? Nothing will be stored." in app.screen.question
            await pilot.press("y")
            await pilot.pause()
            await pilot.pause()
            assert app.screen is app.main
            assert "nothing was stored" in app.notices_text()
        await settle(pilot)  # the lock is gone: the save worker wakes up and must roll back
        after = detail(shipped, "OAI-P5").notes
        assert len(after) == notes
        assert all("Discard race note" not in n.body for n in after)
        assert "Saved" not in [title for _, title, _, _ in app.notices]


async def test_keep_waiting_then_the_save_completes_and_says_so(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        notes = len(detail(shipped, "OAI-P5").notes)
        with write_lock_held(shipped):
            form = await _note_form_saving_under_lock(pilot, app, shipped, "Kept note")
            for _ in range(60):  # the form says why it is waiting
                await pilot.pause(0.02)
            from tests.tui.helpers import plain

            assert "waiting for the database" in plain(form.query_one("#form-error"))
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("n")  # keep waiting
            await pilot.pause()
            assert app.screen is form
        await settle(pilot)
        after = detail(shipped, "OAI-P5").notes
        assert len(after) == notes + 1 and after[-1].body == "Kept note"
        assert app.screen is app.main
        assert "Internal note added to OAI-P5." in app.notices_text()


async def test_a_save_that_wins_the_race_closes_the_question_and_says_saved(shipped, make_app):
    from mou_tracker.tui.modals.confirm import ConfirmScreen

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        notes = len(detail(shipped, "OAI-P5").notes)
        with write_lock_held(shipped):
            await _note_form_saving_under_lock(pilot, app, shipped, "Won the race")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
        # the lock goes while "cancel the save?" is still open: the save is stored, and the
        # screen must say so rather than leave a question about a save that has happened
        await settle(pilot)
        assert app.screen is app.main
        after = detail(shipped, "OAI-P5").notes
        assert len(after) == notes + 1 and after[-1].body == "Won the race"
        assert "Internal note added to OAI-P5." in app.notices_text()
