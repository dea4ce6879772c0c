"""Details read a batch at a time, as the exports read them, equal the details of the whole
tracker read at once, on both backends. A batch's queries bound its ids by their range on
PostgreSQL as well as listing them (``queries.among``), read the citations of status changes
by history id and the link checks a piece at a time: none of that may change what is read,
whether the batch's ids are contiguous or scattered across the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col
from tests.conftest import SHIPPED, sync_file

from mou_tracker.domain import queries
from mou_tracker.domain.models import Commitment, Evidence, LinkCheck
from mou_tracker.storage.engine import read, run_write

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _check_some_links(engine) -> int:  # type: ignore[no-untyped-def]
    """Two checks of every other evidence URL (the later one is the state shown): how many
    URLs were checked."""

    def add(s):  # type: ignore[no-untyped-def]
        urls = sorted(set(s.scalars(select(col(Evidence.url)))))[::2]
        for i, url in enumerate(urls):
            s.add(LinkCheck(url=url, checked_at=T0, state="ok", http_status=200))
            later = T0 + timedelta(days=1 + i % 3)
            if i % 2:
                s.add(LinkCheck(url=url, checked_at=later, state="broken", error="404"))
            else:
                s.add(LinkCheck(url=url, checked_at=later, state="ok", moved=True))
        return len(urls)

    return run_write(engine, add)


@pytest.mark.parametrize("chunk", [queries.BIND_CHUNK, 3])
def test_details_a_batch_at_a_time_equal_the_whole(engine, monkeypatch, chunk):
    monkeypatch.setattr(queries, "BIND_CHUNK", chunk)  # 3: many pieces of links, citations
    sync_file(engine, SHIPPED)
    assert _check_some_links(engine) > 3
    with read(engine) as s:
        whole = queries.commitment_details(s, include_internal=False)
        by_ref = {d.ref: d for d in whole}
        ref_of = dict(s.execute(select(col(Commitment.id), col(Commitment.ref))).all())
        ids = list(s.scalars(select(col(Commitment.id)).order_by(*queries.report_order())))
        assert [ref_of[i] for i in ids] == [d.ref for d in whole] and len(ids) > 10
        cited = sum(len(h.evidence_ids) for d in whole for h in d.history)
        checked = sum(e.link is not None for d in whole for e in d.evidence)
        assert cited > 3 and checked > 3  # the cases the batches must get right are there
        batches = [ids[i : i + 4] for i in range(0, len(ids), 4)]
        # Scattered ids: their range holds commitments that are not in the batch.
        batches += [ids[::3], list(reversed(ids[1::2])), [ids[-1], ids[0]], [ids[5]]]
        for batch in batches:
            got = queries.commitment_details(s, batch, include_internal=False)
            chosen = {ref_of[i] for i in batch}
            assert [d.ref for d in got] == [d.ref for d in whole if d.ref in chosen]
            for d in got:
                assert d == by_ref[d.ref], d.ref


def test_postgresql_does_not_take_a_batch_for_most_of_a_table(engine):
    """Never analysed (a fresh load or a restore, autovacuum off or not yet round), PostgreSQL
    guesses that an IN list of 500 ids matches most of a table, and then reads all of it for
    every batch of an export. The range beside the list must make it guess a small part,
    with or without statistics (the ids here lie beyond every row, so either way)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner's guess")
    import json

    from sqlalchemy import event

    sync_file(engine, SHIPPED)
    statements: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, *args):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    batch = list(range(1_000_001, 1_000_501))
    with read(engine) as s:
        event.listen(engine, "before_cursor_execute", before)
        try:
            assert queries.commitment_details(s, batch, include_internal=False) == []
        finally:
            event.remove(engine, "before_cursor_execute", before)
        conn = s.connection()

        def rows(sql: str, parameters: object = None) -> float:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, parameters).scalar()
            found = plan if isinstance(plan, list) else json.loads(plan)
            return float(found[0]["Plan"]["Plan Rows"])

        checked = 0
        for table in ("commitment", "evidence", "history", "note"):
            whole = rows(f"SELECT * FROM {table}")
            for sql, parameters in statements:
                if sql.startswith(f"SELECT {table}.id, {table}."):
                    guess = rows(sql, parameters)
                    assert guess <= max(whole * 0.05, 1), (table, guess, whole)
                    checked += 1
        assert checked == 4
