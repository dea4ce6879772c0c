"""Helpers for the pilot tests: wait for workers, type text, read what is on screen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.text import Text

from mou_tracker.tui.app import TrackerApp


class RecordingApp(TrackerApp):
    """The real app, recording its notifications and the URLs it would open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notices: list[tuple[str, str, str, bool]] = []
        self.opened: list[str] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notices.append((severity, title, message, markup))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)

    def notices_text(self) -> str:
        return "\n".join(f"{sev}|{title}|{msg}" for sev, title, msg, _ in self.notices)


# Worker groups that never all stop: an app with polling on starts a change check every few
# tenths of a second, so "no worker running" never lasts and waiting for it spent the whole
# budget of rounds (20 s in one test). What a check finds arrives as a message whose handler
# starts ordinary workers, and those are waited for.
BACKGROUND_GROUPS = frozenset({"poll"})


async def settle(pilot: Any, rounds: int = 60) -> None:
    """Wait until no worker is running and the messages they posted have been handled
    (background polling aside: see ``BACKGROUND_GROUPS``)."""
    from textual.worker import WorkerCancelled, WorkerState

    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        workers = [w for w in app.workers if w.group not in BACKGROUND_GROUPS]
        # An exclusive worker (a list load superseded by the next keystroke) may be cancelled;
        # that is the app working as meant, so wait for each worker and let cancellation pass.
        for worker in workers:
            try:
                await worker.wait()
            except WorkerCancelled:
                pass
        await pilot.pause()
        busy = any(
            w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in app.workers
            if w.group not in BACKGROUND_GROUPS
        )
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*text)


def plain(widget: Any) -> str:
    content = widget.content if hasattr(widget, "content") else widget.render()
    if isinstance(content, Text):
        return content.plain
    return str(content)


def table_lines(app: Any) -> list[str]:
    table = app.main.table
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def showing(app: Any) -> str:
    return plain(app.main.query_one("#showing"))


@contextmanager
def write_lock_held(engine: Any) -> Iterator[None]:
    """Another program holding the database's write lock (a long import, say) for the block.

    SQLite: a second connection in ``BEGIN EXCLUSIVE`` (in WAL mode readers carry on).
    PostgreSQL: a transaction holding EXCLUSIVE locks on the written tables (reads carry on)."""
    if engine.dialect.name == "sqlite":
        import sqlite3

        conn = sqlite3.connect(engine.url.database, isolation_level=None, timeout=5)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with engine.connect() as conn:
        tx = conn.begin()
        conn.exec_driver_sql(
            "LOCK TABLE commitment, note, history, evidence, evidence_revision IN EXCLUSIVE MODE"
        )
        try:
            yield
        finally:
            tx.rollback()
