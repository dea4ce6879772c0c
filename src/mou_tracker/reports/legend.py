"""The reader's key to every report: what each status and strength means, and the symbol and
colour each status wears.

A status is never shown by colour alone: a symbol whose shape differs from every other sits
beside the word, so the meter reads in monochrome print and to colour-blind readers. The
shapes run from an empty to a full circle as work advances (◌ ○ ◔ ◑ ●); trouble has its own
shapes (⊘ stalled, ✗ not met). The colours are the Okabe–Ito palette, chosen to stay distinct
under the common forms of colour blindness.
"""

from __future__ import annotations

from mou_tracker.domain.vocab import STATUS_LABELS, STRENGTH_WORDS, STRENGTHS

# status -> (symbol, colour). Symbols are outside ASCII, so Markdown escaping never touches them.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "met": ("●", "#009e73"),
    "partially_met": ("◑", "#56b4e9"),
    "in_progress": ("◔", "#0072b2"),
    "stalled": ("⊘", "#e69f00"),
    "not_met": ("✗", "#d55e00"),
    "not_started": ("○", "#8a8a8a"),
    "not_assessed": ("◌", "#b0b0b0"),
}
VISION_SYMBOL = "—"

STATUS_MEANINGS: dict[str, str] = {
    "met": "public evidence shows the commitment delivered as it was worded.",
    "partially_met": (
        "part of what was promised has been delivered; the rest is outstanding or was scaled down."
    ),
    "in_progress": "public evidence shows work under way; nothing is delivered in full yet.",
    "stalled": (
        "work was announced or begun, but the latest evidence shows it paused, delayed or in "
        "doubt, with no sign yet of it resuming."
    ),
    "not_met": (
        "the commitment was dropped or withdrawn, or its deadline passed without delivery."
    ),
    "not_started": "assessed, and no public sign that any work has begun.",
    "not_assessed": (
        "nobody has weighed the evidence yet; this says nothing about progress either way."
    ),
}

ORIGIN_SHORT = {"clause": "MoU clause", "press_release": "press release"}
BASIS_SHORT = {
    "verified": "wording verified",
    "excerpt_only": "wording from excerpts",
    "reconstructed": "wording reconstructed",
}
ORIGIN_MEANINGS = (
    ("MoU clause", "a clause of the signed memorandum itself."),
    (
        "press release",
        "an undertaking announced in the government's press release alongside the memorandum, "
        "not written in the memorandum; it is tracked because it was announced as part of the deal.",
    ),
)
BASIS_MEANINGS = (
    ("wording verified", "checked against the published text."),
    ("wording from excerpts", "known only from outlets that quoted the text."),
    (
        "wording reconstructed",
        "pieced together from second-hand quotes; treat exact phrasing with care.",
    ),
)


def symbol(status: str, strength: str = "") -> str:
    if strength == "vision":
        return VISION_SYMBOL
    return STATUS_STYLE.get(status, ("?", ""))[0]


def badge(status: str, strength: str = "") -> str:
    """The symbol and the word, always together: ``⊘ stalled``. Markdown-safe as it stands."""
    if strength == "vision":
        return f"{VISION_SYMBOL} not scored (vision)"
    return f"{symbol(status)} {STATUS_LABELS.get(status, status)}"


def first_sentence(text: str) -> str:
    """The first sentence of a legal-status note: the one-line caveat every page carries."""
    text = " ".join(text.split())
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]


SYMBOL_CLASSES = {sym: name for name, (sym, _colour) in STATUS_STYLE.items()}

__all__ = [
    "BASIS_MEANINGS",
    "BASIS_SHORT",
    "ORIGIN_MEANINGS",
    "ORIGIN_SHORT",
    "STATUS_MEANINGS",
    "STATUS_STYLE",
    "STRENGTHS",
    "STRENGTH_WORDS",
    "badge",
    "first_sentence",
    "symbol",
]
