"""How values look on screen. Every piece of user text becomes a ``rich.text.Text`` built from
plain strings, never parsed as markup (a title like ``Fund [/] [bold]x`` shows as typed)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text

from mou_tracker.domain.errors import TrackerError

if TYPE_CHECKING:
    from mou_tracker.tui.palette import Palette
from mou_tracker.domain.vocab import STATUS_LABELS

# The colours of the dark default theme. ``apply_palette`` (called by the app whenever the theme
# changes) replaces them, in place, with the same hues adjusted to reach 4.5:1 on that theme.
STATUS_STYLES = {
    "not_assessed": "grey62",
    "not_started": "grey85",
    "in_progress": "bold dodger_blue1",
    "partially_met": "bold gold1",
    "met": "bold green3",
    "stalled": "bold dark_orange",
    "not_met": "bold red1",
}
DIRECTION_STYLES = {"progress": "green3", "against": "red1", "context": "grey62"}
STRENGTH_STYLES = {
    "vision": "grey50 italic",
    "may": "grey70",
    "explore": "grey85",
    "intend": "bold",
    "will": "bold underline",
}
SIGNAL_STYLES = {"overdue": "bold red1", "vision": "grey50 italic", "muted": "grey50"}


def apply_palette(palette: Palette | None) -> None:
    """Use ``palette``'s colours for statuses, directions and signals from now on."""
    if palette is None:
        return
    for name in STATUS_STYLES:
        STATUS_STYLES[name] = palette.style(name)
    for name in DIRECTION_STYLES:
        DIRECTION_STYLES[name] = palette.style(name)
    SIGNAL_STYLES["overdue"] = palette.style("overdue")
    SIGNAL_STYLES["vision"] = palette.style("vision") + " italic"
    SIGNAL_STYLES["muted"] = palette.style("muted")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def status_text(status: str, strength: str | None = None) -> Text:
    """The status in its colour; a vision clause is shown but not scored."""
    if strength == "vision":
        return Text("not scored", style=SIGNAL_STYLES["vision"])
    return Text(status_label(status), style=STATUS_STYLES.get(status, ""))


def day(value: date | None, empty: str = "—") -> str:
    return value.isoformat() if value is not None else empty


def long_day(value: date) -> str:
    """'Thursday 9 April 2026': the echo of a parsed date, in words nobody can misread."""
    return f"{value.strftime('%A')} {value.day} {value.strftime('%B %Y')}"


def plain(value: object) -> Text:
    """User text as a Text, whatever it contains."""
    return Text("" if value is None else str(value))


def one_line(value: str) -> str:
    return " ".join(value.split())


def describe_error(exc: BaseException) -> str:
    """One line for a person, the same wording as the CLI's messages."""
    if isinstance(exc, TrackerError):
        return one_line(str(exc))
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "unavailable"
        return one_line(f"database: {detail}")
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return one_line(f"database refused the write: {detail}; nothing was saved")
    if isinstance(exc, OSError):
        return one_line(f"{exc.filename or 'file'}: {exc.strerror or exc}")
    return one_line(f"unexpected {type(exc).__name__}: {exc}")
