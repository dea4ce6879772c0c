"""The common shape of an evidence record, checked in one pass.

Nearly every evidence record of a file is plain: the keys a record may have, every text field
one line of printable ASCII within its limit, both URLs of the common shape
(``validate._PLAIN_URL``), the kind, direction and confidence spelled exactly as the
vocabulary spells them, a TOML date in range and not in the future, a UTC date-time in range
and not in the future. For such a record :func:`plain_evidence` gives, in one function, the
values the column checks of :class:`mou_tracker.storage.sync.records._EvidenceReader` would
give through two or three calls each. For anything else it gives None and the record takes
the general path, which says what is wrong and where; so no refusal is ever decided here.
``tests/core/test_fast_checks.py`` holds the two paths to agree on any record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from mou_tracker.domain import validate as v
from mou_tracker.domain.vocab import CONFIDENCES, DIRECTIONS, EVIDENCE_KINDS

_TITLE = v.LIMITS["title"]
_PUBLISHER = v.LIMITS["publisher"]
_SUMMARY = v.LIMITS["evidence_summary"]
_ACTOR = v.LIMITS["actor"]
_KINDS = frozenset(EVIDENCE_KINDS)
_DIRECTIONS = frozenset(DIRECTIONS)
_CONFIDENCES = frozenset(CONFIDENCES)
_url_match = v._PLAIN_URL.fullmatch
_ZERO = timedelta(0)


def _line(value: Any, limit: int) -> str | None:
    """``validate.text`` of a one-line value in the common case: printable ASCII (so no line
    break nor control character), not blank once trimmed, within ``limit``; else None."""
    if type(value) is str and value.isascii() and value.isprintable():
        cleaned = value.strip()
        if cleaned and len(cleaned) <= limit:
            return cleaned
    return None


def _optional_line(value: Any, limit: int) -> str | None | bool:
    """:func:`_line` of an optional value: None when absent, False when not plain."""
    if value is None:
        return None
    cleaned = _line(value, limit)
    return False if cleaned is None else cleaned


def plain_evidence(
    item: Any,
    allowed: frozenset[str],
    required: frozenset[str],
    latest_day: date,
    latest_time: datetime,
) -> tuple[dict[str, Any], str] | None:
    """The record as the general path gives it, with no ``recorded_at``, revision or ``id``
    (the caller reads those keys when the record has them), and the URL's ``same_page`` form;
    or None when any value is not of the common shape (see the module's docstring).
    ``allowed`` and ``required`` are the record's keys; ``latest_day`` and ``latest_time``
    the bounds of "not in the future" (``validate.latest_day``, ``validate.latest_time``)."""
    if type(item) is not dict:
        return None
    keys = item.keys()
    if not (keys <= allowed and keys >= required):
        return None
    get = item.get
    url = item["url"]
    match = _url_match(url) if type(url) is str and len(url) <= v.MAX_URL else None
    archived = get("archived_url")
    if match is None or not (
        archived is None
        or (type(archived) is str and len(archived) <= v.MAX_URL and _url_match(archived))
    ):
        return None
    published = get("published")
    if published is not None and not (
        type(published) is date
        and v.FIRST_YEAR <= published.year <= v.LAST_YEAR
        and published <= latest_day
    ):
        return None
    kind, direction, confidence = item["kind"], item["direction"], item["confidence"]
    if not (
        type(kind) is str
        and kind in _KINDS
        and type(direction) is str
        and direction in _DIRECTIONS
        and type(confidence) is str
        and confidence in _CONFIDENCES
    ):
        return None
    added_at = item["added_at"]
    if type(added_at) is not datetime:
        return None
    if added_at.tzinfo is not UTC:  # rtoml's own zone class for a Z or +00:00 time
        if added_at.tzinfo is None or added_at.utcoffset() != _ZERO:
            return None
        added_at = added_at.replace(tzinfo=UTC)
    if not (v.FIRST_YEAR <= added_at.year <= v.LAST_YEAR and added_at <= latest_time):
        return None
    title = _line(item["title"], _TITLE)
    added_by = _line(item["added_by"], _ACTOR)
    publisher = _optional_line(get("publisher"), _PUBLISHER)
    summary = _optional_line(get("summary"), _SUMMARY)
    if title is None or added_by is None or publisher is False or summary is False:
        return None
    record = {
        "url": url,
        "title": title,
        "publisher": publisher,
        "published": published,
        "kind": kind,
        "direction": direction,
        "confidence": confidence,
        "summary": summary,
        "archived_url": archived,
        "added_by": added_by,
        "added_at": added_at,
        "recorded_at": None,
        "revisions": [],
        "id": None,
    }
    return record, v.plain_page(match)
