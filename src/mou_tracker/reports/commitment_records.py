"""The record sections of a commitment's page: its evidence (newest first, each with its link
health and corrections), every correction to how it or its evidence is recorded, and its public
notes (internal notes are only counted)."""

from __future__ import annotations

from datetime import date

from mou_tracker.domain import derived
from mou_tracker.domain.queries import CommitmentDetail, EvidenceView
from mou_tracker.links import publishable_url
from mou_tracker.reports import doc
from mou_tracker.reports.doc import Pieces
from mou_tracker.reports.markdown import inline as md_inline
from mou_tracker.reports.markdown import note_markdown
from mou_tracker.reports.model import Snapshot
from mou_tracker.reports.words import (
    CONFIDENCE_WORDS,
    DIRECTION_WORDS,
    KIND_WORDS,
    changes_pieces,
    day,
    joined,
    link_health_pieces,
    stamp,
    two_times,
    word_piece,
)


def evidence_section(page: doc.Doc, d: CommitmentDetail) -> None:
    """Every piece of evidence, newest by publication date first."""
    lit = doc.lit
    page.heading(2, [lit(f"Evidence ({len(d.evidence)})")])
    page.blank()
    if d.evidence:
        page.para(
            [
                lit(
                    "Newest first. Each item: publication date, source, what kind of source, how it bears on the commitment, and how sure we are of it."
                )
            ]
        )
        page.blank()
        ordered = sorted(d.evidence, key=lambda e: (e.published or date.min, e.id), reverse=True)
        for e in ordered:
            page.loose_item(_evidence_paragraphs(e))
    else:
        page.para([lit("No evidence recorded yet.")])
        page.blank()


def _evidence_paragraphs(e: EvidenceView) -> list[Pieces]:
    """One piece of evidence as paragraphs: what and whose it is, its summary, its archived
    copy and link health, and each correction made to it."""
    lit, t = doc.lit, doc.t
    source = t(e.publisher) if e.publisher else lit("publisher not recorded")
    when = day(e.published) if e.published else "undated"
    # A backslash at the end of a line is a hard line break in CommonMark.
    first: Pieces = [
        *doc.strong(lit(when)),
        lit(" · "),
        *doc.link(e.title, e.url),
        lit(" · "),
        source,
        doc.br(),
        word_piece(KIND_WORDS, e.kind),
        lit(" · "),
        word_piece(DIRECTION_WORDS, e.direction),
        lit(" · "),
        word_piece(CONFIDENCE_WORDS, e.confidence),
        lit(f" · evidence #{e.id}"),
    ]
    paragraphs = [first]
    if e.summary:
        paragraphs.append([t(e.summary)])
    extra: list[Pieces] = []
    if e.archived_url:
        extra.append([lit("Archived copy: "), *doc.link(e.archived_url, e.archived_url), lit(".")])
    if e.link is not None:
        extra.append([lit("Link health: "), *link_health_pieces(e.link), lit(".")])
        now_at = publishable_url(e.link.final_url) if e.link.moved else None
        if now_at:
            extra.append([lit("Now at "), *doc.link(now_at, now_at), lit(".")])
    if extra:
        paragraphs.append(joined(extra, " "))
    for r in e.revisions:
        changes = joined(
            [
                [
                    t(field),
                    lit(" from “"),
                    t(old) if md_inline(old) else lit("—"),
                    lit("” to “"),
                    t(new) if md_inline(new) else lit("—"),
                    lit("”"),
                ]
                for field, old, new in r.changes
            ],
            ", ",
        )
        paragraphs.append(
            [
                lit(f"Corrected {two_times(r.at, r.recorded_at)} by "),
                t(r.by),
                lit(": "),
                *changes,
                lit(" ("),
                t(r.reason),
                lit(")."),
            ]
        )
    return paragraphs


def corrections(page: doc.Doc, d: CommitmentDetail) -> None:
    """The corrections column of a commitment: every change to how it or its evidence is
    recorded, oldest first, with what it said before, who changed it, when and why."""
    lit, t = doc.lit, doc.t
    entries = [(r.at, 0, "the commitment", r) for r in d.corrections]
    for e in d.evidence:
        entries += [(r.at, e.id, f"evidence #{e.id}", r) for r in e.revisions]
    entries.sort(key=lambda item: (item[0], item[1]))
    page.heading(2, [lit("Corrections")])
    page.blank()
    if not entries:
        page.para(
            [
                lit(
                    "None: nothing recorded about this commitment or its evidence has been changed "
                    "since it was entered."
                )
            ]
        )
        page.blank()
        return
    page.para(
        [
            lit(
                "Every change to how this commitment or its evidence is recorded, oldest first: what it "
                "said before, what it says now, who changed it, when and why."
            )
        ]
    )
    page.blank()
    page.bullets(
        [
            [
                *doc.strong(lit(two_times(r.at, r.recorded_at))),
                lit(f", {what}, by "),
                t(r.by),
                lit(": "),
                *changes_pieces(r.changes),
                lit(". Why: "),
                t(r.reason),
            ]
            for _at, _order, what, r in entries
        ]
    )
    page.blank()


def notes_section(page: doc.Doc, d: CommitmentDetail, snap: Snapshot) -> None:
    """The public notes, quoted as written (a withdrawn one marked so), then how many internal
    notes are withheld."""
    lit, t = doc.lit, doc.t
    page.heading(2, [lit("Notes")])
    page.blank()
    public = [n for n in d.notes if n.visibility == "public"]
    if public:
        page.para(
            [
                lit(
                    "Notes by the tracking team, quoted as written; a note never changes the status above."
                )
            ]
        )
        page.blank()
    withdrawn = derived.withdrawals(public)
    for n in public:
        head: Pieces = [lit(f"Note of {two_times(n.at, n.recorded_at)} by "), t(n.author)]
        by = withdrawn.get(n.id)
        if by is not None:
            head += [
                lit(" ("),
                *doc.strong(lit("withdrawn")),
                lit(f" on {stamp(by.at)} by "),
                t(by.author),
                lit("; the note saying why follows)"),
            ]
        page.para([*head, lit(":")])
        page.blank()
        page.quoted_markdown(note_markdown(n.body))
        page.blank()
    if not public:
        page.para([lit("No public notes.")])
        page.blank()
    withheld = snap.internal_notes.get(d.ref, 0)
    page.para(
        [
            lit(
                f"{withheld} internal note{'s' if withheld != 1 else ''} kept by the tracking team "
                f"{'are' if withheld != 1 else 'is'} withheld from this page."
            )
        ]
    )
    page.blank()
