"""``mou-tracker list`` reads through ``queries.list_lines`` (Core rows, owners as text, the
owner table read whole for an unfiltered list); its output must stay what the full
``queries.list_commitments`` rows give, in every format, with and without filters."""

from __future__ import annotations

import csv
import io
import json
import os
from contextlib import redirect_stdout
from datetime import date
from typing import Any
from unittest.mock import patch

import pytest
from tests.conftest import SHIPPED, InProcessCli, _home, sync_file
from tests.tui.bulk import bulk_sqlite

from mou_tracker.cli import reading
from mou_tracker.domain import queries as q
from mou_tracker.storage.engine import make_engine, read

FILTERS: list[tuple[q.ListFilter, dict[str, Any], list[str]]] = [
    (q.ListFilter(), {}, []),
    (q.ListFilter(status=("not_assessed",)), {}, ["--status", "not_assessed"]),
    (q.ListFilter(strength=("may", "will")), {}, ["--strength", "may,will"]),
    (q.ListFilter(owner="openai"), {}, ["--owner", "openai"]),
    (q.ListFilter(search="the"), {}, ["--search", "the"]),
    (q.ListFilter(), {"sort": "title"}, ["--sort", "title"]),
    (q.ListFilter(), {"limit": 7}, ["--limit", "7"]),
]


def reference(rows: list[q.CommitmentRow], today: date) -> list[dict[str, Any]]:
    """The records as the command built them from CommitmentRow before list_lines existed."""
    return [
        {
            "ref": r.ref,
            "memorandum": r.memorandum,
            "status": r.status,
            "strength": r.strength,
            "theme": r.theme,
            "owners": r.owners_text,
            "evidence_count": r.evidence_count,
            "latest_evidence": r.latest_evidence.isoformat() if r.latest_evidence else "",
            "last_reviewed": r.last_reviewed.isoformat() if r.last_reviewed else "",
            "next_review": r.next_review.isoformat()
            if r.next_review and r.strength != "vision"
            else "",
            "overdue": r.overdue(today),
            "stale": r.stale(today),
            "title": r.title,
        }
        for r in rows
    ]


def json_text(records: list[dict[str, Any]]) -> str:
    """What ``list --format json`` wrote through json's encoder before it wrote lines itself."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    body = ",\n".join("  " + encode(r) for r in records)
    return "[\n" + body + ("\n]\n" if records else "]\n")


HOSTILE = [
    'Fund "compute" \\ now',
    "Tab\tnew\nline\r\x00\x1f\x7f end",
    "Unicode: é — 中文 \u2028 \u2029 \ud83d\ude00 😀",
    "</script><b>[bold]x[/]</b> & ' ` {} []",
    "",
]


def test_json_lines_match_the_encoder_on_hostile_text() -> None:
    today = date(2026, 11, 27)
    rows = [
        q.ListLine(
            text or "R",
            text,
            "in_progress",
            strength,
            text,
            text,
            n,
            latest,
            last,
            due,
            text,
        )
        for text in HOSTILE
        for strength in ("vision", "will")
        for n, latest, last, due in (
            (0, None, None, None),
            (3, date(2025, 1, 2), date(2026, 11, 1), date(2026, 11, 26)),
            (12, date(2026, 11, 1), None, date(2026, 12, 1)),
        )
    ]
    records = reading._records(rows, today)
    assert any(r["overdue"] for r in records) and any(r["stale"] for r in records)
    assert any(not r["overdue"] for r in records) and any(not r["stale"] for r in records)
    lines = reading._json_lines(rows, today)
    assert "[\n" + ",\n".join(lines) + "\n]\n" == json_text(records)


def check_same(engine: Any) -> int:
    """list_lines against list_commitments for every filter; returns the rows compared."""
    with read(engine) as s:
        return same_in(s)


def same_in(s: Any) -> int:
    """:func:`check_same` in the session ``s`` (which may hold uncommitted changes)."""
    today = date.today()
    compared = 0
    for flt, kw, _ in FILTERS:
        want = reference(q.list_commitments(s, flt, **kw), today)
        got = reading._records(q.list_lines(s, flt, **kw), today)
        assert got == want, (flt, kw)
        assert [list(r) for r in got] == [list(r) for r in want]  # key order: the JSON's
        compared += len(got)
    return compared


def check_cli(url: str, home: Any, engine: Any) -> None:
    """The CLI's json, csv and table output equals what the reference records give."""
    today = date.today()
    cli = InProcessCli(url, home)
    for flt, kw, argv in FILTERS:
        with read(engine) as s:
            want = reference(q.list_commitments(s, flt, **kw), today)
        out = cli("list", "--format", "json", *argv)
        assert out.code == 0, out.err
        assert json.loads(out.out) == want
        assert out.out == json_text(want)  # byte for byte what the encoder writes
        lines = out.out.splitlines()
        assert len(lines) == len(want) + 2  # one commitment a line between the brackets
        out = cli("list", "--format", "csv", *argv)
        assert out.code == 0, out.err
        expected = io.StringIO()
        writer = csv.DictWriter(expected, fieldnames=reading.LIST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(want)
        assert out.out == expected.getvalue()
        table = cli("list", *argv)
        assert table.code == 0, table.err
        printed = io.StringIO()
        with redirect_stdout(printed), patch.dict(os.environ, {"COLUMNS": "200"}):  # as the CLI's
            reading._table(want, today)
        assert table.out == printed.getvalue()


def test_shipped_tracker_lists_as_before(engine, db_url, tmp_path):
    sync_file(engine, SHIPPED)
    assert check_same(engine) > 19
    check_cli(db_url, _home(tmp_path), engine)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    where = tmp_path_factory.mktemp("list-lines")
    url = bulk_sqlite(where / "bulk.db", 1000)
    return url, where


def test_generated_tracker_lists_as_before(generated):
    url, where = generated
    engine = make_engine(url)
    try:
        assert check_same(engine) >= 1000
        check_cli(url, _home(where), engine)
    finally:
        engine.dispose()


def test_a_commitment_without_owners_lists_none(engine):
    from sqlalchemy import delete, select
    from sqlmodel import col

    from mou_tracker.domain.models import Commitment, Owner

    sync_file(engine, SHIPPED)
    today = date.today()
    with read(engine) as s:  # deleted in this transaction only: never committed
        first = q.list_commitments(s, limit=1)[0]
        cid = s.scalar(select(col(Commitment.id)).where(col(Commitment.ref) == first.ref))
        s.execute(delete(Owner).where(col(Owner.commitment_id) == cid))
        lines = q.list_lines(s)
        assert lines[0].ref == first.ref and lines[0].owners == ""
        assert reading._records(lines, today) == reference(q.list_commitments(s), today)


def test_the_evidence_counts_read_one_index_alone(generated):
    """The list's evidence columns (count and newest date of the records not withdrawn) come
    from ``ix_evidence_commitment_current`` without reading the evidence table (migration
    0012), and withdrawing a record changes them as list_commitments says."""
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite

    url, _ = generated
    engine = make_engine(url)
    try:
        with read(engine) as s:  # the update below is never committed
            conn = s.connection()
            query = q._evidence_counts_query(None)
            sql = str(
                query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            )
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "COVERING INDEX ix_evidence_commitment_current" in plan, plan
            ref, eid = conn.execute(
                text(
                    "SELECT c.ref, max(e.id) FROM evidence e JOIN commitment c "
                    "ON c.id = e.commitment_id WHERE e.confidence != 'withdrawn' "
                    "GROUP BY c.id LIMIT 1"
                )
            ).one()
            before = {line.ref: line.evidence_count for line in q.list_lines(s)}
            conn.execute(
                text("UPDATE evidence SET confidence = 'withdrawn' WHERE id = :e"), {"e": eid}
            )
            after = {line.ref: line.evidence_count for line in q.list_lines(s)}
            assert after[ref] == before[ref] - 1
            assert same_in(s) >= 1000
    finally:
        engine.dispose()
