"""Colours that stay readable in every theme the app offers (issue 18, item 3).

A status is shown in a colour of its own. Fixed colours chosen for a dark background vanish on
a light one, and any colour vanishes on the highlighted row. So the colours are worked out per
theme: each status keeps its hue and is lightened or darkened until it reaches a contrast of at
least ``MINIMUM`` (WCAG AA, 4.5:1) against the table and panel backgrounds; the highlighted row
is drawn in one colour that reaches it against the highlight. Themes whose colours come from
the terminal (the ANSI themes) cannot be measured, so the app does not offer them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.color import Color
from textual.theme import Theme

MINIMUM = 4.5
MARGIN = 4.6  # aimed for, so rounding to hex never lands below MINIMUM
WHITE = Color(255, 255, 255)
BLACK = Color(0, 0, 0)

# The hue each status (and the other coloured signals) starts from; adjusted per theme.
BASE = {
    "not_assessed": "#9e9e9e",
    "not_started": "#d0d0d0",
    "in_progress": "#1e90ff",
    "partially_met": "#ffd700",
    "met": "#00d700",
    "stalled": "#ff8700",
    "not_met": "#ff3030",
    "vision": "#808080",
    "overdue": "#ff3030",
    "muted": "#949494",
    "progress": "#00d700",
    "against": "#ff3030",
    "context": "#9e9e9e",
}
BOLD = {"in_progress", "partially_met", "met", "stalled", "not_met", "overdue"}


def luminance(colour: Color) -> float:
    """WCAG relative luminance of an opaque colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: Color, backgrounds: list[Color], minimum: float = MINIMUM) -> Color:
    """``colour``, blended towards white or black (whichever the backgrounds need) just far
    enough to reach ``minimum`` against every one of ``backgrounds``."""
    darkest = min(luminance(b) for b in backgrounds)
    brightest = max(luminance(b) for b in backgrounds)
    # Go towards the end with more room: white on dark backgrounds, black on light ones.
    target = WHITE if (1.05 / (brightest + 0.05)) >= ((darkest + 0.05) / 0.05) else BLACK
    for step in range(21):
        candidate = colour.blend(target, step / 20)
        if all(contrast(candidate, b) >= minimum for b in backgrounds):
            return candidate
    return target


def solid(value: str | None, under: Color) -> Color | None:
    """A theme variable as an opaque colour (a translucent one laid over ``under``); None for
    a colour the terminal decides (``ansi_*``, ``transparent``)."""
    if not value or value.startswith("ansi") or value in ("transparent", "auto"):
        return None
    try:
        colour = Color.parse(value)
    except Exception:  # noqa: BLE001 - "auto 87%" and the like: not a fixed colour
        return None
    if colour.ansi is not None:
        return None
    return under + colour if colour.a < 1 else colour


@dataclass(frozen=True)
class Palette:
    """Hex colours for one theme: ``styles`` by name (see ``BASE``), the backgrounds they were
    measured against, and the highlighted row (focused and not)."""

    theme: str
    styles: dict[str, str]
    backgrounds: tuple[str, ...]
    cursor_bg: str
    cursor_fg: str
    blurred_bg: str
    blurred_fg: str

    def style(self, name: str) -> str:
        colour = self.styles[name]
        return f"bold {colour}" if name in BOLD else colour


def best_text(background: Color) -> Color:
    """Black or white, whichever reads better on ``background``."""
    return WHITE if contrast(WHITE, background) >= contrast(BLACK, background) else BLACK


def palette_for(theme: Theme) -> Palette | None:
    """The palette of ``theme``; None if its colours are the terminal's (not measurable)."""
    variables = theme.to_color_system().generate()
    background = solid(variables.get("background"), BLACK)
    if background is None:
        return None
    surface = solid(variables.get("surface"), background)
    panel = solid(variables.get("panel"), background)
    cursor = solid(variables.get("block-cursor-background"), background)
    if surface is None or panel is None or cursor is None:
        return None
    blurred = solid(variables.get("block-cursor-blurred-background"), surface) or surface
    backgrounds = [background, surface, panel]
    styles = {
        name: readable(Color.parse(hex_), backgrounds, MARGIN).hex for name, hex_ in BASE.items()
    }
    cursor_fg = best_text(cursor)
    if contrast(cursor_fg, cursor) < MINIMUM:  # a mid-tone highlight: make it deeper
        cursor = readable(cursor, [cursor_fg], MARGIN)
    blurred_fg = readable(best_text(blurred), [blurred], MARGIN)
    return Palette(
        theme=theme.name,
        styles=styles,
        backgrounds=tuple(b.hex for b in backgrounds),
        cursor_bg=cursor.hex,
        cursor_fg=cursor_fg.hex,
        blurred_bg=blurred.hex,
        blurred_fg=blurred_fg.hex,
    )
