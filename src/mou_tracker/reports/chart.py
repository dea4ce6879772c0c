"""Status over time, as two series side by side, each as a CSV and a stacked step chart (SVG).

* By the day each change was *recorded* (:func:`mou_tracker.reports.model.status_by_date`,
  ``data/status-by-date.csv`` and ``status-over-time.svg``): what the tracker said at the time.
* By the day each change *takes effect* (:func:`status_by_effective_date`,
  ``data/status-by-effective-date.csv`` and ``status-by-effective-date.svg``): how the
  commitments moved, as the record now stands, so a back-dated change recorded later moves
  earlier days.

The SVG is written by hand: no plotting library, no JavaScript, numbers with a fixed number of
decimals, so the same counts always give the same bytes, and its size grows with the number of
days on which a count changed, not with the number of commitments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Literal
from xml.sax.saxutils import escape

from sqlmodel import Session, col, select

from mou_tracker.domain.models import Commitment, HistoryEntry
from mou_tracker.domain.vocab import STATUS_LABELS
from mou_tracker.reports.legend import STATUS_STYLE
from mou_tracker.reports.model import Snapshot, recorded

# Bottom of the stack first: delivery, then trouble, then nothing yet.
ORDER = ("met", "partially_met", "in_progress", "stalled", "not_met", "not_started", "not_assessed")
CSV_COLUMNS = ("date", "status", "count")

WIDTH, HEIGHT = 760, 330
LEFT, RIGHT, TOP, BOTTOM = 44, 200, 28, 40

# The effective-date series, beside the recorded one (status-over-time.svg and
# data/status-by-date.csv, named in reports/words.py).
EFFECTIVE_CHART_FILE = "status-by-effective-date.svg"
EFFECTIVE_CSV_FILE = "data/status-by-effective-date.csv"

Series = Sequence[tuple[date, dict[str, int]]]
Basis = Literal["recorded", "effective"]

# Per basis: how the description and the caption say what a day means, and the CSV behind it.
_BASIS_WORDS: dict[str, tuple[str, str, str]] = {
    "recorded": (
        "by the day each assessment was recorded",
        "Commitments at each status, by the day each assessment was recorded",
        "data/status-by-date.csv",
    ),
    "effective": (
        "by the day each change took effect, as the record now stands (a change recorded "
        "later can move earlier days)",
        "Commitments at each status, by the day each change took effect",
        EFFECTIVE_CSV_FILE,
    ),
}


def _day(value: datetime) -> date:
    # SQLite may hand back a naive datetime or text; either is UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).date()


def status_by_effective_date(session: Session, snap: Snapshot) -> list[tuple[date, dict[str, int]]]:
    """How many of the commitments counted in headline figures stood at each status, on every
    day on which a count changed, by the day each change *takes effect* (``history.at``), as
    the record stands on the report date: a change recorded after the report date is left
    out, and a back-dated change counts from the day it takes effect. Each commitment counts
    as not yet assessed from the day tracking began (the signing date, unless it was added
    later), or from its first change if that takes effect earlier. One streamed query."""
    counted = {r.ref for r in snap.rows if r.counted}
    if not counted:
        return []
    signed = {m.slug: m.signed for m in snap.memoranda}
    starts: dict[date, list[str]] = {}
    for row in snap.rows:
        if row.ref not in counted:
            continue
        began = snap.added_at.get(row.ref)
        day = _day(began) if began else signed.get(row.memorandum)
        if day is None:
            continue
        starts.setdefault(day, []).append(row.ref)
    # A commitment's history is recorded in the order it takes effect (the tracker refuses
    # an entry dated before the latest), so sorting by ``at`` then ``id`` is its own order.
    query = (
        select(
            col(Commitment.ref),
            col(HistoryEntry.to_status),
            col(HistoryEntry.at),
            recorded(HistoryEntry),
        )
        .join(Commitment, col(Commitment.id) == col(HistoryEntry.commitment_id))
        .where(col(HistoryEntry.kind) == "status")
        .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
    )
    moves: dict[date, list[tuple[str, str]]] = {}
    for ref, to_status, effective, when in session.execute(query).yield_per(5000):
        if ref in counted and _day(when) <= snap.report_date:
            moves.setdefault(_day(effective), []).append((ref, to_status))
    current: dict[str, str] = {}
    counts: dict[str, int] = {}
    found: list[tuple[date, dict[str, int]]] = []
    for day in sorted(set(starts) | set(moves)):
        if day > snap.report_date:
            break
        for ref, to_status in moves.get(day, ()):
            before = current.get(ref)
            if before is not None:
                counts[before] -= 1
            current[ref] = to_status
            counts[to_status] = counts.get(to_status, 0) + 1
        for ref in starts.get(day, ()):
            if ref not in current:  # not already assessed by a change back-dated to or before today
                current[ref] = "not_assessed"
                counts["not_assessed"] = counts.get("not_assessed", 0) + 1
        kept = {s: n for s, n in counts.items() if n}
        if not found or found[-1][1] != kept:
            found.append((day, kept))
    return found


def status_csv(series: Series) -> str:
    """``date,status,count``: every status (zeros included) on each day a count changed."""
    lines = [",".join(CSV_COLUMNS)]
    for day, counts in series:
        for status in ORDER:
            lines.append(f"{day.isoformat()},{status},{counts.get(status, 0)}")
    return "\n".join(lines) + "\n"


def _n(value: float) -> str:
    return f"{value:.1f}"


def status_svg(series: Series, report_date: date, title: str, basis: Basis = "recorded") -> str:
    """A stacked step chart of the counts from the first day to the report date; ``basis``
    says whether a day is when a change was recorded or when it took effect."""
    basis_words, caption, csv_file = _BASIS_WORDS[basis]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    if not series:
        out.append('<desc id="chart-desc">No commitment is scored yet.</desc>')
        out.append('<rect width="100%" height="100%" fill="#fff"/>')
        out.append(
            f'<text x="{LEFT}" y="{TOP + 20}" fill="#333">No commitment is scored yet.</text>'
        )
        out.append("</svg>")
        return "\n".join(out) + "\n"
    first = series[0][0]
    last = max(report_date, series[-1][0])
    span = max((last - first).days, 1)
    total = max(sum(c.values()) for _d, c in series) or 1
    final = series[-1][1]
    summary = ", ".join(f"{final[s]} {STATUS_LABELS[s]}" for s in ORDER if final.get(s))
    out.append(
        f'<desc id="chart-desc">Commitments counted in the headline figures, by status, from '
        f"{first.isoformat()} to {last.isoformat()}, {basis_words}. "
        f"On {last.isoformat()}: {escape(summary)}. The figures are in {csv_file}."
        "</desc>"
    )
    out.append('<rect width="100%" height="100%" fill="#fff"/>')

    def x(day: date) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(count: float) -> float:
        return TOP + plot_h * (1 - count / total)

    # The stacked bands, one path each: along the top of the band, then back along its bottom.
    bounds = [day for day, _c in series[1:]] + [last]
    for status in ORDER:
        if not any(c.get(status) for _d, c in series):
            continue
        top: list[str] = []
        bottom: list[str] = []
        for (day, counts), end in zip(series, bounds, strict=True):
            below = sum(counts.get(s, 0) for s in ORDER[: ORDER.index(status)])
            above = below + counts.get(status, 0)
            top += [f"{_n(x(day))},{_n(y(above))}", f"{_n(x(end))},{_n(y(above))}"]
            bottom += [f"{_n(x(day))},{_n(y(below))}", f"{_n(x(end))},{_n(y(below))}"]
        symbol, colour = STATUS_STYLE[status]
        out.append(
            f'<path d="M{" L".join(top + bottom[::-1])} Z" fill="{colour}" stroke="#fff" '
            f'stroke-width="0.5"><title>{escape(STATUS_LABELS[status])}</title></path>'
        )
    # Symbols inside the bands at the right edge, so the chart reads in monochrome too.
    below = 0
    for status in ORDER:
        n = final.get(status, 0)
        if n and (y(below) - y(below + n)) >= 14:
            symbol = STATUS_STYLE[status][0]
            out.append(
                f'<text x="{_n(LEFT + plot_w - 10)}" y="{_n((y(below) + y(below + n)) / 2 + 4)}" '
                f'text-anchor="middle" fill="#000" aria-hidden="true">{symbol}</text>'
            )
        below += n
    # Axes: counts on the left, dates below.
    out.append(
        f'<path d="M{LEFT},{TOP} L{LEFT},{TOP + plot_h} L{LEFT + plot_w},{TOP + plot_h}" '
        'fill="none" stroke="#333"/>'
    )
    ticks = sorted({0, total // 2, total}) if total > 1 else [0, total]
    for t in ticks:
        out.append(
            f'<text x="{LEFT - 6}" y="{_n(y(t) + 4)}" text-anchor="end" fill="#333">{t}</text>'
        )
    labels = [first]
    for year in range(first.year + 1, last.year + 1):
        day = date(year, 1, 1)
        if x(day) - x(labels[-1]) >= 80 and x(last) - x(day) >= 80:
            labels.append(day)
    if last != first:
        labels.append(last)
    for i, day in enumerate(labels):
        anchor = "start" if i == 0 else ("end" if i == len(labels) - 1 else "middle")
        out.append(
            f'<text x="{_n(x(day))}" y="{TOP + plot_h + 18}" text-anchor="{anchor}" fill="#333">'
            f"{day.isoformat()}</text>"
        )
    out.append(f'<text x="{LEFT}" y="{TOP - 10}" fill="#333">{caption}</text>')
    # The legend: symbol, word and the count on the last day, top of the stack first.
    lx, ly = LEFT + plot_w + 18, TOP + 6
    for status in reversed(ORDER):
        symbol, colour = STATUS_STYLE[status]
        out.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}" stroke="#333" '
            'stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{lx + 18}" y="{ly + 10}" fill="#111">{symbol} '
            f"{escape(STATUS_LABELS[status])}: {final.get(status, 0)}</text>"
        )
        ly += 20
    out.append("</svg>")
    return "\n".join(out) + "\n"
