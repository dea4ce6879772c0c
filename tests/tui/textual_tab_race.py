"""Minimal reproduction for a Textual upstream report (issue 18, item 2 of mou-tracker; not
filed from here). Depends on Textual only.

Title: keys read together with Tab go to the previously focused Input when handlers are slow

What happens: the driver posts every key of one terminal read to the app at once (and keys
from several reads pile up the same way while the app is busy: a loaded machine, slow
``Input.Changed`` handlers). The app forwards each queued key to the widget focused at that
moment, but Tab is a non-priority binding: it only runs once the key has gone to the focused
Input and bubbled back up through its message queue. By then the keys typed after Tab have
been forwarded to the Input that still has focus, so "Title" is appended to the first field.
No handler of ours is needed to see it; a real terminal shows it when typing is fast or the
app is busy.

Expected: the keys after Tab go to the next Input, whatever the load, as they do when each key
arrives in a read of its own.

Workaround (what mou-tracker does): bind tab and shift+tab with ``priority=True`` on the
screen or app, so focus moves the moment the Tab key is dispatched.

Run:  python tests/tui/textual_tab_race.py                 # shows the race
      python tests/tui/textual_tab_race.py --priority-tab  # shows the workaround
"""

from __future__ import annotations

import asyncio
import sys

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input


class Form(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")


class FormWithPriorityTab(Form):
    BINDINGS = [
        Binding("tab", "focus_next", priority=True),
        Binding("shift+tab", "focus_previous", priority=True),
    ]


async def type_in_one_read(app_class: type[Form]) -> dict[str, str]:
    """Type "URL", Tab, "Title" as one terminal read delivers them; what each Input holds."""
    app = app_class()
    async with app.run_test() as pilot:
        app.query_one("#first", Input).focus()
        await pilot.pause()
        keys = [*"URL", "tab", *"Title"]
        for key in keys:
            event = events.Key(key, key if len(key) == 1 else None)
            event.set_sender(app)
            app._driver.send_message(event)  # as the driver posts the keys of one read
        for _ in range(40):
            await pilot.pause(0.05)
        return {name: app.query_one(f"#{name}", Input).value for name in ("first", "second")}


def main(argv: list[str]) -> int:
    import textual

    app_class = FormWithPriorityTab if "--priority-tab" in argv else Form
    values = asyncio.run(type_in_one_read(app_class))
    print(f"Textual {textual.__version__}, {app_class.__name__}: {values}")
    ok = values == {"first": "URL", "second": "Title"}
    print("keys went to the right fields" if ok else "keys after Tab went to the wrong field")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
