"""The digest of what changed (``changes.md``, or ``changes-since-<date>.md``): status changes by
the status moved to, then reviews, evidence, corrections, target dates and notes, the new
commitments and the reviews that fell overdue in the period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from mou_tracker.reports.legend import badge
from mou_tracker.reports.markdown import inline, link, page_link, page_path
from mou_tracker.reports.model import Digest, Event, Snapshot
from mou_tracker.reports.words import (
    DIGEST_FILE,
    LEGEND_FILE,
    SHOWN_STATUSES,
    changes_words,
    day,
    event_words,
    long_day,
    status_label,
)


def digest_page(dg: Digest, snap: Snapshot, *, title: str) -> str:
    """The digest of what changed from ``dg.start`` to ``dg.end`` (both included), in Markdown."""
    out = [f"# {title}", ""]
    out.append(
        f"From {long_day(dg.start)} to {long_day(dg.end)} (the report date), both included. "
        f"{page_link('All commitments', 'README.md')} · "
        f"{page_link('Key to statuses', LEGEND_FILE)}."
    )
    out.append("")
    _status_changes(out, dg)
    _record_lists(out, dg)
    _new_and_overdue(out, dg)
    return "\n".join(out)


def _status_changes(out: list[str], dg: Digest) -> None:
    """The status changes, grouped by the status each moved to, in the order statuses are shown."""
    out.append("## Status changes")
    out.append("")
    if dg.status_changes:
        groups: dict[str, list[Event]] = {}
        for e in dg.status_changes:
            groups.setdefault(e.to_status or "", []).append(e)
        for status in SHOWN_STATUSES:
            items = groups.get(status)
            if not items:
                continue
            out.append(f"### Moved to {badge(status)} ({len(items)})")
            out.append("")
            for e in items:
                cites = "; ".join(f"{link(t, u)} (#{i})" for i, t, u in e.cited)
                out.append(
                    f"- {page_link(e.ref, page_path(e.ref))} {inline(e.title)}: "
                    f"{status_label(e.from_status)} → {status_label(e.to_status)}, {_when(e)} "
                    f"({inline(e.actor)}). {inline(e.text)}"
                    + (f" Evidence: {cites}." if cites else "")
                )
            out.append("")
    else:
        out.append("No status changed.")
        out.append("")


def _record_lists(out: list[str], dg: Digest) -> None:
    """One list each: reviews, evidence recorded, evidence corrected, commitments corrected,
    target dates and public notes."""
    _digest_list(
        out,
        "Reviews that left the status unchanged",
        dg.reviews,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))} {_when(e)} ({inline(e.actor)}): {inline(e.text)}"
        ),
    )
    _digest_list(
        out,
        "Evidence recorded in the tracker",
        dg.evidence,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))}: {link(e.text, e.url)}"
            + (f", published {day(e.published)}" if e.published else ", undated")
            + f"; recorded {day(e.at)} by {inline(e.actor)}"
            + (f" (dated {day(e.effective)} in the file it came from)" if e.effective else "")
        ),
    )
    _digest_list(
        out,
        "Evidence corrected",
        dg.corrections,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))} {_when(e)} ({inline(e.actor)}): {inline(e.text)}"
        ),
    )
    _digest_list(
        out,
        "Commitments corrected",
        dg.commitment_corrections,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))} {inline(e.title)} {_when(e)} "
            f"({inline(e.actor)}): {changes_words(e.changes)}. Why: {inline(e.text)}"
        ),
    )
    _digest_list(
        out,
        "Target dates set or moved",
        dg.targets,
        lambda e: f"{page_link(e.ref, page_path(e.ref))} {_when(e)}: {event_words(e)}",
    )
    _digest_list(
        out,
        "Public notes added",
        dg.notes,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))} {_when(e)} ({inline(e.actor)}): {inline(_first_line(e.text))}"
        ),
    )


def _new_and_overdue(out: list[str], dg: Digest) -> None:
    """The commitments added in the period, and those whose review fell overdue in it."""
    out.append(f"## New commitments ({len(dg.new_commitments)})")
    out.append("")
    if dg.new_commitments:
        for r in dg.new_commitments:
            out.append(f"- {page_link(r.ref, page_path(r.ref))} {inline(r.title)} ({r.strength})")
    else:
        out.append("None.")
    out.append("")
    out.append(f"## Reviews that fell overdue ({len(dg.fell_overdue)})")
    out.append("")
    if dg.fell_overdue:
        for r in dg.fell_overdue:
            out.append(
                f"- {page_link(r.ref, page_path(r.ref))} {inline(r.title)}: review was due {day(r.next_review)}"
            )
    else:
        out.append("None.")
    out.append("")


def _when(e: Event) -> str:
    """``on 27 Nov 2026``, or for a back-dated record ``effective 1 Jun 2026, recorded on
    27 Nov 2026``: a reader learns both what the change is about and when it was made."""
    if e.effective is not None and e.effective.date() != e.at.date():
        return f"effective {day(e.effective)}, recorded on {day(e.at)}"
    return f"on {day(e.at)}"


def _first_line(text: str | None) -> str:
    """The first line of a note, shortened: the note itself is on the commitment's page."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first if len(first) <= 200 else first[:199] + "…"


def _digest_list(
    out: list[str], heading: str, items: Sequence[Event], render: Callable[[Event], str]
) -> None:
    """A section listing ``items``, each as ``render`` writes it, with their number."""
    out.append(f"## {heading} ({len(items)})")
    out.append("")
    if items:
        for e in items:
            out.append(f"- {render(e)}")
    else:
        out.append("None.")
    out.append("")


def digest_title(dg: Digest, default: bool) -> str:
    """The title: the default digest by the day it ends, any other by the day it starts."""
    if default:
        return f"What changed in the 30 days to {long_day(dg.end)}"
    return f"What changed since {long_day(dg.start)}"


def digest_file_name(since: date | None) -> str:
    """``changes.md`` for the default digest, ``changes-since-<date>.md`` for one since a date."""
    return DIGEST_FILE if since is None else f"changes-since-{since.isoformat()}.md"
