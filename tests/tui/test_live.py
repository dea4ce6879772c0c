"""Never freeze, never lose: database work in workers, other processes' writes appear."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.tui.helpers import plain, settle, table_lines, type_text
from textual.widgets import Input

from mou_tracker.domain import service
from mou_tracker.domain.queries import headline_status_counts
from mou_tracker.storage.engine import read, run_write
from mou_tracker.tui import data


async def wait_until(pilot, check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_writes_by_the_cli_and_another_ui_appear_without_a_restart(shipped, make_app, cli):
    app = make_app(shipped, poll_seconds=0.2)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        app.main.go_to("OAI-2.3")
        await settle(pilot)
        assert app.main.detail.status != "in_progress"
        # a CLI in another process adds evidence and changes the status
        result = await asyncio.to_thread(
            cli,
            "evidence",
            "add",
            "OAI-2.3",
            "https://news.example.org/wider",
            "--title",
            "Wider rollout",
            "--published",
            "2026-07-01",
            "--direction",
            "progress",
        )
        assert result.code == 0, result.err
        result = await asyncio.to_thread(
            cli,
            "status",
            "OAI-2.3",
            "in_progress",
            "--reason",
            "Rollout began",
            "--evidence",
            "https://news.example.org/wider",
        )
        assert result.code == 0, result.err

        def updated() -> bool:
            detail = app.main.detail
            return detail is not None and detail.status == "in_progress"

        await wait_until(pilot, updated)
        await settle(pilot)
        row = next(line for line in table_lines(app) if line.startswith(" OAI-2.3"))
        assert "in progress" in row
        assert "Wider rollout" in [e.title for e in app.main.pane.evidence]
        with read(shipped) as s:
            in_progress = headline_status_counts(s)["in_progress"]
        assert f"in progress {in_progress}" in plain(app.main.query_one("#summary"))
        assert "The tracker changed elsewhere" in app.notices_text()
        # another UI (same domain calls, another connection) adds a note
        run_write(
            shipped,
            lambda s: service.add_note(s, "OAI-2.3", "From the other desk", actor="colleague"),
        )
        await wait_until(
            pilot, lambda: any(n.body == "From the other desk" for n in app.main.detail.notes)
        )


async def test_every_database_call_runs_off_the_main_thread(shipped, make_app, monkeypatch):
    threads: list[bool] = []
    original = data.fetch_page

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(data, "fetch_page", spy)
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "uk")
        await settle(pilot)
    assert threads and not any(threads)


async def test_a_slow_database_never_blocks_typing(shipped, make_app, monkeypatch):
    """While each list query takes 0.4 s, keys are still handled at once, superseded queries
    are dropped, and the list ends up showing the last thing typed."""
    original = data.fetch_page
    started: list[str] = []

    def slow(session, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(query.search)
        time.sleep(0.4)
        return original(session, query, *args, **kwargs)

    monkeypatch.setattr(data, "fetch_page", slow)
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        began = time.monotonic()
        await type_text(pilot, "stargate")
        typed_in = time.monotonic() - began
        assert app.main.query_one("#search", Input).value == "stargate"
        assert typed_in < 0.4 * len("stargate")  # not one slow query per key on the main thread
        await settle(pilot)
        assert app.main.view_query.search == "stargate"
        assert app.main.table.view_query.search == "stargate"
        assert len(started) < 1 + len("stargate")  # superseded keystrokes never queried
        assert {
            r.ref for r in (app.main.table.row_at(i) for i in range(app.main.table.total)) if r
        } >= {"OAI-3.1"}


async def test_a_failing_database_is_a_message_not_a_crash(shipped, make_app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(data, "fetch_page", broken)
        await pilot.press("slash")
        await type_text(pilot, "x")
        await settle(pilot)
        assert app.is_running
        assert "Could not load the list: database: database is locked" in app.notices_text()


async def test_fast_typing_and_paste_keep_every_character(shipped, make_app):
    """Keys that arrive faster than the screen handles them (a fast typist, a paste) all land
    in the search box in order, and the list follows the final text."""
    from textual import events

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.main.query_one("#search", Input)
        for ch in "infra":  # queued at the box before it has handled the first: a burst
            box.post_message(events.Key(ch, ch))
        await settle(pilot)
        assert app.main.query_one("#search", Input).value == "infra"
        assert app.main.table.view_query.search == "infra"
        refs = {app.main.table.row_at(i).ref for i in range(app.main.table.total)}
        assert {"OAI-3.1", "OAI-3.2"} <= refs


async def test_own_saves_are_not_reported_as_someone_elses(shipped, make_app):
    app = make_app(shipped, poll_seconds=0.1)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        app.main.go_to("OAI-2.1")
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "Mine")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.pause(0.5)  # several polls
        await settle(pilot)
        assert "Internal note added to OAI-2.1." in app.notices_text()  # internal by default
        assert "changed elsewhere" not in app.notices_text()
        assert app.main.detail.notes[-1].body == "Mine"


async def test_a_slow_change_check_is_never_stacked_or_cancelled(
    shipped, make_app, cli, monkeypatch
):
    """When one check for changes elsewhere takes longer than the polling interval, the next
    poll waits for it instead of starting a second query beside it, and the change still shows."""
    original = data.token
    running = 0
    most = 0
    lock = threading.Lock()

    def slow(session):  # type: ignore[no-untyped-def]
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.3)
            return original(session)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(data, "token", slow)
    app = make_app(shipped, poll_seconds=0.05)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        app.main.go_to("OAI-2.3")
        await settle(pilot)
        result = await asyncio.to_thread(cli, "note", "add", "OAI-2.3", "Checked by the slow poll")
        assert result.code == 0, result.err
        await wait_until(
            pilot,
            lambda: any(n.body == "Checked by the slow poll" for n in app.main.detail.notes),
        )
        await pilot.pause(0.5)
    assert most == 1
