"""The Textual application. ``run_app(engine, actor=...)`` is what ``mou-tracker`` (no command,
or ``ui``) calls."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from mou_tracker.tui.commands import TrackerCommands
from mou_tracker.tui.data import PAGE_SIZE
from mou_tracker.tui.modals.undo import Undoable
from mou_tracker.tui.palette import Palette, palette_for
from mou_tracker.tui.screens.main import MainScreen
from mou_tracker.tui.text import apply_palette


class TrackerApp(App[int]):
    """mou-tracker's terminal UI.

    ``today`` (a date, or a function returning one) decides what "overdue" means; tests and
    snapshots fix it. ``poll_seconds`` is how often it looks for other processes' writes
    (0: never). ``page_size`` is how many rows one list query fetches.
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "mou-tracker"
    COMMANDS = App.COMMANDS | {TrackerCommands}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit.always"),
        Binding("ctrl+z", "suspend_process", "Suspend to the shell", show=False, id="suspend"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        actor: str,
        today: date | Callable[[], date] | None = None,
        poll_seconds: float = 2.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.actor = actor
        self._today = today
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self.palette: Palette | None = None
        self.undo_stack: list[Undoable] = []  # this session's writes that u can take back
        # Offer only themes whose colours can be measured (the ANSI ones are the terminal's).
        for name, theme in list(self.available_themes.items()):
            if palette_for(theme) is None:
                self.unregister_theme(name)

    def on_mount(self) -> None:
        self._use_palette(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        self._use_palette(theme)
        try:
            main = self.main
        except LookupError:
            return
        main.refresh_all()
        main.table.refresh()

    def _use_palette(self, theme: Theme) -> None:
        self.palette = palette_for(theme)
        apply_palette(self.palette)

    def today(self) -> date:
        if self._today is None:
            return date.today()
        if isinstance(self._today, date):
            return self._today
        return self._today()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Paste) and not event.is_forwarded:
            event = self._one_line_paste(event)
        await super().on_event(event)

    def _one_line_paste(self, event: events.Paste) -> events.Paste:
        """Text with line breaks pasted into a one-line field (a title, a summary): Textual keeps
        only the first line, silently. Join the lines with a space instead, and say so."""
        from textual.widgets import Input

        if not isinstance(self.focused, Input) or not any(c in event.text for c in "\r\n"):
            return event
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        if len(lines) > 1:
            self.notify(
                f"Pasted {len(lines)} lines into a one-line field: joined with spaces.",
                title="Pasted",
            )
        return events.Paste(" ".join(lines))

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not open")

    def refresh_tracker(self, token: tuple[object, ...] | None = None) -> None:
        """Reload the main screen from the database: after a save here (``token`` is the
        database's fingerprint just after it), or a refused one."""
        try:
            self.main.own_write(token)
        except LookupError:
            pass

    def action_help(self) -> None:
        from mou_tracker.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_focus_list(self) -> None:
        self.main.table.focus()

    async def action_quit(self) -> None:
        """Quit, but never silently throw away what someone typed into a form."""
        from mou_tracker.tui.modals.base import FormScreen
        from mou_tracker.tui.modals.confirm import ConfirmScreen

        if any(isinstance(s, FormScreen) and s.dirty for s in self.screen_stack):

            def decided(really: bool | None) -> None:
                if really:
                    for screen in self.screen_stack:
                        if isinstance(screen, FormScreen):
                            screen.cancel_save_for_quit()
                    self.exit(0)

            self.push_screen(
                ConfirmScreen(
                    "A form holds input you have not saved. Quit anyway?", yes="Quit", no="Stay"
                ),
                decided,
            )
            return
        self.exit(0)

    def open_link(self, url: str, what: str) -> None:
        """Open ``url`` in the browser. It is also copied, since over SSH there is often no
        browser on this machine."""
        self.copy_to_clipboard(url)
        try:
            webbrowser.get()
        except webbrowser.Error:
            self.notify(
                f"No web browser found here; the link to {what} is on the clipboard: {url}",
                severity="warning",
                markup=False,
            )
            return
        self.open_url(url)
        self.notify(f"Opening {what} in the browser (link also copied): {url}", markup=False)


def run_app(engine: Engine, *, actor: str, **options: Any) -> int | None:
    """Run the terminal UI on ``engine`` as ``actor`` until the person quits."""
    app = TrackerApp(engine, actor=actor, **options)
    app.run()
    return app.return_code
