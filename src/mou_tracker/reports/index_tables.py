"""The index's four long tables, built as page-model tables: status counts by owner, every
commitment, the reviews overdue on the report date, and the evidence links needing attention."""

from __future__ import annotations

from collections.abc import Sequence

from mou_tracker.domain import derived
from mou_tracker.domain.queries import CommitmentRow, OwnerView
from mou_tracker.domain.vocab import STATUS_LABELS, STRENGTHS
from mou_tracker.reports import doc
from mou_tracker.reports.doc import Piece, Pieces
from mou_tracker.reports.legend import BASIS_SHORT, ORIGIN_SHORT, badge
from mou_tracker.reports.markdown import bar, page_path
from mou_tracker.reports.markdown import inline as md_inline
from mou_tracker.reports.model import Snapshot, owner_counts
from mou_tracker.reports.words import (
    SHOWN_STATUSES,
    day,
    joined,
    link_health_pieces,
    long_day,
    share,
    status_word,
)


def by_owner(page: doc.Doc, snap: Snapshot) -> None:
    """Status counts per owner, lead apart from support: a body that only supports a
    commitment is not the one answerable for it."""
    lines = [
        "### By owner",
        "",
        "Lead and supporting roles are counted apart: a commitment counts under its lead "
        "owners as lead and under its other owners as support, so a body is not charged with "
        "what it only supports.",
        "",
    ]
    rows: list[list[Pieces]] = []
    for code, role, group in owner_counts(snap.rows):
        total = sum(group.values())
        done = group.get("met", 0) + group.get("partially_met", 0)
        shown = f"{snap.parties[code].name} ({code})" if code in snap.parties else code
        breakdown = ", ".join(f"{group[s]} {badge(s)}" for s in SHOWN_STATUSES if group.get(s))
        rows.append(
            [
                [doc.t(shown)],
                [doc.t(role)],
                [doc.lit(str(total))],
                [doc.lit(str(done))],
                [doc.lit(share(done, total))],
                [doc.lit(bar(done / total if total else 0))],
                [doc.t(breakdown)],
            ]
        )
    if not rows:
        page.markdown_lines([*lines, "Nothing scored yet.", ""])
        return
    page.markdown_lines(lines)
    headers = ["Owner", "Role", "Scored", "Met or partly met", "Share", "Meter", "Statuses"]
    page.table(headers, rows, "llrrrll")
    page.blank()


def all_commitments(
    page: doc.Doc, snap: Snapshot, statuses: dict[tuple[str, str, bool], Pieces]
) -> list[tuple[CommitmentRow, Pieces, Piece]]:
    """The table of every commitment, in report order; return the rows whose review is
    overdue, each with its link and its title as pieces (for the table of overdue reviews)."""
    today = snap.today
    page.markdown_lines(
        [
            "## All commitments",
            "",
            "Origin: a clause of the memorandum (MoU clause) or an undertaking from the press "
            "release that announced it, and whether its wording is verified, known from excerpts "
            "or reconstructed. Owners: lead owners, then supporting owners marked (support). "
            "Review: the date the "
            f"next review is due; **overdue** if before {long_day(today)}. Stale: the newest "
            f"evidence is more than {derived.STALE_AFTER_DAYS} days old, so "
            '"no change" may only mean nobody looked.',
            "",
        ]
    )
    lit, t = doc.lit, doc.t
    rows: list[list[Pieces]] = []
    overdue: list[tuple[CommitmentRow, Pieces, Piece]] = []
    # Few distinct origins and sets of owners: each one's pieces are made once.
    origins: dict[tuple[str, str], Pieces] = {}
    owners: dict[tuple[tuple[str, str], ...], Pieces] = {}
    for r in snap.rows:
        next_review = "—" if r.strength == "vision" or r.next_review is None else day(r.next_review)
        newest = day(r.latest_evidence)
        if r.stale(today):
            newest = f"{newest} (stale)"
        origin = snap.origins.get(r.ref, ("", ""))
        if origin not in origins:
            origins[origin] = _origin_pieces(*origin)
        who = tuple((o.code, o.role) for o in r.owners)
        if who not in owners:
            owners[who] = _owner_codes(r.owners)
        ref_link, title = doc.page_link(r.ref, page_path(r.ref)), [t(r.title)]
        if r.overdue(today):
            overdue.append((r, ref_link, title[0]))
            next_review_cell = doc.strong(lit(f"{next_review} overdue"))
        else:
            next_review_cell = [lit(next_review)]
        if r.restates:
            links = [doc.page_link(ref, page_path(ref)) for ref in r.restates]
            title += [lit(" (restates "), *joined(links, ", "), lit(")")]
        if r.strength in STRENGTHS:
            strength = lit(r.strength)
        else:
            page.exact = False  # written as it stands
            strength = (doc.TEXT, r.strength, r.strength)
        rows.append(
            [
                ref_link,
                title,
                origins[origin],
                owners[who],
                [strength],
                _status_pieces(page, r, r.strength != "vision", statuses),
                [lit(str(r.evidence_count))],
                [lit(newest)],
                next_review_cell,
            ]
        )
    headers = [
        "Ref",
        "Commitment",
        "Origin",
        "Owners",
        "Strength",
        "Status",
        "Evidence",
        "Latest evidence",
        "Next review",
    ]
    page.table(headers, rows, "llllllrll")
    page.blank()
    return overdue


def overdue_reviews(
    page: doc.Doc,
    snap: Snapshot,
    overdue: Sequence[tuple[CommitmentRow, Pieces, Piece]],
    statuses: dict[tuple[str, str, bool], Pieces],
) -> None:
    """The scored commitments whose review is overdue on the report date."""
    lines = [f"## Reviews overdue on {long_day(snap.today)}", ""]
    if not overdue:
        page.markdown_lines([*lines, "None: every scored commitment was reviewed on schedule.", ""])
        return
    page.markdown_lines(lines)
    page.table(
        ["Ref", "Commitment", "Status", "Review was due", "Last reviewed"],
        [
            [
                ref_link,
                [title],
                _status_pieces(page, r, False, statuses),
                [doc.lit(day(r.next_review))],
                [doc.lit(day(r.last_reviewed))],
            ]
            for r, ref_link, title in overdue
        ],
    )
    page.blank()


def attention(page: doc.Doc, snap: Snapshot) -> None:
    """Broken, unreachable, moved or changed links, with the commitments that cite them."""
    lines = ["## Evidence links needing attention", ""]
    rows: list[list[Pieces]] = []
    for url, state in sorted(snap.links.items()):
        if not state.needs_attention:
            continue
        refs = snap.attention_refs.get(url, ())
        where = joined([doc.page_link(r, page_path(r)) for r in refs], ", ")
        if not where:
            official = any(m.source_url == url for m in snap.memoranda)
            where = [doc.lit("official text" if official else "—")]
        rows.append([where, doc.link(url, url), link_health_pieces(state)])
    if rows:
        page.markdown_lines(lines)
        page.table(["Ref", "Evidence link", "Health"], rows)
        page.blank()
    elif snap.links:
        page.markdown_lines(
            [
                *lines,
                "None: every checked link answered, at the same address, with the same text.",
                "",
            ]
        )
    else:
        page.markdown_lines(
            [
                *lines,
                "No link has been checked yet (`mou-tracker check-links` fetches every evidence "
                "URL and records broken, moved and changed pages).",
                "",
            ]
        )


def _status_pieces(
    page: doc.Doc, r: CommitmentRow, bold: bool, made: dict[tuple[str, str, bool], Pieces]
) -> Pieces:
    """A row's status with its symbol (in bold if asked), made once per status in ``made``;
    a status outside the vocabulary is written as it stands, which only markdown-it can be
    trusted to render."""
    key = (r.status, r.strength, bold)
    found = made.get(key)
    if found is None:
        word = status_word(r.status, r.strength)
        if r.status not in STATUS_LABELS and r.strength != "vision":
            page.exact = False
        found = made[key] = doc.strong(doc.lit(word)) if bold else [doc.lit(word)]
    return found


def _origin_pieces(origin: str, basis: str) -> Pieces:
    """Where a commitment's wording comes from and how sure it is, in short."""
    words = "; ".join(
        x for x in (ORIGIN_SHORT.get(origin, origin), BASIS_SHORT.get(basis, basis)) if x
    )
    return [doc.t(words) if md_inline(words) else doc.lit("—")]


def _owner_codes(owners: Sequence[OwnerView]) -> Pieces:
    """Owners by code, lead owners as they stand and the others marked (support)."""
    parts = [
        [doc.t(o.code), *([] if o.role == "lead" else [doc.lit(" (support)")])] for o in owners
    ]
    return joined(parts, ", ") if parts else [doc.lit("—")]
