"""Reading the logs a dump carries besides the commitments: the link checks (``[[link_check]]``,
each fetched page's snapshot as base64) and the syncs (``[[sync_run]]``), checked field by field.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime
from typing import Any

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.storage.sync.checks import _Checker, _count, _raw_str, _str, _top
from mou_tracker.storage.sync.common import _scalar

LINK_STATES = ("ok", "broken", "unreachable")
_HEX64 = frozenset("0123456789abcdef")


def _sha256_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX64:
        raise InvalidInput(name, "must be a SHA-256 digest: 64 lower-case hex digits")
    return value


def _snapshot(value: Any, name: str, chars: int) -> bytes:
    """The stored bytes back from base64, checked to hold the ``chars`` characters of text
    they claim, without ever inflating more than that (a planted snapshot cannot balloon)."""
    from mou_tracker.links import SNAPSHOT_CHARS

    if not isinstance(value, str):
        raise InvalidInput(name, "must be base64 text")
    try:
        stored = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(name, "is not valid base64") from None
    if chars > SNAPSHOT_CHARS:
        raise InvalidInput(name, f"claims {chars} characters; snapshots keep {SNAPSHOT_CHARS}")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(stored, 4 * chars + 1)
    except zlib.error:
        raise InvalidInput(name, "is not a zlib-compressed snapshot") from None
    try:
        page = raw.decode("utf-8")
    except UnicodeDecodeError:
        page = None
    if len(raw) > 4 * chars or not inflater.eof or inflater.unused_data or page is None:
        raise InvalidInput(name, f"does not hold the {chars} characters of text it claims")
    if len(page) != chars:
        raise InvalidInput(name, f"holds {len(page)} characters, not {chars}")
    return stored


def _validate_link_checks(data: dict[str, Any], ck: _Checker) -> list[dict[str, Any]]:
    """``[[link_check]]``: the append-only log of fetched URLs, in the order it was recorded."""
    keys = {
        "url",
        "checked_at",
        "state",
        "http_status",
        "final_url",
        "moved",
        "changed",
        "content_hash",
        "page_title",
        "error",
        "snapshot",
        "snapshot_chars",
    }
    result = []
    seen: set[tuple[str, datetime]] = set()
    for i, item in enumerate(_top(data, "link_check", ck)):
        path = ("link_check", i)
        label = f"link_check[{i + 1}]"
        ck.table(item, path, label, keys, {"url", "checked_at", "state"})
        url = ck.field(item, "url", path, label, _raw_str(v.MAX_URL, required=True))
        checked_at = ck.field(item, "checked_at", path, label, ck.when)
        if (url, checked_at) in seen:
            raise ck.fail(path, label, f"{url} checked at {_scalar(checked_at)} is listed twice")
        seen.add((url, checked_at))
        status = item.get("http_status")
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 0 <= status <= 999
        ):
            raise ck.fail(path + ("http_status",), f"{label}.http_status", "must be 0-999")
        flags = {}
        for flag in ("moved", "changed"):
            flags[flag] = item.get(flag, False)
            if not isinstance(flags[flag], bool):
                raise ck.fail(path + (flag,), f"{label}.{flag}", "must be true or false")
        chars = None
        snapshot = None
        if "snapshot" in item or "snapshot_chars" in item:
            if "snapshot" not in item or "snapshot_chars" not in item:
                raise ck.fail(path, f"{label}.snapshot", "snapshot and snapshot_chars go together")
            chars = ck.field(item, "snapshot_chars", path, label, _count)
            snapshot = ck.field(
                item, "snapshot", path, label, lambda x, n, c=chars: _snapshot(x, n, c)
            )
        result.append(
            {
                "url": url,
                "checked_at": checked_at,
                "state": ck.field(
                    item, "state", path, label, lambda x, n: v.choice(x, n, LINK_STATES)
                ),
                "http_status": status,
                "final_url": ck.field(item, "final_url", path, label, _raw_str(v.MAX_URL)),
                "moved": flags["moved"],
                "changed": flags["changed"],
                "content_hash": ck.field(item, "content_hash", path, label, _sha256_text),
                "page_title": ck.field(item, "page_title", path, label, _raw_str(300)),
                "error": ck.field(item, "error", path, label, _raw_str(300)),
                "snapshot": snapshot,
                "snapshot_chars": chars,
            }
        )
    return result


def _optional_count(value: Any, name: str) -> int:
    return 0 if value is None else _count(value, name)


def _counts(value: Any, name: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(name, "must be an inline table like { evidence = 2 }")
    for what, n in value.items():
        if len(what) > 40:
            raise InvalidInput(name, f"{what[:40]!r}… is not a kind of record")
        _count(n, f"{name}.{what}")
    return dict(value)


def _validate_sync_runs(data: dict[str, Any], ck: _Checker) -> list[dict[str, Any]]:
    """``[[sync_run]]``: who loaded which file into the database, when, and what it changed."""
    keys = {"at", "by", "file", "sha256", "added", "updated", "kept", "conflicts"}
    result = []
    for i, item in enumerate(_top(data, "sync_run", ck)):
        path = ("sync_run", i)
        label = f"sync_run[{i + 1}]"
        ck.table(item, path, label, keys, {"at", "by", "file", "sha256"})
        result.append(
            {
                "at": ck.field(item, "at", path, label, ck.when),
                "actor": ck.field(item, "by", path, label, _str("actor")),
                "file_name": ck.field(item, "file", path, label, _raw_str(300, required=True)),
                "file_sha256": ck.field(item, "sha256", path, label, _sha256_text),
                "added": ck.field(item, "added", path, label, _counts),
                "updated": ck.field(item, "updated", path, label, _counts),
                "kept": ck.field(item, "kept", path, label, _optional_count),
                "conflicts": ck.field(item, "conflicts", path, label, _optional_count),
            }
        )
    return result
