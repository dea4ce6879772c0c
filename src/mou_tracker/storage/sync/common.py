"""What reading, planning, applying and dumping share: the schema version, the fields
sync compares, the hash of a record's values, and how a value is written as TOML.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

import tomli_w
from sqlalchemy import insert

from mou_tracker.domain.service import (
    CORRECTABLE_FIELDS,
)

SCHEMA_VERSION = 1
CHUNK = 5000  # ids or URLs per IN (...) list

_P = ParamSpec("_P")
_R = TypeVar("_R")


def collector_paused(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` with Python's cycle collector paused, and resume it after (if it was
    running). Reading, planning and applying a large file build millions of containers,
    none of them in a cycle, that stay alive to the end: each full collection the allocations
    set off walks every one of them again, for nothing (about a sixth of the CPU time of a
    sync of 10,000 commitments). Memory is still freed by reference counting; garbage in a
    cycle, if any, waits for the next collection after the call."""

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # paused by the caller (or by a call that encloses this one)
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


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


def hash_keys(fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``fields`` for :func:`_fields_hash`: sorted, each with its JSON key and colon."""
    return tuple((key, f"{_quote(key)}: ") for key in sorted(fields))


def _fields_hash(record: dict[str, Any], keys: tuple[tuple[str, str], ...]) -> str:
    """:func:`_hash` of the fields ``keys`` names (:func:`hash_keys`) of ``record``, without
    copying them out first: the bytes of :func:`_flat_hash`, with the keys sorted and quoted
    once for all records (tests/core/test_sync_fast_read.py holds it to :func:`_hash`)."""
    parts = []
    for key, prefix in keys:
        value = record[key]
        if type(value) is str:
            parts.append(prefix + _quote(value))
        elif value is None:
            parts.append(f"{prefix}null")
        elif type(value) is date:
            parts.append(f'{prefix}"{value.isoformat()}"')
        else:
            return _hash({key: record[key] for key, _prefix in keys})
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
EVIDENCE_HASH_KEYS = hash_keys(EVIDENCE_FIELDS)


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
