"""Reading commitments.toml into plain records: the document, its memoranda and commitments.

Each record is checked field by field with the rule functions of
:mod:`mou_tracker.domain.validate`; an error names the file's line and the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import rtoml  # a TOML parser in Rust: a big file parsed in about a third of tomli's time
import tomli  # tomllib's own code, compiled: the reference parser, and the one errors come from

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.vocab import (
    ORIGINS,
    PARTY_KINDS,
    ROLES,
    STRENGTHS,
    TEXT_BASES,
)
from mou_tracker.storage.sync.checks import _Checker, _list, _str, _toml_date, _top
from mou_tracker.storage.sync.common import (
    CORRECTION_FIELDS,
    SCHEMA_VERSION,
    collector_paused,
)
from mou_tracker.storage.sync.read_logs import _validate_link_checks, _validate_sync_runs
from mou_tracker.storage.sync.records import (
    _EvidenceReader,
    _validate_history,
    _validate_notes,
    _validate_retargets,
)


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


@collector_paused
def parse_document(
    text: str,
    filename: str = "commitments.toml",
    *,
    now: datetime | None = None,
    sha256: str | None = None,
) -> Document:
    """Parse and validate ``text``. ``now`` (default: the clock) is what "not in the future"
    is judged against; ``sha256`` is the file's digest (default: of ``text`` as UTF-8)."""
    data, by_rtoml = _load(text, filename)
    checker = _Checker(text, filename, now)
    try:
        doc = _validate(data, checker)
    except InvalidInput:
        if not by_rtoml:
            raise
        # An error may quote a value (a date-time's zone) as the parser built it: word it
        # from tomli's values, exactly as before rtoml read the file.
        again = _Checker(text, filename, checker.now)
        doc = _validate(_load(text, filename, reference=True)[0], again)
    doc.source_name = filename
    doc.source_sha256 = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc


def _load(text: str, filename: str, *, reference: bool = False) -> tuple[dict[str, Any], bool]:
    """The parsed TOML, and whether rtoml parsed it.

    rtoml and tomli agree on TOML except where the standard leaves a parser free: tomli
    refuses a byte-order mark and turns a multi-line string's CRLF into LF, rtoml keeps both.
    So a text with either goes to tomli, as does any text rtoml refuses: tomli then words the
    error (with its line and column) or, where the two differ on an edge (a float beyond
    range), parses it. tomli is the reference; rtoml only makes the common case fast
    (tests/core/test_toml_parsers.py holds the two to the same result)."""
    if not reference and "\r" not in text and not text.startswith("\ufeff"):
        try:
            data = _by_commitment(text)
        except Exception:  # noqa: BLE001 - whatever rtoml refuses, tomli judges
            data = None
        if data is not None:
            return data, True
    try:
        return tomli.loads(text), False
    except tomli.TOMLDecodeError as exc:
        message = str(exc)
        import re

        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{filename}:{match.group(1)}" if match else filename
        detail = message.split(" (at ")[0]
        raise InvalidInput(where, f"invalid TOML: {detail}") from None


_HEADER = "\n[[commitment]]\n"


def _by_commitment(text: str) -> dict[str, Any] | None:
    """rtoml's reading of ``text``, one commitment at a time; None where only the whole text
    can say what it means.

    rtoml builds a tree of its own for the text it is given before it makes Python objects:
    for a whole 50 MB file that is about three times the memory tomli needs. So the text is cut
    before each line that is exactly ``[[commitment]]`` and each piece parsed alone. That is
    the same TOML as the whole, or the pieces say so:

    - a cut inside a multi-line string (or an array) leaves the piece before it unterminated,
      which rtoml refuses, and the whole text goes to tomli;
    - each piece's other top-level tables (``[[link_check]]`` after the commitments) must be
      new: a name two pieces both define (a table defined twice, or extended later) also goes
      to tomli, which refuses it or merges it as TOML says;
    - the part before the first cut must hold no commitment (else ``commitment`` might be a
      static array or a table, which ``[[commitment]]`` may not extend)."""
    parts = ("\n" + text).split(_HEADER)
    loads = rtoml.loads
    merged: dict[str, Any] = loads(parts[0])
    if len(parts) == 1:
        return merged
    if "commitment" in merged:
        return None
    commitments: list[Any] = []
    merged["commitment"] = commitments
    for part in parts[1:]:
        piece = loads("[[commitment]]\n" + part)
        commitments.extend(piece.pop("commitment"))
        for key, value in piece.items():
            if key in merged:
                return None
            merged[key] = value
    return merged


DOCUMENT_KEYS = {"schema", "party", "memorandum", "commitment", "link_check", "sync_run"}
MEMO_KEYS = {
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
COMMITMENT_REQUIRED = {
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
COMMITMENT_KEYS = COMMITMENT_REQUIRED | {
    "review_cadence",
    "last_reviewed",
    "target",
    "added_at",
    "evidence",
    "history",
    "note",
    "retarget",
    "restates",
    "correction",
}


def _validate(data: dict[str, Any], ck: _Checker) -> Document:
    ck.table(data, (), "document", DOCUMENT_KEYS, {"schema"})
    if data["schema"] != SCHEMA_VERSION or isinstance(data["schema"], bool):
        raise ck.fail(("schema",), "schema", f"must be {SCHEMA_VERSION}, got {data['schema']!r}")
    doc = Document()
    doc.parties = _validate_parties(data, ck)
    codes = {p["code"] for p in doc.parties}
    doc.memoranda = _validate_memoranda(data, ck, codes)
    slugs = {m["slug"] for m in doc.memoranda}
    refs: set[str] = set()
    evidence = _EvidenceReader(ck)
    for i, raw in enumerate(_top(data, "commitment", ck)):
        doc.commitments.append(_validate_commitment(raw, i, ck, codes, slugs, refs, evidence))
    _check_restatements(doc, ck)
    doc.link_checks = _validate_link_checks(data, ck)
    doc.sync_runs = _validate_sync_runs(data, ck)
    return doc


def _validate_parties(data: dict[str, Any], ck: _Checker) -> list[dict[str, Any]]:
    parties: list[dict[str, Any]] = []
    codes: set[str] = set()
    for i, raw in enumerate(_top(data, "party", ck)):
        path = ("party", i)
        label = f"party[{i + 1}]"
        ck.table(raw, path, label, {"code", "name", "kind"}, {"code", "name", "kind"})
        code = ck.field(raw, "code", path, label, v.party_code)
        if code in codes:
            raise ck.fail(path + ("code",), f"{label}.code", f"duplicate party code {code!r}")
        codes.add(code)
        parties.append(
            {
                "code": code,
                "name": ck.field(raw, "name", path, label, _str("name")),
                "kind": ck.field(
                    raw, "kind", path, label, lambda x, n: v.choice(x, n, PARTY_KINDS)
                ),
            }
        )
    return parties


def _validate_memoranda(
    data: dict[str, Any], ck: _Checker, codes: set[str]
) -> list[dict[str, Any]]:
    memoranda: list[dict[str, Any]] = []
    slugs: set[str] = set()
    for i, raw in enumerate(_top(data, "memorandum", ck)):
        path = ("memorandum", i)
        label = f"memorandum[{i + 1}]"
        ck.table(raw, path, label, MEMO_KEYS, MEMO_KEYS - {"landing_url", "summary", "signatories"})
        slug = ck.field(raw, "slug", path, label, v.slug)
        if slug in slugs:
            raise ck.fail(path + ("slug",), f"{label}.slug", f"duplicate memorandum slug {slug!r}")
        slugs.add(slug)
        label = f"memorandum[{slug}]"
        parties = ck.field(raw, "parties", path, label, _list)
        for code in parties:
            if code not in codes:
                raise ck.fail(path + ("parties",), f"{label}.parties", f"unknown party {code!r}")
        signatories = _signatories(raw, path, label, ck, codes)
        memoranda.append(
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
    return memoranda


def _signatories(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker, codes: set[str]
) -> list[dict[str, str]]:
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
            raise ck.fail(path + ("signatories",), f"{slabel}.{exc.field}", exc.problem) from None
    return signatories


_SECTION = _str("section")
_COMMITMENT_TITLE = _str("commitment_title")
_SUMMARY = _str("summary", True)
_THEME = _str("theme")
_OPTIONAL_DATE = _toml_date(False)


def _validate_commitment(
    raw: Any,
    i: int,
    ck: _Checker,
    codes: set[str],
    slugs: set[str],
    refs: set[str],
    evidence: _EvidenceReader,
) -> dict[str, Any]:
    path = ("commitment", i)
    label = f"commitment[{i + 1}]"
    ck.table(raw, path, label, COMMITMENT_KEYS, COMMITMENT_REQUIRED)
    ref = ck.field(raw, "ref", path, label, v.ref)
    if ref in refs:
        raise ck.fail(path + ("ref",), f"{label}.ref", f"duplicate ref {ref!r}")
    refs.add(ref)
    label = f"commitment[{ref}]"
    memo = ck.field(raw, "memorandum", path, label, v.slug)
    if memo not in slugs:
        raise ck.fail(path + ("memorandum",), f"{label}.memorandum", f"unknown memorandum {memo!r}")
    owners = _owners(raw, path, label, ck, codes)
    commitment = {
        "ref": ref,
        "memorandum": memo,
        "section": ck.field(raw, "section", path, label, _SECTION),
        "origin": ck.field(raw, "origin", path, label, lambda x, n: v.choice(x, n, ORIGINS)),
        "title": ck.field(raw, "title", path, label, _COMMITMENT_TITLE),
        "summary": ck.field(raw, "summary", path, label, _SUMMARY),
        "source_url": ck.field(raw, "source_url", path, label, v.url),
        "text_basis": ck.field(
            raw, "text_basis", path, label, lambda x, n: v.choice(x, n, TEXT_BASES)
        ),
        "theme": ck.field(raw, "theme", path, label, _THEME),
        "strength": ck.field(raw, "strength", path, label, lambda x, n: v.choice(x, n, STRENGTHS)),
        "review_cadence": None
        if raw.get("review_cadence") is None
        else ck.field(raw, "review_cadence", path, label, v.cadence),
        "last_reviewed": ck.field(raw, "last_reviewed", path, label, ck.day),
        "target": ck.field(raw, "target", path, label, _OPTIONAL_DATE),
        "added_at": None
        if raw.get("added_at") is None
        else ck.field(raw, "added_at", path, label, ck.when),
        "owners": sorted(owners, key=lambda o: o["party"]),
    }
    commitment["evidence"] = evidence.read(raw, path, label)
    commitment["history"] = _validate_history(raw, path, label, ck, commitment)
    commitment["notes"] = _validate_notes(raw, path, label, ck)
    commitment["retargets"] = _validate_retargets(raw, path, label, ck, commitment)
    commitment["restates"] = ck.field(raw, "restates", path, label, _restates)
    commitment["corrections"] = _validate_corrections(raw, path, label, ck)
    return commitment


def _owners(
    raw: dict[str, Any], path: tuple[Any, ...], label: str, ck: _Checker, codes: set[str]
) -> list[dict[str, str]]:
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
    return owners


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
