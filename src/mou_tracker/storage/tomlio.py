"""commitments.toml: validate it (errors name the line), sync it into a database, dump it back.

``sync`` is one transaction and idempotent. Rows it created remember a hash of the values they
were synced from (``source_hash``), which gives a three-way comparison for every record:

* file == database: nothing to do;
* database unchanged since the last sync, file changed: the file is newer, update the row;
* file unchanged since the last sync, database changed: the database is newer, keep it;
* both changed: a conflict, reported, database kept.

History and notes are append-only: entries missing from the database are appended when the
file's history extends the database's; a history that diverges is reported, never rewritten.
Nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import tomli  # tomllib's own code, compiled: the same TOML, parsed 3x faster
import tomli_w
from sqlalchemy import insert, select, update
from sqlmodel import Session

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.domain.models import (
    Commitment,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    Memorandum,
    Note,
    Owner,
    Party,
    TargetChange,
)
from mou_tracker.domain.service import EvidenceInput
from mou_tracker.domain.vocab import (
    HISTORY_KINDS,
    ORIGINS,
    PARTY_KINDS,
    ROLES,
    STATUSES,
    STATUSES_WITHOUT_EVIDENCE,
    STRENGTHS,
    TEXT_BASES,
    VISIBILITIES,
)
from mou_tracker.faults import crashpoint
from mou_tracker.storage.locate import Locator

SCHEMA_VERSION = 1


# --- reading and validating ---------------------------------------------------------------------


class _Checker:
    """Validates the parsed document; every error carries ``file:line: path.field``."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self._locator: Locator | None = None

    @property
    def locator(self) -> Locator:
        # Built only when an error needs a line number: indexing a large file costs seconds.
        if self._locator is None:
            self._locator = Locator(self.text)
        return self._locator

    def fail(self, path: tuple[Any, ...], label: str, problem: str) -> TrackerError:
        return InvalidInput(f"{self.filename}:{self.locator.line(path)}: {label}", problem)

    def wrap(self, path: tuple[Any, ...], label: str, exc: InvalidInput) -> TrackerError:
        return self.fail(path, label, exc.problem)

    def table(
        self, value: Any, path: tuple[Any, ...], label: str, allowed: set[str], required: set[str]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, label, f"must be a table, got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    path + (key,),
                    f"{label}.{key}",
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required):
            if key not in value:
                raise self.fail(path, f"{label}.{key}", "is required")
        return value

    def field(
        self, table: dict[str, Any], key: str, path: tuple[Any, ...], label: str, check: Any
    ) -> Any:
        try:
            return check(table.get(key), f"{label}.{key}")
        except InvalidInput as exc:
            raise self.fail(path + (key,), f"{label}.{key}", exc.problem) from None


def _str(limit: str, multiline: bool = False, required: bool = True) -> Any:
    def check(value: Any, name: str) -> Any:
        return v.text(value, name, limit=limit, multiline=multiline, required=required)

    return check


def _toml_date(required: bool = True) -> Any:
    def check(value: Any, name: str) -> date | None:
        if value is None and not required:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidInput(name, "must be a TOML date like 2026-04-09 (no quotes, no time)")
        return value

    return check


def _toml_ts(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(
            name, "must be a TOML date-time with an offset, like 2026-04-09T17:00:00Z"
        )
    return v.aware_utc(value, name)


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(name, f"must be an array, got {type(value).__name__}")
    return value


@dataclass
class Document:
    parties: list[dict[str, Any]] = field(default_factory=list)
    memoranda: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)


def read_document(path: Path | str) -> Document:
    """Read and validate a commitments.toml file; raise a one-line :class:`InvalidInput`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("FILE", f"{p} does not exist") from None
    except OSError as exc:
        raise InvalidInput("FILE", f"cannot read {p}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("FILE", f"{p.name} is not UTF-8 (byte {exc.start})") from None
    return parse_document(text, p.name)


SYNC_FINGERPRINT = "sync_fingerprint"


def sync_fingerprint(session: Session, file_digest: str) -> str:
    """The file's hash and a fingerprint of the database after a sync. If neither has changed
    since, a sync of that file would change nothing and report nothing: ``sync`` can say so
    without parsing the file (seconds for a large one)."""
    from sqlalchemy import func

    from mou_tracker.domain.queries import change_token

    extra = session.execute(
        select(
            select(func.max(Memorandum.updated_at)).scalar_subquery(),
            select(func.count(Memorandum.id)).scalar_subquery(),
            select(func.count(Party.id)).scalar_subquery(),
            select(func.max(TargetChange.id)).scalar_subquery(),
            select(func.max(EvidenceRevision.id)).scalar_subquery(),
            select(func.count(Note.id)).scalar_subquery(),
        )
    ).one()
    state = repr((SCHEMA_VERSION, tuple(change_token(session)), tuple(extra)))
    return hashlib.sha256(f"{file_digest}|{state}".encode()).hexdigest()


def parse_document(text: str, filename: str = "commitments.toml") -> Document:
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        message = str(exc)
        import re

        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{filename}:{match.group(1)}" if match else filename
        detail = message.split(" (at ")[0]
        raise InvalidInput(where, f"invalid TOML: {detail}") from None
    return _validate(data, _Checker(text, filename))


def _validate(data: dict[str, Any], ck: _Checker) -> Document:
    ck.table(data, (), "document", {"schema", "party", "memorandum", "commitment"}, {"schema"})
    if data["schema"] != SCHEMA_VERSION or isinstance(data["schema"], bool):
        raise ck.fail(("schema",), "schema", f"must be {SCHEMA_VERSION}, got {data['schema']!r}")
    doc = Document()

    codes: set[str] = set()
    for i, raw in enumerate(_top(data, "party", ck)):
        path = ("party", i)
        label = f"party[{i + 1}]"
        ck.table(raw, path, label, {"code", "name", "kind"}, {"code", "name", "kind"})
        code = ck.field(raw, "code", path, label, v.party_code)
        if code in codes:
            raise ck.fail(path + ("code",), f"{label}.code", f"duplicate party code {code!r}")
        codes.add(code)
        doc.parties.append(
            {
                "code": code,
                "name": ck.field(raw, "name", path, label, _str("name")),
                "kind": ck.field(
                    raw, "kind", path, label, lambda x, n: v.choice(x, n, PARTY_KINDS)
                ),
            }
        )

    slugs: set[str] = set()
    memo_keys = {
        "slug",
        "title",
        "parties",
        "signed",
        "source_url",
        "landing_url",
        "legal_status",
        "review_cadence",
        "signatories",
        "summary",
    }
    for i, raw in enumerate(_top(data, "memorandum", ck)):
        path = ("memorandum", i)
        label = f"memorandum[{i + 1}]"
        ck.table(raw, path, label, memo_keys, memo_keys - {"landing_url", "summary", "signatories"})
        slug = ck.field(raw, "slug", path, label, v.slug)
        if slug in slugs:
            raise ck.fail(path + ("slug",), f"{label}.slug", f"duplicate memorandum slug {slug!r}")
        slugs.add(slug)
        label = f"memorandum[{slug}]"
        parties = ck.field(raw, "parties", path, label, _list)
        for code in parties:
            if code not in codes:
                raise ck.fail(path + ("parties",), f"{label}.parties", f"unknown party {code!r}")
        signatories = []
        for j, sig in enumerate(raw.get("signatories", [])):
            slabel = f"{label}.signatories[{j + 1}]"
            if not isinstance(sig, dict) or set(sig) != {"name", "role", "party"}:
                raise ck.fail(path + ("signatories",), slabel, "must be { name, role, party }")
            if sig["party"] not in codes:
                raise ck.fail(
                    path + ("signatories",), f"{slabel}.party", f"unknown party {sig['party']!r}"
                )
            try:
                signatories.append(
                    {
                        "name": v.required_text(sig["name"], "name", limit="name"),
                        "role": v.required_text(sig["role"], "role", limit="name"),
                        "party": sig["party"],
                    }
                )
            except InvalidInput as exc:
                raise ck.fail(
                    path + ("signatories",), f"{slabel}.{exc.field}", exc.problem
                ) from None
        doc.memoranda.append(
            {
                "slug": slug,
                "title": ck.field(raw, "title", path, label, _str("title")),
                "parties": list(parties),
                "signatories": signatories,
                "signed": ck.field(raw, "signed", path, label, _toml_date()),
                "source_url": ck.field(raw, "source_url", path, label, v.url),
                "landing_url": ck.field(
                    raw, "landing_url", path, label, lambda x, n: v.url(x, n, required=False)
                ),
                "legal_status": ck.field(
                    raw, "legal_status", path, label, _str("legal_status", True)
                ),
                "review_cadence": ck.field(raw, "review_cadence", path, label, v.cadence),
                "summary": ck.field(raw, "summary", path, label, _str("summary", True, False)),
            }
        )

    refs: set[str] = set()
    c_keys = {
        "ref",
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
        "added_at",
        "owners",
        "evidence",
        "history",
        "note",
        "retarget",
    }
    c_required = {
        "ref",
        "memorandum",
        "section",
        "origin",
        "title",
        "summary",
        "source_url",
        "text_basis",
        "theme",
        "strength",
        "owners",
    }
    for i, raw in enumerate(_top(data, "commitment", ck)):
        path = ("commitment", i)
        label = f"commitment[{i + 1}]"
        ck.table(raw, path, label, c_keys, c_required)
        ref = ck.field(raw, "ref", path, label, v.ref)
        if ref in refs:
            raise ck.fail(path + ("ref",), f"{label}.ref", f"duplicate ref {ref!r}")
        refs.add(ref)
        label = f"commitment[{ref}]"
        memo = ck.field(raw, "memorandum", path, label, v.slug)
        if memo not in slugs:
            raise ck.fail(
                path + ("memorandum",), f"{label}.memorandum", f"unknown memorandum {memo!r}"
            )
        owners = []
        seen_parties: set[str] = set()
        for j, owner in enumerate(ck.field(raw, "owners", path, label, _list)):
            olabel = f"{label}.owners[{j + 1}]"
            opath = path + ("owners",)
            if not isinstance(owner, dict) or set(owner) != {"party", "role"}:
                raise ck.fail(opath, olabel, 'must be { party = CODE, role = "lead" | "support" }')
            if owner["party"] not in codes:
                raise ck.fail(opath, f"{olabel}.party", f"unknown party {owner['party']!r}")
            if owner["party"] in seen_parties:
                raise ck.fail(opath, f"{olabel}.party", f"{owner['party']} is listed twice")
            seen_parties.add(owner["party"])
            try:
                role = v.choice(owner["role"], f"{olabel}.role", ROLES)
            except InvalidInput as exc:
                raise ck.fail(opath, exc.field, exc.problem) from None
            owners.append({"party": owner["party"], "role": role})
        if not owners:
            raise ck.fail(path + ("owners",), f"{label}.owners", "needs at least one owner")
        commitment = {
            "ref": ref,
            "memorandum": memo,
            "section": ck.field(raw, "section", path, label, _str("section")),
            "origin": ck.field(raw, "origin", path, label, lambda x, n: v.choice(x, n, ORIGINS)),
            "title": ck.field(raw, "title", path, label, _str("commitment_title")),
            "summary": ck.field(raw, "summary", path, label, _str("summary", True)),
            "source_url": ck.field(raw, "source_url", path, label, v.url),
            "text_basis": ck.field(
                raw, "text_basis", path, label, lambda x, n: v.choice(x, n, TEXT_BASES)
            ),
            "theme": ck.field(raw, "theme", path, label, _str("theme")),
            "strength": ck.field(
                raw, "strength", path, label, lambda x, n: v.choice(x, n, STRENGTHS)
            ),
            "review_cadence": None
            if raw.get("review_cadence") is None
            else ck.field(raw, "review_cadence", path, label, v.cadence),
            "last_reviewed": ck.field(raw, "last_reviewed", path, label, _toml_date(False)),
            "target": ck.field(raw, "target", path, label, _toml_date(False)),
            "added_at": None
            if raw.get("added_at") is None
            else ck.field(raw, "added_at", path, label, _toml_ts),
            "owners": sorted(owners, key=lambda o: o["party"]),
        }
        commitment["evidence"] = _validate_evidence(raw, path, label, ck)
        commitment["history"] = _validate_history(raw, path, label, ck, commitment)
        commitment["notes"] = _validate_notes(raw, path, label, ck)
        commitment["retargets"] = _validate_retargets(raw, path, label, ck, commitment)
        doc.commitments.append(commitment)
    return doc


def _top(data: dict[str, Any], key: str, ck: _Checker) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ck.fail((key,), key, f"must be an array of tables ([[{key}]])")
    return value


def _validate_evidence(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker
) -> list[dict[str, Any]]:
    keys = {
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
        "revision",
    }
    result = []
    urls: set[str] = set()
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
        published = item.get("published")
        if published is not None:
            ck.field(item, "published", epath, elabel, _toml_date())
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
            )
        except InvalidInput as exc:
            key = exc.field.rsplit(".", 1)[-1]
            raise ck.fail(epath + (key,), exc.field, exc.problem) from None
        if ev.url in urls:
            raise ck.fail(epath + ("url",), f"{elabel}.url", "is listed twice on this commitment")
        urls.add(ev.url)
        revisions = []
        for k, rev in enumerate(item.get("revision", [])):
            rpath = epath + ("revision", k)
            rlabel = f"{elabel}.revision[{k + 1}]"
            ck.table(
                rev,
                rpath,
                rlabel,
                {"at", "by", "reason", "changes"},
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
            revisions.append(
                {
                    "at": ck.field(rev, "at", rpath, rlabel, _toml_ts),
                    "by": ck.field(rev, "by", rpath, rlabel, _str("actor")),
                    "reason": ck.field(rev, "reason", rpath, rlabel, _str("reason", True)),
                    "changes": changes,
                }
            )
        result.append(
            {
                **ev.fields(),
                "added_by": ck.field(item, "added_by", epath, elabel, _str("actor")),
                "added_at": ck.field(item, "added_at", epath, elabel, _toml_ts),
                "revisions": revisions,
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
    keys = {"kind", "at", "by", "from", "to", "reason", "evidence"}
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
        at = ck.field(item, "at", hpath, hlabel, _toml_ts)
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
            published = evidence[url]["published"]
            if published is None:
                raise ck.fail(
                    hpath + ("evidence",),
                    f"{hlabel}.evidence",
                    f"{url!r} has no publication date, so it cannot support a status change",
                )
            if published > at.date():
                raise ck.fail(
                    hpath + ("evidence",),
                    f"{hlabel}.evidence",
                    f"{url!r} was published {published.isoformat()}, after this change",
                )
        if kind == "status" and to_status not in STATUSES_WITHOUT_EVIDENCE and not cited:
            raise ck.fail(
                hpath + ("evidence",),
                f"{hlabel}.evidence",
                f"a change to {to_status} must cite at least one evidence URL of {commitment['ref']}",
            )
        result.append(
            {
                "kind": kind,
                "at": at,
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
    items = raw.get("retarget", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("retarget",), f"{label}.retarget", "must be an array of tables")
    if items and commitment["target"] is None:
        raise ck.fail(
            path + ("retarget", 0),
            f"{label}.retarget",
            "re-baselines need an original `target` on the commitment",
        )
    evidence = {e["url"]: e for e in commitment["evidence"]}
    result = []
    previous, previous_at = commitment["target"], None
    for j, item in enumerate(items):
        rpath = path + ("retarget", j)
        rlabel = f"{label}.retarget[{j + 1}]"
        ck.table(
            item,
            rpath,
            rlabel,
            {"at", "by", "from", "to", "reason", "evidence"},
            {"at", "by", "from", "to", "reason", "evidence"},
        )
        at = ck.field(item, "at", rpath, rlabel, _toml_ts)
        old = ck.field(item, "from", rpath, rlabel, _toml_date())
        new = ck.field(item, "to", rpath, rlabel, _toml_date())
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
        url = item["evidence"]
        if url not in evidence:
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
            {"at", "author", "visibility", "body"},
            {"at", "author", "visibility", "body"},
        )
        result.append(
            {
                "at": ck.field(item, "at", npath, nlabel, _toml_ts),
                "author": ck.field(item, "author", npath, nlabel, _str("actor")),
                "visibility": ck.field(
                    item, "visibility", npath, nlabel, lambda x, n: v.choice(x, n, VISIBILITIES)
                ),
                "body": ck.field(item, "body", npath, nlabel, _str("note", True)),
            }
        )
    return result


# --- sync -----------------------------------------------------------------------------------


@dataclass
class SyncReport:
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(sum(self.added.values()) or sum(self.updated.values()))

    def summary(self) -> str:
        if not self.changed and not self.conflicts:
            return "already in sync: nothing changed"
        parts = [f"added {n} {what}" for what, n in sorted(self.added.items()) if n]
        parts += [f"updated {n} {what}" for what, n in sorted(self.updated.items()) if n]
        if self.kept:
            parts.append(f"kept {len(self.kept)} newer database record(s)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflict(s), database kept")
        return "; ".join(parts) or "nothing changed"


def _hash(values: dict[str, Any]) -> str:
    payload = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
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


def _three_way(
    file_values: dict[str, Any], db_values: dict[str, Any], synced_hash: str | None
) -> str:
    """'same', 'file' (file is newer), 'db' (database is newer) or 'conflict'."""
    file_hash, db_hash = _hash(file_values), _hash(db_values)
    if file_hash == db_hash:
        return "same"
    if synced_hash == db_hash:
        return "file"
    if synced_hash == file_hash:
        return "db"
    return "conflict"


def sync_document(session: Session, doc: Document, *, actor: str) -> SyncReport:
    """Apply ``doc`` to the database in the caller's transaction."""
    actor = v.required_text(actor, "actor (--as)", limit="actor")
    now = datetime.now(UTC)
    report = SyncReport()

    # Parties.
    parties = {p.code: p for p in session.scalars(select(Party))}
    for item in doc.parties:
        values = {k: item[k] for k in PARTY_FIELDS}
        row = parties.get(item["code"])
        if row is None:
            row = Party(code=item["code"], source_hash=_hash(values), **values)
            session.add(row)
            parties[row.code] = row
            report.added["parties"] += 1
            continue
        verdict = _three_way(values, {k: getattr(row, k) for k in PARTY_FIELDS}, row.source_hash)
        if verdict == "file":
            for k in PARTY_FIELDS:
                setattr(row, k, values[k])
            row.source_hash = _hash(values)
            report.updated["parties"] += 1
        elif verdict == "same" and row.source_hash != _hash(values):
            row.source_hash = _hash(values)
        elif verdict == "db":
            report.kept.append(f"party {row.code}")
        elif verdict == "conflict":
            report.conflicts.append(
                f"party {row.code}: the file and the database both changed it since the last sync"
            )
    session.flush()

    # Memoranda.
    memos = {m.slug: m for m in session.scalars(select(Memorandum))}
    for item in doc.memoranda:
        values = {k: item[k] for k in MEMO_FIELDS}
        row = memos.get(item["slug"])
        if row is None:
            row = Memorandum(
                slug=item["slug"],
                source_hash=_hash(values),
                updated_at=now,
                updated_by=actor,
                **values,
            )
            session.add(row)
            memos[row.slug] = row
            report.added["memoranda"] += 1
            continue
        verdict = _three_way(values, {k: getattr(row, k) for k in MEMO_FIELDS}, row.source_hash)
        if verdict == "file":
            session.execute(
                update(Memorandum)
                .where(Memorandum.id == row.id, Memorandum.version == row.version)
                .values(
                    source_hash=_hash(values),
                    version=row.version + 1,
                    updated_at=now,
                    updated_by=actor,
                    **values,
                )
                .execution_options(synchronize_session="fetch")
            )
            report.updated["memoranda"] += 1
        elif verdict == "db":
            report.kept.append(f"memorandum {row.slug}")
        elif verdict == "conflict":
            report.conflicts.append(
                f"memorandum {row.slug}: the file and the database both changed it since the last sync"
            )
    session.flush()
    memo_by_id = {m.id: m for m in memos.values()}

    # Commitments and their owners.
    existing = {c.ref: c for c in session.scalars(select(Commitment))}
    owners_db: dict[int, list[dict[str, str]]] = defaultdict(list)
    for cid, code, role in session.execute(
        select(Owner.commitment_id, Party.code, Owner.role).join(Party, Party.id == Owner.party_id)
    ):
        owners_db[cid].append({"party": code, "role": role})
    new_rows = []
    for position, item in enumerate(doc.commitments):
        values = {k: item[k] for k in COMMITMENT_FIELDS}
        row = existing.get(item["ref"])
        memo = memos[item["memorandum"]]
        if row is None:
            new_rows.append((position, item, values, memo))
            continue
        db_values = _commitment_values(row, memo_by_id, owners_db[row.id])  # type: ignore[index]
        verdict = _three_way(values, db_values, row.source_hash)
        if verdict == "file":
            _update_commitment(session, row, item, values, memo, position, parties, actor, now)
            session.expire(row)
            report.updated["commitments"] += 1
        elif verdict == "db":
            report.kept.append(f"commitment {row.ref}")
        elif verdict == "conflict":
            report.conflicts.append(
                f"commitment {row.ref}: the file and the database both changed it since the last sync"
            )
    if new_rows:
        base = len(existing)
        payload = []
        for position, item, values, memo in new_rows:
            cadence = item["review_cadence"] or memo.review_cadence
            payload.append(
                {
                    "memorandum_id": memo.id,
                    "ref": item["ref"],
                    "position": base + position if existing else position,
                    "section": item["section"],
                    "origin": item["origin"],
                    "title": item["title"],
                    "summary": item["summary"],
                    "source_url": item["source_url"],
                    "text_basis": item["text_basis"],
                    "theme": item["theme"],
                    "strength": item["strength"],
                    "status": "not_assessed",
                    "review_cadence": item["review_cadence"],
                    "last_reviewed": item["last_reviewed"],
                    "next_review": v.add_cadence(item["last_reviewed"] or memo.signed, cadence),
                    "target": item["target"],
                    "original_target": item["target"],
                    "added_at": item["added_at"],
                    "source_hash": _hash(values),
                    "version": 1,
                    "updated_at": now,
                    "updated_by": actor,
                }
            )
        ids = session.scalars(
            insert(Commitment)
            .execution_options(render_nulls=True)
            .returning(Commitment.id, sort_by_parameter_order=True),
            payload,
        ).all()
        owner_rows = []
        for cid, (_position, item, _values, _memo) in zip(ids, new_rows, strict=True):
            for owner in item["owners"]:
                owner_rows.append(
                    {
                        "commitment_id": cid,
                        "party_id": parties[owner["party"]].id,
                        "role": owner["role"],
                    }
                )
        if owner_rows:
            session.execute(_bulk(Owner), owner_rows)
        report.added["commitments"] += len(new_rows)
        fresh: dict[int, Commitment] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for row in session.scalars(select(Commitment).where(Commitment.id.in_(chunk))):  # type: ignore[union-attr]
                fresh[row.id] = row  # type: ignore[index]
        for cid, (_p, item, _v, _m) in zip(ids, new_rows, strict=True):
            existing[item["ref"]] = fresh[cid]

    crashpoint("sync:commitments")

    # Evidence.
    ids_by_ref = {ref: c.id for ref, c in existing.items()}
    evidence_db: dict[tuple[int, str], Evidence] = {
        (e.commitment_id, e.url): e for e in session.scalars(select(Evidence))
    }
    new_evidence: list[dict[str, Any]] = []
    new_revisions: list[tuple[int, dict[str, Any]]] = []
    for item in doc.commitments:
        cid = ids_by_ref[item["ref"]]
        for ev in item["evidence"]:
            values = {k: ev[k] for k in EVIDENCE_FIELDS}
            row = evidence_db.get((cid, ev["url"]))  # type: ignore[arg-type]
            if row is None:
                new_evidence.append(
                    {
                        "commitment_id": cid,
                        "url": ev["url"],
                        **values,
                        "added_by": ev["added_by"],
                        "added_at": ev["added_at"],
                        "source_hash": _hash(values),
                        "version": 1,
                        "updated_at": ev["revisions"][-1]["at"]
                        if ev["revisions"]
                        else ev["added_at"],
                        "updated_by": ev["revisions"][-1]["by"]
                        if ev["revisions"]
                        else ev["added_by"],
                    }
                )
                new_revisions.append((len(new_evidence) - 1, ev))
                continue
            verdict = _three_way(
                values, {k: getattr(row, k) for k in EVIDENCE_FIELDS}, row.source_hash
            )
            if verdict == "file":
                old = {k: getattr(row, k) for k in EVIDENCE_FIELDS}
                session.execute(
                    update(Evidence)
                    .where(Evidence.id == row.id, Evidence.version == row.version)
                    .values(
                        source_hash=_hash(values),
                        version=row.version + 1,
                        updated_at=now,
                        updated_by=actor,
                        **values,
                    )
                    .execution_options(synchronize_session=False)
                )
                session.add(
                    EvidenceRevision(
                        evidence_id=row.id,  # type: ignore[arg-type]
                        at=now,
                        by=actor,
                        reason="updated from commitments.toml by sync",
                        changes=[
                            {"field": k, "old": _plain(old[k]), "new": _plain(values[k])}
                            for k in EVIDENCE_FIELDS
                            if old[k] != values[k]
                        ],
                    )
                )
                report.updated["evidence"] += 1
            elif verdict == "db":
                report.kept.append(f"evidence {item['ref']} {ev['url']}")
            elif verdict == "conflict":
                report.conflicts.append(
                    f"evidence {item['ref']} {ev['url']}: the file and the database both changed it since the last sync"
                )
    if new_evidence:
        new_ids = session.scalars(
            insert(Evidence)
            .execution_options(render_nulls=True)
            .returning(Evidence.id, sort_by_parameter_order=True),
            new_evidence,
        ).all()
        revision_rows = []
        for eid, (index, ev) in zip(new_ids, new_revisions, strict=True):
            evidence_db[(new_evidence[index]["commitment_id"], ev["url"])] = None  # type: ignore[assignment]
            for rev in ev["revisions"]:
                revision_rows.append({"evidence_id": eid, **rev})
        if revision_rows:
            session.execute(_bulk(EvidenceRevision), revision_rows)
        report.added["evidence"] += len(new_evidence)
    evidence_ids: dict[tuple[int, str], int] = {
        (cid, url): eid
        for eid, cid, url in session.execute(
            select(Evidence.id, Evidence.commitment_id, Evidence.url)
        )
    }

    crashpoint("sync:evidence")

    # History (append-only).
    history_db: dict[int, list[dict[str, Any]]] = defaultdict(list)
    cites: dict[int, list[int]] = defaultdict(list)
    for hid, eid in session.execute(
        select(HistoryEvidence.history_id, HistoryEvidence.evidence_id)
    ):
        cites[hid].append(eid)
    url_of = {eid: url for (cid, url), eid in evidence_ids.items()}
    for h in session.scalars(select(HistoryEntry).order_by(HistoryEntry.at, HistoryEntry.id)):
        history_db[h.commitment_id].append(
            {
                "kind": h.kind,
                "at": h.at,
                "by": h.actor,
                "from": h.from_status,
                "to": h.to_status,
                "reason": h.reason,
                "evidence": sorted(url_of[e] for e in cites.get(h.id, [])),  # type: ignore[arg-type]
            }
        )
    appended: list[tuple[int, dict[str, Any]]] = []
    for item in doc.commitments:
        cid = ids_by_ref[item["ref"]]
        ours, theirs = item["history"], history_db.get(cid, [])  # type: ignore[arg-type]
        if ours == theirs[: len(ours)]:
            continue
        if theirs == ours[: len(theirs)]:
            appended.extend((cid, entry) for entry in ours[len(theirs) :])  # type: ignore[misc]
            continue
        at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b) + 1
        report.conflicts.append(
            f"commitment {item['ref']}: its history in the file diverges from the database at entry {at}; database kept"
        )
    if appended:
        hist_ids = session.scalars(
            insert(HistoryEntry)
            .execution_options(render_nulls=True)
            .returning(HistoryEntry.id, sort_by_parameter_order=True),
            [
                {
                    "commitment_id": cid,
                    "kind": e["kind"],
                    "from_status": e["from"],
                    "to_status": e["to"],
                    "at": e["at"],
                    "actor": e["by"],
                    "reason": e["reason"],
                }
                for cid, e in appended
            ],
        ).all()
        links = [
            {"history_id": hid, "evidence_id": evidence_ids[(cid, url)]}
            for hid, (cid, entry) in zip(hist_ids, appended, strict=True)
            for url in entry["evidence"]
        ]
        if links:
            session.execute(_bulk(HistoryEvidence), links)
        last: dict[int, dict[str, Any]] = {}
        for cid, entry in appended:
            last[cid] = entry
        by_id = {c.id: c for c in existing.values()}
        for cid, entry in last.items():
            row = by_id[cid]
            values: dict[str, Any] = {
                "version": row.version + 1,
                "updated_at": now,
                "updated_by": actor,
            }
            status_entries = [e for c, e in appended if c == cid and e["kind"] == "status"]
            if status_entries:
                values.update(status=entry["to"], status_changed_at=status_entries[-1]["at"])
            result = session.execute(
                update(Commitment)
                .where(Commitment.id == cid, Commitment.version == row.version)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                from mou_tracker.domain.errors import ConflictError

                raise ConflictError(f"commitment {row.ref}", None, None)
        report.added["history entries"] += len(appended)

    _sync_retargets(session, doc, ids_by_ref, evidence_ids, report, actor, now)
    crashpoint("sync:history")

    # Notes (append-only).
    notes_db = {
        (n.commitment_id, n.at, n.author, n.visibility, n.body)
        for n in session.scalars(select(Note))
    }
    new_notes = []
    for item in doc.commitments:
        cid = ids_by_ref[item["ref"]]
        for note in item["notes"]:
            key = (cid, note["at"], note["author"], note["visibility"], note["body"])
            if key not in notes_db:
                notes_db.add(key)  # type: ignore[arg-type]
                new_notes.append({"commitment_id": cid, **note})
    if new_notes:
        session.execute(_bulk(Note), new_notes)
        report.added["notes"] += len(new_notes)
    session.flush()
    return report


def _sync_retargets(
    session: Session,
    doc: Document,
    ids_by_ref: dict[str, Any],
    evidence_ids: dict[tuple[int, str], int],
    report: SyncReport,
    actor: str,
    now: datetime,
) -> None:
    """Target changes are append-only, like the status history."""
    url_of = {eid: url for (_cid, url), eid in evidence_ids.items()}
    in_db: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in session.scalars(select(TargetChange).order_by(TargetChange.at, TargetChange.id)):
        in_db[t.commitment_id].append(
            {
                "at": t.at,
                "by": t.by,
                "from": t.old_target,
                "to": t.new_target,
                "reason": t.reason,
                "evidence": url_of.get(t.evidence_id),
            }  # type: ignore[arg-type]
        )
    for item in doc.commitments:
        cid = ids_by_ref[item["ref"]]
        ours, theirs = item["retargets"], in_db.get(cid, [])
        if ours == theirs[: len(ours)]:
            continue
        if theirs != ours[: len(theirs)]:
            report.conflicts.append(
                f"commitment {item['ref']}: its target history in the file diverges from the database; database kept"
            )
            continue
        extra = ours[len(theirs) :]
        session.execute(
            _bulk(TargetChange),
            [
                {
                    "commitment_id": cid,
                    "at": e["at"],
                    "by": e["by"],
                    "old_target": e["from"],
                    "new_target": e["to"],
                    "reason": e["reason"],
                    "evidence_id": evidence_ids[(cid, e["evidence"])],
                }
                for e in extra
            ],
        )
        row = session.get(Commitment, cid)
        assert row is not None
        session.refresh(row)
        result = session.execute(
            update(Commitment)
            .where(Commitment.id == cid, Commitment.version == row.version)
            .values(
                target=extra[-1]["to"], version=row.version + 1, updated_at=now, updated_by=actor
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            from mou_tracker.domain.errors import ConflictError

            raise ConflictError(f"commitment {row.ref}", None, None)
        session.expire(row)
        report.added["target changes"] += len(extra)


def _commitment_values(
    row: Commitment, memo_by_id: dict[Any, Memorandum], owners: list[dict[str, str]]
) -> dict[str, Any]:
    values = {
        k: getattr(row, k) for k in COMMITMENT_FIELDS if k not in ("memorandum", "owners", "target")
    }
    values["target"] = row.original_target  # the file's `target` is the original one
    values["memorandum"] = memo_by_id[row.memorandum_id].slug
    values["owners"] = sorted(owners, key=lambda o: o["party"])
    return values


def _update_commitment(
    session: Session,
    row: Commitment,
    item: dict[str, Any],
    values: dict[str, Any],
    memo: Memorandum,
    position: int,
    parties: dict[str, Party],
    actor: str,
    now: datetime,
) -> None:
    from sqlalchemy import delete

    cadence = item["review_cadence"] or memo.review_cadence
    columns = {k: item[k] for k in COMMITMENT_FIELDS if k not in ("memorandum", "owners", "target")}
    columns["original_target"] = item["target"]
    if row.target == row.original_target:  # never re-baselined: the current target follows
        columns["target"] = item["target"]
    result = session.execute(
        update(Commitment)
        .where(Commitment.id == row.id, Commitment.version == row.version)
        .values(
            memorandum_id=memo.id,
            next_review=v.add_cadence(item["last_reviewed"] or memo.signed, cadence),
            source_hash=_hash(values),
            version=row.version + 1,
            updated_at=now,
            updated_by=actor,
            **columns,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        from mou_tracker.domain.errors import ConflictError

        raise ConflictError(f"commitment {row.ref}", None, None)
    session.execute(delete(Owner).where(Owner.commitment_id == row.id))
    session.execute(
        insert(Owner),
        [
            {"commitment_id": row.id, "party_id": parties[o["party"]].id, "role": o["role"]}
            for o in item["owners"]
        ],
    )


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- dump -----------------------------------------------------------------------------------

DUMP_HEADER = """\
# mou-tracker dump: the whole database as commitments.toml (schema 1, docs/commitments-schema.md).
# `mou-tracker sync FILE` into an empty database restores it. Internal notes are included and
# marked visibility = "internal": treat this file as internal.
"""


def _bulk(model: Any) -> Any:
    """An ORM bulk INSERT sent as one executemany: ``render_nulls`` keeps rows whose empty
    fields differ in one batch (without it each pattern of NULLs is a statement of its own)."""
    return insert(model).execution_options(render_nulls=True)


def _scalar(value: Any) -> str:
    """One TOML value on one line (strings escaped by tomli_w, never multi-line)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return tomli_w.dumps({"v": value}).rstrip("\n")[len("v = ") :]


def _emit(lines: list[str], key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        lines.append(f"{key} = {_scalar(value)}")
        return
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        # Always inline tables, one per line: tomli_w switches a list of dicts to an array of
        # tables ([[key]]) when an item is long, which would land outside the enclosing table.
        lines.append(f"{key} = [")
        for item in value:
            pairs = ", ".join(f"{k} = {_scalar(x)}" for k, x in item.items() if x is not None)
            lines.append(f"    {{ {pairs} }},")
        lines.append("]")
        return
    lines.append(tomli_w.dumps({key: value}, multiline_strings=True).rstrip("\n"))


def dump_document(session: Session) -> str:
    from mou_tracker.domain.queries import commitment_details

    lines: list[str] = [DUMP_HEADER, "schema = 1", ""]
    for p in session.scalars(select(Party).order_by(Party.code)):
        lines.append("[[party]]")
        for key in ("code", "name", "kind"):
            _emit(lines, key, getattr(p, key))
        lines.append("")
    for m in session.scalars(select(Memorandum).order_by(Memorandum.id)):
        lines.append("[[memorandum]]")
        _emit(lines, "slug", m.slug)
        for key in MEMO_FIELDS:
            value = getattr(m, key)
            if key == "signatories":  # fixed key order, whatever order the backend kept
                value = [{"name": s["name"], "role": s["role"], "party": s["party"]} for s in value]
            _emit(lines, key, value)
        lines.append("")
    for d in commitment_details(session):
        lines.append("[[commitment]]")
        _emit(lines, "ref", d.ref)
        _emit(lines, "memorandum", d.memorandum.slug)
        for key in (
            "section",
            "origin",
            "title",
            "summary",
            "source_url",
            "text_basis",
            "theme",
            "strength",
        ):
            _emit(lines, key, getattr(d, key))
        if d.review_cadence != d.memorandum.review_cadence:
            _emit(lines, "review_cadence", d.review_cadence)
        _emit(lines, "last_reviewed", d.last_reviewed)
        _emit(lines, "target", d.original_target)
        _emit(lines, "added_at", d.added_at)
        _emit(
            lines,
            "owners",
            [{"party": o.code, "role": o.role} for o in sorted(d.owners, key=lambda o: o.code)],
        )
        lines.append("")
        for e in d.evidence:
            lines.append("[[commitment.evidence]]")
            for key in (
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
            ):
                _emit(lines, key, getattr(e, key))
            lines.append("")
            for r in e.revisions:
                lines.append("[[commitment.evidence.revision]]")
                _emit(lines, "at", r.at)
                _emit(lines, "by", r.by)
                _emit(lines, "reason", r.reason)
                _emit(lines, "changes", [{"field": f, "old": o, "new": n} for f, o, n in r.changes])
                lines.append("")
        for h in d.history:
            lines.append("[[commitment.history]]")
            if h.kind != "status":
                _emit(lines, "kind", h.kind)
            _emit(lines, "at", h.at)
            _emit(lines, "by", h.actor)
            _emit(lines, "from", h.from_status)
            _emit(lines, "to", h.to_status)
            _emit(lines, "reason", h.reason)
            _emit(lines, "evidence", sorted(h.evidence_urls))
            lines.append("")
        for t in d.targets:
            if t.old_target is None:
                continue  # the first target set is the commitment's `target`
            lines.append("[[commitment.retarget]]")
            _emit(lines, "at", t.at)
            _emit(lines, "by", t.by)
            _emit(lines, "from", t.old_target)
            _emit(lines, "to", t.new_target)
            _emit(lines, "reason", t.reason)
            _emit(lines, "evidence", t.evidence_url)
            lines.append("")
        for n in d.notes:
            lines.append("[[commitment.note]]")
            _emit(lines, "at", n.at)
            _emit(lines, "author", n.author)
            _emit(lines, "visibility", n.visibility)
            _emit(lines, "body", n.body)
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
