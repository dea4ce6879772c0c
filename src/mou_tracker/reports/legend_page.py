"""The key to the reports (``legend.md``): what each status, strength, origin and wording basis
means. The index carries the same sections under its own heading."""

from __future__ import annotations

from mou_tracker.domain.vocab import STRENGTH_WORDS, STRENGTHS
from mou_tracker.reports.legend import (
    BASIS_MEANINGS,
    ORIGIN_MEANINGS,
    STATUS_MEANINGS,
    badge,
    first_sentence,
)
from mou_tracker.reports.markdown import inline, page_link, table
from mou_tracker.reports.model import Snapshot
from mou_tracker.reports.words import LEGEND_FILE, SHOWN_STATUSES


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
