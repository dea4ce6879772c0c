"""Issue 20: history that cannot be replaced or bypassed.

The database refuses REPLACE (SQLite) and TRUNCATE (PostgreSQL) on the append-only tables, a
status change without a history entry, and a new date on cited evidence without a recorded
correction; ``mou-tracker verify`` finds what was done with the triggers out of the way.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import MINI

from mou_tracker.cli.main import main
from mou_tracker.domain import chain, service
from mou_tracker.domain.errors import RuleViolation
from mou_tracker.domain.models import Commitment, Evidence, HistoryEntry, Note
from mou_tracker.storage.engine import read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _sqlite_only(engine: Any) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite behaviour")


def _pg_only(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL behaviour")


def _history(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT id, commitment_id, actor, reason, chain FROM history ORDER BY id")
            )
        ]


def _status(engine: Any, ref: str) -> str:
    with read(engine) as s:
        return s.scalars(select(Commitment.status).where(Commitment.ref == ref)).one()


def _published(engine: Any, evidence_id: int) -> date | None:
    with read(engine) as s:
        return s.scalars(select(Evidence.published).where(Evidence.id == evidence_id)).one()


def _raw(engine: Any, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _lift_history_triggers(engine: Any) -> None:
    """What someone with write access to the file or the table can do: drop the triggers."""
    if engine.dialect.name == "sqlite":
        _raw(
            engine,
            *(
                f"DROP TRIGGER {name}"
                for name in (
                    "history_no_update",
                    "history_no_delete",
                    "history_evidence_no_delete",
                    "commitment_status_needs_history",
                )
            ),
        )
    else:
        _raw(
            engine,
            "ALTER TABLE history DISABLE TRIGGER USER",
            "ALTER TABLE history_evidence DISABLE TRIGGER USER",
            "ALTER TABLE commitment DISABLE TRIGGER USER",
        )


def _verify(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["--db", db_url, "verify"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out.splitlines()


@pytest.fixture
def busy(mini: Any) -> Any:
    """mini, plus on T-2 two evidence records and four history entries (three status changes
    and a review); T-1 keeps its one synced entry, which cites evidence #1."""

    def build(s: Any) -> None:
        for n, day in ((1, "2026-02-01"), (2, "2026-02-20")):
            service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url=f"https://e.example.org/{n}", title=f"E{n}", published=day
                ),
                actor="alice",
                at=T0,
            )
        ids = [e.id for e in s.scalars(select(Evidence).where(Evidence.url.like("%e.example%")))]
        service.change_status(
            s, "T-2", "not_started", actor="alice", reason="looked", at=T0 + timedelta(hours=1)
        )
        service.change_status(
            s,
            "T-2",
            "in_progress",
            actor="bob",
            reason="first works",
            evidence=[ids[0]],
            at=T0 + timedelta(days=1),
        )
        service.record_review(s, "T-2", actor="carol", note="still", at=T0 + timedelta(days=2))
        service.change_status(
            s,
            "T-2",
            "stalled",
            actor="dave",
            reason="paused",
            evidence=ids,
            at=T0 + timedelta(days=3),
        )

    run_write(mini, build)
    return mini


def _t2_ids(engine: Any) -> list[int]:
    with read(engine) as s:
        cid = s.scalars(select(Commitment.id).where(Commitment.ref == "T-2")).one()
        return list(
            s.scalars(
                select(HistoryEntry.id)
                .where(HistoryEntry.commitment_id == cid)
                .order_by(HistoryEntry.at, HistoryEntry.id)
            )
        )


# --- REPLACE (SQLite) -----------------------------------------------------------------------------


def test_insert_or_replace_through_the_sqlite3_module_is_refused(mini):
    _sqlite_only(mini)
    before = _history(mini)
    path = mini.url.database
    with sqlite3.connect(path) as conn:  # a client without the tracker's pragmas: FKs off
        for statement in (
            "INSERT OR REPLACE INTO history (id, commitment_id, kind, from_status, to_status, at,"
            " actor, reason) SELECT id, commitment_id, kind, from_status, to_status, at,"
            " 'forger', 'rewritten' FROM history WHERE id = 1",
            "REPLACE INTO history_evidence (history_id, evidence_id)"
            " SELECT history_id, evidence_id FROM history_evidence",
            "REPLACE INTO note (id, commitment_id, visibility, body, author, at)"
            " SELECT id, commitment_id, visibility, 'forged', author, at FROM note WHERE id = 1",
            "INSERT INTO history (id, commitment_id, kind, from_status, to_status, at, actor,"
            " reason) SELECT id, commitment_id, kind, from_status, to_status, at, 'forger', 'x'"
            " FROM history WHERE id = 1 ON CONFLICT (id) DO UPDATE SET actor = 'forger'",
            "REPLACE INTO commitment SELECT * FROM commitment WHERE ref = 'T-2'",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="never replaced"):
                conn.execute(statement)
    assert _history(mini) == before
    with read(mini) as s:
        assert [n.body for n in s.scalars(select(Note).order_by(Note.id))][0] == "Public context."


def test_insert_or_replace_through_sqlalchemy_core_is_refused(mini):
    _sqlite_only(mini)
    before = _history(mini)
    hid, cid, *_ = before[0]
    with mini.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1
    forged = {
        "id": hid,
        "commitment_id": cid,
        "kind": "status",
        "from_status": "not_assessed",
        "to_status": "met",
        "at": T0,
        "actor": "forger",
        "reason": "rewritten",
    }
    with pytest.raises(DBAPIError, match="never replaced"), mini.begin() as conn:
        conn.execute(insert(HistoryEntry).prefix_with("OR REPLACE").values(**forged))
    assert _history(mini) == before


def test_status_replaced_with_the_whole_commitment_row_is_refused(busy):
    _sqlite_only(busy)
    with sqlite3.connect(busy.url.database) as conn:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT OR REPLACE INTO commitment SELECT id, memorandum_id, ref, position,"
                " section, origin, title, summary, source_url, text_basis, theme, strength, 'met',"
                " status_changed_at, review_cadence, last_reviewed, next_review, target,"
                " original_target, added_at, restates, source_hash, version, updated_at,"
                " updated_by"
                " FROM commitment WHERE ref = 'T-2'"
            )
    assert _status(busy, "T-2") == "stalled"


# --- TRUNCATE and upserts (PostgreSQL) -----------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE history CASCADE",
        "TRUNCATE note",
        "TRUNCATE history_evidence",
        "TRUNCATE evidence_revision CASCADE",
        "TRUNCATE commitment CASCADE",
    ],
)
def test_truncate_is_refused_on_postgresql(mini, statement):
    _pg_only(mini)
    before = _history(mini)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(mini, statement)
    assert _history(mini) == before
    with read(mini) as s:
        assert len(s.scalars(select(Note)).all()) == 2


def test_upsert_on_history_is_refused_on_postgresql(mini):
    _pg_only(mini)
    before = _history(mini)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(
            mini,
            "INSERT INTO history (id, commitment_id, kind, from_status, to_status, at, actor,"
            " reason) SELECT id, commitment_id, kind, from_status, to_status, at, 'forger', 'x'"
            " FROM history WHERE id = 1 ON CONFLICT (id) DO UPDATE SET actor = 'forger'",
        )
    assert _history(mini) == before


# --- status and cited dates move only with a record ------------------------------------------------


def test_status_cannot_change_without_a_history_entry(busy):
    for statement in (
        "UPDATE commitment SET status = 'met' WHERE ref = 'T-2'",
        "UPDATE commitment SET status = 'not_assessed' WHERE ref = 'T-2'",
        "UPDATE commitment SET status = 'met'",
    ):
        with pytest.raises(DBAPIError, match="status changes only with a history entry"):
            _raw(busy, statement)
    assert _status(busy, "T-2") == "stalled"
    # setting the same status, or other columns, is not a change of status
    _raw(busy, "UPDATE commitment SET status = status, title = title")
    # a review is not a status change: it cannot authorise one
    with pytest.raises(DBAPIError, match="status changes only"):
        _raw(
            busy,
            "INSERT INTO history (commitment_id, kind, from_status, to_status, at, actor, reason)"
            " SELECT id, 'review', 'met', 'met', updated_at, 'x', 'y' FROM commitment"
            " WHERE ref = 'T-2'",
            "UPDATE commitment SET status = 'met' WHERE ref = 'T-2'",
        )
    assert _status(busy, "T-2") == "stalled"


def test_the_tracker_still_changes_status(busy, capsys, db_url):
    run_write(
        busy,
        lambda s: service.change_status(
            s, "T-2", "met", actor="erin", reason="done", evidence=["https://e.example.org/2"]
        ),
    )
    assert _status(busy, "T-2") == "met"
    assert _verify(db_url, capsys)[0] == 0


def test_cited_publication_date_moves_only_with_a_recorded_correction(busy):
    with read(busy) as s:
        cited = s.scalars(
            select(Evidence.id).where(Evidence.url == "https://news.example.org/pilot")
        ).one()
        uncited = s.scalars(
            select(Evidence.id).where(Evidence.url == "https://gov.example.org/undated")
        ).one()
    with pytest.raises(DBAPIError, match="changes only with a recorded correction"):
        _raw(busy, f"UPDATE evidence SET published = '2020-01-01' WHERE id = {cited}")
    assert _published(busy, cited) == date(2025, 3, 1)
    # a revision that does not record this move does not open the door
    run_write(
        busy,
        lambda s: service.edit_evidence(s, cited, {"title": "Pilot"}, actor="f", reason="typo"),
    )
    with pytest.raises(DBAPIError, match="recorded correction"):
        _raw(busy, f"UPDATE evidence SET published = '2020-01-01' WHERE id = {cited}")
    # uncited evidence is an ordinary record
    _raw(busy, f"UPDATE evidence SET published = '2024-12-31' WHERE id = {uncited}")
    assert _published(busy, uncited) == date(2024, 12, 31)
    # the tracker's correction path records the move first, so it goes through
    run_write(
        busy,
        lambda s: service.edit_evidence(
            s, cited, {"published": "2025-02-27"}, actor="f", reason="wrong day"
        ),
    )
    assert _published(busy, cited) == date(2025, 2, 27)


def test_sync_corrects_a_cited_date_through_a_revision(engine, db_url, capsys):
    first = parse_document(MINI.read_text(encoding="utf-8"))
    run_write(engine, lambda s: sync_document(s, first, actor="seed"))
    later = MINI.read_text(encoding="utf-8").replace(
        "published = 2025-03-01", "published = 2025-02-28"
    )
    report = run_write(engine, lambda s: sync_document(s, parse_document(later), actor="sync"))
    assert report.updated["evidence"] == 1
    with read(engine) as s:
        got = s.scalars(
            select(Evidence.published).where(Evidence.url == "https://news.example.org/pilot")
        ).one()
    assert got == date(2025, 2, 28)
    assert _verify(db_url, capsys)[0] == 0


# --- the hash chain -------------------------------------------------------------------------------


def test_every_path_that_records_history_chains_it(busy, db_url, capsys):
    rows = _history(busy)
    assert rows and all(r[4] and len(r[4]) == 64 for r in rows)
    code, lines = _verify(db_url, capsys)
    assert code == 0
    assert lines == ["verified 5 history entries across 3 commitments: no problems"]


def test_sync_that_extends_a_history_continues_its_chain(busy, db_url, capsys):
    extended = MINI.read_text(encoding="utf-8").replace(
        '[[commitment]]\nref = "T-2"',
        '[[commitment.history]]\nat = 2026-01-10T10:00:00Z\nby = "file"\nfrom = "in_progress"\n'
        'to = "stalled"\nreason = "Paused."\nevidence = ["https://news.example.org/pilot"]\n\n'
        '[[commitment]]\nref = "T-2"',
    )
    report = run_write(busy, lambda s: sync_document(s, parse_document(extended), actor="x"))
    assert report.added["history entries"] == 1
    assert _status(busy, "T-1") == "stalled"
    assert _verify(db_url, capsys) == (
        0,
        ["verified 6 history entries across 3 commitments: no problems"],
    )


def test_history_is_recorded_in_order(busy):
    # a review dated before the last one is refused (issue 12), as is any entry out of order
    with pytest.raises(RuleViolation, match="before the last review|before the latest history"):
        run_write(
            busy,
            lambda s: service.record_review(s, "T-2", actor="x", note="late", at=T0),
        )


def test_the_chain_stays_out_of_the_dump_and_survives_a_restore(busy, tmp_path, capsys):
    from mou_tracker.storage.engine import create_schema, make_engine

    with read(busy) as s:
        dumped = dump_document(s)
    assert "chain" not in dumped
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    other = make_engine(url)
    create_schema(other)
    run_write(other, lambda s: sync_document(s, parse_document(dumped), actor="restore"))
    with read(other) as s:
        assert dump_document(s) == dumped
    other.dispose()
    assert _verify(url, capsys)[0] == 0


def test_verify_finds_a_changed_entry(busy, db_url, capsys):
    ids = _t2_ids(busy)
    _lift_history_triggers(busy)
    _raw(busy, f"UPDATE history SET reason = 'rewritten' WHERE id = {ids[1]}")
    code, lines = _verify(db_url, capsys)
    assert code == 1
    assert lines == [
        f"T-2 history #{ids[1]}: changed since it was recorded: its content no longer matches "
        "its chain",
        "verified 5 history entries across 3 commitments: 1 problem",
    ]


def test_verify_finds_a_changed_citation(busy, db_url, capsys):
    ids = _t2_ids(busy)
    _lift_history_triggers(busy)
    _raw(busy, f"DELETE FROM history_evidence WHERE history_id = {ids[3]}")
    code, lines = _verify(db_url, capsys)
    assert code == 1 and lines[0].startswith(f"T-2 history #{ids[3]}: changed since")


def test_verify_finds_a_removed_entry(busy, db_url, capsys):
    ids = _t2_ids(busy)
    _lift_history_triggers(busy)
    _raw(busy, f"DELETE FROM history_evidence WHERE history_id = {ids[1]}")
    _raw(busy, f"DELETE FROM history WHERE id = {ids[1]}")
    code, lines = _verify(db_url, capsys)
    assert code == 1
    assert lines == [
        f"T-2 history #{ids[2]}: the entry recorded before it is missing (removed, or rewritten "
        f"with a new chain); the entry before it now is #{ids[0]}",
        "verified 4 history entries across 3 commitments: 1 problem",
    ]


def test_verify_finds_a_removed_newest_status_entry(busy, db_url, capsys):
    ids = _t2_ids(busy)
    _lift_history_triggers(busy)
    _raw(busy, f"DELETE FROM history_evidence WHERE history_id = {ids[-1]}")
    _raw(busy, f"DELETE FROM history WHERE id = {ids[-1]}")
    code, lines = _verify(db_url, capsys)
    assert code == 1
    assert lines[0] == (
        "T-2: status is stalled, but its history leaves it at in_progress (changed outside the "
        "tracker, or its newest status entry was removed)"
    )


def test_verify_finds_a_status_changed_behind_the_trackers_back(busy, db_url, capsys):
    _lift_history_triggers(busy)
    _raw(busy, "UPDATE commitment SET status = 'met' WHERE ref = 'T-2'")
    code, lines = _verify(db_url, capsys)
    assert code == 1 and lines[0].startswith("T-2: status is met, but its history leaves it")


def test_verify_finds_an_entry_added_outside_the_tracker(busy, db_url, capsys):
    _raw(
        busy,
        "INSERT INTO history (commitment_id, kind, from_status, to_status, at, actor, reason)"
        " SELECT id, 'review', 'stalled', 'stalled', updated_at, 'ghost', 'added by hand'"
        " FROM commitment WHERE ref = 'T-2'",
    )
    with busy.connect() as conn:
        new_id = conn.execute(text("SELECT max(id) FROM history")).scalar()
    code, lines = _verify(db_url, capsys)
    assert code == 1
    assert lines == [
        f"T-2 history #{new_id}: has no chain: it was written outside the tracker",
        "verified 6 history entries across 3 commitments: 1 problem",
    ]
    # the tracker goes on from the last entry it can vouch for: no further problems
    run_write(busy, lambda s: service.record_review(s, "T-2", actor="pm", note="looked"))
    assert len(_verify(db_url, capsys)[1]) == 2


def test_verify_finds_a_back_dated_entry_even_with_a_valid_hash(busy, db_url, capsys):
    """A client that knows the chain but back-dates: the entry names as its predecessor one
    that is dated after it."""
    ids = _t2_ids(busy)
    with busy.connect() as conn:
        cid, tip = conn.execute(
            text(f"SELECT commitment_id, chain FROM history WHERE id = {ids[-1]}")
        ).one()
        new_id = conn.execute(text("SELECT max(id) + 1 FROM history")).scalar()
        pg = busy.dialect.name == "postgresql"
        who = conn.execute(text("SELECT session_user::text")).scalar() if pg else None
    row = {
        "id": new_id,
        "commitment_id": cid,
        "kind": "review",
        "from_status": "stalled",
        "to_status": "stalled",
        "at": T0 + timedelta(hours=12),
        "actor": "ghost",
        "reason": "back-dated",
    }
    if who is not None:  # PostgreSQL stamps the connected role, and the chain holds it
        row["db_user"] = who
    with busy.begin() as conn:
        conn.execute(
            insert(HistoryEntry).values(**row, chain_prev=tip, chain=chain.link(tip, row, []))
        )
    code, lines = _verify(db_url, capsys)
    assert code == 1
    assert lines[0] == (
        f"T-2 history #{new_id}: out of order: dated 2026-03-01 21:00:00 UTC, before "
        f"#{ids[-1]} (2026-03-04 09:00:00 UTC), which was recorded before it"
    )
    assert len(lines) == 2


def test_verify_on_a_database_migrated_from_the_baseline(db_url, capsys):
    from tests.core.test_migrations import _load_baseline

    from mou_tracker.storage.engine import make_engine
    from mou_tracker.storage.migrate import ensure_schema

    engine = make_engine(db_url)
    _load_baseline(engine)
    ensure_schema(engine, allow_upgrade=True)
    assert all(r[4] for r in _history(engine))
    assert _verify(db_url, capsys) == (
        0,
        ["verified 3 history entries across 3 commitments: no problems"],
    )
    with pytest.raises(DBAPIError, match="status changes only with a history entry"):
        _raw(engine, "UPDATE commitment SET status = 'met' WHERE ref = 'T-2'")
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(engine.url.database) as conn:
            with pytest.raises(sqlite3.IntegrityError, match="never replaced"):
                conn.execute("REPLACE INTO history SELECT * FROM history WHERE id = 1")
    else:
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(engine, "TRUNCATE note")
    engine.dispose()
