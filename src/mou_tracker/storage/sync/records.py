"""Reading the records a commitment carries (evidence, history, target changes, notes) and the
logs of a dump (link checks, syncs), each checked field by field.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime
from typing import Any

from mou_tracker.domain import rules
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.service import (
    EvidenceInput,
)
from mou_tracker.domain.vocab import (
    HISTORY_KINDS,
    STATUSES,
    STATUSES_WITHOUT_EVIDENCE,
    VISIBILITIES,
)
from mou_tracker.storage.sync.checks import (
    _Checker,
    _count,
    _list,
    _raw_str,
    _str,
    _toml_date,
    _top,
)
from mou_tracker.storage.sync.common import _scalar


def _validate_evidence(
    raw: dict[str, Any],
    path: tuple[Any, ...],
    label: str,
    ck: _Checker,
    ids_seen: set[int],
) -> list[dict[str, Any]]:
    keys = {
        "id",
        "url",
        "title",
        "publisher",
        "published",
        "kind",
        "direction",
        "confidence",
        "summary",
        "archived_url",
        "added_by",
        "added_at",
        "recorded_at",
        "revision",
    }
    result = []
    urls: set[str] = set()
    pages: dict[str, tuple[int, str, Any]] = {}  # same_page(url) -> (position, url, id)
    items = raw.get("evidence", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("evidence",), f"{label}.evidence", "must be an array of tables")
    for j, item in enumerate(items):
        epath = path + ("evidence", j)
        elabel = f"{label}.evidence[{j + 1}]"
        ck.table(
            item,
            epath,
            elabel,
            keys,
            {"url", "title", "kind", "direction", "confidence", "added_by", "added_at"},
        )
        ck.field(item, "published", epath, elabel, ck.day)
        evidence_id = None
        if "id" in item:
            evidence_id = item["id"]
            if isinstance(evidence_id, bool) or not isinstance(evidence_id, int):
                raise ck.fail(epath + ("id",), f"{elabel}.id", "must be a whole number")
            if not 1 <= evidence_id <= 2**31 - 1:
                raise ck.fail(epath + ("id",), f"{elabel}.id", f"{evidence_id} is out of range")
            if evidence_id in ids_seen:
                raise ck.fail(
                    epath + ("id",), f"{elabel}.id", f"evidence id {evidence_id} is listed twice"
                )
            ids_seen.add(evidence_id)
        try:
            ev = EvidenceInput.build(
                **{
                    k: item.get(k)
                    for k in (
                        "url",
                        "title",
                        "publisher",
                        "published",
                        "kind",
                        "direction",
                        "confidence",
                        "summary",
                        "archived_url",
                    )
                },
                prefix=f"{elabel}.",
                now=ck.now,
            )
        except InvalidInput as exc:
            key = exc.field.rsplit(".", 1)[-1]
            raise ck.fail(epath + (key,), exc.field, exc.problem) from None
        if ev.url in urls:
            raise ck.fail(epath + ("url",), f"{elabel}.url", "is listed twice on this commitment")
        page = v.same_page(ev.url)
        earlier = pages.get(page)
        if earlier is not None:
            k, first_url, first_id = earlier
            name = f"evidence #{first_id}" if first_id is not None else f"evidence[{k}]"
            raise ck.fail(epath + ("url",), f"{elabel}.url", f"same page as {name} ({first_url})")
        urls.add(ev.url)
        pages[page] = (j + 1, ev.url, item.get("id"))
        added_at = ck.field(item, "added_at", epath, elabel, ck.when)
        revisions = []
        for k, rev in enumerate(item.get("revision", [])):
            rpath = epath + ("revision", k)
            rlabel = f"{elabel}.revision[{k + 1}]"
            ck.table(
                rev,
                rpath,
                rlabel,
                {"at", "recorded_at", "by", "reason", "changes"},
                {"at", "by", "reason", "changes"},
            )
            changes = []
            for change in ck.field(rev, "changes", rpath, rlabel, _list):
                if (
                    not isinstance(change, dict)
                    or set(change) != {"field", "old", "new"}
                    or not all(isinstance(x, str) for x in change.values())
                ):
                    raise ck.fail(
                        rpath + ("changes",),
                        f"{rlabel}.changes",
                        "each change is { field, old, new } of strings",
                    )
                changes.append(dict(change))
            rev_at = ck.field(rev, "at", rpath, rlabel, ck.when)
            revisions.append(
                {
                    "at": rev_at,
                    "recorded_at": ck.recorded(rev, rpath, rlabel, rev_at),
                    "by": ck.field(rev, "by", rpath, rlabel, _str("actor")),
                    "reason": ck.field(rev, "reason", rpath, rlabel, _str("reason", True)),
                    "changes": changes,
                }
            )
        result.append(
            {
                **ev.fields(),
                "added_by": ck.field(item, "added_by", epath, elabel, _str("actor")),
                "added_at": added_at,
                "recorded_at": ck.recorded(item, epath, elabel, added_at),
                "revisions": revisions,
                "id": evidence_id,
            }
        )
    return result


def _validate_history(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker, commitment: dict[str, Any]
) -> list[dict[str, Any]]:
    items = raw.get("history", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("history",), f"{label}.history", "must be an array of tables")
    if items and commitment["strength"] == "vision":
        raise ck.fail(
            path + ("history", 0),
            f"{label}.history",
            "a vision commitment is not scored, so it has no history",
        )
    evidence = {e["url"]: e for e in commitment["evidence"]}
    keys = {"kind", "at", "recorded_at", "by", "from", "to", "reason", "evidence"}
    result = []
    previous_status = "not_assessed"
    previous_at: datetime | None = None
    for j, item in enumerate(items):
        hpath = path + ("history", j)
        hlabel = f"{label}.history[{j + 1}]"
        ck.table(item, hpath, hlabel, keys, {"at", "by", "from", "to", "reason"})
        kind = item.get("kind", "status")
        if kind not in HISTORY_KINDS:
            raise ck.fail(
                hpath + ("kind",),
                f"{hlabel}.kind",
                f"{kind!r} is not one of {', '.join(HISTORY_KINDS)}",
            )
        at = ck.field(item, "at", hpath, hlabel, ck.when)
        from_status = ck.field(item, "from", hpath, hlabel, lambda x, n: v.choice(x, n, STATUSES))
        to_status = ck.field(item, "to", hpath, hlabel, lambda x, n: v.choice(x, n, STATUSES))
        if from_status != previous_status:
            raise ck.fail(
                hpath + ("from",),
                f"{hlabel}.from",
                f"is {from_status} but the status before this entry is {previous_status}",
            )
        if kind == "status" and to_status == from_status:
            raise ck.fail(
                hpath + ("to",),
                f"{hlabel}.to",
                "equals from; a status entry must change the status",
            )
        if kind == "review" and to_status != from_status:
            raise ck.fail(
                hpath + ("to",),
                f"{hlabel}.to",
                "a review entry keeps the status (to must equal from)",
            )
        if previous_at is not None and at < previous_at:
            raise ck.fail(hpath + ("at",), f"{hlabel}.at", "is earlier than the entry before it")
        cited = ck.field(
            item, "evidence", hpath, hlabel, lambda x, n: [] if x is None else _list(x, n)
        )
        for url in cited:
            if url not in evidence:
                raise ck.fail(
                    hpath + ("evidence",),
                    f"{hlabel}.evidence",
                    f"{url!r} is not evidence of {commitment['ref']}",
                )
        # Rule 1, as the CLI and the UI apply it (a review entry may cite nothing).
        problem = rules.cited_evidence_problem(
            to_status if kind == "status" else STATUSES_WITHOUT_EVIDENCE[0],
            at.date(),
            [(repr(url), evidence[url]["published"]) for url in cited],
            ref=commitment["ref"],
        )
        if problem is not None:
            raise ck.fail(hpath + ("evidence",), f"{hlabel}.evidence", problem)
        result.append(
            {
                "kind": kind,
                "at": at,
                "recorded_at": ck.recorded(item, hpath, hlabel, at),
                "by": ck.field(item, "by", hpath, hlabel, _str("actor")),
                "from": from_status,
                "to": to_status,
                "reason": ck.field(item, "reason", hpath, hlabel, _str("reason", True)),
                "evidence": sorted(set(cited)),
            }
        )
        previous_status, previous_at = to_status, at
    return result


def _validate_retargets(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker, commitment: dict[str, Any]
) -> list[dict[str, Any]]:
    """Target changes, oldest first. The first may leave out ``from``: it records who set the
    first target (the commitment's ``target``), when and why; every later one re-baselines."""
    items = raw.get("retarget", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("retarget",), f"{label}.retarget", "must be an array of tables")
    if items and commitment["target"] is None:
        raise ck.fail(
            path + ("retarget", 0),
            f"{label}.retarget",
            "target changes need the original `target` on the commitment",
        )
    evidence = {e["url"]: e for e in commitment["evidence"]}
    result = []
    previous, previous_at = commitment["target"], None
    keys = {"at", "recorded_at", "by", "from", "to", "reason", "evidence"}
    for j, item in enumerate(items):
        rpath = path + ("retarget", j)
        rlabel = f"{label}.retarget[{j + 1}]"
        first_setting = j == 0 and isinstance(item, dict) and "from" not in item
        ck.table(
            item,
            rpath,
            rlabel,
            keys,
            {"at", "by", "to", "reason"} if first_setting else keys - {"recorded_at"},
        )
        at = ck.field(item, "at", rpath, rlabel, ck.when)
        new = ck.field(item, "to", rpath, rlabel, _toml_date())
        if first_setting:
            old = None
            if new != commitment["target"]:
                raise ck.fail(
                    rpath + ("to",),
                    f"{rlabel}.to",
                    f"is {new} but the first target set must be the commitment's target "
                    f"({commitment['target']})",
                )
        else:
            old = ck.field(item, "from", rpath, rlabel, _toml_date())
            if old != previous:
                raise ck.fail(
                    rpath + ("from",),
                    f"{rlabel}.from",
                    f"is {old} but the target before this change is {previous}",
                )
            if new == old:
                raise ck.fail(rpath + ("to",), f"{rlabel}.to", "equals from")
        if previous_at is not None and at < previous_at:
            raise ck.fail(rpath + ("at",), f"{rlabel}.at", "is earlier than the change before it")
        url = item.get("evidence")  # required by ck.table except on a first setting
        if url is not None:
            if not isinstance(url, str) or url not in evidence:
                raise ck.fail(
                    rpath + ("evidence",),
                    f"{rlabel}.evidence",
                    f"{url!r} is not evidence of {commitment['ref']}",
                )
            published = evidence[url]["published"]
            if published is None or published > at.date():
                raise ck.fail(
                    rpath + ("evidence",),
                    f"{rlabel}.evidence",
                    f"{url!r} must be dated on or before this change",
                )
        result.append(
            {
                "at": at,
                "recorded_at": ck.recorded(item, rpath, rlabel, at),
                "by": ck.field(item, "by", rpath, rlabel, _str("actor")),
                "from": old,
                "to": new,
                "reason": ck.field(item, "reason", rpath, rlabel, _str("reason", True)),
                "evidence": url,
            }
        )
        previous, previous_at = new, at
    return result


def _validate_notes(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker
) -> list[dict[str, Any]]:
    items = raw.get("note", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("note",), f"{label}.note", "must be an array of tables")
    result = []
    for j, item in enumerate(items):
        npath = path + ("note", j)
        nlabel = f"{label}.note[{j + 1}]"
        ck.table(
            item,
            npath,
            nlabel,
            {"at", "recorded_at", "author", "visibility", "body"},
            {"at", "author", "visibility", "body"},
        )
        note_at = ck.field(item, "at", npath, nlabel, ck.when)
        result.append(
            {
                "at": note_at,
                "recorded_at": ck.recorded(item, npath, nlabel, note_at),
                "author": ck.field(item, "author", npath, nlabel, _str("actor")),
                "visibility": ck.field(
                    item, "visibility", npath, nlabel, lambda x, n: v.choice(x, n, VISIBILITIES)
                ),
                "body": ck.field(item, "body", npath, nlabel, _str("note", True)),
            }
        )
    return result


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
