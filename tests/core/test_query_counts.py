"""The read side issues a bounded number of queries whatever the number of commitments: no
per-row lazy loads (the models declare no relationships at all, so there is nothing to load
lazily), lists in a fixed number of queries, details and exports in a fixed number per batch."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from tests.tui.bulk import bulk_sqlite

from mou_tracker.domain.queries import commitment_details, list_commitments, status_counts
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import make_engine, read


@contextmanager
def counting(engine):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def before(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture(scope="module")
def trackers(tmp_path_factory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("counts")
    engines = {n: make_engine(bulk_sqlite(base / f"t{n}.db", n)) for n in (40, 1200)}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _count(engine, action) -> int:  # type: ignore[no-untyped-def]
    with read(engine) as session:
        action(session)  # warm: the first use of a connection runs set-up statements
        with counting(engine) as statements:
            action(session)
    return len(statements)


def test_the_list_takes_the_same_queries_for_40_or_1200_commitments(trackers):
    counts = {n: _count(e, lambda s: list_commitments(s)) for n, e in trackers.items()}
    assert counts[40] == counts[1200] <= 3, counts
    counts = {n: _count(e, lambda s: status_counts(s)) for n, e in trackers.items()}
    assert counts[40] == counts[1200] == 1


def test_details_take_the_same_queries_whatever_the_number(trackers):
    counts = {n: _count(e, lambda s: commitment_details(s)) for n, e in trackers.items()}
    assert counts[40] == counts[1200] <= 12, counts


def test_an_export_takes_a_fixed_number_of_queries_per_batch_of_500(trackers, tmp_path):
    def run(engine, name):  # type: ignore[no-untyped-def]
        with read(engine) as session, counting(engine) as statements:
            export(session, tmp_path / name, formats=("md", "json", "csv"))
        return len(statements)

    small, large = run(trackers[40], "small"), run(trackers[1200], "large")
    # 1200 commitments are three batches, 40 are one: two more batches' worth, no more.
    per_batch = 12
    assert large - small <= 2 * per_batch, (small, large)
