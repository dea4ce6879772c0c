"""Print screens of the UI as plain text (for the closing note of issue 18 and for reading a
layout in a terminal without an SVG viewer). Not a test: ``python -m tests.tui.screens_as_text``."""

from __future__ import annotations

from typing import Any


def screen_text(app: Any) -> str:
    """What the terminal shows now, one line per row, without colours."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for strips in update.strips:
        line = "".join(segment.text for strip in [strips] for segment in strip)
        lines.append(line.rstrip())
    return "\n".join(lines)
