"""Deterministic, realistic trackers for the benchmarks.

    .venv/bin/python bench/generate.py --size 10000 [--seed 7] [--evidence 10]
        [--what sqlite,toml,csv] [--csv-rows 100000] [--force] [--check]

One tracker is described by its size (commitments), the mean number of evidence records per
commitment and a seed. From the same random stream it is written three ways:

- a SQLite database (schema created by the project itself, rows loaded with SQLAlchemy Core
  bulk inserts with the indexes dropped and rebuilt, as tests/tui/bulk.py does: 100,000
  commitments with 1,000,000 evidence records take about a minute);
- a commitments.toml file of the same tracker (docs/commitments-schema.md), which
  ``mou-tracker sync`` accepts; syncing it into the generated database changes nothing, because
  the generated rows carry the same source hashes a sync would have recorded;
- an evidence CSV for ``mou-tracker evidence import`` (header ``ref,url,title,publisher,
  published,kind,direction,confidence,summary,archived_url``) whose URLs are new and unique.

What a tracker holds: several memoranda (one per 2,000 commitments, at most 50) between eight
parties; commitments with one or two owners, a strength, a theme, review dates and sometimes a
target; about ``--evidence`` evidence records each (0 to twice that many), most of them dated;
a status history that starts at ``not_assessed``, moves through one to four statuses with the
odd review in between, and cites, for every move to a scored status, evidence of the same
commitment published on or before the move (rule 1); public and internal notes. Vision clauses
are not scored: they have evidence and notes but no history.

Artifacts are cached under ``bench/out/`` (git-ignored), keyed by size, evidence mean, seed and
(for the database) a fingerprint of the schema, so a change to the models builds a new one.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "src"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tests.tui.bulk import (  # noqa: E402  (the shared vocabulary and fast helpers)
    STATUS_WEIGHTS,
    STRENGTH_WEIGHTS,
    THEMES,
    WORDS,
    _d,
    _Picker,
)

OUT = ROOT / "bench" / "out"


def _ts(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy stores it in SQLite (naive UTC, microseconds); the values
    here are already UTC, so this is tests.tui.bulk._ts without the zone conversion."""
    if value is None:
        return None
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


GENERATOR_VERSION = 3  # bump when the generated data change
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # "now" for the generated tracker
END = date(2026, 6, 30)  # nothing is dated after this
ACTOR = "generator"

PARTIES = (
    ("DSIT", "Department for Science, Innovation and Technology", "government"),
    ("OPENAI", "OpenAI", "company"),
    ("AISI", "AI Security Institute", "public_body"),
    ("MOJ", "Ministry of Justice", "government"),
    ("DHSC", "Department of Health and Social Care", "government"),
    ("NHSE", "NHS England", "public_body"),
    ("ACME", "Acme Models Ltd", "company"),
    ("UKRI", "UK Research and Innovation", "public_body"),
)
STAFF = ("a.khan", "b.jones", "c.osei", "d.murphy", "e.li", "f.novak", "g.silva")
HOSTS = (
    ("https://www.gov.example.org/news", "GOV.EX", "official_document"),
    ("https://press.openai.example.com", "OpenAI (example)", "announcement"),
    ("https://news.example.org/tech", "Example News", "news_report"),
    ("https://www.thepaper.example.co.uk/ai", "The Paper", "news_report"),
    ("https://hansard.example.org/debates", "Hansard (example)", "parliamentary_record"),
    ("https://foi.example.org/requests", "WhatTheyKnow (example)", "foi_release"),
    ("https://data.example.org/datasets", "Open Data (example)", "data"),
)
DIRECTIONS = (("progress", 55), ("context", 30), ("against", 15))
CONFIDENCES = (("primary", 35), ("secondary", 55), ("unverified", 10))
TEXT_BASES = (("verified", 70), ("excerpt_only", 20), ("reconstructed", 10))
SECTIONS = (
    "Public-sector adoption",
    "Infrastructure",
    "Security research",
    "Presence and jobs",
    "Skills",
    "Research collaboration",
    "Data access",
    "Evaluation",
    "Regional growth",
    "Procurement",
    "Transparency",
    "Vision",
)
REASONS = (
    "Announced by the department; first pilots live.",
    "The company published a progress update.",
    "Nothing public since the launch; the site work is paused.",
    "The report to Parliament says this is done.",
    "Only part of the programme was delivered.",
    "FOI answer shows no spending against this line.",
    "Work has started according to the minutes.",
)
NOTE_BODIES = (
    "Ask the department for the **site list** before the next review.",
    "Two sources disagree on the date; see the FOI answer.",
    "Journalist enquiry received about this clause.\n\n- check the press release\n- check Hansard",
    "Internal: the owner team changed in March.",
    "Context: the clause was reworded in the published version.",
)


@dataclass(frozen=True)
class Spec:
    """Which tracker: ``size`` commitments, about ``evidence`` evidence records each, ``seed``."""

    size: int
    evidence: int = 10
    seed: int = 7

    @property
    def memoranda(self) -> int:
        return max(1, min(50, -(-self.size // 2000)))

    @property
    def key(self) -> str:
        return f"c{self.size}-e{self.evidence}-s{self.seed}-g{GENERATOR_VERSION}"

    @property
    def folder(self) -> Path:
        return OUT / self.key


# --- the tracker, as plain records --------------------------------------------------------------


@dataclass
class Memo:
    slug: str
    title: str
    parties: list[str]
    signatories: list[dict[str, str]]
    signed: date
    source_url: str
    legal_status: str
    review_cadence: str
    summary: str


@dataclass
class Item:
    """One commitment with everything attached (evidence, history, notes)."""

    ref: str
    memo: int  # index into the memoranda
    section: str
    origin: str
    title: str
    summary: str
    source_url: str
    text_basis: str
    theme: str
    strength: str
    review_cadence: str | None
    last_reviewed: date | None
    target: date | None
    owners: list[tuple[str, str]]  # (party code, role), sorted by code
    # (url, title, publisher, published, kind, direction, confidence, summary, archived_url,
    #  added_by, added_at)
    evidence: list[tuple[Any, ...]]
    # (kind, at, by, from, to, reason, [indexes into evidence])
    history: list[tuple[Any, ...]]
    notes: list[tuple[datetime, str, str, str]]  # (at, author, visibility, body)

    @property
    def status(self) -> str:
        return self.history[-1][4] if self.history else "not_assessed"


def memoranda(spec: Spec) -> list[Memo]:
    rng = random.Random(f"{spec.seed}-memoranda")
    result = []
    for j in range(spec.memoranda):
        gov = PARTIES[0][0] if j % 2 == 0 else PARTIES[3 + j % 3][0]
        company = PARTIES[1][0] if j % 3 else PARTIES[6][0]
        extra = [PARTIES[2][0]] if j % 4 == 0 else []
        signed = date(2025, 1, 6) + timedelta(days=7 * j + int(rng.random() * 5))
        result.append(
            Memo(
                slug=f"gen-mou-{j + 1:02d}",
                title=f"Memorandum of Understanding {j + 1} between {gov} and {company} on AI",
                parties=[gov, company, *extra],
                signatories=[
                    {"name": f"Minister {j + 1}", "role": "Secretary of State", "party": gov},
                    {"name": f"Chief {j + 1}", "role": "Chief Executive", "party": company},
                ],
                signed=signed,
                source_url=f"https://www.gov.example.org/mou/{j + 1}",
                legal_status="Voluntary and not legally binding (generated benchmark data).",
                review_cadence=("3 months", "6 months", "1 month")[j % 3],
                summary=f"Generated memorandum {j + 1} for the benchmarks.",
            )
        )
    return result


def items(spec: Spec, memos: list[Memo]) -> Iterator[Item]:
    """Every commitment, in file order, from one deterministic random stream."""
    rng = random.Random(spec.seed)
    rand = rng.random
    strength_of = _Picker(rng, STRENGTH_WEIGHTS)
    status_of = _Picker(rng, tuple((s, w) for s, w in STATUS_WEIGHTS))
    direction_of = _Picker(rng, DIRECTIONS)
    confidence_of = _Picker(rng, CONFIDENCES)
    basis_of = _Picker(rng, TEXT_BASES)
    n_words, n_hosts = len(WORDS), len(HOSTS)
    codes = [c for c, _, _ in PARTIES]
    per_memo = -(-spec.size // len(memos))
    end_ord = END.toordinal()

    def words(k: int) -> list[str]:
        return [WORDS[int(rand() * n_words)] for _ in range(k)]

    for i in range(spec.size):
        m = min(i // per_memo, len(memos) - 1)
        memo = memos[m]
        ref = f"GEN-{i + 1:06d}"
        strength = strength_of()
        w = words(30)
        n_title = 4 + int(rand() * 5)
        title = " ".join([w[0].capitalize(), *w[1:n_title]])
        summary = f"The parties will {' '.join(w[8 : 8 + 8 + int(rand() * 12)])}."
        if rand() < 0.2:
            summary += f"\nThis includes {' '.join(w[20:26])}."
        section_no = 1 + int(rand() * len(SECTIONS))
        signed_ord = memo.signed.toordinal()
        span = end_ord - signed_ord

        # Owners: a lead among the memorandum's parties, sometimes a supporting body.
        lead = memo.parties[int(rand() * len(memo.parties))]
        owners = {lead: "lead"}
        if rand() < 0.5:
            other = codes[int(rand() * len(codes))]
            owners.setdefault(other, "support")
        owner_list = sorted(owners.items())

        # The status path first: it decides whether dated evidence must exist.
        final = "not_assessed" if strength == "vision" else status_of()
        path: list[str] = []
        if final != "not_assessed":
            steps = 1 + int(rand() * 3)
            pool = [s for s, _ in STATUS_WEIGHTS if s != "not_assessed"]
            current = "not_assessed"
            for _ in range(steps - 1):
                nxt = pool[int(rand() * len(pool))]
                if nxt != current and nxt != final:
                    path.append(nxt)
                    current = nxt
            path.append(final)
        needs_evidence = any(s not in ("not_assessed", "not_started") for s in path)

        # Evidence: 0 to 2x the mean; dated mostly; sorted by when it was added.
        n_ev = int(rand() * (2 * spec.evidence + 1))
        if needs_evidence and n_ev == 0:
            n_ev = 1
        evidence = []
        for k in range(n_ev):
            base, publisher, kind = HOSTS[int(rand() * n_hosts)]
            dated = k == 0 and needs_evidence or rand() < 0.93
            day = date.fromordinal(signed_ord + int(rand() * span)) if dated else None
            added_day = (day or date.fromordinal(signed_ord + int(rand() * span))) + timedelta(
                days=int(rand() * 10)
            )
            added_at = datetime(
                added_day.year, added_day.month, added_day.day, 8 + int(rand() * 10), tzinfo=UTC
            ) + timedelta(minutes=int(rand() * 60))
            ew = words(6)
            evidence.append(
                (
                    f"{base}/{memo.slug}/{ref.lower()}/{k}-{ew[0]}-{ew[1]}",
                    f"{ew[2].capitalize()} {ew[3]} {ew[4]} {ew[5]}: {title[:60].rstrip()}",
                    publisher if rand() < 0.95 else None,
                    day,
                    kind,
                    direction_of(),
                    confidence_of(),
                    f"Shows {ew[0]} {ew[1]} {ew[4]}." if rand() < 0.6 else None,
                    f"https://web.archive.example.org/2026/{base.split('://')[1]}/{ref}/{k}"
                    if rand() < 0.1
                    else None,
                    STAFF[int(rand() * len(STAFF))],
                    added_at,
                )
            )
        evidence.sort(key=lambda e: (e[10], e[0]))
        dated = sorted((e[3], idx) for idx, e in enumerate(evidence) if e[3] is not None)

        # History: increasing times, each move to a scored status citing evidence dated on or
        # before it; the odd review (same status) in between.
        history: list[tuple[Any, ...]] = []
        if path:
            first = dated[0][0].toordinal() if needs_evidence else signed_ord
            days = sorted(first + int(rand() * (end_ord - first + 1)) for _ in path)
            previous = "not_assessed"
            for step, (status, day_ord) in enumerate(zip(path, days, strict=True)):
                at = datetime.fromordinal(day_ord).replace(tzinfo=UTC) + timedelta(
                    hours=9 + step, minutes=int(rand() * 60)
                )
                if history and at <= history[-1][1]:
                    at = history[-1][1] + timedelta(minutes=1)
                cites: list[int] = []
                if status not in ("not_assessed", "not_started"):
                    usable = [idx for d, idx in dated if d <= at.date()]
                    cites = sorted(
                        {usable[int(rand() * len(usable))] for _ in range(1 + int(rand() * 2))}
                    )
                who = STAFF[int(rand() * len(STAFF))]
                reason = REASONS[int(rand() * len(REASONS))]
                history.append(("status", at, who, previous, status, reason, cites))
                previous = status
                if rand() < 0.1:
                    history.append(
                        (
                            "review",
                            at + timedelta(days=1 + int(rand() * 20)),
                            who,
                            status,
                            status,
                            "Checked; nothing new.",
                            [],
                        )
                    )
            # Reviews may have pushed a later entry's time; keep the order strict.
            for idx in range(1, len(history)):
                if history[idx][1] <= history[idx - 1][1]:
                    entry = list(history[idx])
                    entry[1] = history[idx - 1][1] + timedelta(minutes=1)
                    history[idx] = tuple(entry)

        notes = []
        for _ in range(int(rand() * 2.6)):
            day = date.fromordinal(signed_ord + int(rand() * span))
            notes.append(
                (
                    datetime(day.year, day.month, day.day, 10 + int(rand() * 8), tzinfo=UTC),
                    STAFF[int(rand() * len(STAFF))],
                    "internal" if rand() < 0.3 else "public",
                    NOTE_BODIES[int(rand() * len(NOTE_BODIES))],
                )
            )
        notes.sort()

        last_reviewed = (
            date.fromordinal(signed_ord + 30 + int(rand() * max(span - 30, 1)))
            if rand() < 0.6
            else None
        )
        yield Item(
            ref=ref,
            memo=m,
            section=f"{section_no}. {SECTIONS[section_no - 1]}",
            origin="press_release" if rand() < 0.1 else "clause",
            title=title,
            summary=summary,
            source_url=f"{memo.source_url}#c{i + 1}",
            text_basis=basis_of(),
            theme=THEMES[int(rand() * len(THEMES))],
            strength=strength,
            review_cadence=("1 month", "6 months")[int(rand() * 2)] if rand() < 0.1 else None,
            last_reviewed=last_reviewed,
            target=date(2026, 3, 31) + timedelta(days=int(rand() * 600))
            if strength != "vision" and rand() < 0.15
            else None,
            owners=owner_list,
            evidence=evidence,
            history=history,
            notes=notes,
        )


# --- the SQLite database ------------------------------------------------------------------------


def _source_hashers() -> Any:
    """The hash ``sync`` records for rows it created, so a sync of the TOML is a no-op."""
    try:
        from mou_tracker.storage import tomlio
    except ImportError:  # pragma: no cover
        return None
    return tomlio


def _commitment_hash_values(item: Item, memo: Memo, fields: tuple[str, ...]) -> dict[str, Any]:
    values = {
        "memorandum": memo.slug,
        "section": item.section,
        "origin": item.origin,
        "title": item.title,
        "summary": item.summary,
        "source_url": item.source_url,
        "text_basis": item.text_basis,
        "theme": item.theme,
        "strength": item.strength,
        "review_cadence": item.review_cadence,
        "last_reviewed": item.last_reviewed,
        "target": item.target,
        "owners": [{"party": p, "role": r} for p, r in item.owners],
        "added_at": None,
    }
    return {k: values.get(k) for k in fields}


def schema_fingerprint() -> str:
    """Changes whenever a table or column of the models, the migration head, or the search
    index's SQL changes."""
    from sqlmodel import SQLModel

    import mou_tracker.domain.models  # noqa: F401
    from mou_tracker.storage import search_index
    from mou_tracker.storage.migrate import SCHEMA_HEAD

    parts = [SCHEMA_HEAD, *search_index.sqlite_table(), *search_index.sqlite_triggers()]
    for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
        parts.append(table.name + ":" + ",".join(sorted(c.name for c in table.columns)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]


def sqlite_path(spec: Spec, *, force: bool = False, log: Any = None) -> Path:
    """The cached database of ``spec`` (built if missing). Treat it as read-only: copy it."""
    target = spec.folder / f"tracker-{schema_fingerprint()}.db"
    if target.exists() and not force:
        return target
    spec.folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    t0 = time.perf_counter()
    counts = build_sqlite(spec, tmp)
    with sqlite3.connect(tmp) as conn:  # one self-contained file, WAL as the tracker leaves it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, target)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    if log:
        log(
            f"generated {target.relative_to(ROOT)} in {time.perf_counter() - t0:.1f} s "
            f"({', '.join(f'{n:,} {k}' for k, n in counts.items())})"
        )
    return target


def build_sqlite(spec: Spec, path: Path) -> dict[str, int]:
    """Create the schema with the project's own code, then bulk-load the tracker."""
    from sqlalchemy import bindparam, insert

    from mou_tracker.domain.chain import GENESIS, link
    from mou_tracker.domain.models import (
        Commitment,
        Evidence,
        HistoryEntry,
        HistoryEvidence,
        Memorandum,
        Note,
        Owner,
        Party,
    )
    from mou_tracker.domain.validate import add_cadence
    from mou_tracker.storage import search_index
    from mou_tracker.storage.engine import create_schema, make_engine

    tomlio = _source_hashers()
    h = tomlio._hash if tomlio else (lambda values: None)
    memos = memoranda(spec)
    party_ids = {code: k + 1 for k, (code, _, _) in enumerate(PARTIES)}
    cadence_cache: dict[tuple[date, str], date] = {}

    def next_review(day: date, cadence: str) -> date:
        key = (day, cadence)
        if key not in cadence_cache:
            cadence_cache[key] = add_cadence(day, cadence)
        return cadence_cache[key]

    now = _ts(NOW)
    c_rows: list[tuple[Any, ...]] = []
    o_rows: list[tuple[Any, ...]] = []
    e_rows: list[tuple[Any, ...]] = []
    h_rows: list[tuple[Any, ...]] = []
    he_rows: list[tuple[Any, ...]] = []
    n_rows: list[tuple[Any, ...]] = []
    c_fields = tuple(getattr(tomlio, "COMMITMENT_FIELDS", ()))
    e_fields = tuple(getattr(tomlio, "EVIDENCE_FIELDS", ()))
    ev_id = hist_id = note_id = 0
    for pos, item in enumerate(items(spec, memos)):
        cid = pos + 1
        memo = memos[item.memo]
        for code, role in item.owners:
            o_rows.append((cid, party_ids[code], role))
        first_ev = ev_id + 1
        for e in item.evidence:
            ev_id += 1
            values = dict(zip(("title", "publisher", "published"), e[1:4], strict=True))
            values.update(
                kind=e[4], direction=e[5], confidence=e[6], summary=e[7], archived_url=e[8]
            )
            added = _ts(e[10])
            e_rows.append(
                (
                    ev_id,
                    cid,
                    e[0],
                    e[1],
                    e[2],
                    _d(e[3]),
                    e[4],
                    e[5],
                    e[6],
                    e[7],
                    e[8],
                    e[9],
                    added,
                    added,  # recorded_at: seeded data is recorded when it was added
                    h({k: values.get(k) for k in e_fields}),
                    1,
                    added,
                    e[9],
                )
            )
        status_at = None
        chain = GENESIS  # the hash chain that `mou-tracker verify` checks (domain/chain.py)
        for kind, at, by, frm, to, reason, cites in item.history:
            hist_id += 1
            cited = [first_ev + idx for idx in cites]
            entry = {
                "id": hist_id,
                "commitment_id": cid,
                "kind": kind,
                "from_status": frm,
                "to_status": to,
                "at": at,
                "actor": by,
                "reason": reason,
            }
            previous, chain = chain, link(chain, entry, cited)
            h_rows.append(
                (hist_id, cid, kind, frm, to, _ts(at), _ts(at), by, reason, previous, chain)
            )
            he_rows.extend((hist_id, eid) for eid in cited)
            if kind == "status":
                status_at = at
        for at, author, visibility, body in item.notes:
            note_id += 1
            n_rows.append((note_id, cid, visibility, body, author, _ts(at), _ts(at)))
        cadence = item.review_cadence or memo.review_cadence
        c_rows.append(
            (
                cid,
                item.memo + 1,
                item.ref,
                pos,
                item.section,
                item.origin,
                item.title,
                item.summary,
                item.source_url,
                item.text_basis,
                item.theme,
                item.strength,
                item.status,
                _ts(status_at),
                item.review_cadence,
                _d(item.last_reviewed),
                _d(next_review(item.last_reviewed or memo.signed, cadence)),
                _d(item.target),
                _d(item.target),
                h(_commitment_hash_values(item, memo, c_fields)),
                2 if item.history else 1,
                now,
                ACTOR,
            )
        )

    columns = {
        Commitment: (
            "id",
            "memorandum_id",
            "ref",
            "position",
            "section",
            "origin",
            "title",
            "summary",
            "source_url",
            "text_basis",
            "theme",
            "strength",
            "status",
            "status_changed_at",
            "review_cadence",
            "last_reviewed",
            "next_review",
            "target",
            "original_target",
            "source_hash",
            "version",
            "updated_at",
            "updated_by",
        ),
        Owner: ("commitment_id", "party_id", "role"),
        Evidence: (
            "id",
            "commitment_id",
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
            "source_hash",
            "version",
            "updated_at",
            "updated_by",
        ),
        HistoryEntry: (
            "id",
            "commitment_id",
            "kind",
            "from_status",
            "to_status",
            "at",
            "recorded_at",
            "actor",
            "reason",
            "chain_prev",
            "chain",
        ),
        HistoryEvidence: ("history_id", "evidence_id"),
        Note: ("id", "commitment_id", "visibility", "body", "author", "at", "recorded_at"),
    }
    data = {
        Commitment: c_rows,
        Owner: o_rows,
        Evidence: e_rows,
        HistoryEntry: h_rows,
        HistoryEvidence: he_rows,
        Note: n_rows,
    }

    engine = make_engine(f"sqlite:///{path}")
    try:
        create_schema(engine)
        dialect = engine.dialect
        with engine.begin() as conn:
            party_rows = []
            for code, name, kind in PARTIES:
                values = {"name": name, "kind": kind}
                party_rows.append(
                    {
                        "id": party_ids[code],
                        "code": code,
                        **values,
                        "source_hash": h(
                            {k: values[k] for k in getattr(tomlio, "PARTY_FIELDS", ())}
                        ),
                    }
                )
            conn.execute(insert(Party.__table__), party_rows)  # type: ignore[attr-defined]
            memo_rows = []
            for j, m in enumerate(memos):
                values = {
                    "title": m.title,
                    "parties": m.parties,
                    "signatories": m.signatories,
                    "signed": m.signed,
                    "source_url": m.source_url,
                    "landing_url": None,
                    "legal_status": m.legal_status,
                    "review_cadence": m.review_cadence,
                    "summary": m.summary,
                }
                memo_rows.append(
                    {
                        "id": j + 1,
                        "slug": m.slug,
                        **values,
                        "source_hash": h(
                            {k: values.get(k) for k in getattr(tomlio, "MEMO_FIELDS", ())}
                        ),
                        "version": 1,
                        "updated_at": NOW,
                        "updated_by": ACTOR,
                    }
                )
            conn.execute(insert(Memorandum.__table__), memo_rows)  # type: ignore[attr-defined]
    finally:
        engine.dispose()

    # The big tables: Core insert() constructs compiled for SQLite and run as executemany on one
    # connection with the journal off (a new file: nothing to protect) and the indexes dropped
    # and rebuilt after the load; the file is put back in WAL mode, as the tracker keeps it.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        names = [m.__table__.name for m in columns]  # type: ignore[attr-defined]
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(repr(t) for t in names)})"
        ).fetchall()
        for name, _ in indexes:  # building them after the load is several times faster
            conn.execute(f'DROP INDEX "{name}"')
        for sql in search_index.sqlite_drop_triggers():  # filled once after the load
            conn.execute(sql)
        for model, rows in data.items():
            table = model.__table__  # type: ignore[attr-defined]
            cols = columns[model]
            have = {c.name: c for c in table.columns}
            unknown = [c for c in cols if c not in have]
            if unknown:  # a column was removed or renamed in the models: leave it out
                keep = [k for k, c in enumerate(cols) if c in have]
                cols = tuple(cols[k] for k in keep)
                rows = [tuple(r[k] for k in keep) for r in rows]
            missing = [
                c.name
                for c in table.columns
                if c.name not in cols
                and not c.nullable
                and c.default is None
                and c.server_default is None
            ]
            if missing:
                raise SystemExit(
                    f"bench/generate.py: the model {table.name} has new required column(s) "
                    f"{', '.join(missing)}: teach the generator about them"
                )
            sql = str(
                insert(table).values({c: bindparam(c) for c in cols}).compile(dialect=dialect)
            )
            conn.executemany(sql, rows)
        for _, sql in indexes:
            conn.execute(sql)
        for sql in search_index.sqlite_fill() + search_index.sqlite_triggers():
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return {
        "commitments": len(c_rows),
        "evidence": len(e_rows),
        "history entries": len(h_rows),
        "notes": len(n_rows),
    }


# --- commitments.toml ----------------------------------------------------------------------------


def _q(value: str) -> str:
    """A TOML basic string (JSON's escapes are all valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _t(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def toml_path(spec: Spec, *, force: bool = False, log: Any = None) -> Path:
    target = spec.folder / "commitments.toml"
    if target.exists() and not force:
        return target
    spec.folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    t0 = time.perf_counter()
    write_toml(spec, tmp)
    os.replace(tmp, target)
    if log:
        log(
            f"generated {target.relative_to(ROOT)} in {time.perf_counter() - t0:.1f} s "
            f"({target.stat().st_size / 1e6:.1f} MB)"
        )
    return target


def write_toml(spec: Spec, path: Path) -> None:
    memos = memoranda(spec)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            f"# Generated by bench/generate.py: {spec.size:,} commitments, about "
            f"{spec.evidence} evidence records each, seed {spec.seed}.\nschema = 1\n\n"
        )
        for code, name, kind in PARTIES:
            out.write(f"[[party]]\ncode = {_q(code)}\nname = {_q(name)}\nkind = {_q(kind)}\n\n")
        for m in memos:
            sigs = ",\n".join(
                f"  {{ name = {_q(s['name'])}, role = {_q(s['role'])}, party = {_q(s['party'])} }}"
                for s in m.signatories
            )
            out.write(
                "[[memorandum]]\n"
                f"slug = {_q(m.slug)}\ntitle = {_q(m.title)}\n"
                f"parties = [{', '.join(_q(p) for p in m.parties)}]\n"
                f"signed = {m.signed.isoformat()}\nsource_url = {_q(m.source_url)}\n"
                f"legal_status = {_q(m.legal_status)}\nreview_cadence = {_q(m.review_cadence)}\n"
                f"signatories = [\n{sigs},\n]\nsummary = {_q(m.summary)}\n\n"
            )
        buf: list[str] = []
        for item in items(spec, memos):
            a = buf.append
            a("[[commitment]]\n")
            a(f"ref = {_q(item.ref)}\nmemorandum = {_q(memos[item.memo].slug)}\n")
            a(f"section = {_q(item.section)}\norigin = {_q(item.origin)}\n")
            a(f"title = {_q(item.title)}\nsummary = {_q(item.summary)}\n")
            a(f"source_url = {_q(item.source_url)}\ntext_basis = {_q(item.text_basis)}\n")
            a(f"theme = {_q(item.theme)}\nstrength = {_q(item.strength)}\n")
            if item.review_cadence:
                a(f"review_cadence = {_q(item.review_cadence)}\n")
            if item.last_reviewed:
                a(f"last_reviewed = {item.last_reviewed.isoformat()}\n")
            if item.target:
                a(f"target = {item.target.isoformat()}\n")
            owners = ", ".join(f"{{ party = {_q(p)}, role = {_q(r)} }}" for p, r in item.owners)
            a(f"owners = [{owners}]\n\n")
            for e in item.evidence:
                a(f"[[commitment.evidence]]\nurl = {_q(e[0])}\ntitle = {_q(e[1])}\n")
                if e[2] is not None:
                    a(f"publisher = {_q(e[2])}\n")
                if e[3] is not None:
                    a(f"published = {e[3].isoformat()}\n")
                a(f"kind = {_q(e[4])}\ndirection = {_q(e[5])}\nconfidence = {_q(e[6])}\n")
                if e[7] is not None:
                    a(f"summary = {_q(e[7])}\n")
                if e[8] is not None:
                    a(f"archived_url = {_q(e[8])}\n")
                a(f"added_by = {_q(e[9])}\nadded_at = {_t(e[10])}\n\n")
            for kind, at, by, frm, to, reason, cites in item.history:
                a("[[commitment.history]]\n")
                if kind != "status":
                    a(f"kind = {_q(kind)}\n")
                a(f"at = {_t(at)}\nby = {_q(by)}\nfrom = {_q(frm)}\nto = {_q(to)}\n")
                a(f"reason = {_q(reason)}\n")
                if cites:
                    urls = sorted(item.evidence[idx][0] for idx in cites)
                    a(f"evidence = [{', '.join(_q(u) for u in urls)}]\n")
                a("\n")
            for at, author, visibility, body in item.notes:
                a(
                    f"[[commitment.note]]\nat = {_t(at)}\nauthor = {_q(author)}\n"
                    f"visibility = {_q(visibility)}\nbody = {_q(body)}\n\n"
                )
            if len(buf) > 20_000:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))


# --- the evidence CSV ----------------------------------------------------------------------------


def csv_path(spec: Spec, rows: int, *, force: bool = False, log: Any = None) -> Path:
    target = spec.folder / f"import-{rows}.csv"
    if target.exists() and not force:
        return target
    spec.folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    t0 = time.perf_counter()
    write_csv(spec, rows, tmp)
    os.replace(tmp, target)
    if log:
        log(f"generated {target.relative_to(ROOT)} in {time.perf_counter() - t0:.1f} s")
    return target


def write_csv(spec: Spec, rows: int, path: Path) -> None:
    """``rows`` new evidence links spread over the tracker's commitments; every URL is new (a
    host the generated tracker never uses) and unique. Dates are mostly ISO, some in the
    "9 Apr 2026" form people type; optional cells are sometimes empty."""
    rng = random.Random(f"{spec.seed}-csv-{rows}")
    rand = rng.random
    direction_of = _Picker(rng, DIRECTIONS)
    confidence_of = _Picker(rng, CONFIDENCES)
    kinds = [k for _, _, k in HOSTS]
    n_words = len(WORDS)
    start = date(2025, 7, 1).toordinal()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "ref",
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
        )
        for row in range(1, rows + 1):
            n = 1 + int(rand() * spec.size)
            ref = f"GEN-{n:06d}"
            w = [WORDS[int(rand() * n_words)] for _ in range(6)]
            day = date.fromordinal(start + int(rand() * 360))
            published = (
                ""
                if rand() < 0.05
                else (day.strftime("%-d %b %Y") if rand() < 0.1 else day.isoformat())
            )
            writer.writerow(
                (
                    ref,
                    f"https://import.example.net/{spec.seed}/{ref.lower()}/{row}-{w[0]}",
                    f"{w[1].capitalize()} {w[2]} {w[3]} (imported {row})",
                    "Imported Press" if rand() < 0.8 else "",
                    published,
                    kinds[int(rand() * len(kinds))],
                    direction_of(),
                    confidence_of(),
                    f"Shows {w[4]} {w[5]}." if rand() < 0.5 else "",
                    "",
                )
            )


# --- checks and the command line -----------------------------------------------------------------


def check(spec: Spec, log: Any = print) -> None:
    """The three artifacts agree and the tracker accepts them: the TOML syncs into an empty
    database (and again with no change), its dump equals the generated database's dump, and a
    sync of the TOML into a copy of the generated database changes nothing. Uses the CLI."""
    import subprocess
    import tempfile

    db, toml = sqlite_path(spec, log=log), toml_path(spec, log=log)
    cli = [sys.executable, "-m", "mou_tracker"]
    env = {**os.environ, "MOU_TRACKER_USER": "bench-check"}
    with tempfile.TemporaryDirectory(prefix="mou-bench-check-") as tmp:
        fresh, copy = Path(tmp) / "fresh.db", Path(tmp) / "copy.db"
        shutil.copyfile(db, copy)

        def run(*args: str) -> str:
            done = subprocess.run([*cli, *args], capture_output=True, text=True, env=env)
            if done.returncode:
                raise SystemExit(f"check failed: mou-tracker {' '.join(args)}: {done.stderr}")
            return done.stdout.strip()

        log(run("--db", str(fresh), "sync", str(toml)))
        second = run("--db", str(fresh), "sync", str(toml))
        log(second)
        assert "nothing changed" in second, second
        into_generated = run("--db", str(copy), "sync", str(toml))
        log(f"sync into the generated database: {into_generated}")
        assert "nothing changed" in into_generated, into_generated
        a, b = Path(tmp) / "a.toml", Path(tmp) / "b.toml"
        run("--db", str(fresh), "dump", str(a))
        run("--db", str(copy), "dump", str(b))
        if a.read_text() != b.read_text():
            raise SystemExit(f"check failed: the dumps differ (diff {a} {b})")
        log("dump of the synced TOML == dump of the generated database")
        csv_file = csv_path(spec, min(1000, spec.size * 10), log=log)
        log(run("--db", str(copy), "evidence", "import", str(csv_file)))
    log("check passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, action="append", help="commitments (repeatable)")
    parser.add_argument("--evidence", type=int, default=10, help="mean evidence per commitment")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--what", default="sqlite,toml,csv", help="sqlite,toml,csv")
    parser.add_argument("--csv-rows", type=int, default=None, help="default: 10 x size, <= 100,000")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--check", action="store_true", help="verify the artifacts with the CLI")
    args = parser.parse_args()
    what = {w.strip() for w in args.what.split(",") if w.strip()}

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    for size in args.size or [1000]:
        spec = Spec(size=size, evidence=args.evidence, seed=args.seed)
        if "sqlite" in what:
            print(sqlite_path(spec, force=args.force, log=log))
        if "toml" in what:
            print(toml_path(spec, force=args.force, log=log))
        if "csv" in what:
            rows = args.csv_rows or min(100_000, 10 * size)
            print(csv_path(spec, rows, force=args.force, log=log))
        if args.check:
            check(spec, log=log)


if __name__ == "__main__":
    main()
