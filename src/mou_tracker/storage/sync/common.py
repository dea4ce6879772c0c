"""What reading, planning, applying and dumping share: the schema version, the fields
sync compares, the hash of a record's values, and how a value is written as TOML.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import tomli_w
from sqlalchemy import insert

from mou_tracker.domain.service import (
    CORRECTABLE_FIELDS,
)

SCHEMA_VERSION = 1
CHUNK = 5000  # ids or URLs per IN (...) list


def _hash(values: dict[str, Any]) -> str:
    """The SHA-256 of ``values`` as sorted JSON: what a row remembers as ``source_hash``."""
    payload = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_quote = json.encoder.encode_basestring  # the string encoder json.dumps uses


def _flat_hash(values: dict[str, Any]) -> str:
    """:func:`_hash` of a record whose values are all text, dates or None (an evidence record),
    built without the general JSON encoder: the same bytes, a third of the work
    (tests/core/test_fast_checks.py holds the two to agree)."""
    parts = []
    for key in sorted(values):
        value = values[key]
        if value is None:
            parts.append(f"{_quote(key)}: null")
        elif type(value) is str or type(value) is date:
            parts.append(f"{_quote(key)}: {_quote(str(value))}")
        else:
            return _hash(values)
    payload = "{" + ", ".join(parts) + "}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


PARTY_FIELDS = ("name", "kind")
MEMO_FIELDS = (
    "title",
    "parties",
    "signatories",
    "signed",
    "source_url",
    "landing_url",
    "legal_status",
    "review_cadence",
    "summary",
)
COMMITMENT_FIELDS = (
    "memorandum",
    "section",
    "origin",
    "title",
    "summary",
    "source_url",
    "text_basis",
    "theme",
    "strength",
    "review_cadence",
    "last_reviewed",
    "target",
    "owners",
)
EVIDENCE_FIELDS = (
    "title",
    "publisher",
    "published",
    "kind",
    "direction",
    "confidence",
    "summary",
    "archived_url",
)


CORRECTION_FIELDS = (*CORRECTABLE_FIELDS, "restates")


def _without_recorded(entry: dict[str, Any]) -> dict[str, Any]:
    """A record as sync compares it: the time it was recorded is not part of what it says."""
    return {k: val for k, val in entry.items() if k != "recorded_at"}


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _bulk(model: Any) -> Any:
    """An ORM bulk INSERT sent as one executemany: ``render_nulls`` keeps rows whose empty
    fields differ in one batch (without it each pattern of NULLs is a statement of its own)."""
    return insert(model).execution_options(render_nulls=True)


def _scalar(value: Any) -> str:
    """One TOML value on one line (strings escaped by tomli_w, never multi-line)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return tomli_w.dumps({"v": value}).rstrip("\n")[len("v = ") :]
