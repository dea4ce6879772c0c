"""Reading the records a commitment carries (evidence, history, target changes, notes) and the
logs of a dump (link checks, syncs), each checked field by field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mou_tracker.domain import rules
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.service import evidence_checks
from mou_tracker.domain.vocab import (
    HISTORY_KINDS,
    STATUSES,
    STATUSES_WITHOUT_EVIDENCE,
    VISIBILITIES,
)
from mou_tracker.storage.sync.checks import (
    _Checker,
    _list,
    _str,
    _toml_date,
)
from mou_tracker.storage.sync.plain import plain_evidence

EVIDENCE_KEYS = frozenset(
    {
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
)
EVIDENCE_REQUIRED = frozenset(
    {"url", "title", "kind", "direction", "confidence", "added_by", "added_at"}
)
EVIDENCE_COLUMNS = (
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
# The keys of a record that the one-pass read (``_EvidenceReader.read``) leaves to the rest.
_EXTRA = frozenset({"id", "revision", "recorded_at"})
_ACTOR = _str("actor")
_REASON = _str("reason", True)


class _EvidenceReader:
    """The evidence of every commitment of one file, with the column checks an import uses
    (:func:`mou_tracker.domain.service.evidence_checks`) built once for all of them."""

    def __init__(self, ck: _Checker) -> None:
        self.ck = ck
        # ``published`` is read by ck.day: a TOML date, by the same rule a typed date follows.
        self.checks = [(k, c) for k, c in evidence_checks(ck.now) if k != "published"]
        self.ids_seen: set[int] = set()

    def read(self, raw: dict[str, Any], path: tuple[Any, ...], label: str) -> list[dict[str, Any]]:
        ck = self.ck
        items = raw.get("evidence", [])
        if not isinstance(items, list):
            raise ck.fail(path + ("evidence",), f"{label}.evidence", "must be an array of tables")
        result = []
        urls: set[str] = set()
        pages: dict[str, tuple[int, str, Any]] = {}  # same_page(url) -> (position, url, id)
        bounds = (EVIDENCE_KEYS, EVIDENCE_REQUIRED, ck.latest_day, ck.latest_time)
        for j, item in enumerate(items):
            plain = plain_evidence(item, *bounds)
            if plain is not None and not item.keys() & _EXTRA:
                record, page = plain
                url = record["url"]
                if url not in urls and page not in pages:  # else the general path says why
                    urls.add(url)
                    pages[page] = (len(urls), url, None)
                    result.append(record)
                    continue
            epath = path + ("evidence", j)
            result.append(self.record(item, epath, f"{label}.evidence[{j + 1}]", urls, pages))
        return result

    def record(
        self,
        item: Any,
        epath: tuple[Any, ...],
        elabel: str,
        urls: set[str],
        pages: dict[str, tuple[int, str, Any]],
    ) -> dict[str, Any]:
        """One evidence record, checked column by column; ``urls`` and ``pages`` hold those of
        the commitment's records before it. A record of the common shape takes one pass
        (:func:`mou_tracker.storage.sync.plain.plain_evidence`), with the same result."""
        ck = self.ck
        plain = plain_evidence(
            item, EVIDENCE_KEYS, EVIDENCE_REQUIRED, ck.latest_day, ck.latest_time
        )
        if plain is None:
            return self.checked(item, epath, elabel, urls, pages)
        record, page = plain
        evidence_id = self.evidence_id(item, epath, elabel)
        self.unique(record["url"], page, evidence_id, epath, elabel, urls, pages)
        if "revision" in item:
            record["revisions"] = _revisions(item, epath, elabel, ck)
        record["recorded_at"] = ck.recorded(item, epath, elabel, record["added_at"])
        record["id"] = evidence_id
        return record

    def checked(
        self,
        item: Any,
        epath: tuple[Any, ...],
        elabel: str,
        urls: set[str],
        pages: dict[str, tuple[int, str, Any]],
    ) -> dict[str, Any]:
        """:meth:`record` by the general path: every check in turn, the first to fail raising."""
        ck = self.ck
        ck.table(item, epath, elabel, EVIDENCE_KEYS, EVIDENCE_REQUIRED)
        published = ck.field(item, "published", epath, elabel, ck.day)
        evidence_id = self.evidence_id(item, epath, elabel)
        fields: dict[str, Any] = {"published": published}
        for name, check in self.checks:
            try:
                fields[name] = check(item.get(name), name)
            except InvalidInput:
                try:  # again, with the field's full name in the message
                    check(item.get(name), f"{elabel}.{name}")
                except InvalidInput as exc:
                    raise ck.fail(epath + (name,), exc.field, exc.problem) from None
                raise
        url = fields["url"]
        self.unique(url, v.same_page(url), evidence_id, epath, elabel, urls, pages)
        added_at = ck.field(item, "added_at", epath, elabel, ck.when)
        revisions = _revisions(item, epath, elabel, ck) if "revision" in item else []
        return {
            **{k: fields[k] for k in EVIDENCE_COLUMNS},
            "added_by": ck.field(item, "added_by", epath, elabel, _ACTOR),
            "added_at": added_at,
            "recorded_at": ck.recorded(item, epath, elabel, added_at),
            "revisions": revisions,
            "id": evidence_id,
        }

    def unique(
        self,
        url: str,
        page: str,
        evidence_id: Any,
        epath: tuple[Any, ...],
        elabel: str,
        urls: set[str],
        pages: dict[str, tuple[int, str, Any]],
    ) -> None:
        """Refuse a URL, or another address of the same page, listed twice on a commitment;
        else remember it in ``urls`` and ``pages``."""
        ck = self.ck
        if url in urls:
            raise ck.fail(epath + ("url",), f"{elabel}.url", "is listed twice on this commitment")
        earlier = pages.get(page)
        if earlier is not None:
            k, first_url, first_id = earlier
            name = f"evidence #{first_id}" if first_id is not None else f"evidence[{k}]"
            raise ck.fail(epath + ("url",), f"{elabel}.url", f"same page as {name} ({first_url})")
        urls.add(url)
        pages[page] = (len(urls), url, evidence_id)

    def evidence_id(self, item: dict[str, Any], epath: tuple[Any, ...], elabel: str) -> Any:
        """The optional ``id`` a dump gives a record: a key used only to create it."""
        if "id" not in item:
            return None
        ck, evidence_id = self.ck, item["id"]
        if isinstance(evidence_id, bool) or not isinstance(evidence_id, int):
            raise ck.fail(epath + ("id",), f"{elabel}.id", "must be a whole number")
        if not 1 <= evidence_id <= 2**31 - 1:
            raise ck.fail(epath + ("id",), f"{elabel}.id", f"{evidence_id} is out of range")
        if evidence_id in self.ids_seen:
            raise ck.fail(
                epath + ("id",), f"{elabel}.id", f"evidence id {evidence_id} is listed twice"
            )
        self.ids_seen.add(evidence_id)
        return evidence_id


def _revisions(
    item: dict[str, Any], epath: tuple[Any, ...], elabel: str, ck: _Checker
) -> list[dict[str, Any]]:
    """The public corrections of one evidence record, oldest first."""
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
                "by": ck.field(rev, "by", rpath, rlabel, _ACTOR),
                "reason": ck.field(rev, "reason", rpath, rlabel, _REASON),
                "changes": changes,
            }
        )
    return revisions


def _check_transition(
    kind: str,
    from_status: str,
    to_status: str,
    previous_status: str,
    hpath: tuple[Any, ...],
    hlabel: str,
    ck: _Checker,
) -> None:
    """A history entry starts from the status the one before it left; a status entry changes
    it, a review keeps it."""
    if from_status != previous_status:
        raise ck.fail(
            hpath + ("from",),
            f"{hlabel}.from",
            f"is {from_status} but the status before this entry is {previous_status}",
        )
    if kind == "status" and to_status == from_status:
        raise ck.fail(
            hpath + ("to",), f"{hlabel}.to", "equals from; a status entry must change the status"
        )
    if kind == "review" and to_status != from_status:
        raise ck.fail(
            hpath + ("to",), f"{hlabel}.to", "a review entry keeps the status (to must equal from)"
        )


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
        _check_transition(kind, from_status, to_status, previous_status, hpath, hlabel, ck)
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
    result: list[dict[str, Any]] = []
    for j, item in enumerate(items):
        npath = path + ("note", j)
        nlabel = f"{label}.note[{j + 1}]"
        ck.table(
            item,
            npath,
            nlabel,
            {"at", "recorded_at", "author", "visibility", "body", "withdraws"},
            {"at", "author", "visibility", "body"},
        )
        note_at = ck.field(item, "at", npath, nlabel, ck.when)
        note = {
            "at": note_at,
            "recorded_at": ck.recorded(item, npath, nlabel, note_at),
            "author": ck.field(item, "author", npath, nlabel, _str("actor")),
            "visibility": ck.field(
                item, "visibility", npath, nlabel, lambda x, n: v.choice(x, n, VISIBILITIES)
            ),
            "body": ck.field(item, "body", npath, nlabel, _str("note", True)),
            "withdraws": None,
        }
        if "withdraws" in item:
            note["withdraws"] = _withdrawn_note(item, npath, nlabel, ck, note, result)
        result.append(note)
    return result


def _withdrawn_note(
    item: dict[str, Any],
    path: tuple[Any, ...],
    label: str,
    ck: _Checker,
    note: dict[str, Any],
    earlier: list[dict[str, Any]],
) -> tuple[datetime, str, int]:
    """``withdraws = { at = ..., author = ... }``: the earlier note of the same commitment and
    visibility that this note withdraws (domain/undo.py), named by time and author because
    ids differ between databases. Where several earlier notes that are not withdrawals share
    that time and author, ``nth = N`` names the N-th of them in the file (1 when left out). It
    may not be a withdrawal itself nor withdrawn twice. Returns (at, author, nth)."""
    wpath, wlabel = path + ("withdraws",), f"{label}.withdraws"
    ref = item["withdraws"]
    if not isinstance(ref, dict):
        raise ck.fail(wpath, wlabel, "must be a table { at = ..., author = ... }")
    ck.table(ref, wpath, wlabel, {"at", "author", "nth"}, {"at", "author"})
    at = ck.field(ref, "at", wpath, wlabel, ck.when)
    author = ck.field(ref, "author", wpath, wlabel, _str("actor"))
    named = [n for n in earlier if n["at"] == at and n["author"] == author]
    if not named:
        raise ck.fail(wpath, wlabel, "names no earlier note of this commitment")
    nth = 1
    if "nth" in ref:
        nth = ref["nth"]
        if type(nth) is not int or nth < 1:
            raise ck.fail(wpath + ("nth",), f"{wlabel}.nth", "must be a whole number from 1")
        plain = [n for n in named if n["withdraws"] is None]
        if nth > len(plain):
            raise ck.fail(
                wpath + ("nth",),
                f"{wlabel}.nth",
                f"names note {nth} of {len(plain)} at that time by that author",
            )
        target = plain[nth - 1]
    else:
        target = named[0]
    if target["withdraws"] is not None:
        raise ck.fail(wpath, wlabel, "names a note that is itself a withdrawal")
    if target["visibility"] != note["visibility"]:
        raise ck.fail(wpath, wlabel, "names a note of another visibility")
    if any(n["withdraws"] == (at, author, nth) for n in earlier):
        raise ck.fail(wpath, wlabel, "names a note that is already withdrawn")
    return (at, author, nth)
