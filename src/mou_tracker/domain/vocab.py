"""The tracker's controlled vocabulary, exactly as DESIGN.md names it."""

from __future__ import annotations

# Weakest first: the order matters for summaries.
STRENGTHS = ("vision", "may", "explore", "intend", "will")
STRENGTH_WORDS = {
    "vision": "descriptive or aspirational wording; not a commitment, so not scored",
    "may": 'optional wording ("may", "could"): the parties keep the choice',
    "explore": "exploratory wording: the parties only undertake to look into it",
    "intend": "a stated intention or continuing activity, without a firm promise",
    "will": 'firm wording ("will"): the strongest undertaking in a non-binding text',
}

STATUSES = (
    "not_assessed",
    "not_started",
    "in_progress",
    "partially_met",
    "met",
    "stalled",
    "not_met",
)
STATUS_LABELS = {
    "not_assessed": "not yet assessed",
    "not_started": "not started",
    "in_progress": "in progress",
    "partially_met": "partially met",
    "met": "met",
    "stalled": "stalled",
    "not_met": "not met",
}
# A move to any other status must cite evidence (rule 1).
STATUSES_WITHOUT_EVIDENCE = ("not_assessed", "not_started")

ROLES = ("lead", "support")
PARTY_KINDS = ("government", "public_body", "company")
ORIGINS = ("clause", "press_release")
TEXT_BASES = ("verified", "excerpt_only", "reconstructed")

EVIDENCE_KINDS = (
    "official_document",
    "announcement",
    "news_report",
    "foi_release",
    "parliamentary_record",
    "data",
)
DIRECTIONS = ("progress", "against", "context")
# "withdrawn": taken back by a correction (domain/undo.py); left out of "latest evidence",
# staleness and the counts, still published with its corrections.
WITHDRAWN = "withdrawn"
CONFIDENCES = ("primary", "secondary", "unverified", WITHDRAWN)
VISIBILITIES = ("public", "internal")

# History entry kinds: a status change, or a review that confirms the status unchanged.
HISTORY_KINDS = ("status", "review")
