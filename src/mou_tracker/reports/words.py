"""The words every Markdown page shares: file names, dates, status words and the vocabularies
of evidence, origin and wording, and the small pieces that join them (:mod:`.pages` names the
pages that use them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from mou_tracker.domain.queries import LinkState
from mou_tracker.domain.vocab import STATUS_LABELS
from mou_tracker.reports import doc
from mou_tracker.reports.doc import Piece, Pieces
from mou_tracker.reports.legend import badge
from mou_tracker.reports.markdown import inline, link
from mou_tracker.reports.markdown import inline as md_inline
from mou_tracker.reports.model import Event

GENERATOR = "mou-tracker"
MONTHS = (
    "January February March April May June July August September October November December"
).split()
# The order statuses are shown in: delivery first, then trouble, then nothing yet.
SHOWN_STATUSES = (
    "met",
    "partially_met",
    "in_progress",
    "stalled",
    "not_met",
    "not_started",
    "not_assessed",
)
KIND_WORDS = {
    "official_document": "official document",
    "announcement": "announcement",
    "news_report": "news report",
    "foi_release": "FoI release",
    "parliamentary_record": "parliamentary record",
    "data": "data",
}
DIRECTION_WORDS = {
    "progress": "shows progress",
    "against": "shows no progress or a setback",
    "context": "context",
}
CONFIDENCE_WORDS = {
    "primary": "primary source",
    "secondary": "secondary source",
    "unverified": "unverified",
    "withdrawn": "withdrawn (added by mistake; not counted)",
}
BASIS_WORDS = {
    "verified": "wording verified in the published text",
    "excerpt_only": "wording known from quoting outlets only",
    "reconstructed": "wording reconstructed from second-hand quotes",
}
ORIGIN_WORDS = {
    "clause": "a clause of the memorandum",
    "press_release": "a press-release undertaking",
}
DIGEST_FILE = "changes.md"
LEGEND_FILE = "legend.md"
FEED_FILE = "feed.xml"
CHART_FILE = "status-over-time.svg"
STATUS_BY_DATE_FILE = "data/status-by-date.csv"


def day(value: date | datetime | None) -> str:
    """``2026-04-09``: sortable and unambiguous, for tables."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def long_day(value: date | datetime | None) -> str:
    """``9 April 2026`` (fixed English month names: no locale can change the output)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def status_word(status: str, strength: str) -> str:
    """The status as a reader sees it everywhere: its symbol beside its word."""
    return badge(status, strength)


def status_label(status: str | None) -> str:
    """A status from a history row (any value a file may hold), with its symbol if known."""
    return badge(status) if status in STATUS_LABELS else inline(status)


def share(n: int, total: int) -> str:
    """``n`` as a whole percentage of ``total``; a dash when there is nothing to share."""
    return f"{round(100 * n / total)}%" if total else "—"


def word_piece(words: dict[str, str], key: str) -> Piece:
    """A vocabulary value in plain words, or (outside the vocabulary) as it stands."""
    return doc.lit(words[key]) if key in words else doc.t(key)


def joined(parts: Sequence[Pieces], sep: str) -> Pieces:
    """The parts one after another, ``sep`` between each two."""
    out: Pieces = []
    for k, part in enumerate(parts):
        if k:
            out.append(doc.lit(sep))
        out += part
    return out


def link_health_pieces(state: LinkState) -> Pieces:
    return [doc.t(state.label), doc.lit(f" (checked {day(state.checked_at)})")]


def changes_words(changes: Sequence[tuple[str, str, str]]) -> str:
    """``title: “old” → “new”; strength: “explore” → “may”`` (an empty value shows as —)."""
    return doc.markdown_of(changes_pieces(changes))


def changes_pieces(changes: Sequence[tuple[str, str, str]]) -> Pieces:
    lit, t = doc.lit, doc.t
    return joined(
        [
            [
                t(field.replace("_", " ")),
                lit(": “"),
                t(old) if md_inline(old) else lit("—"),
                lit("” → “"),
                t(new) if md_inline(new) else lit("—"),
                lit("”"),
            ]
            for field, old, new in changes
        ],
        "; ",
    )


def event_words(e: Event) -> str:
    """A recorded change in one line, as the index and the digest list it."""
    if e.kind == "status":
        return f"{status_label(e.from_status)} → **{status_label(e.to_status)}**: {inline(e.text)}"
    if e.kind == "review":
        return f"reviewed, status stands ({status_label(e.to_status)}): {inline(e.text)}"
    if e.kind == "evidence":
        return f"evidence added: {link(e.text, e.url)}" + (
            f" (published {day(e.published)})" if e.published else ""
        )
    if e.kind == "correction":
        return f"evidence corrected: {inline(e.text)}"
    if e.kind == "commitment correction":
        return f"corrected: {changes_words(e.changes)}. Why: {inline(e.text)}"
    if e.kind == "target":
        if e.old_target is None:
            return f"target set to {day(e.new_target)}: {inline(e.text)}"
        return f"target moved from {day(e.old_target)} to {day(e.new_target)}: {inline(e.text)}"
    return inline(e.text)


def two_times(effective: datetime, recorded_at: datetime | None) -> str:
    """The effective time, and the recording time when it was on another day."""
    if recorded_at is not None and recorded_at.date() != effective.date():
        return f"{stamp(effective)} (recorded {day(recorded_at)})"
    return stamp(effective)
