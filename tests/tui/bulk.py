"""A large, deterministic tracker for scale tests and the benchmark, written with Core bulk
inserts (100,000 commitments in a few seconds). Used by tests/tui/conftest.py and
bench/bench_tui.py.

Every commitment has one or two owners, zero to three evidence records, and the status history
that its status needs (rule 1), so the generated database is one the domain would accept.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Engine

THEMES = (
    "Public-sector adoption",
    "Infrastructure and compute",
    "AI security",
    "UK presence",
    "Skills",
    "Research",
    "Vision",
)
WORDS = (
    "deliver explore fund build expand share pilot review publish support grow train open "
    "secure assess partner invest deploy measure report compute data centre skills safety "
    "research teams office zone growth public services health justice defence education "
    "regional sovereign models access procurement transparency audit standards"
).split()
STATUS_WEIGHTS = (
    ("not_assessed", 30),
    ("not_started", 15),
    ("in_progress", 25),
    ("partially_met", 10),
    ("met", 8),
    ("stalled", 8),
    ("not_met", 4),
)
STRENGTH_WEIGHTS = (("vision", 5), ("may", 30), ("explore", 30), ("intend", 20), ("will", 15))
PARTIES = (
    ("DSIT", "Department for Science, Innovation and Technology", "government"),
    ("OPENAI", "OpenAI", "company"),
    ("AISI", "AI Security Institute", "public_body"),
    ("MOJ", "Ministry of Justice", "government"),
)


class _Picker:
    """Fast deterministic weighted choices (random.choices per row is most of the build time)."""

    def __init__(self, rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> None:
        self.values = [value for value, weight in pairs for _ in range(weight)]
        self.rng = rng

    def __call__(self) -> str:
        return self.values[int(self.rng.random() * len(self.values))]


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _ts(value: datetime | None) -> str | None:
    """A timestamp exactly as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    if value is None:
        return None
    value = value.astimezone(UTC).replace(tzinfo=None)
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"


def build_bulk(engine: Engine, n: int, *, seed: int = 7, memo_slug: str = "bulk-2025") -> None:
    """Fill an empty SQLite schema (``create_schema`` already run) with ``n`` commitments.

    Rows go in through SQLAlchemy Core ``insert()`` constructs, compiled once per table and
    executed as one executemany per 20,000 rows (100,000 commitments take a few seconds)."""
    from mou_tracker.domain.chain import GENESIS, link
    from mou_tracker.domain.models import (
        Commitment,
        Evidence,
        HistoryEntry,
        HistoryEvidence,
        Memorandum,
        Owner,
        Party,
    )
    from mou_tracker.storage import search_index

    assert engine.dialect.name == "sqlite", "the bulk builder writes SQLite's storage formats"
    rng = random.Random(seed)
    strength_of = _Picker(rng, STRENGTH_WEIGHTS)
    status_of = _Picker(rng, STATUS_WEIGHTS)
    n_words = len(WORDS)

    def words(k: int) -> list[str]:
        return [WORDS[int(rng.random() * n_words)] for _ in range(k)]

    now = _ts(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    signed = date(2025, 7, 21)
    commitments: list[tuple[object, ...]] = []
    owners: list[tuple[object, ...]] = []
    evidence: list[tuple[object, ...]] = []
    history: list[tuple[object, ...]] = []
    cites: list[tuple[object, ...]] = []
    ev_id = 0
    hist_id = 0
    directions = ("progress", "against", "context")
    for i in range(1, n + 1):
        strength = strength_of()
        status = "not_assessed" if strength == "vision" else status_of()
        w = words(17)
        title = f"{w[0].capitalize()} {w[1]} {w[2]} {w[3]} {i}"
        last_reviewed = signed + timedelta(days=int(rng.random() * 340))
        scored = status not in ("not_assessed", "not_started")
        n_ev = 1 + int(rng.random() * 3) if scored else int(rng.random() * 2)
        published = [signed + timedelta(days=int(rng.random() * 330)) for _ in range(n_ev)]
        first_ev = ev_id + 1
        for k, day in enumerate(published):
            ev_id += 1
            evidence.append(
                (
                    ev_id,
                    i,
                    f"https://news.example.org/{i}/{k}",
                    f"Report on {w[4]} {w[5]} {w[6]} {w[7]}",
                    "Example News",
                    _d(day),
                    "news_report",
                    directions[int(rng.random() * 3)],
                    "secondary",
                    None,
                    None,
                    "bulk",
                    now,
                    now,  # recorded_at
                    None,
                    1,
                    now,
                    "bulk",
                    None,  # db_user: SQLite authenticates nobody
                )
            )
        changed_at = None
        if status != "not_assessed":
            hist_id += 1
            cited_day = max(published) if published else signed
            changed_at = datetime.combine(cited_day, datetime.min.time(), UTC) + timedelta(hours=17)
            cited = [first_ev + published.index(cited_day)] if published else []
            entry = {
                "id": hist_id,
                "commitment_id": i,
                "kind": "status",
                "from_status": "not_assessed",
                "to_status": status,
                "at": changed_at,
                "actor": "bulk",
                "reason": "Generated assessment.",
            }
            chained = link(GENESIS, entry, cited)  # its only entry, so it starts the chain
            row = {**entry, "at": _ts(changed_at)}
            history.append(
                (
                    *(row[k] for k in ("id", "commitment_id", "kind", "from_status", "to_status")),
                    row["at"],
                    row["at"],  # recorded_at: as the migration fills rows written outside
                    row["actor"],
                    row["reason"],
                    GENESIS,
                    chained,
                    None,  # db_user
                )
            )
            cites.extend((hist_id, eid) for eid in cited)
        commitments.append(
            (
                i,
                1,
                f"BLK-{i:06d}",
                i,
                f"{1 + i % 9}. Section",
                "clause",
                title,
                f"The parties {' '.join(w[8:17])}.",
                f"https://example.org/bulk#{i}",
                "verified",
                THEMES[int(rng.random() * len(THEMES))],
                strength,
                status,
                _ts(changed_at),
                None,
                _d(last_reviewed),
                _d(last_reviewed + timedelta(days=91)),
                None,
                None,
                None,  # added_at: tracked since the memorandum was signed
                None,  # restates nothing
                None,
                1,
                now,
                "bulk",
            )
        )
        lead = int(rng.random() * len(PARTIES))
        owners.append((i, lead + 1, "lead"))
        if rng.random() < 0.5:
            support = (lead + 1 + int(rng.random() * (len(PARTIES) - 1))) % len(PARTIES)
            owners.append((i, support + 1, "support"))

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
            "added_at",
            "restates",
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
            "db_user",
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
            "db_user",
        ),
        HistoryEvidence: ("history_id", "evidence_id"),
    }
    with engine.begin() as conn:
        conn.execute(
            insert(Party.__table__),  # type: ignore[attr-defined]
            [
                {"id": k + 1, "code": c, "name": name, "kind": kind, "source_hash": None}
                for k, (c, name, kind) in enumerate(PARTIES)
            ],
        )
        conn.execute(
            insert(Memorandum.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": 1,
                    "slug": memo_slug,
                    "title": f"Generated memorandum with {n:,} commitments",
                    "parties": ["DSIT", "OPENAI"],
                    "signatories": [],
                    "signed": signed,
                    "source_url": "https://example.org/bulk",
                    "landing_url": None,
                    "legal_status": "Voluntary and not legally binding (generated test data).",
                    "review_cadence": "3 months",
                    "summary": None,
                    "source_hash": None,
                    "version": 1,
                    "updated_at": datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
                    "updated_by": "bulk",
                }
            ],
        )
        tables = [m.__table__.name for m in columns]  # type: ignore[attr-defined]
        indexes = [
            (name, sql)
            for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join(repr(t) for t in tables)})"
            )
        ]
        for name, _ in indexes:  # building them after the load is several times faster
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        # The search index too: filled once after the load, then its triggers come back.
        for sql in search_index.sqlite_drop_triggers():
            conn.exec_driver_sql(sql)
        for model, rows in (
            (Commitment, commitments),
            (Owner, owners),
            (Evidence, evidence),
            (HistoryEntry, history),
            (HistoryEvidence, cites),
        ):
            table = model.__table__  # type: ignore[attr-defined]
            names = columns[model]
            assert set(names) == {c.name for c in table.columns}, model
            compiled = (
                insert(table)
                .values({name: bindparam(name) for name in names})
                .compile(dialect=conn.dialect)
            )
            assert tuple(compiled.positiontup or ()) == names, model
            for start in range(0, len(rows), 50_000):
                conn.exec_driver_sql(str(compiled), rows[start : start + 50_000])
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        for sql in search_index.sqlite_fill() + search_index.sqlite_triggers():
            conn.exec_driver_sql(sql)


def bulk_sqlite(path: Path, n: int) -> str:
    """Create ``path`` (a new SQLite file) with ``n`` commitments; return its URL."""
    from mou_tracker.storage.engine import create_schema, make_engine

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        create_schema(engine)
        build_bulk(engine, n)  # no ANALYZE: a real tracker database has no statistics either
    finally:
        engine.dispose()
    return url
