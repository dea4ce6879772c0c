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

What makes ``dump`` a backup (sync of a dump into an empty database gives the same exports):

* an evidence record's ``id`` is a key used only when the record is created, and only if no
  record in the database has that id already (otherwise the database gives it a new one, and
  the sync says so); records are always matched by commitment and URL, never by id;
* every target change is written, including the first setting (a ``retarget`` without
  ``from``);
* the link-check log, each snapshot as base64 of the stored compressed bytes;
* the log of syncs (``sync_run``), except the run that filled an empty database: a restore
  records its own, and dump -> sync -> dump stays byte-identical.

Nothing in a file may be dated later than now (5 minutes of clock skew allowed): an entry from
the future would sit at the end of an append-only history for good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import tomli  # tomllib's own code, compiled: the same TOML, parsed 3x faster
import tomli_w
from sqlalchemy import func, insert, select, text, update
from sqlmodel import Session, col

from mou_tracker.domain import chain
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.domain.models import (
    Commitment,
    CommitmentRevision,
    Evidence,
    EvidenceRevision,
    HistoryEntry,
    HistoryEvidence,
    LinkCheck,
    Memorandum,
    Note,
    Owner,
    Party,
    SyncRun,
    TargetChange,
    utcnow,
)
from mou_tracker.domain.service import (
    CORRECTABLE_FIELDS,
    EvidenceInput,
    owners_text,
    restates_text,
)
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

    def __init__(self, text: str, filename: str, now: datetime | None = None) -> None:
        self.text = text
        self.filename = filename
        self._locator: Locator | None = None
        # What "the future" is judged against, by the same rules as every other way in
        # (validate.time_not_in_future, validate.day_not_in_future).
        self.now = now or v.clock()

    def when(self, value: Any, name: str) -> datetime:
        """A TOML offset date-time that is not later than now (plus the clock skew allowed)."""
        return v.time_not_in_future(_toml_ts(value, name), name, now=self.now)

    def recorded(
        self, item: dict[str, Any], path: tuple[Any, ...], label: str, after: datetime
    ) -> datetime | None:
        """The optional ``recorded_at`` of a record of change: kept only when a dump is restored
        into an empty database; never before the time the record takes effect."""
        if item.get("recorded_at") is None:
            return None
        recorded: datetime = self.field(item, "recorded_at", path, label, self.when)
        if recorded < after:
            raise self.fail(
                path + ("recorded_at",),
                f"{label}.recorded_at",
                f"is before the time the record takes effect ({_scalar(after)})",
            )
        return recorded

    def day(self, value: Any, name: str) -> date | None:
        """An optional TOML date that is not later than today (a day begun somewhere on Earth)."""
        day = _toml_date(required=False)(value, name)
        return None if day is None else v.day_not_in_future(day, name, now=self.now)

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
        return v.in_year_range(value, name)

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


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(name, f"must be a whole number, 0 or more, got {value!r}")
    return value


def _raw_str(limit: int, required: bool = False) -> Any:
    """Text recorded from elsewhere (a fetched page's title, an error message): kept as it
    was, whatever characters it holds, but bounded."""

    def check(value: Any, name: str) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise InvalidInput(name, f"must be text, got {type(value).__name__}")
        if len(value) > limit:
            raise InvalidInput(name, f"is {len(value)} characters long; the limit is {limit}")
        return value

    return check


CLOCK_SKEW = v.CLOCK_SKEW  # one rule for "not in the future": see mou_tracker.domain.validate


@dataclass
class Document:
    parties: list[dict[str, Any]] = field(default_factory=list)
    memoranda: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    link_checks: list[dict[str, Any]] = field(default_factory=list)
    sync_runs: list[dict[str, Any]] = field(default_factory=list)
    # Which file this is, for the sync_run row: its name and the SHA-256 of its bytes.
    source_name: str = "commitments.toml"
    source_sha256: str = ""


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
    return parse_document(text, p.name, sha256=hashlib.sha256(raw).hexdigest())


SYNC_FINGERPRINT = "sync_fingerprint"


def sync_fingerprint(session: Session, file_digest: str) -> str:
    """The file's hash and a fingerprint of the database after a sync. If neither has changed
    since, a sync of that file would change nothing and report nothing: ``sync`` can say so
    without parsing the file (seconds for a large one)."""
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


def parse_document(
    text: str,
    filename: str = "commitments.toml",
    *,
    now: datetime | None = None,
    sha256: str | None = None,
) -> Document:
    """Parse and validate ``text``. ``now`` (default: the clock) is what "not in the future"
    is judged against; ``sha256`` is the file's digest (default: of ``text`` as UTF-8)."""
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        message = str(exc)
        import re

        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{filename}:{match.group(1)}" if match else filename
        detail = message.split(" (at ")[0]
        raise InvalidInput(where, f"invalid TOML: {detail}") from None
    doc = _validate(data, _Checker(text, filename, now))
    doc.source_name = filename
    doc.source_sha256 = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc


def _validate(data: dict[str, Any], ck: _Checker) -> Document:
    ck.table(
        data,
        (),
        "document",
        {"schema", "party", "memorandum", "commitment", "link_check", "sync_run"},
        {"schema"},
    )
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
    evidence_ids: set[int] = set()
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
        "restates",
        "correction",
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
            "last_reviewed": ck.field(raw, "last_reviewed", path, label, ck.day),
            "target": ck.field(raw, "target", path, label, _toml_date(False)),
            "added_at": None
            if raw.get("added_at") is None
            else ck.field(raw, "added_at", path, label, ck.when),
            "owners": sorted(owners, key=lambda o: o["party"]),
        }
        commitment["evidence"] = _validate_evidence(raw, path, label, ck, evidence_ids)
        commitment["history"] = _validate_history(raw, path, label, ck, commitment)
        commitment["notes"] = _validate_notes(raw, path, label, ck)
        commitment["retargets"] = _validate_retargets(raw, path, label, ck, commitment)
        commitment["restates"] = ck.field(raw, "restates", path, label, _restates)
        commitment["corrections"] = _validate_corrections(raw, path, label, ck)
        doc.commitments.append(commitment)
    _check_restatements(doc, ck)
    doc.link_checks = _validate_link_checks(data, ck)
    doc.sync_runs = _validate_sync_runs(data, ck)
    return doc


def _top(data: dict[str, Any], key: str, ck: _Checker) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ck.fail((key,), key, f"must be an array of tables ([[{key}]])")
    return value


def _restates(value: Any, name: str) -> list[str]:
    """``restates``: the refs of the clauses a commitment restates (checked against the rest
    of the file by :func:`_check_restatements`); none when left out."""
    if value is None:
        return []
    refs = [v.ref(r, name) for r in _list(value, name)]
    if not refs:
        raise InvalidInput(name, "is empty; leave it out when the commitment restates nothing")
    repeated = sorted({r for r in refs if refs.count(r) > 1})
    if repeated:
        raise InvalidInput(name, f"{repeated[0]} is listed twice")
    return refs


def _check_restatements(doc: Document, ck: _Checker) -> None:
    """Every ref a commitment restates is another commitment of this file, of the same
    memorandum, that restates nothing itself: one step, so no chain and no loop, and each
    promise is counted once, at the clause."""
    by_ref = {c["ref"]: c for c in doc.commitments}
    for i, c in enumerate(doc.commitments):
        path, label = ("commitment", i, "restates"), f"commitment[{c['ref']}].restates"
        for ref in c["restates"]:
            other = by_ref.get(ref)
            if ref == c["ref"]:
                raise ck.fail(path, label, "a commitment cannot restate itself")
            if other is None:
                raise ck.fail(path, label, f"no commitment {ref!r} in this file")
            if other["memorandum"] != c["memorandum"]:
                raise ck.fail(
                    path,
                    label,
                    f"{ref} belongs to memorandum {other['memorandum']}, not {c['memorandum']}",
                )
            if other["restates"]:
                raise ck.fail(
                    path,
                    label,
                    f"{ref} itself restates {', '.join(other['restates'])}: name that clause "
                    "instead",
                )


# What a correction of a commitment may record a change of: the fields a person corrects
# (service.CORRECTABLE_FIELDS) and, when sync changes it, what the commitment restates.
CORRECTION_FIELDS = (*CORRECTABLE_FIELDS, "restates")


def _validate_corrections(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker
) -> list[dict[str, Any]]:
    """``[[commitment.correction]]``: the public corrections log, oldest first."""
    items = raw.get("correction", [])
    if not isinstance(items, list):
        raise ck.fail(path + ("correction",), f"{label}.correction", "must be an array of tables")
    result = []
    previous_at: datetime | None = None
    keys = {"at", "recorded_at", "by", "reason", "changes"}
    for j, item in enumerate(items):
        cpath = path + ("correction", j)
        clabel = f"{label}.correction[{j + 1}]"
        ck.table(item, cpath, clabel, keys, keys - {"recorded_at"})
        at = ck.field(item, "at", cpath, clabel, ck.when)
        if previous_at is not None and at < previous_at:
            raise ck.fail(
                cpath + ("at",), f"{clabel}.at", "is earlier than the correction before it"
            )
        changes = []
        listed = ck.field(item, "changes", cpath, clabel, _list)
        if not listed:
            raise ck.fail(cpath + ("changes",), f"{clabel}.changes", "lists no change")
        for change in listed:
            if (
                not isinstance(change, dict)
                or set(change) != {"field", "old", "new"}
                or not all(isinstance(x, str) for x in change.values())
            ):
                raise ck.fail(
                    cpath + ("changes",),
                    f"{clabel}.changes",
                    "each change is { field, old, new } of strings",
                )
            if change["field"] not in CORRECTION_FIELDS:
                raise ck.fail(
                    cpath + ("changes",),
                    f"{clabel}.changes",
                    f"{change['field']!r} is not a field a correction changes "
                    f"({', '.join(CORRECTION_FIELDS)})",
                )
            changes.append({"field": change["field"], "old": change["old"], "new": change["new"]})
        result.append(
            {
                "at": at,
                "recorded_at": ck.recorded(item, cpath, clabel, at),
                "by": ck.field(item, "by", cpath, clabel, _str("actor")),
                "reason": ck.field(item, "reason", cpath, clabel, _str("reason", True)),
                "changes": changes,
            }
        )
        previous_at = at
    return result


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


# --- sync -----------------------------------------------------------------------------------


@dataclass
class SyncReport:
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Evidence created with a new id because the database already had the file's id.
    renumbered: int = 0

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
        if self.renumbered:
            parts.append(
                f"{self.renumbered} new evidence record(s) got new ids "
                "(their ids in the file were taken)"
            )
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
    now = utcnow()  # the tracker's clock (mou_tracker.domain.clock)
    report = SyncReport()
    into_empty = (
        session.scalar(select(col(Party.id)).limit(1)) is None
        and session.scalar(select(col(Memorandum.id)).limit(1)) is None
    )

    def recorded(value: datetime | None, effective: datetime) -> datetime:
        """When a record of change was recorded here: the time of this sync, except when a
        dump is restored into an empty database, which keeps the dump's times (a file that
        has none, such as the shipped commitments.toml, gives the effective time)."""
        if not into_empty:
            return now
        return value if value is not None else effective

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
    corrections_db = _corrections_in_db(session) if existing else {}
    new_corrections: list[dict[str, Any]] = []
    from_file = 0
    for position, item in enumerate(doc.commitments):
        values = _file_values(item)
        row = existing.get(item["ref"])
        memo = memos[item["memorandum"]]
        if row is None:
            new_rows.append((position, item, values, memo))
            continue
        db_values = _commitment_values(row, memo_by_id, owners_db[row.id])  # type: ignore[index]
        verdict = _three_way(values, db_values, row.source_hash)
        if verdict in ("file", "same"):
            extra = _corrections_to_append(item, corrections_db.get(row.id, []), report)  # type: ignore[arg-type]
            new_corrections += [
                {**c, "commitment_id": row.id, "recorded_at": recorded(c["recorded_at"], c["at"])}
                for c in extra
            ]
            from_file += len(extra)
        if verdict == "file":
            # The change is public: recorded in the corrections log, unless the file's own
            # new corrections already say how each field changed.
            changes = _unexplained_changes(db_values, values, extra)
            if changes:
                new_corrections.append(
                    {
                        "commitment_id": row.id,
                        "at": now,
                        "recorded_at": now,
                        "by": actor,
                        "reason": f"changed in {doc.source_name[:300]} by sync",
                        "changes": changes,
                    }
                )
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
                    "restates": item["restates"] or None,
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
            new_corrections += [
                {**c, "commitment_id": cid, "recorded_at": recorded(c["recorded_at"], c["at"])}
                for c in item["corrections"]
            ]
            from_file += len(item["corrections"])
    if new_corrections:
        session.execute(_bulk(CommitmentRevision), new_corrections)
    if from_file:  # corrections the file brought (those sync records itself are "updated")
        report.added["corrections"] += from_file

    crashpoint("sync:commitments")

    # Evidence.
    ids_by_ref = {ref: c.id for ref, c in existing.items()}
    evidence_db: dict[tuple[int, str], Evidence] = {
        (e.commitment_id, e.url): e for e in session.scalars(select(Evidence))
    }
    same_page = _SamePage(evidence_db.values())
    new_evidence: list[dict[str, Any]] = []
    new_revisions: list[tuple[int, dict[str, Any]]] = []
    for item in doc.commitments:
        cid = ids_by_ref[item["ref"]]
        for ev in item["evidence"]:
            values = {k: ev[k] for k in EVIDENCE_FIELDS}
            row = evidence_db.get((cid, ev["url"]))  # type: ignore[arg-type]
            if row is None:
                twin = same_page.find(cid, ev["url"])  # type: ignore[arg-type]
                if twin is not None:
                    n = item["evidence"].index(ev) + 1
                    raise InvalidInput(
                        f"{doc.source_name}: commitment[{item['ref']}].evidence[{n}].url",
                        f"same page as evidence #{twin.id} ({twin.url})",
                    )
                new_evidence.append(
                    {
                        "commitment_id": cid,
                        "url": ev["url"],
                        **values,
                        "added_by": ev["added_by"],
                        "added_at": ev["added_at"],
                        "recorded_at": recorded(ev["recorded_at"], ev["added_at"]),
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
                session.flush()  # the revision first: cited dates move only with one
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
                report.updated["evidence"] += 1
            elif verdict == "db":
                report.kept.append(f"evidence {item['ref']} {ev['url']}")
            elif verdict == "conflict":
                report.conflicts.append(
                    f"evidence {item['ref']} {ev['url']}: the file and the database both changed it since the last sync"
                )
    if new_evidence:
        new_ids, report.renumbered = _insert_evidence(
            session, new_evidence, [ev["id"] for _index, ev in new_revisions]
        )
        revision_rows = []
        for eid, (index, ev) in zip(new_ids, new_revisions, strict=True):
            evidence_db[(new_evidence[index]["commitment_id"], ev["url"])] = None  # type: ignore[assignment]
            for rev in ev["revisions"]:
                revision_rows.append(
                    {
                        "evidence_id": eid,
                        **rev,
                        "recorded_at": recorded(rev["recorded_at"], rev["at"]),
                    }
                )
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
        ours = [_without_recorded(e) for e in item["history"]]
        theirs = history_db.get(cid, [])  # type: ignore[arg-type]
        if ours == theirs[: len(ours)]:
            continue
        if theirs == ours[: len(theirs)]:
            appended.extend((cid, entry) for entry in item["history"][len(theirs) :])
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
            chain.stamp(  # ids and the hash chain; the citations are part of the chain
                session,
                [
                    {
                        "commitment_id": cid,
                        "kind": e["kind"],
                        "from_status": e["from"],
                        "to_status": e["to"],
                        "at": e["at"],
                        "recorded_at": recorded(e["recorded_at"], e["at"]),
                        "actor": e["by"],
                        "reason": e["reason"],
                        "evidence_ids": [evidence_ids[(cid, url)] for url in e["evidence"]],
                    }
                    for cid, e in appended
                ],
            ),
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

    _sync_retargets(session, doc, ids_by_ref, evidence_ids, report, actor, now, recorded)
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
                new_notes.append(
                    {
                        "commitment_id": cid,
                        **note,
                        "recorded_at": recorded(note["recorded_at"], note["at"]),
                    }
                )
    if new_notes:
        session.execute(_bulk(Note), new_notes)
        report.added["notes"] += len(new_notes)
    _sync_link_checks(session, doc, report)
    _sync_runs(session, doc, report)
    session.flush()
    if report.changed:
        session.add(
            SyncRun(
                at=now,
                actor=actor,
                file_name=doc.source_name[:300],
                file_sha256=doc.source_sha256,
                added={what: n for what, n in sorted(report.added.items()) if n},
                updated={what: n for what, n in sorted(report.updated.items()) if n},
                kept=len(report.kept),
                conflicts=len(report.conflicts),
                into_empty=into_empty,
            )
        )
        session.flush()
    return report


def describe_syncs(session: Session) -> str:
    """One line for ``mou-tracker info``: how many syncs changed this database, and the last."""
    count = session.scalar(select(func.count()).select_from(SyncRun)) or 0
    last = session.scalars(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(1)).first()
    if last is None:
        return "none recorded"
    what = [f"added {n} {k}" for k, n in sorted(last.added.items())]
    what += [f"updated {n} {k}" for k, n in sorted(last.updated.items())]
    name = "".join(c if c.isprintable() else "?" for c in last.file_name)
    when = _scalar(last.at.replace(microsecond=0))
    return (
        f"{count} recorded; the last at {when} by {last.actor} from {name} "
        f"(sha256 {last.file_sha256[:12]}): {', '.join(what)}"
    )


def _sync_link_checks(session: Session, doc: Document, report: SyncReport) -> None:
    """The link-check log is append-only: a check in the file that the database lacks is
    added; one it has (same URL and time) with other values is a conflict."""
    if not doc.link_checks:
        return
    fields = tuple(k for k in doc.link_checks[0] if k not in ("url", "checked_at"))
    urls = sorted({c["url"] for c in doc.link_checks})
    known: dict[tuple[str, datetime], tuple[Any, ...]] = {}
    for start in range(0, len(urls), 5000):
        chunk = urls[start : start + 5000]
        for row in session.scalars(select(LinkCheck).where(col(LinkCheck.url).in_(chunk))):
            stored = {k: getattr(row, k) for k in fields}
            if stored["snapshot"] is not None:
                stored["snapshot"] = bytes(stored["snapshot"])
            known[(row.url, row.checked_at)] = tuple(stored[k] for k in fields)
    new = []
    for check in doc.link_checks:
        key = (check["url"], check["checked_at"])
        values = tuple(check[k] for k in fields)
        if key not in known:
            known[key] = values
            new.append(check)
        elif known[key] != values:
            report.conflicts.append(
                f"link check of {check['url']} at {_scalar(check['checked_at'])}: the file and "
                "the database disagree; database kept"
            )
    if new:
        session.execute(_bulk(LinkCheck), new)
        report.added["link checks"] += len(new)


def _sync_runs(session: Session, doc: Document, report: SyncReport) -> None:
    """Runs recorded in the file (a dump) that the database lacks are added, as notes are."""
    if not doc.sync_runs:
        return
    known = {(r.at, r.actor, r.file_name, r.file_sha256) for r in session.scalars(select(SyncRun))}
    new = []
    for run in doc.sync_runs:
        key = (run["at"], run["actor"], run["file_name"], run["file_sha256"])
        if key not in known:
            known.add(key)
            new.append({**run, "into_empty": False})
    if new:
        session.execute(_bulk(SyncRun), new)
        report.added["sync runs"] += len(new)


class _SamePage:
    """Finds evidence in the database that is the same page as a new record of the file at
    another address (:func:`mou_tracker.domain.validate.same_page`). Built only when the file
    brings new evidence, and then only for the commitments that get some."""

    def __init__(self, rows: Any) -> None:
        self._rows = rows
        self._by_commitment: dict[int, list[Evidence]] | None = None
        self._pages: dict[int, dict[str, Evidence]] = {}

    def find(self, commitment_id: int, url: str) -> Evidence | None:
        if self._by_commitment is None:
            self._by_commitment = defaultdict(list)
            for e in self._rows:
                self._by_commitment[e.commitment_id].append(e)
        if not self._by_commitment.get(commitment_id):
            return None  # nothing recorded on it yet (every record of a restore)
        pages = self._pages.get(commitment_id)
        if pages is None:
            pages = self._pages[commitment_id] = {}
            for e in sorted(self._by_commitment.get(commitment_id, []), key=lambda e: e.id or 0):
                pages.setdefault(v.same_page(e.url), e)
        return pages.get(v.same_page(url))


def _insert_evidence(
    session: Session, rows: list[dict[str, Any]], wanted: list[int | None]
) -> tuple[list[int], int]:
    """Insert new evidence; return the ids (in the order of ``rows``) and how many rows could
    not keep the id the file gave them because the database already has a record with it."""
    requested = sorted({i for i in wanted if i is not None})
    taken: set[int] = set()
    for start in range(0, len(requested), 5000):
        chunk = requested[start : start + 5000]
        taken.update(session.scalars(select(col(Evidence.id)).where(col(Evidence.id).in_(chunk))))
    ids: list[int | None] = [i if i is not None and i not in taken else None for i in wanted]
    fixed = [{**row, "id": i} for row, i in zip(rows, ids, strict=True) if i is not None]
    if fixed:
        session.execute(_bulk(Evidence), fixed)
        if session.get_bind().dialect.name == "postgresql":
            # The serial sequence knows nothing of ids given explicitly: move it past them, or
            # the next record added would collide with a restored one.
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('evidence', 'id'), "
                    "(SELECT max(id) FROM evidence))"
                )
            )
    free = [n for n, i in enumerate(ids) if i is None]
    if free:
        assigned = session.scalars(
            insert(Evidence)
            .execution_options(render_nulls=True)
            .returning(col(Evidence.id), sort_by_parameter_order=True),
            [rows[n] for n in free],
        ).all()
        for n, eid in zip(free, assigned, strict=True):
            ids[n] = eid
    renumbered = sum(1 for i in wanted if i is not None and i in taken)
    return [i for i in ids if i is not None], renumbered


def _sync_retargets(
    session: Session,
    doc: Document,
    ids_by_ref: dict[str, Any],
    evidence_ids: dict[tuple[int, str], int],
    report: SyncReport,
    actor: str,
    now: datetime,
    recorded: Any,
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
        ours = [_without_recorded(e) for e in item["retargets"]]
        theirs = in_db.get(cid, [])
        if ours and ours[0]["from"] is not None and theirs and theirs[0]["from"] is None:
            # A file written before dumps kept the first setting: compare the re-baselines.
            theirs = theirs[1:]
        if ours == theirs[: len(ours)]:
            continue
        if theirs != ours[: len(theirs)]:
            report.conflicts.append(
                f"commitment {item['ref']}: its target history in the file diverges from the database; database kept"
            )
            continue
        extra = item["retargets"][len(theirs) :]
        session.execute(
            _bulk(TargetChange),
            [
                {
                    "commitment_id": cid,
                    "at": e["at"],
                    "recorded_at": recorded(e["recorded_at"], e["at"]),
                    "by": e["by"],
                    "old_target": e["from"],
                    "new_target": e["to"],
                    "reason": e["reason"],
                    "evidence_id": None
                    if e["evidence"] is None
                    else evidence_ids[(cid, e["evidence"])],
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


def _without_recorded(entry: dict[str, Any]) -> dict[str, Any]:
    """A record as sync compares it: the time it was recorded is not part of what it says."""
    return {k: val for k, val in entry.items() if k != "recorded_at"}


def _commitment_values(
    row: Commitment, memo_by_id: dict[Any, Memorandum], owners: list[dict[str, str]]
) -> dict[str, Any]:
    values = {
        k: getattr(row, k) for k in COMMITMENT_FIELDS if k not in ("memorandum", "owners", "target")
    }
    values["target"] = row.original_target  # the file's `target` is the original one
    values["memorandum"] = memo_by_id[row.memorandum_id].slug
    values["owners"] = sorted(owners, key=lambda o: o["party"])
    if row.restates:
        values["restates"] = list(row.restates)
    return values


def _file_values(item: dict[str, Any]) -> dict[str, Any]:
    """A commitment's values as the file states them, for the three-way comparison.
    ``restates`` joins them only when set, so the hash of every commitment that restates
    nothing is what it was before the key existed."""
    values = {k: item[k] for k in COMMITMENT_FIELDS}
    if item["restates"]:
        values["restates"] = list(item["restates"])
    return values


def _corrections_in_db(session: Session) -> dict[int, list[dict[str, Any]]]:
    """Each commitment's corrections log as sync compares it with a file's (oldest first;
    without ``recorded_at``, which is not part of what a correction says)."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = select(CommitmentRevision.__table__).order_by(  # type: ignore[attr-defined]
        col(CommitmentRevision.at), col(CommitmentRevision.id)
    )
    for r in session.execute(query):
        found[r.commitment_id].append(
            {
                "at": r.at,
                "by": r.by,
                "reason": r.reason,
                "changes": [
                    {"field": c["field"], "old": c["old"], "new": c["new"]} for c in r.changes
                ],
            }
        )
    return found


def _corrections_to_append(
    item: dict[str, Any], theirs: list[dict[str, Any]], report: SyncReport
) -> list[dict[str, Any]]:
    """The file's corrections of a commitment that the database lacks. The log is
    append-only: a file whose log extends the database's adds the rest; one that diverges
    is reported and changes nothing."""
    ours = [_without_recorded(c) for c in item["corrections"]]
    if ours == theirs[: len(ours)]:
        return []
    if theirs == ours[: len(theirs)]:
        return list(item["corrections"][len(theirs) :])
    at = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b) + 1
    report.conflicts.append(
        f"commitment {item['ref']}: its corrections in the file diverge from the database at "
        f"entry {at}; database kept"
    )
    return []


def _correction_value(values: dict[str, Any], name: str) -> str:
    """One field of a commitment as a correction records it (text)."""
    if name == "owners":
        return owners_text((o["party"], o["role"]) for o in values["owners"])
    if name == "restates":
        return restates_text(values.get("restates"))
    return _plain(values[name])


def _unexplained_changes(
    old: dict[str, Any], new: dict[str, Any], appended: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The changes of correctable fields from ``old`` to ``new`` that the corrections
    ``appended`` from the file do not already record (the last change of that field in them
    ends at the new value)."""
    explained: dict[str, str] = {}
    for correction in appended:
        for change in correction["changes"]:
            explained[change["field"]] = change["new"]
    changes = []
    for name in CORRECTION_FIELDS:
        before, after = _correction_value(old, name), _correction_value(new, name)
        if before != after and explained.get(name) != after:
            changes.append({"field": name, "old": before, "new": after})
    return changes


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
    columns["restates"] = item["restates"] or None
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
# `mou-tracker sync FILE` into an empty database restores it, evidence ids, target changes,
# link checks with their page snapshots and the log of syncs included. Internal notes are
# included and marked visibility = "internal": treat this file as internal.
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
    if isinstance(value, dict):  # an inline table, never a [key] section
        pairs = ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in value.items())
        lines.append(f"{key} = {{ {pairs} }}" if pairs else f"{key} = {{}}")
        return
    lines.append(tomli_w.dumps({key: value}, multiline_strings=True).rstrip("\n"))


def _key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else _scalar(name)


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
        if d.restates:  # on one line, as a person writes it
            lines.append(f"restates = [{', '.join(_scalar(r) for r in d.restates)}]")
        lines.append("")
        for r in d.corrections:
            lines.append("[[commitment.correction]]")
            _emit(lines, "at", r.at)
            _emit_recorded(lines, r.recorded_at, r.at)
            _emit(lines, "by", r.by)
            _emit(lines, "reason", r.reason)
            _emit(lines, "changes", [{"field": f, "old": o, "new": n} for f, o, n in r.changes])
            lines.append("")
        for e in d.evidence:
            lines.append("[[commitment.evidence]]")
            for key in (
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
            ):
                _emit(lines, key, getattr(e, key))
            _emit_recorded(lines, e.recorded_at, e.added_at)
            lines.append("")
            for r in e.revisions:
                lines.append("[[commitment.evidence.revision]]")
                _emit(lines, "at", r.at)
                _emit_recorded(lines, r.recorded_at, r.at)
                _emit(lines, "by", r.by)
                _emit(lines, "reason", r.reason)
                _emit(lines, "changes", [{"field": f, "old": o, "new": n} for f, o, n in r.changes])
                lines.append("")
        for h in d.history:
            lines.append("[[commitment.history]]")
            if h.kind != "status":
                _emit(lines, "kind", h.kind)
            _emit(lines, "at", h.at)
            _emit_recorded(lines, h.recorded_at, h.at)
            _emit(lines, "by", h.actor)
            _emit(lines, "from", h.from_status)
            _emit(lines, "to", h.to_status)
            _emit(lines, "reason", h.reason)
            _emit(lines, "evidence", sorted(h.evidence_urls))
            lines.append("")
        for t in d.targets:
            # The first setting has no `from`; its `to` is the commitment's `target`.
            lines.append("[[commitment.retarget]]")
            _emit(lines, "at", t.at)
            _emit_recorded(lines, t.recorded_at, t.at)
            _emit(lines, "by", t.by)
            _emit(lines, "from", t.old_target)
            _emit(lines, "to", t.new_target)
            _emit(lines, "reason", t.reason)
            _emit(lines, "evidence", t.evidence_url)
            lines.append("")
        for n in d.notes:
            lines.append("[[commitment.note]]")
            _emit(lines, "at", n.at)
            _emit_recorded(lines, n.recorded_at, n.at)
            _emit(lines, "author", n.author)
            _emit(lines, "visibility", n.visibility)
            _emit(lines, "body", n.body)
            lines.append("")
    _dump_link_checks(session, lines)
    _dump_sync_runs(session, lines)
    return "\n".join(lines).rstrip("\n") + "\n"


def _emit_recorded(lines: list[str], recorded_at: datetime | None, effective: datetime) -> None:
    """``recorded_at`` only where it differs from the time the record takes effect: a restore
    into an empty database reads a missing one as that time."""
    if recorded_at is not None and recorded_at != effective:
        _emit(lines, "recorded_at", recorded_at)


def _dump_link_checks(session: Session, lines: list[str]) -> None:
    """The link-check log in the order it was recorded (the latest check of a URL is the one
    with the highest id, so a restore must insert them in this order)."""
    query = select(LinkCheck.__table__).order_by(col(LinkCheck.id))  # type: ignore[attr-defined]
    for c in session.execute(query):
        lines.append("[[link_check]]")
        _emit(lines, "url", c.url)
        _emit(lines, "checked_at", c.checked_at)
        _emit(lines, "state", c.state)
        _emit(lines, "http_status", c.http_status)
        _emit(lines, "final_url", c.final_url)
        if c.moved:
            _emit(lines, "moved", True)
        if c.changed:
            _emit(lines, "changed", True)
        _emit(lines, "content_hash", c.content_hash)
        _emit(lines, "page_title", c.page_title)
        _emit(lines, "error", c.error)
        if c.snapshot is not None:
            _emit(lines, "snapshot_chars", c.snapshot_chars)
            lines.append(f'snapshot = "{base64.b64encode(bytes(c.snapshot)).decode("ascii")}"')
        lines.append("")


def _dump_sync_runs(session: Session, lines: list[str]) -> None:
    """Every recorded sync except those that filled an empty database (see :class:`SyncRun`)."""
    query = select(SyncRun).where(col(SyncRun.into_empty).is_(False)).order_by(col(SyncRun.id))
    for r in session.scalars(query):
        lines.append("[[sync_run]]")
        _emit(lines, "at", r.at)
        _emit(lines, "by", r.actor)
        _emit(lines, "file", r.file_name)
        _emit(lines, "sha256", r.file_sha256)
        _emit(lines, "added", dict(sorted(r.added.items())))
        _emit(lines, "updated", dict(sorted(r.updated.items())))
        if r.kept:
            _emit(lines, "kept", r.kept)
        if r.conflicts:
            _emit(lines, "conflicts", r.conflicts)
        lines.append("")
