"""The Markdown pages: the index (``README.md``), one page per commitment, and the digest of
what changed. Every piece of user text goes through :mod:`mou_tracker.reports.markdown`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from mou_tracker.domain import derived
from mou_tracker.domain.queries import (
    CommitmentDetail,
    CommitmentRow,
    EvidenceView,
    LinkState,
    MemorandumView,
    OwnerView,
)
from mou_tracker.domain.vocab import STATUS_LABELS, STATUSES, STRENGTH_WORDS, STRENGTHS
from mou_tracker.links import publishable_url
from mou_tracker.reports import chart, doc
from mou_tracker.reports.doc import Piece, Pieces
from mou_tracker.reports.legend import (
    BASIS_MEANINGS,
    BASIS_SHORT,
    ORIGIN_MEANINGS,
    ORIGIN_SHORT,
    STATUS_MEANINGS,
    badge,
    first_sentence,
)
from mou_tracker.reports.markdown import (
    bar,
    escape,
    file_link,
    inline,
    link,
    note_markdown,
    page_link,
    page_path,
    table,
)
from mou_tracker.reports.markdown import inline as md_inline
from mou_tracker.reports.model import (
    Digest,
    Event,
    LatestEvidence,
    Snapshot,
    group_counts,
    owner_counts,
)

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
QUIET_WARNING_DAYS = 30  # a longer silence is said in bold at the top of the index


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


def _label(status: str | None) -> str:
    """A status from a history row (any value a file may hold), with its symbol if known."""
    return badge(status) if status in STATUS_LABELS else inline(status)


def _share(n: int, total: int) -> str:
    return f"{round(100 * n / total)}%" if total else "—"


def _freshness(snap: Snapshot) -> str:
    """The latest recorded change and how long before the report date it was."""
    if snap.as_of is None or snap.quiet_days is None:
        return "No change has been recorded in the tracker yet."
    gap = snap.quiet_days
    if gap == 0:
        return f"Latest change recorded in the tracker: {long_day(snap.as_of)}, the same day."
    days = f"{gap} day{'s' if gap != 1 else ''}"
    line = (
        f"Latest change recorded in the tracker: {long_day(snap.as_of)}, {days} before the "
        "report date."
    )
    if gap > QUIET_WARNING_DAYS:
        line += f" **Nothing has been recorded for {days}.**"
    return line


def index_page(
    snap: Snapshot,
    recent: Sequence[Event],
    latest: Sequence[LatestEvidence],
    *,
    digest_files: Sequence[tuple[str, str]],
    formats: Sequence[str],
) -> str:
    """The index (``README.md``) in Markdown."""
    return index_doc(snap, recent, latest, digest_files=digest_files, formats=formats).markdown()


def index_doc(
    snap: Snapshot,
    recent: Sequence[Event],
    latest: Sequence[LatestEvidence],
    *,
    digest_files: Sequence[tuple[str, str]],
    formats: Sequence[str],
) -> doc.Doc:
    """The index as a page model. Its long tables (owners, every commitment, overdue reviews,
    links needing attention) are modelled; the rest, a few short blocks, is Markdown that
    markdown-it renders as part of the page (:meth:`doc.Doc.markdown_lines`)."""
    page = doc.Doc()
    if len(snap.memoranda) == 1:
        page.heading(1, [doc.t(snap.memoranda[0].title), doc.lit(": what has happened since")])
    else:
        page.heading(1, [doc.lit("Tracked memoranda: what has happened since")])
    page.markdown_lines(_index_opening(snap))
    page.markdown_lines(_summary(snap) + _status_over_time(formats) + _group_tables(snap))
    _by_owner(page, snap)
    statuses: dict[tuple[str, str, bool], Pieces] = {}
    overdue = _all_commitments(page, snap, statuses)
    _overdue(page, snap, overdue, statuses)
    _attention(page, snap)
    page.markdown_lines(_what_changed(recent, latest, digest_files))
    page.markdown_lines([*legend_sections(from_index=True), *_about_files(formats)])
    return page


def _index_opening(snap: Snapshot) -> list[str]:
    """What follows the title: the report date, how the report is made, each memorandum."""
    out = [""]
    out.append(f"**Report date: {long_day(snap.report_date)}.** {_freshness(snap)}")
    out.append("")
    out.append(
        "Overdue reviews and stale evidence are judged on the report date. This report is "
        f"generated by {GENERATOR} from its database; the same database and the same report "
        "date always give the same files, so two versions can be compared line by line."
        + (
            ""
            if snap.authenticates_users
            else " Names beside changes are as their authors gave them: this database does not "
            "authenticate users."
        )
    )
    out.append("")
    out.append(
        "Every status is shown by a symbol beside its word (● met, ◑ partially met, "
        "◔ in progress, ⊘ stalled, ✗ not met, ○ not started, ◌ not yet assessed); "
        f"{page_link('the key', LEGEND_FILE)} says what each status and strength means. "
        f"Changes are also published as an {file_link('Atom feed', FEED_FILE)}."
    )
    out.append("")
    for memo in snap.memoranda:
        out.extend(_memo_header(snap, memo))
    for slug, state in snap.official_text_changed:
        out.append(
            f"> **Warning: the official text of {inline(slug)} has changed** since it was first "
            f"recorded (noticed {day(state.checked_at)}). Every reader should compare the "
            "current text with the stored copy before relying on this report."
        )
        out.append("")
    return out


def _summary(snap: Snapshot) -> list[str]:
    """How many commitments are tracked and scored, and the counts by status."""
    rows = snap.rows
    scored = [r for r in rows if r.strength != "vision"]
    out = ["## Summary", ""]
    out.append(
        f"{len(rows)} commitments are tracked; {len(scored)} are scored. "
        f"{len(rows) - len(scored)} are statements of vision or legal boilerplate: shown, "
        "not scored."
    )
    out.append("")
    counted = [r for r in scored if r.counted]
    out.append(_counting_rule(scored, counted))
    out.append("")
    out.append("### By status")
    out.append("")
    counts = {s: 0 for s in STATUSES}
    for r in counted:
        counts[r.status] += 1
    out.append(
        table(
            ["Status", "Commitments", "Share", "Meter", "What it means"],
            [
                [
                    badge(s),
                    str(counts[s]),
                    _share(counts[s], len(counted)),
                    bar(counts[s] / len(counted) if counted else 0),
                    inline(STATUS_MEANINGS[s]),
                ]
                for s in SHOWN_STATUSES
            ],
            "lrrll",
        )
    )
    out.append("")
    return out


def _status_over_time(formats: Sequence[str]) -> list[str]:
    """The two charts of status over time, each with what it counts and where its figures are."""

    def figures(name: str, path: str) -> str:
        return (
            file_link(name, path)
            if "csv" in formats
            else f"`{path}` (exported with the csv format)"
        )

    out = ["### Status over time", ""]
    # First how the commitments moved (by the day each change took effect), then what the
    # tracker said at the time (by the day each was recorded). The effective chart's path is
    # a constant of this package, linked directly as file_link knows only the first chart.
    effective_chart = "Chart: commitments at each status, by the day each change took effect (SVG)"
    out.append(f"[{inline(effective_chart)}]({chart.EFFECTIVE_CHART_FILE})")
    out.append("")
    out.append(
        "How the commitments moved: each change counts from the day it took effect, as the "
        "record now stands. A later correction (a change entered afterwards with an earlier date) "
        "can change the counts for days already shown, so an earlier report may have drawn them "
        "differently. The figures are in "
        + figures("status-by-effective-date.csv", chart.EFFECTIVE_CSV_FILE)
        + ": one row per status on each day a count changed."
    )
    out.append("")
    out.append(
        file_link(
            "Chart: commitments at each status over time, by the day each assessment was "
            "recorded (SVG)",
            CHART_FILE,
        )
    )
    out.append("")
    out.append(
        "What the tracker said at the time: each assessment counts from the day it was "
        "recorded in the tracker, so a back-dated assessment appears on the day it was entered "
        "(each commitment's page gives the date it takes effect). The figures are in "
        + figures("status-by-date.csv", STATUS_BY_DATE_FILE)
        + ": one row per status on each day a count changed."
    )
    out.append("")
    return out


def _group_tables(snap: Snapshot) -> list[str]:
    """The scored commitments by strength of wording and by theme (a few rows each)."""
    out: list[str] = []
    for key, heading, label in (
        ("strength", "By strength of wording", "Strength"),
        ("theme", "By theme", "Theme"),
    ):
        out.append(f"### {heading}")
        out.append("")
        if key == "strength":
            out.append(
                "How firm the wording of each scored commitment is, weakest first. "
                "Met or partly met counts `met` and `partially_met`."
            )
            out.append("")
        groups = group_counts(snap.rows, key)
        if key == "strength":
            order = {s: i for i, s in enumerate(STRENGTHS)}
            groups.sort(key=lambda g: order.get(g[0], 99))
        table_rows = []
        for name, group in groups:
            total = sum(group.values())
            done = group.get("met", 0) + group.get("partially_met", 0)
            breakdown = ", ".join(f"{group[s]} {badge(s)}" for s in SHOWN_STATUSES if group.get(s))
            table_rows.append(
                [
                    inline(name),
                    str(total),
                    str(done),
                    _share(done, total),
                    bar(done / total if total else 0),
                    inline(breakdown),
                ]
            )
        out.append(
            table(
                [label, "Scored", "Met or partly met", "Share", "Meter", "Statuses"],
                table_rows,
                "lrrrll",
            )
            if table_rows
            else "Nothing scored yet."
        )
        out.append("")
    return out


def _by_owner(page: doc.Doc, snap: Snapshot) -> None:
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
                [doc.lit(_share(done, total))],
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


def _all_commitments(
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
        ref_link, title = _pl(r.ref, page_path(r.ref)), [t(r.title)]
        if r.overdue(today):
            overdue.append((r, ref_link, title[0]))
            next_review_cell = doc.strong(lit(f"{next_review} overdue"))
        else:
            next_review_cell = [lit(next_review)]
        if r.restates:
            links = [_pl(ref, page_path(ref)) for ref in r.restates]
            title += [lit(" (restates "), *_joined(links, ", "), lit(")")]
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


def _overdue(
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


def _attention(page: doc.Doc, snap: Snapshot) -> None:
    """Broken, unreachable, moved or changed links, with the commitments that cite them."""
    lines = ["## Evidence links needing attention", ""]
    rows: list[list[Pieces]] = []
    for url, state in sorted(snap.links.items()):
        if not state.needs_attention:
            continue
        refs = snap.attention_refs.get(url, ())
        where = _joined([_pl(r, page_path(r)) for r in refs], ", ")
        if not where:
            official = any(m.source_url == url for m in snap.memoranda)
            where = [doc.lit("official text" if official else "—")]
        rows.append([where, doc.link(url, url), _link_health_pieces(state)])
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
    return _joined(parts, ", ") if parts else [doc.lit("—")]


def _what_changed(
    recent: Sequence[Event],
    latest: Sequence[LatestEvidence],
    digest_files: Sequence[tuple[str, str]],
) -> list[str]:
    """The digests, the latest assessments and the latest evidence (a few rows each)."""
    out = ["## What changed", ""]
    for path, title in digest_files:
        out.append(f"- {page_link(title, path)}")
    out.append("")
    out.append("### Latest assessments")
    out.append("")
    if recent:
        out.append(
            table(
                ["Recorded", "Ref", "Change", "By"],
                [
                    [
                        day(e.at)
                        + (
                            f" (effective {day(e.effective)})"
                            if e.effective and e.effective.date() != e.at.date()
                            else ""
                        ),
                        page_link(e.ref, page_path(e.ref)),
                        _event_words(e),
                        inline(e.actor),
                    ]
                    for e in recent
                ],
            )
        )
    else:
        out.append("No status has been assessed yet.")
    out.append("")
    out.append("### Latest evidence, by publication date")
    out.append("")
    if latest:
        out.append(
            table(
                ["Published", "Evidence", "Bears on"],
                [
                    [
                        day(e.published),
                        link(e.title, e.url),
                        ", ".join(page_link(r, page_path(r)) for r in e.refs),
                    ]
                    for e in latest
                ],
            )
        )
    else:
        out.append("No dated evidence yet.")
    out.append("")
    return out


def _about_files(formats: Sequence[str]) -> list[str]:
    """What the export holds besides this page."""
    out = ["## About these files", ""]
    out.append(
        "- One page per commitment in `commitments/`: the clause in our words, its owners, "
        "status and why, the full status timeline and every piece of evidence.",
    )
    if "html" in formats:
        out.append("- The same pages as standalone HTML in `html/` (open `html/index.html`).")
    if "json" in formats or "csv" in formats:
        out.append(
            "- Machine-readable data in `data/`: "
            + ", ".join(
                file_link(name, f"data/{name}")
                for name, fmt in (
                    ("tracker.json", "json"),
                    ("commitments.csv", "csv"),
                    ("evidence.csv", "csv"),
                    ("history.csv", "csv"),
                    ("corrections.csv", "csv"),
                    ("status-by-date.csv", "csv"),
                    ("status-by-effective-date.csv", "csv"),
                )
                if fmt in formats
            )
            + " (schemas in the mou-tracker README)."
        )
    out.append(
        f"- {file_link('feed.xml', FEED_FILE)}: an Atom feed of recorded changes, newest first, "
        "for a feed reader; "
        f"[status-by-effective-date.svg]({chart.EFFECTIVE_CHART_FILE}) and "
        f"{file_link('status-over-time.svg', CHART_FILE)}: the charts of status over time, by "
        "the day each change took effect and by the day each was recorded."
    )
    out.append(
        "- `manifest.json` lists every file with its SHA-256, so a copy can be checked against "
        "the original."
    )
    out.append(
        "- Internal notes kept by the tracking team never appear in any of these files; each "
        "commitment page says how many were withheld."
    )
    out.append("")
    return out


def legend_sections(*, from_index: bool) -> list[str]:
    """The key: what each status, strength, origin and wording basis means, in plain words."""
    out = ["## Key to statuses and strengths" if from_index else "## Statuses", ""]
    if from_index:
        out += [
            f"The same key is on its own page, {page_link('legend.md', LEGEND_FILE)}, linked "
            "from every commitment page.",
            "",
            "### Statuses",
            "",
        ]
    out.append(
        "Each status is judged on public evidence about what the commitment says, not on "
        "intentions. The symbol always sits beside the word, so the scale reads without colour."
    )
    out.append("")
    out.append(
        table(
            ["Symbol and status", "What it means"],
            [[badge(s), inline(STATUS_MEANINGS[s])] for s in SHOWN_STATUSES]
            + [[badge("", "vision"), inline(STRENGTH_WORDS["vision"])]],
        )
    )
    out.append("")
    sub = "###" if from_index else "##"
    out += [f"{sub} Strength of wording", ""]
    out.append(
        "How firmly the text words each commitment, weakest first. Even the firmest wording "
        "binds no one: the memorandum is not a contract."
    )
    out.append("")
    out.append(
        table(["Strength", "What it means"], [[s, inline(STRENGTH_WORDS[s])] for s in STRENGTHS])
    )
    out.append("")
    out += [f"{sub} Origin and wording", ""]
    out.append(
        table(
            ["Mark", "What it means"],
            [[inline(mark), inline(meaning)] for mark, meaning in ORIGIN_MEANINGS + BASIS_MEANINGS],
        )
    )
    out.append("")
    return out


def legend_page(snap: Snapshot) -> str:
    """``legend.md``: the key on a page of its own, with the legal caveat."""
    out = ["# Key to the reports: statuses, strengths and origins", ""]
    out.append(f"{page_link('All commitments', 'README.md')}.")
    out.append("")
    for memo in snap.memoranda:
        out.append(f"> **{inline(memo.title)}.** {inline(first_sentence(memo.legal_status))}")
        out.append("")
    out.extend(legend_sections(from_index=False))
    return "\n".join(out)


def _counting_rule(scored: Sequence[CommitmentRow], counted: Sequence[CommitmentRow]) -> str:
    """The rule that counts each promise once, in one sentence, with what it leaves out."""
    restating = [r for r in scored if r.restates]
    if not restating:
        return (
            "Each promise is counted once: a commitment that restates another (a press-release "
            "undertaking repeating a clause) is counted with the clause it restates; none does, "
            f"so the figures below count all {len(counted)} scored commitments."
        )
    refs = ", ".join(page_link(r.ref, page_path(r.ref)) for r in restating)
    n, k = len(counted), len(restating)
    return (
        "Each promise is counted once: a commitment that restates another (a press-release "
        "undertaking repeating a clause) keeps its own page and status but is counted with the "
        f"clause it restates, so the figures below count {n} commitment{'s' if n != 1 else ''} "
        f"and leave out {k} restatement{'s' if k != 1 else ''} ({refs})."
    )


def _memo_header(snap: Snapshot, m: MemorandumView) -> list[str]:
    out: list[str] = []
    if len(snap.memoranda) > 1:
        out.append(f"## {inline(m.title)}")
        out.append("")
    out.append(f"> **Legal status.** {inline(m.legal_status)}")
    out.append("")
    parties = ", ".join(
        inline(f"{snap.parties[c].name} ({c})" if c in snap.parties else c) for c in m.parties
    )
    signatories = "; ".join(
        inline(f"{name}, {role} ({party})") for name, role, party in m.signatories
    )
    facts = [
        ["Parties", parties or "—"],
        ["Signed", long_day(m.signed) + (f" by {signatories}" if signatories else "")],
        ["Official text", link(f"the memorandum on {_host(m.source_url)}", m.source_url)],
    ]
    if m.landing_url:
        facts.append(
            ["Publication page", link(f"its page on {_host(m.landing_url)}", m.landing_url)]
        )
    facts.append(
        ["Review cadence", f"every {inline(m.review_cadence)} unless a commitment sets its own"]
    )
    out.extend(_facts(facts))
    out.append("")
    if m.summary:
        out.append(escape(m.summary))
        out.append("")
    return out


def _facts(facts: Sequence[Sequence[str]]) -> list[str]:
    """Label and value pairs as a list that reads the same in plain Markdown and rendered."""
    return [f"- **{label}:** {value}" for label, value in facts]


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or "the web"
    return host[4:] if host.startswith("www.") else host


def _event_words(e: Event) -> str:
    if e.kind == "status":
        return f"{_label(e.from_status)} → **{_label(e.to_status)}**: {inline(e.text)}"
    if e.kind == "review":
        return f"reviewed, status stands ({_label(e.to_status)}): {inline(e.text)}"
    if e.kind == "evidence":
        return f"evidence added: {link(e.text, e.url)}" + (
            f" (published {day(e.published)})" if e.published else ""
        )
    if e.kind == "correction":
        return f"evidence corrected: {inline(e.text)}"
    if e.kind == "commitment correction":
        return f"corrected: {_changes_words(e.changes)}. Why: {inline(e.text)}"
    if e.kind == "target":
        if e.old_target is None:
            return f"target set to {day(e.new_target)}: {inline(e.text)}"
        return f"target moved from {day(e.old_target)} to {day(e.new_target)}: {inline(e.text)}"
    return inline(e.text)


# --- one commitment ---------------------------------------------------------------------------


def commitment_page(d: CommitmentDetail, snap: Snapshot) -> str:
    """A commitment's page in Markdown."""
    return commitment_doc(d, snap).markdown()


def _pl(text: str, path: str) -> Pieces:
    return doc.page_link(text, path)


def _word(words: dict[str, str], key: str) -> Piece:
    return doc.lit(words[key]) if key in words else doc.t(key)


def _label_piece(status: str | None) -> Piece:
    return doc.lit(badge(status)) if status in STATUS_LABELS else doc.t(status)


def _owner_pieces(owners: Sequence[OwnerView]) -> Pieces:
    out: Pieces = []
    for o in owners:
        if out:
            out.append(doc.lit(", "))
        out += [doc.t(f"{o.name} ({o.code})"), doc.lit(f" ({o.role})")]
    return out or [doc.lit("—")]


def _joined(parts: Sequence[Pieces], sep: str) -> Pieces:
    out: Pieces = []
    for k, part in enumerate(parts):
        if k:
            out.append(doc.lit(sep))
        out += part
    return out


def commitment_doc(d: CommitmentDetail, snap: Snapshot) -> doc.Doc:
    """A commitment's page as a page model: its Markdown and its HTML come from here."""
    today = snap.today
    page = doc.Doc()
    lit, t = doc.lit, doc.t
    page.heading(1, [t(d.ref), lit(": "), t(d.title)])
    page.blank()
    page.para(
        [
            *_pl("All commitments", "../README.md"),
            lit(" · "),
            *_pl("Key to statuses", "../" + LEGEND_FILE),
            lit(" · "),
            t(d.memorandum.title),
        ]
    )
    page.blank()
    page.caveat(
        [
            *doc.strong(lit("Not a contract.")),
            lit(" "),
            t(first_sentence(d.memorandum.legal_status)),
            lit(" This commitment is "),
            _word(ORIGIN_WORDS, d.origin),
            lit("; "),
            _word(BASIS_WORDS, d.text_basis),
            lit("."),
        ]
    )
    page.blank()
    if d.strength == "vision":
        page.para(
            [
                *doc.strong(lit("Not scored.")),
                lit(
                    " This is a statement of vision or legal boilerplate, not an "
                    "undertaking anyone can deliver; it is tracked for completeness."
                ),
            ]
        )
    else:
        since = f" since {long_day(d.status_changed_at)}" if d.status_changed_at else ""
        if d.status not in STATUS_LABELS:
            page.exact = False  # a status outside the vocabulary is written as it stands
        page.para([*doc.strong(lit(f"Status: {badge(d.status)}")), lit(f"{since}.")])
        if d.status_reason:
            page.blank()
            page.para(doc.lines(d.status_reason))
    page.blank()

    facts: list[tuple[str, Pieces]] = [
        ("Section", [t(d.section), lit(" ("), _word(ORIGIN_WORDS, d.origin), lit(")")]),
        (
            "Source",
            [
                *doc.link("official text" if d.origin == "clause" else "source", d.source_url),
                lit("; "),
                _word(BASIS_WORDS, d.text_basis),
            ],
        ),
        ("Theme", [t(d.theme)]),
        (
            "Strength",
            [
                *doc.strong(lit(d.strength)),
                lit(" — "),
                t(STRENGTH_WORDS.get(d.strength, "")),
            ],
        ),
        ("Owners", _owner_pieces(d.owners)),
    ]
    if d.strength not in STRENGTH_WORDS:
        page.exact = False  # written in bold as it stands
    if d.restates:
        facts.append(
            (
                "Restates",
                [
                    *_joined([_pl(r, page_path(r, from_index=False)) for r in d.restates], ", "),
                    lit(": the same promise, counted there and not again in the headline figures"),
                ],
            )
        )
    restated_by = snap.restated_by.get(d.ref, ())
    if restated_by:
        facts.append(
            (
                "Restated by",
                [
                    *_joined([_pl(r, page_path(r, from_index=False)) for r in restated_by], ", "),
                    lit(" (counted once, here)"),
                ],
            )
        )
    if d.strength != "vision":
        review: Pieces = [
            lit("every "),
            t(d.review_cadence),
            lit("; "),
            *_last_review_pieces(d),
            lit(f"; next due {day(d.next_review)}"),
        ]
        if derived.is_overdue(d.strength, d.next_review, today):
            review += [lit(" ("), *doc.strong(lit("overdue")), lit(f" on {long_day(today)})")]
        facts.append(("Review", review))
        newest = derived.newest_current_evidence(d.evidence)
        current = sum(derived.counts_as_evidence(e.confidence) for e in d.evidence)
        health: Pieces = [lit(f"{current} item(s); newest published {day(newest)}")]
        if derived.is_stale(d.strength, newest, today):
            stale = f": nothing newer than {derived.STALE_AFTER_DAYS} days)"
            health += [lit(" ("), *doc.strong(lit("stale")), lit(stale)]
        if d.evidence and all(e.link is None for e in d.evidence):
            health.append(lit("; links not checked yet"))
        facts.append(("Evidence", health))
    if d.target is not None or d.original_target is not None:
        moved = sum(1 for tg in d.targets if tg.old_target is not None)
        target: Pieces = [lit(f"original {day(d.original_target)}; current {day(d.target)}")]
        if moved:
            target.append(lit(f" (re-baselined {moved} time{'s' if moved > 1 else ''})"))
        if d.target is not None and d.target < today and d.status not in ("met", "not_met"):
            target += [lit(" ("), *doc.strong(lit("missed")), lit(")")]
        facts.append(("Target", target))
    page.bullets([[*doc.strong(lit(f"{label}:")), lit(" "), *value] for label, value in facts])
    page.blank()

    if d.strength != "vision":
        page.para([*doc.strong(lit("Status over time:")), lit(" "), *_strip_pieces(d, snap)])
        page.blank()

    page.heading(2, [lit("What it says, in our words")])
    page.blank()
    page.para(doc.lines(d.summary))
    page.blank()

    page.heading(2, [lit("Status timeline")])
    page.blank()
    by_id = {e.id: e for e in d.evidence}
    if d.history:
        rows: list[list[Pieces]] = []
        for h in d.history:
            change: Pieces = (
                [_label_piece(h.from_status), lit(" → "), *doc.strong(_label_piece(h.to_status))]
                if h.kind == "status"
                else [lit("review: "), _label_piece(h.to_status), lit(" stands")]
            )
            cited = _joined(
                [
                    [*doc.link(by_id[i].title, by_id[i].url), lit(f" (#{i})")]
                    for i in h.evidence_ids
                    if i in by_id
                ],
                "; ",
            )
            rows.append(
                [
                    [lit(_two_times(h.at, h.recorded_at))],
                    change,
                    [t(h.actor)],
                    [t(h.reason)],
                    cited or [lit("—")],
                ]
            )
        page.table(["When (effective)", "Change", "By", "Why", "Evidence cited"], rows)
    elif d.strength == "vision":
        page.para([lit("Not scored, so no status history.")])
    else:
        page.para([lit("Not assessed yet: no status change has been recorded.")])
    page.blank()

    if d.targets:
        page.heading(2, [lit("Target dates")])
        page.blank()
        rows = []
        for tg in d.targets:
            moved_to = (
                f"set to {day(tg.new_target)}"
                if tg.old_target is None
                else f"{day(tg.old_target)} → {day(tg.new_target)}"
            )
            evidence = (
                [*doc.link(tg.evidence_url, tg.evidence_url), lit(f" (#{tg.evidence_id})")]
                if tg.evidence_url
                else [lit("—")]
            )
            rows.append(
                [
                    [lit(_two_times(tg.at, tg.recorded_at))],
                    [lit(moved_to)],
                    [t(tg.by)],
                    [t(tg.reason)],
                    evidence,
                ]
            )
        page.table(["When (effective)", "Target", "By", "Why", "Evidence"], rows)
        page.blank()

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

    _corrections(page, d)

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
        head: Pieces = [lit(f"Note of {_two_times(n.at, n.recorded_at)} by "), t(n.author)]
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
    page.rule()
    page.blank()
    page.para(
        [
            lit(f"Report date {long_day(snap.report_date)}. Generated by {GENERATOR}. "),
            *_pl("All commitments", "../README.md"),
            lit("."),
        ]
    )
    page.blank()
    return page


def _strip_pieces(d: CommitmentDetail, snap: Snapshot) -> Pieces:
    """Each status the commitment has held, from the day it took effect: ``◌ not yet assessed
    from 21 July 2025 → ◔ in progress from 22 October 2025 → …``."""
    began = d.added_at.date() if d.added_at else d.memorandum.signed
    spans: list[tuple[str, date]] = [("not_assessed", began)]
    for h in sorted((h for h in d.history if h.kind == "status"), key=lambda h: h.at):
        when = h.at.date()
        status, start = spans[-1]
        if when > start:
            spans.append((h.to_status, when))
        elif len(spans) == 1:  # assessed on (or, back-dated, before) the day tracking began
            spans[-1] = (h.to_status, min(when, start))
        else:  # a second change on the same day: the later one stands
            spans[-1] = (h.to_status, start)
        if len(spans) > 1 and spans[-1][0] == spans[-2][0]:
            spans.pop()
    parts = [[_label_piece(status), doc.lit(f" from {long_day(start)}")] for status, start in spans]
    days = (snap.report_date - spans[-1][1]).days
    return [
        *_joined(parts, " → "),
        doc.lit(f" ({days} day{'s' if days != 1 else ''} to the report date)."),
    ]


def _last_review_pieces(d: CommitmentDetail) -> Pieces:
    """The last review as a record says it: the newest review or status change, with who made
    it. A review date with no record behind it (a field in a file) is not called a review."""
    latest = d.history[-1] if d.history else None
    if latest is not None and (d.last_reviewed is None or latest.at.date() >= d.last_reviewed):
        what = "reviewed" if latest.kind == "review" else "assessed"
        return [doc.lit(f"last {what} {day(latest.at)} by "), doc.t(latest.actor)]
    if d.last_reviewed is not None:
        return [
            doc.lit(
                f"the schedule counts from {day(d.last_reviewed)} (no review record on that day)"
            )
        ]
    return [doc.lit("not reviewed yet")]


def _evidence_paragraphs(e: EvidenceView) -> list[Pieces]:
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
        _word(KIND_WORDS, e.kind),
        lit(" · "),
        _word(DIRECTION_WORDS, e.direction),
        lit(" · "),
        _word(CONFIDENCE_WORDS, e.confidence),
        lit(f" · evidence #{e.id}"),
    ]
    paragraphs = [first]
    if e.summary:
        paragraphs.append([t(e.summary)])
    extra: list[Pieces] = []
    if e.archived_url:
        extra.append([lit("Archived copy: "), *doc.link(e.archived_url, e.archived_url), lit(".")])
    if e.link is not None:
        extra.append([lit("Link health: "), *_link_health_pieces(e.link), lit(".")])
        now_at = publishable_url(e.link.final_url) if e.link.moved else None
        if now_at:
            extra.append([lit("Now at "), *doc.link(now_at, now_at), lit(".")])
    if extra:
        paragraphs.append(_joined(extra, " "))
    for r in e.revisions:
        changes = _joined(
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
                lit(f"Corrected {_two_times(r.at, r.recorded_at)} by "),
                t(r.by),
                lit(": "),
                *changes,
                lit(" ("),
                t(r.reason),
                lit(")."),
            ]
        )
    return paragraphs


def _link_health_pieces(state: LinkState) -> Pieces:
    return [doc.t(state.label), doc.lit(f" (checked {day(state.checked_at)})")]


def _changes_words(changes: Sequence[tuple[str, str, str]]) -> str:
    """``title: “old” → “new”; strength: “explore” → “may”`` (an empty value shows as —)."""
    return doc.markdown_of(_changes_pieces(changes))


def _changes_pieces(changes: Sequence[tuple[str, str, str]]) -> Pieces:
    lit, t = doc.lit, doc.t
    return _joined(
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


def _corrections(page: doc.Doc, d: CommitmentDetail) -> None:
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
                *doc.strong(lit(_two_times(r.at, r.recorded_at))),
                lit(f", {what}, by "),
                t(r.by),
                lit(": "),
                *_changes_pieces(r.changes),
                lit(". Why: "),
                t(r.reason),
            ]
            for _at, _order, what, r in entries
        ]
    )
    page.blank()


# --- the digest -------------------------------------------------------------------------------


def digest_page(dg: Digest, snap: Snapshot, *, title: str) -> str:
    out = [f"# {title}", ""]
    out.append(
        f"From {long_day(dg.start)} to {long_day(dg.end)} (the report date), both included. "
        f"{page_link('All commitments', 'README.md')} · "
        f"{page_link('Key to statuses', LEGEND_FILE)}."
    )
    out.append("")
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
                    f"{_label(e.from_status)} → {_label(e.to_status)}, {_when(e)} "
                    f"({inline(e.actor)}). {inline(e.text)}"
                    + (f" Evidence: {cites}." if cites else "")
                )
            out.append("")
    else:
        out.append("No status changed.")
        out.append("")
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
            f"({inline(e.actor)}): {_changes_words(e.changes)}. Why: {inline(e.text)}"
        ),
    )
    _digest_list(
        out,
        "Target dates set or moved",
        dg.targets,
        lambda e: f"{page_link(e.ref, page_path(e.ref))} {_when(e)}: {_event_words(e)}",
    )
    _digest_list(
        out,
        "Public notes added",
        dg.notes,
        lambda e: (
            f"{page_link(e.ref, page_path(e.ref))} {_when(e)} ({inline(e.actor)}): {inline(_first_line(e.text))}"
        ),
    )
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
    return "\n".join(out)


def _last_review(d: CommitmentDetail) -> str:
    """The last review as a record says it: the newest review or status change, with who made
    it. A review date with no record behind it (a field in a file) is not called a review."""
    latest = d.history[-1] if d.history else None
    if latest is not None and (d.last_reviewed is None or latest.at.date() >= d.last_reviewed):
        what = "reviewed" if latest.kind == "review" else "assessed"
        return f"last {what} {day(latest.at)} by {inline(latest.actor)}"
    if d.last_reviewed is not None:
        return f"the schedule counts from {day(d.last_reviewed)} (no review record on that day)"
    return "not reviewed yet"


def _two_times(effective: datetime, recorded_at: datetime | None) -> str:
    """The effective time, and the recording time when it was on another day."""
    if recorded_at is not None and recorded_at.date() != effective.date():
        return f"{stamp(effective)} (recorded {day(recorded_at)})"
    return stamp(effective)


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
    out.append(f"## {heading} ({len(items)})")
    out.append("")
    if items:
        for e in items:
            out.append(f"- {render(e)}")
    else:
        out.append("None.")
    out.append("")


def digest_title(dg: Digest, default: bool) -> str:
    if default:
        return f"What changed in the 30 days to {long_day(dg.end)}"
    return f"What changed since {long_day(dg.start)}"


def digest_file_name(since: date | None) -> str:
    return DIGEST_FILE if since is None else f"changes-since-{since.isoformat()}.md"
