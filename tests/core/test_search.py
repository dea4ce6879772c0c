"""One search (issue 16 item 2, issue 17 item 3): the same words select the same commitments
through the command line, the terminal UI's data layer and the reports' data, and the database's
search index selects what a plain scan of the tables selects, on both backends, after every kind
of write (sync, evidence import, corrections, plain SQL, a migration of an old database)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col
from tests.conftest import SHIPPED, sync_file

from mou_tracker.domain import derived
from mou_tracker.domain import queries as q
from mou_tracker.domain.models import Commitment, Evidence
from mou_tracker.storage.engine import make_engine, read, run_write
from mou_tracker.storage.migrate import create_schema, upgrade
from mou_tracker.tui import data as ui

TODAY = date(2026, 11, 27)

# On the shipped commitments.toml: words in any order and any case, refs, owners' codes and
# names, evidence titles, short words, punctuation that LIKE and FTS5 treat specially.
QUERIES = (
    "sovereign compute",
    "compute sovereign",
    "SOVEREIGN",
    "oai-3",
    "OAI-3.1",
    "dsit",
    "department for science",
    "openai",
    "growth zone",
    "ai",
    "a",
    "é",
    "100%",
    "_",
    'the "',
    "security institute",
    "no-such-word-anywhere",
    "compute zzzz",
    "  sovereign   compute  ",
)


def _indexed(session, words: str) -> list[str]:
    return [r.ref for r in q.list_commitments(session, q.ListFilter(search=words), sort="ref")]


def _first_page(session, words: str) -> list[str]:
    """The condition a page in clause order uses, forced each way: by the index, and row by
    row against the tables (what it does for common words)."""
    found = []
    for many in (False, True):
        derived_matches_many = derived.matches_many
        derived.matches_many = lambda *a, **k: many  # type: ignore[assignment]
        try:
            cond = derived.page_condition(session, words)
        finally:
            derived.matches_many = derived_matches_many  # type: ignore[assignment]
        query = select(col(Commitment.ref)).where(cond).order_by(col(Commitment.ref))
        found.append(list(session.scalars(query)))
    assert found[0] == found[1], words
    return found[0]


def _scanned(session, words: str) -> list[str]:
    query = (
        select(col(Commitment.ref))
        .where(*derived.scan_conditions(words, session.get_bind().dialect.name))
        .order_by(col(Commitment.ref))
    )
    return list(session.scalars(query))


def _by_rule(session, words: str) -> list[str]:
    """The rule applied in Python to what the reports read (``commitment_details``)."""
    return sorted(
        d.ref for d in q.commitment_details(session) if derived.matches(words, derived.texts(d))
    )


def _agree(engine, queries=QUERIES) -> dict[str, list[str]]:
    found = {}
    with read(engine) as session:
        for words in queries:
            indexed = _indexed(session, words)
            assert indexed == _scanned(session, words), words
            assert indexed == _first_page(session, words), words
            assert indexed == _by_rule(session, words), words
            assert q.count_commitments(session, q.ListFilter(search=words)) == len(indexed)
            found[words] = indexed
    return found


@pytest.fixture
def shipped(engine):  # type: ignore[no-untyped-def]
    sync_file(engine, SHIPPED)
    return engine


def test_sovereign_compute_is_words_in_any_order(shipped):
    found = _agree(shipped)
    assert found["sovereign compute"] == found["compute sovereign"] != []
    assert found["sovereign compute"] == found["  sovereign   compute  "]
    assert "OAI-3.2" in found["sovereign compute"]
    assert found["no-such-word-anywhere"] == [] and found["compute zzzz"] == []
    assert "OAI-3.1" in found["OAI-3.1"] and "OAI-3.10" not in found["OAI-3.1"]
    assert set(found["oai-3"]) >= {"OAI-3.1", "OAI-3.2"}
    with read(shipped) as session:
        total = q.count_commitments(session)
    assert len(found["a"]) == total  # a one-letter word is still a substring search


def test_the_cli_the_ui_and_the_reports_agree(shipped, db_url, tmp_path):
    from tests.conftest import InProcessCli, _home

    from mou_tracker.reports.model import snapshot

    cli = InProcessCli(db_url, _home(tmp_path))
    for words in QUERIES:
        result = cli("list", "--format", "json", "--search", words)
        assert result.code == 0, result.err
        by_cli = sorted(r["ref"] for r in json.loads(result.out))
        vq = ui.ViewQuery(search=words)
        with read(shipped) as session:
            page = ui.fetch_page(session, vq, TODAY, 0, limit=1000)
            by_ui = sorted(r.ref for r in page.rows)
            assert ui.count(session, vq, TODAY) == len(by_ui)
            snap = snapshot(session, TODAY)  # what every report is built from
            details = {d.ref: d for d in q.commitment_details(session, include_internal=False)}
            by_reports = sorted(
                r.ref for r in snap.rows if derived.matches(words, derived.texts(details[r.ref]))
            )
        assert by_cli == by_ui == by_reports, words


def test_the_index_follows_every_write(shipped, db_url, tmp_path):
    from tests.conftest import InProcessCli, _home

    cli = InProcessCli(db_url, _home(tmp_path))
    word = "quokkaharbour"
    assert _agree(shipped, (word,))[word] == []

    # An evidence import (all rows in one transaction, through the CLI).
    csv = tmp_path / "links.csv"
    csv.write_text(
        "ref,url,title\n"
        f"OAI-2.1,https://example.org/q1,Report on {word} pilots\n"
        "OAI-2.2,https://example.org/q2,Another title\n",
        encoding="utf-8",
    )
    assert cli("evidence", "import", str(csv)).code == 0
    assert _agree(shipped, (word, f"{word} pilots"))[word] == ["OAI-2.1"]

    # A correction of an evidence title: the old words go, the new ones come.
    with read(shipped) as session:
        eid = session.scalar(text("SELECT id FROM evidence WHERE url = 'https://example.org/q1'"))
    changed = cli("evidence", "edit", str(eid), "--title", "Renamed", "--reason", "typo")
    assert changed.code == 0, changed.err
    assert _agree(shipped, (word, "renamed"))[word] == []

    # A correction of a commitment's wording and of its owners.
    corrected = cli(
        "commitment", "correct", "OAI-3.1", "--summary", f"Now about {word}.",
        "--owners", "DSIT:lead", "--reason", "Clearer",
    )  # fmt: skip
    assert corrected.code == 0, corrected.err
    found = _agree(shipped, (word, "openai", "dsit"))
    assert found[word] == ["OAI-3.1"]
    assert "OAI-3.1" not in found["openai"] or _owned_by_openai_elsewhere(shipped)

    # A party renamed with plain SQL: the triggers are in the database, not in the tracker.
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE party SET name = 'Ministry of Quokkas' WHERE code = 'DSIT'"))
        found = _agree(engine, ("quokkas", "department for science"))
        assert "OAI-3.1" in found["quokkas"] and found["department for science"] == []
    finally:
        engine.dispose()


def _owned_by_openai_elsewhere(engine) -> bool:
    """OAI-3.1 may still match "openai" through its evidence titles or its wording."""
    with read(engine) as session:
        d = q.commitment_detail(session, "OAI-3.1")
    return derived.matches("openai", derived.texts(d))


def test_a_sync_again_and_a_dump_restore_keep_it(shipped, other_url):
    from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

    sync_file(shipped, SHIPPED)  # a no-op sync
    before = _agree(shipped)
    with read(shipped) as session:
        doc = parse_document(dump_document(session))
    other = make_engine(other_url)
    try:
        create_schema(other)
        run_write(other, lambda s: sync_document(s, doc, actor="tester"))
        assert _agree(other) == before
    finally:
        other.dispose()


def test_an_old_database_gets_the_index_by_migration(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0009")
        sync_file(engine, SHIPPED)  # written before the index existed
        with engine.connect() as conn:
            tables = _tables(conn)
        assert derived.SEARCH_TABLE not in tables
        upgrade(engine)
        with read(engine) as session:
            n = session.scalar(select(func.count()).select_from(text(derived.SEARCH_TABLE)))
            evidence = session.scalar(select(func.count()).select_from(Evidence))
            assert n == q.count_commitments(session) + evidence  # a row each
        found = _agree(engine)
        assert "OAI-3.2" in found["sovereign compute"]
    finally:
        engine.dispose()


def _tables(conn) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())


def test_derived_review_and_evidence_facts():
    assert derived.is_overdue("will", date(2026, 1, 1), date(2026, 1, 2))
    assert not derived.is_overdue("will", date(2026, 1, 2), date(2026, 1, 2))
    assert not derived.is_overdue("vision", date(2020, 1, 1), date(2026, 1, 2))
    assert not derived.is_overdue("may", None, date(2026, 1, 2))
    limit = derived.STALE_AFTER_DAYS
    today = date(2026, 7, 1)
    assert derived.is_stale("may", None, today)
    assert not derived.is_stale("vision", None, today)
    assert not derived.is_stale("may", date.fromordinal(today.toordinal() - limit), today)
    assert derived.is_stale("may", date.fromordinal(today.toordinal() - limit - 1), today)
    assert derived.next_review(None, date(2025, 1, 31), "1 month") == date(2025, 2, 28)
    assert derived.next_review(date(2025, 6, 1), date(2025, 1, 15), "3 months") == date(2025, 9, 1)
    assert derived.search_words("  a  B ") == ["a", "B"]
    assert derived.matches("b a", ["xAx", "yby"]) and not derived.matches("ab", ["a", "b"])


def test_rows_a_plain_sql_writer_leaves_pending_are_found_and_merged(shipped, db_url, tmp_path):
    """SQLite: an evidence row written outside the tracker waits in the pending table and is
    found from there; the next tracker write moves it into the FTS5 table."""
    from tests.conftest import InProcessCli, _home

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO evidence (commitment_id, url, title, kind, direction, "
                    "confidence, added_by, added_at, version, updated_at, updated_by, "
                    "recorded_at) SELECT id, 'https://example.org/plain', 'Wallaby depot', "
                    "'news_report', 'context', 'secondary', 'sql', :now, 1, :now, 'sql', :now "
                    "FROM commitment WHERE ref = 'OAI-2.2'"
                ),
                {"now": "2026-07-01 12:00:00.000000"},
            )
        assert _agree(engine, ("wallaby", "wallaby depot"))["wallaby"] == ["OAI-2.2"]
        cli = InProcessCli(db_url, _home(tmp_path))
        assert cli("note", "add", "OAI-2.1", "A note").code == 0  # any tracker write
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                waiting = conn.execute(text("SELECT count(*) FROM commitment_search_pending"))
                assert waiting.scalar() == 0
        assert _agree(engine, ("wallaby",))["wallaby"] == ["OAI-2.2"]
    finally:
        engine.dispose()


def test_letters_beyond_ascii_match_in_either_case_on_every_path(shipped, db_url, tmp_path):
    """SQLite's LIKE and lower() fold ASCII only; FTS5 and the rule (str.lower) fold every
    letter. One- and two-letter words (not in the trigram index), the scan used for common
    words and the palette must fold ``É`` to ``é`` too, on both backends."""
    from tests.conftest import InProcessCli, _home

    cli = InProcessCli(db_url, _home(tmp_path))
    csv = tmp_path / "accents.csv"
    csv.write_text(
        "ref,url,title\n"
        "OAI-2.1,https://example.org/e1,ÉCOLE NUMÉRIQUE du Nord\n"
        "OAI-2.2,https://example.org/e2,étude sur l'Œuvre [draft*?]\n",
        encoding="utf-8",
    )
    assert cli("evidence", "import", str(csv)).code == 0
    queries = ("é", "É", "école", "ÉCOLE", "numérique", "œ", "Œuvre", "Ét", "[draft*?]", "e*")
    found = _agree(shipped, queries)
    assert found["é"] == found["É"] and {"OAI-2.1", "OAI-2.2"} <= set(found["é"])
    assert found["école"] == found["ÉCOLE"] == ["OAI-2.1"]
    assert found["œ"] == found["Œuvre"] == ["OAI-2.2"] == found["[draft*?]"]
    assert "OAI-2.2" in found["Ét"] and found["e*"] == []
    cli("commitment", "correct", "OAI-3.1", "--title", "Écoles et données", "--reason", "Test")
    with read(shipped) as session:
        assert [r for r, _ in ui.find(session, "éCOLES")] == ["OAI-3.1"]
        assert [r for r, _ in ui.find(session, "DONNÉES")] == ["OAI-3.1"]
