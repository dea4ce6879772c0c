"""Issue 14: a public corrections log for commitments, restatements counted once, and the same
page at another address refused as a duplicate.

* ``correct_commitment`` (and ``mou-tracker commitment correct``) refuses a correction with no
  reason or no change, is version-checked, and keeps the old and new values in the append-only
  ``commitment_revision`` log, which dump and sync carry over byte for byte;
* sync records what a file changed in a commitment, with the sync's actor and the file's name;
* ``restates`` in commitments.toml names clauses of the same memorandum, one step deep;
* a URL that differs from a recorded one only in scheme or host case, default port, fragment
  or trailing slash is refused with the id of the record that has it (CLI, CSV import, sync).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import MINI

from mou_tracker.cli.main import main
from mou_tracker.domain import service
from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import ConflictError, InvalidInput, NotFound, RuleViolation
from mou_tracker.domain.models import CommitmentRevision, Evidence
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

MINI_TEXT = MINI.read_text(encoding="utf-8")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T2_OWNERS = 'owners = [{ party = "ACME", role = "lead" }]'


def _sync_text(engine: Any, body: str, actor: str = "tester", name: str = "commitments.toml"):  # type: ignore[no-untyped-def]
    doc = parse_document(body, name)
    return run_write(engine, lambda s: sync_document(s, doc, actor=actor))


def _dump(engine: Any) -> str:
    with read(engine) as s:
        return dump_document(s)


def _detail(engine: Any, ref: str):  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return commitment_detail(s, ref)


def _correct(engine: Any, ref: str, changes: dict[str, object], **kw: Any) -> CommitmentRevision:
    kw.setdefault("actor", "editor")
    kw.setdefault("reason", "The audit found the wording was wrong.")
    return run_write(engine, lambda s: service.correct_commitment(s, ref, changes, **kw))


def _cli(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", db_url, "--as", "editor", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


# --- correcting a commitment ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_correction_without_a_reason_is_refused(mini, reason):
    before = _dump(mini)
    with pytest.raises(InvalidInput, match="^reason: "):
        _correct(mini, "T-2", {"title": "Explore UK data centres"}, reason=reason)
    assert _dump(mini) == before


def test_the_cli_refuses_a_correction_without_a_reason(mini, db_url, capsys):
    before = _dump(mini)
    with pytest.raises(SystemExit) as usage:  # --reason missing: a usage error
        main(["--db", db_url, "commitment", "correct", "T-2", "--title", "New"])
    assert usage.value.code == 2
    assert "--reason" in capsys.readouterr().err
    code, _out, err = _cli(
        capsys, db_url, "commitment", "correct", "T-2", "--title", "New", "--reason", " "
    )
    assert code == 1 and err.count("\n") == 1 and "reason: must not be empty" in err
    code, _out, err = _cli(capsys, db_url, "commitment", "correct", "T-2", "--reason", "why")
    assert code == 1 and "give at least one field to correct" in err
    assert _dump(mini) == before


def test_a_correction_keeps_the_old_and_new_values(mini):
    revision = _correct(
        mini,
        "T-2",
        {
            "title": "Explore UK data centres",
            "strength": "may",
            "owners": "ACME:lead, GOV:support",
            "summary": "Acme may explore building compute.",
        },
        reason="The press release says 'may also explore'.",
    )
    assert revision.changes == [
        {"field": "title", "old": "Explore data centres", "new": "Explore UK data centres"},
        {
            "field": "summary",
            "old": "Acme may look at building compute.",
            "new": "Acme may explore building compute.",
        },
        {"field": "strength", "old": "explore", "new": "may"},
        {"field": "owners", "old": "ACME (lead)", "new": "ACME (lead), GOV (support)"},
    ]
    d = _detail(mini, "T-2")
    assert (d.title, d.strength) == ("Explore UK data centres", "may")
    assert [(o.code, o.role) for o in d.owners] == [("ACME", "lead"), ("GOV", "support")]
    assert d.version == 2 and d.updated_by == "editor"
    (log,) = d.corrections
    assert log.by == "editor" and log.reason == "The press release says 'may also explore'."
    assert log.recorded_at is not None and log.changes[0] == (
        "title",
        "Explore data centres",
        "Explore UK data centres",
    )


def test_a_correction_that_changes_nothing_is_refused(mini):
    with pytest.raises(RuleViolation, match="^changes: T-2 already has these values"):
        _correct(mini, "T-2", {"title": "Explore data centres", "owners": "ACME:lead"})


@pytest.mark.parametrize(
    ("changes", "exception", "needle"),
    [
        ({"status": "met"}, InvalidInput, "status: is not a field a correction changes"),
        ({"strength": "firm"}, InvalidInput, "strength: 'firm' is not one of"),
        ({"origin": "tweet"}, InvalidInput, "origin: 'tweet' is not one of"),
        ({"source_url": "ftp://x.org/a"}, InvalidInput, "source_url: must be an absolute http"),
        ({"title": "two\nlines"}, InvalidInput, "title: must be one line"),
        ({"owners": "ACME"}, InvalidInput, "owners: 'ACME' must be CODE:ROLE"),
        ({"owners": "ACME:boss"}, InvalidInput, "owners (ACME): 'boss' is not one of"),
        ({"owners": "ACME:lead,ACME:support"}, InvalidInput, "owners: ACME is listed twice"),
        ({"owners": " , "}, InvalidInput, "owners: needs at least one owner"),
        ({"owners": "NOPE:lead"}, NotFound, "owners: no party with code 'NOPE'"),
    ],
)
def test_bad_corrections_are_refused_naming_the_field(mini, changes, exception, needle):
    before = _dump(mini)
    with pytest.raises(exception) as refused:
        _correct(mini, "T-2", changes)
    assert str(refused.value).startswith(needle)
    assert _dump(mini) == before


def test_a_scored_commitment_with_a_history_cannot_become_vision(mini):
    with pytest.raises(RuleViolation, match="^strength: T-1 has a status or target history"):
        _correct(mini, "T-1", {"strength": "vision"})
    _correct(mini, "T-2", {"strength": "vision"})  # never assessed: it may
    assert _detail(mini, "T-2").strength == "vision"


def test_a_correction_is_version_checked(mini):
    _correct(mini, "T-2", {"title": "First fix"}, actor="alice")
    with pytest.raises(ConflictError, match="changed by alice at"):
        _correct(mini, "T-2", {"title": "Second fix"}, expected_version=1)
    _correct(mini, "T-2", {"title": "Second fix"}, expected_version=2)
    assert [r.reason for r in _detail(mini, "T-2").corrections] == [
        "The audit found the wording was wrong."
    ] * 2


def test_the_corrections_log_is_append_only_in_the_database(mini):
    _correct(mini, "T-2", {"title": "Explore UK data centres"})
    for statement in (
        "UPDATE commitment_revision SET reason = 'nothing happened'",
        "DELETE FROM commitment_revision",
    ):
        with pytest.raises(DBAPIError, match="append-only"), mini.begin() as conn:
            conn.execute(text(statement))
    if mini.dialect.name == "sqlite":
        with pytest.raises(DBAPIError, match="never replaced"), mini.begin() as conn:
            conn.execute(
                text(
                    "INSERT OR REPLACE INTO commitment_revision "
                    "(id, commitment_id, at, by, reason, changes) "
                    "VALUES (1, 1, '2026-01-01 00:00:00', 'x', 'y', '[]')"
                )
            )
    else:
        with pytest.raises(DBAPIError, match="TRUNCATE refused"), mini.begin() as conn:
            conn.execute(text("TRUNCATE commitment_revision"))
    assert [r.reason for r in _detail(mini, "T-2").corrections] == [
        "The audit found the wording was wrong."
    ]


def test_the_cli_corrects_and_show_prints_the_log(mini, db_url, capsys):
    code, out, err = _cli(
        capsys,
        db_url,
        "commitment",
        "correct",
        "T-2",
        "--strength",
        "may",
        "--owners",
        "ACME:lead,GOV:support",
        "--text-basis",
        "excerpt_only",
        "--reason",
        "The press release says may",
    )
    assert code == 0, err
    assert (
        "strength: explore -> may" in out
        and "owners: ACME (lead) -> ACME (lead), GOV (support)" in out
    )
    assert "T-2: corrected" in out
    code, out, _err = _cli(capsys, db_url, "show", "T-2")
    assert code == 0
    log = out[out.index("corrections (1):") :]
    assert "commitment  by editor: The press release says may" in log
    assert "text_basis: reconstructed -> excerpt_only" in log
    code, out, _err = _cli(capsys, db_url, "show", "T-2", "--format", "json")
    assert '"corrections": [' in out and '"reason": "The press release says may"' in out


def test_show_lists_evidence_corrections_in_the_same_log(mini, db_url, capsys):
    run_write(
        mini,
        lambda s: service.edit_evidence(
            s, 1, {"title": "Pilot announced in March"}, actor="staff", reason="title was short"
        ),
    )
    code, out, _err = _cli(capsys, db_url, "show", "T-1")
    assert code == 0
    assert "corrections (1):" in out and "evidence #1  by staff: title was short" in out


# --- dump and sync carry the log ---------------------------------------------------------------


def test_the_log_round_trips_through_dump_and_a_restore_byte_for_byte(mini, other_url):
    _correct(mini, "T-2", {"title": "Explore UK data centres"}, at=T0)  # back-dated: two times
    _correct(
        mini,
        "T-1",
        {
            "summary": "The parties will look for uses.\nIn public services.",
            "theme": "Public services",
        },
        actor="second editor",
        reason='Quotes "kept", and a newline\nin the reason',
    )
    first = _dump(mini)
    assert first.count("[[commitment.correction]]") == 2
    assert "recorded_at = " in first  # the back-dated one keeps both times
    restored = make_engine(other_url)
    try:
        create_schema(restored)
        report = _sync_text(restored, first, actor="restorer")
        assert report.added["corrections"] == 2
        assert _dump(restored) == first
        with read(mini) as a, read(restored) as b:
            assert (
                commitment_detail(a, "T-2").corrections == commitment_detail(b, "T-2").corrections
            )
        again = _sync_text(restored, first, actor="restorer")
        assert not again.changed and not again.conflicts
    finally:
        restored.dispose()


def test_sync_records_what_the_file_changed_in_a_commitment(mini):
    edited = MINI_TEXT.replace(
        'title = "Explore data centres"', 'title = "Explore UK data centres"'
    )
    edited = edited.replace(T2_OWNERS, T2_OWNERS[:-1] + ', { party = "GOV", role = "support" }]')
    report = _sync_text(mini, edited, actor="loader", name="reviewed.toml")
    assert report.updated["commitments"] == 1 and "corrections" not in report.added
    (log,) = _detail(mini, "T-2").corrections
    assert (log.by, log.reason) == ("loader", "changed in reviewed.toml by sync")
    assert log.changes == (
        ("title", "Explore data centres", "Explore UK data centres"),
        ("owners", "ACME (lead)", "ACME (lead), GOV (support)"),
    )
    assert not _sync_text(mini, edited, actor="loader").changed  # nothing more the second time


def test_sync_keeps_its_conflict_rule_and_logs_nothing_it_did_not_apply(mini):
    _correct(mini, "T-2", {"title": "Changed in the database"})
    report = _sync_text(
        mini, MINI_TEXT.replace('title = "Explore data centres"', 'title = "Changed in the file"')
    )
    assert report.conflicts == [
        "commitment T-2: the file and the database both changed it since the last sync"
    ]
    d = _detail(mini, "T-2")
    assert d.title == "Changed in the database" and len(d.corrections) == 1
    report = _sync_text(mini, MINI_TEXT)  # only the database changed: kept, nothing logged
    assert report.kept == ["commitment T-2"] and len(_detail(mini, "T-2").corrections) == 1


def test_a_corrected_dump_carries_its_reasons_into_a_database_seeded_from_the_old_file(
    mini, other_url
):
    _correct(mini, "T-2", {"strength": "may"}, reason="The text says may")
    dump = _dump(mini)
    other = make_engine(other_url)
    try:
        create_schema(other)
        _sync_text(other, MINI_TEXT)
        report = _sync_text(other, dump, actor="loader")
        assert report.updated["commitments"] == 1 and report.added["corrections"] == 1
        (log,) = _detail(other, "T-2").corrections
        # the file's own correction explains the change: no second, anonymous one
        assert (log.by, log.reason, log.changes) == (
            "editor",
            "The text says may",
            (("strength", "explore", "may"),),
        )
    finally:
        other.dispose()


def test_a_file_whose_corrections_diverge_is_a_conflict(mini):
    _correct(mini, "T-2", {"strength": "may"}, reason="database reason")
    body = _dump(mini).replace('reason = "database reason"', 'reason = "another reason"')
    report = _sync_text(mini, body)
    assert report.conflicts == [
        "commitment T-2: its corrections in the file diverge from the database at entry 1; "
        "database kept"
    ]
    assert [r.reason for r in _detail(mini, "T-2").corrections] == ["database reason"]


def _with_correction(entry: str) -> str:
    return MINI_TEXT.replace(T2_OWNERS, T2_OWNERS + "\n\n[[commitment.correction]]\n" + entry)


GOOD = 'at = 2026-01-01T00:00:00Z\nby = "ed"\nreason = "r"\n'


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        (GOOD + "changes = []", "changes", "lists no change"),
        (
            GOOD + 'changes = [{ field = "status", old = "a", new = "b" }]',
            "changes",
            "'status' is not a field a correction changes",
        ),
        (GOOD + 'changes = [{ field = "title" }]', "changes", "each change is { field, old, new }"),
        ('at = 2026-01-01T00:00:00Z\nby = "ed"\nchanges = []', "reason", "is required"),
        (
            GOOD + 'changes = [{ field = "title", old = "a", new = "b" }]\nsecret = 1',
            "secret",
            "unknown key",
        ),
    ],
)
def test_bad_corrections_in_a_file_name_the_line(entry, field, problem):
    with pytest.raises(InvalidInput) as refused:
        parse_document(_with_correction(entry))
    message = str(refused.value)
    assert message.startswith("commitments.toml:") and f"correction[1].{field}" in message
    assert problem in message


def test_corrections_in_a_file_are_in_order():
    change = 'changes = [{ field = "title", old = "a", new = "b" }]'
    body = _with_correction(
        GOOD + change + "\n\n[[commitment.correction]]\n"
        'at = 2025-12-01T00:00:00Z\nby = "ed"\nreason = "r"\n' + change
    )
    with pytest.raises(InvalidInput, match=r"correction\[2\]\.at: is earlier than"):
        parse_document(body)


# --- restatements ------------------------------------------------------------------------------


def _restating(refs: str) -> str:
    """mini.toml with T-2 (a press-release undertaking) restating ``refs``."""
    return MINI_TEXT.replace(T2_OWNERS, T2_OWNERS + f"\nrestates = {refs}")


def test_restates_is_stored_dumped_and_restored(mini, other_url):
    _sync_text(mini, _restating('["T-1"]'))
    d = _detail(mini, "T-2")
    assert d.restates == ("T-1",)
    (log,) = d.corrections  # a change to what is counted is public too
    assert log.changes == (("restates", "", "T-1"),)
    dump = _dump(mini)
    assert 'restates = ["T-1"]' in dump
    other = make_engine(other_url)
    try:
        create_schema(other)
        _sync_text(other, dump)
        assert _dump(other) == dump and _detail(other, "T-2").restates == ("T-1",)
    finally:
        other.dispose()


def test_a_file_without_restates_syncs_as_before(mini):
    report = _sync_text(mini, MINI_TEXT)  # the hash of a commitment without it is unchanged
    assert not report.changed and not report.conflicts


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (_restating('["T-2"]'), "a commitment cannot restate itself"),
        (_restating('["T-9"]'), "no commitment 'T-9' in this file"),
        (_restating("[]"), "is empty"),
        (_restating('["T-1", "T-1"]'), "T-1 is listed twice"),
        (_restating('"T-1"'), "must be an array"),
        (
            _restating('["T-1"]').replace(
                "[[commitment.evidence]]", 'restates = ["T-0"]\n\n[[commitment.evidence]]', 1
            ),
            "T-1 itself restates T-0: name that clause instead",
        ),
    ],
)
def test_restatements_are_checked(body, problem):
    with pytest.raises(InvalidInput) as refused:
        parse_document(body)
    message = str(refused.value)
    assert ".restates" in message and problem in message


def test_a_restatement_names_a_clause_of_the_same_memorandum():
    other_memo = (
        '[[memorandum]]\nslug = "other"\ntitle = "Another"\nparties = ["GOV"]\n'
        'signed = 2025-02-01\nsource_url = "https://example.org/other"\n'
        'legal_status = "Not binding."\nreview_cadence = "3 months"\n\n'
        '[[commitment]]\nref = "X-1"\nmemorandum = "other"\nsection = "1"\norigin = "clause"\n'
        'title = "Other"\nsummary = "Other."\nsource_url = "https://example.org/other#1"\n'
        'text_basis = "verified"\ntheme = "Other"\nstrength = "will"\n'
        'owners = [{ party = "GOV", role = "lead" }]\nrestates = ["T-1"]\n'
    )
    with pytest.raises(InvalidInput, match="T-1 belongs to memorandum gov-acme-2025, not other"):
        parse_document(MINI_TEXT + "\n" + other_memo)


# --- the same page at another address ----------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://example.org/a", "HTTPS://Example.ORG/a", True),
        ("https://example.org/a", "https://example.org:443/a", True),
        ("http://example.org/a", "http://example.org:80/a/", True),
        ("https://example.org/a", "https://example.org/a#section-2", True),
        ("https://example.org", "https://example.org/", True),
        ("https://example.org/a?x=1", "https://example.org/a/?x=1#top", True),
        ("https://example.org/a?x=1", "https://example.org/a?x=2", False),
        ("https://example.org/a", "https://example.org/A", False),
        ("https://example.org/a", "http://example.org/a", False),
        ("https://example.org/a", "https://example.org:8443/a", False),
        ("https://example.org/a", "https://www.example.org/a", False),
    ],
)
def test_same_page(a, b, same):
    assert (v.same_page(a) == v.same_page(b)) is same


def test_the_cli_refuses_the_same_page_with_the_id_of_the_record(mini, db_url, capsys):
    before = _dump(mini)
    code, _out, err = _cli(
        capsys,
        db_url,
        "evidence",
        "add",
        "T-1",
        "HTTPS://News.example.org:443/pilot/#top",
        "--title",
        "Mirror",
    )
    assert code == 1
    assert err == (
        "mou-tracker: error: url: same page as evidence #1 (https://news.example.org/pilot)\n"
    )
    assert _dump(mini) == before
    # the same page on another commitment is another record, as before
    code, _out, err = _cli(
        capsys,
        db_url,
        "evidence",
        "add",
        "T-2",
        "https://news.example.org/pilot/",
        "--title",
        "Pilot",
    )
    assert code == 0, err


def test_correcting_a_url_to_the_same_page_as_another_record_is_refused(mini):
    with pytest.raises(RuleViolation, match=r"^url: same page as evidence #1 \(https://news"):
        run_write(
            mini,
            lambda s: service.edit_evidence(
                s, 2, {"url": "https://news.example.org/pilot#x"}, actor="staff", reason="moved"
            ),
        )


def test_csv_import_refuses_the_same_page_with_the_id_and_the_row(mini, db_url, capsys, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(
        "ref,url,title\n"
        "T-2,https://e.example.org/new,New\n"
        "T-1,https://news.example.org/pilot/,Mirror of the pilot\n"
        "T-2,HTTPS://E.example.org/new#x,The new one again\n",
        encoding="utf-8",
    )
    before = _dump(mini)
    code, _out, err = _cli(capsys, db_url, "evidence", "import", str(links))
    assert code == 1 and err.count("\n") == 1
    assert "links.csv row 3: url: same page as evidence #1 (https://news.example.org/pilot)" in err
    assert "1 more row(s) have errors (rows 4)" in err
    assert _dump(mini) == before
    rows = [(4, {"ref": "T-2", "url": "https://e.example.org/new/", "title": "x"})]
    rows.insert(0, (2, {"ref": "T-2", "url": "https://e.example.org/new", "title": "y"}))
    with pytest.raises(InvalidInput, match=r"row 4: url: same page as row 2 for T-2"):
        run_write(mini, lambda s: service.import_evidence(s, rows, actor="staff"))


def test_sync_refuses_the_same_page_with_the_id_of_the_record(mini):
    before = _dump(mini)
    body = MINI_TEXT.replace(
        'url = "https://gov.example.org/undated"', 'url = "https://GOV.example.org/undated/"'
    )
    with pytest.raises(InvalidInput) as refused:
        _sync_text(mini, body)
    assert str(refused.value) == (
        "commitments.toml: commitment[T-1].evidence[2].url: same page as evidence #2 "
        "(https://gov.example.org/undated)"
    )
    assert _dump(mini) == before


def test_a_file_listing_one_page_twice_is_refused_with_its_line():
    second = (
        '[[commitment.evidence]]\nid = 7\nurl = "https://news.example.org/pilot#more"\n'
        'title = "Again"\nkind = "news_report"\ndirection = "context"\n'
        'confidence = "secondary"\nadded_by = "seed"\nadded_at = 2025-04-01T00:00:00Z\n\n'
    )
    body = MINI_TEXT.replace(
        '[[commitment.evidence]]\nurl = "https://news.example.org/pilot"',
        '[[commitment.evidence]]\nid = 3\nurl = "https://news.example.org/pilot"',
    ).replace("[[commitment.history]]", second + "[[commitment.history]]", 1)
    with pytest.raises(InvalidInput) as refused:
        parse_document(body)
    message = str(refused.value)
    assert "commitment[T-1].evidence[3].url" in message
    assert message.endswith("same page as evidence #3 (https://news.example.org/pilot)")


def test_nothing_of_the_refused_sync_is_half_written(mini):
    """The refusal comes after commitments were compared: the whole sync rolls back."""
    body = MINI_TEXT.replace(
        'title = "Explore data centres"', 'title = "Explore UK data centres"'
    ).replace(
        'url = "https://gov.example.org/undated"', 'url = "https://gov.example.org/undated#x"'
    )
    with pytest.raises(InvalidInput, match="same page as evidence #2"):
        _sync_text(mini, body)
    d = _detail(mini, "T-2")
    assert d.title == "Explore data centres" and d.corrections == ()
    with read(mini) as s:
        assert s.scalar(select(Evidence.id).where(Evidence.url.like("%undated#x"))) is None


def test_a_back_dated_correction_keeps_both_times(mini):
    revision = _correct(mini, "T-2", {"theme": "Compute"}, at=T0)
    assert revision.at == T0 and revision.recorded_at is not None
    assert revision.recorded_at - T0 > timedelta(days=1)
