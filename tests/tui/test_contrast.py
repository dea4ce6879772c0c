"""Issue 18, item 3: every status, the overdue signal and the highlighted row reach a contrast
of at least 4.5:1 in every theme the app offers, measured over the theme colours and over what
the table actually draws."""

from __future__ import annotations

import pytest
from tests.tui.helpers import settle
from textual.color import Color

from mou_tracker.domain.vocab import STATUS_LABELS
from mou_tracker.tui.palette import BASE, MINIMUM, contrast, palette_for


def offered_themes(engine, make_app):  # type: ignore[no-untyped-def]
    return make_app(engine).available_themes


def test_contrast_formula_matches_wcag() -> None:
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21.0)
    assert contrast(Color.parse("#777777"), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    # the walk's measurement: red1 on the old highlight (#0178D4) is about 1.1:1
    assert contrast(Color.parse("#ff0000"), Color.parse("#0178D4")) < 1.3


def test_every_offered_theme_passes(shipped_sqlite, make_app) -> None:
    themes = offered_themes(shipped_sqlite, make_app)
    assert "textual-light" in themes and "textual-dark" in themes
    assert not [n for n in themes if n.startswith("ansi")]  # the terminal's colours: not offered
    failures = []
    for name, theme in themes.items():
        palette = palette_for(theme)
        assert palette is not None, name
        for style, colour in palette.styles.items():
            for background in palette.backgrounds:
                ratio = contrast(Color.parse(colour), Color.parse(background))
                if ratio < MINIMUM:
                    failures.append(f"{name}: {style} {colour} on {background} = {ratio:.2f}")
        for fg, bg, what in (
            (palette.cursor_fg, palette.cursor_bg, "highlighted row"),
            (palette.blurred_fg, palette.blurred_bg, "highlighted row, table not focused"),
        ):
            ratio = contrast(Color.parse(fg), Color.parse(bg))
            if ratio < MINIMUM:
                failures.append(f"{name}: {what} {fg} on {bg} = {ratio:.2f}")
        assert set(palette.styles) == set(BASE)
    assert failures == []


def _segment_ratios(strip):  # type: ignore[no-untyped-def]
    for segment in strip:
        style = segment.style
        text = segment.text.strip()
        if not text or style is None or style.color is None or style.bgcolor is None:
            continue
        fg = Color(*style.color.get_truecolor())
        bg = Color(*style.bgcolor.get_truecolor())
        yield text, contrast(fg, bg)


@pytest.mark.parametrize("theme", ["textual-light", "solarized-light", "textual-dark"])
async def test_what_the_table_draws_is_readable(shipped_sqlite, make_app, theme) -> None:
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.theme = theme
        await settle(pilot)
        await pilot.pause()
        table = app.main.table
        labels = set(STATUS_LABELS.values()) | {"not scored"}
        checked_status = checked_cursor = 0
        for focused in (True, False):
            if not focused:
                app.main.query_one("#search").focus()
                await pilot.pause()
            for y in range(1, table.scrollable_content_region.height):
                strip = table.render_line(y)
                on_cursor = int(table.scroll_y) + y - 1 == table.cursor
                for text, ratio in _segment_ratios(strip):
                    if on_cursor or text in labels or text.endswith("!"):
                        assert ratio >= MINIMUM, (theme, focused, y, text, round(ratio, 2))
                        checked_status += text in labels
                        checked_cursor += on_cursor
        assert checked_status >= 10 and checked_cursor >= 4
