"""Rules of DESIGN.md that more than one way in must apply, each written once.

The CLI and the terminal UI reach them through :mod:`mou_tracker.domain.service`; ``sync``
calls them while it checks a file, and words the error with the file's line and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mou_tracker.domain.vocab import STATUSES_WITHOUT_EVIDENCE


def cited_evidence_problem(
    to_status: str,
    on: date,
    cited: Sequence[tuple[str, date | None]],
    *,
    ref: str,
    hint: str = "",
) -> str | None:
    """Rule 1: what is wrong with the evidence a status change cites, or ``None``.

    A change to ``to_status`` on day ``on`` must cite at least one evidence record of ``ref``
    unless the status needs none, and every cited record (a label such as ``#12`` or a URL,
    and its publication date) must be dated, on or before that day. ``hint`` follows the
    "must cite" message (how to cite, in the words of the way in)."""
    if to_status not in STATUSES_WITHOUT_EVIDENCE and not cited:
        return f"a change to {to_status} must cite at least one evidence record of {ref}{hint}"
    for label, published in cited:
        if published is None:
            return f"{label} has no publication date, so it cannot support a status change"
        if published > on:
            return (
                f"{label} was published {published.isoformat()}, after the change "
                f"({on.isoformat()})"
            )
    return None
