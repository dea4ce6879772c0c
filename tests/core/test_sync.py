"""TOML validation (line-precise errors), sync (idempotent, three-way, append-only) and dump."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.conftest import MINI, SHIPPED, sync_file

from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

MINI_TEXT = MINI.read_text(encoding="utf-8")


def _sync_text(engine, text, actor="tester"):
    doc = parse_document(text)
    return run_write(engine, lambda s: sync_document(s, doc, actor=actor))


def _dump(engine) -> str:
    with read(engine) as s:
        return dump_document(s)


def test_second_sync_changes_nothing_and_says_so(engine):
    first = sync_file(engine)
    assert first.added["commitments"] == 3 and first.added["evidence"] == 2
    before = _dump(engine)
    second = sync_file(engine)
    assert not second.changed and second.summary() == "already in sync: nothing changed"
    assert _dump(engine) == before


def test_sync_adds_only_what_is_new(mini):
    text = MINI_TEXT.replace(
        "[[commitment.history]]\nat = 2025-03-05",
        '[[commitment.evidence]]\nurl = "https://news.example.org/second"\ntitle = "Second"\n'
        'kind = "news_report"\ndirection = "context"\nconfidence = "secondary"\n'
        'added_by = "seed"\nadded_at = 2025-04-01T00:00:00Z\n\n[[commitment.history]]\nat = 2025-03-05',
    )
    report = _sync_text(mini, text)
    assert dict(report.added) == {"evidence": 1}


def test_file_edit_updates_an_unedited_record(mini):
    report = _sync_text(
        mini,
        MINI_TEXT.replace('title = "Explore data centres"', 'title = "Explore UK data centres"'),
    )
    assert report.updated["commitments"] == 1 and not report.conflicts
    with read(mini) as s:
        assert commitment_detail(s, "T-2").title == "Explore UK data centres"


def test_database_edit_is_newer_and_kept(mini):
    with read(mini) as s:
        eid = commitment_detail(s, "T-1").evidence[0].id
    run_write(
        mini,
        lambda s: service.edit_evidence(
            s, eid, {"title": "Edited in the database"}, actor="x", reason="fix"
        ),
    )
    report = sync_file(mini)
    assert report.kept and not report.conflicts and not report.changed
    with read(mini) as s:
        assert commitment_detail(s, "T-1").evidence[0].title == "Edited in the database"


def test_both_edited_is_a_reported_conflict_and_the_database_wins(mini):
    with read(mini) as s:
        eid = commitment_detail(s, "T-1").evidence[0].id
    run_write(
        mini,
        lambda s: service.edit_evidence(
            s, eid, {"title": "Database title"}, actor="x", reason="fix"
        ),
    )
    report = _sync_text(
        mini, MINI_TEXT.replace('title = "Pilot announced"', 'title = "File title"')
    )
    assert len(report.conflicts) == 1 and "both changed" in report.conflicts[0]
    with read(mini) as s:
        assert commitment_detail(s, "T-1").evidence[0].title == "Database title"


def test_newer_database_history_is_kept(mini):
    run_write(
        mini, lambda s: service.change_status(s, "T-1", "not_started", actor="y", reason="reset")
    )
    report = sync_file(mini)
    assert not report.changed and not report.conflicts
    with read(mini) as s:
        assert commitment_detail(s, "T-1").status == "not_started"


def test_longer_file_history_is_appended(mini):
    text = MINI_TEXT.replace(
        "[[commitment.note]]\nat = 2025-03-06T10:00:00Z",
        '[[commitment.history]]\nat = 2025-05-01T00:00:00Z\nby = "seed"\nfrom = "in_progress"\nto = "met"\n'
        'reason = "Done."\nevidence = ["https://news.example.org/pilot"]\n\n[[commitment.note]]\nat = 2025-03-06T10:00:00Z',
    )
    report = _sync_text(mini, text)
    assert report.added["history entries"] == 1
    with read(mini) as s:
        assert commitment_detail(s, "T-1").status == "met"


def test_diverging_history_is_a_conflict_not_a_rewrite(mini):
    report = _sync_text(
        mini, MINI_TEXT.replace('reason = "The pilot started."', 'reason = "Rewritten."')
    )
    assert any("diverges" in c for c in report.conflicts)
    with read(mini) as s:
        assert commitment_detail(s, "T-1").history[0].reason == "The pilot started."


def test_sync_never_deletes(mini):
    text = MINI_TEXT.split('[[commitment]]\nref = "T-2"')[0]
    report = _sync_text(mini, text)
    assert not report.changed
    with read(mini) as s:
        assert commitment_detail(s, "T-2").ref == "T-2"


# --- validation names the line --------------------------------------------------------------


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "problem"),
    [
        (
            'url = "https://news.example.org/pilot"',
            'url = "javascript:alert(1)"',
            "javascript:",
            "evidence[1].url",
            "http or https",
        ),
        ('strength = "will"', 'strength = "must"', '"must"', "strength", "not one of"),
        ("published = 2025-03-01", 'published = "yesterday"', '"yesterday"', "published", "date"),
        ('to = "in_progress"', 'to = "done"', '"done"', "history[1].to", "not one of"),
        (
            'ref = "T-2"',
            'ref = "T-1"',
            'ref = "T-1"\nmemorandum = "gov-acme-2025"\nsection = "2',
            "ref",
            "duplicate",
        ),
        (
            '{ party = "ACME", role = "support" }',
            '{ party = "NOBODY", role = "support" }',
            "NOBODY",
            "owners[2].party",
            "unknown party",
        ),
        (
            "at = 2025-03-05T17:00:00Z",
            "at = 2025-03-05T17:00:00",
            "2025-03-05T17:00:00\n",
            "history[1].at",
            "offset",
        ),
        (
            'title = "Shared intent"',
            'colour = "blue"\ntitle = "Shared intent"',
            "colour",
            "colour",
            "unknown key",
        ),
        (
            'evidence = ["https://news.example.org/pilot"]',
            "evidence = []",
            "evidence = []",
            "history[1].evidence",
            "must cite",
        ),
        (
            'title = "Pilot announced"',
            'title = "Pilot\\u0007announced"',
            "Pilot\\u0007",
            "title",
            "control character",
        ),
    ],
)
def test_errors_name_line_field_and_problem(old, new, needle, field, problem):
    assert old in MINI_TEXT
    text = MINI_TEXT.replace(old, new, 1)
    with pytest.raises(InvalidInput) as info:
        parse_document(text)
    message = str(info.value)
    assert f"commitments.toml:{_line_of(text, needle)}:" in message, message
    assert field in message and problem in message
    assert "\n" not in message


def test_syntax_errors_carry_the_line():
    text = MINI_TEXT.replace('kind = "company"', 'kind = "company', 1)
    with pytest.raises(
        InvalidInput,
        match=rf"commitments.toml:{_line_of(text, 'kind = ' + chr(34) + 'company')}: invalid TOML",
    ):
        parse_document(text)


def test_wrong_types_are_refused():
    with pytest.raises(InvalidInput, match="must be text"):
        parse_document(MINI_TEXT.replace('title = "Shared intent"', "title = 42"))
    with pytest.raises(InvalidInput, match="TOML date"):
        parse_document(MINI_TEXT.replace("signed = 2025-01-15", 'signed = "2025-01-15"'))


# --- round trips -----------------------------------------------------------------------------


def _roundtrip(engine, tmp_url: str) -> tuple[str, str]:
    first = _dump(engine)
    other = make_engine(tmp_url)
    create_schema(other)
    _sync_text(other, first, actor="restorer")
    second = _dump(other)
    other.dispose()
    return first, second


def test_dump_sync_dump_is_identical(mini, tmp_path):
    ev = run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://x.example.org/a", title="A", published="2026-01-02"
            ),
            actor="a",
        ),
    )
    run_write(
        mini,
        lambda s: service.change_status(
            s, "T-2", "in_progress", actor="a", reason="multi\nline", evidence=[ev.id]
        ),
    )
    run_write(
        mini,
        lambda s: service.edit_evidence(
            s, ev.id, {"publisher": "Pub"}, actor="b", reason="add publisher"
        ),
    )
    run_write(mini, lambda s: service.record_review(s, "T-1", actor="c", note="fine"))
    run_write(
        mini,
        lambda s: service.add_note(s, "T-2", "internal *note*", actor="d", visibility="internal"),
    )
    first, second = _roundtrip(mini, f"sqlite:///{tmp_path / 'restored.db'}")
    assert first == second
    assert 'visibility = "internal"' in first


@pytest.mark.skipif(not SHIPPED.exists(), reason="commitments.toml not written yet")
def test_shipped_file_round_trips(engine, tmp_path):
    sync_file(engine, SHIPPED)
    first, second = _roundtrip(engine, f"sqlite:///{tmp_path / 'restored.db'}")
    assert first == second


def test_shipped_file_path_is_installed_or_in_the_repo():
    from mou_tracker.storage.engine import seed_file

    assert seed_file().name == "commitments.toml"
    assert (
        seed_file().resolve() == SHIPPED.resolve()
        or "site-packages" in str(seed_file())
        or "mou_tracker/data" in str(seed_file())
    )


def test_long_signatories_and_corrections_stay_inline_in_the_dump(engine, tmp_path):
    """Regression: tomli_w writes a list of long dicts as [[key]] tables, which escaped the
    enclosing [[memorandum]] and made the shipped file's dump unreadable."""
    long_role = "Secretary of State for Science, Innovation and Technology " * 3
    text = MINI_TEXT.replace('role = "Secretary of State"', f'role = "{long_role.strip()}"')
    _sync_text(engine, text)
    ev = run_write(
        engine,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(url="https://x.example.org/b", title="B"),
            actor="a",
        ),
    )
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s,
            ev.id,
            {"title": "A much longer corrected title " * 5},
            actor="b",
            reason="fix",
        ),
    )
    first, second = _roundtrip(engine, f"sqlite:///{tmp_path / 'restored.db'}")
    assert first == second
    assert "[[signatories]]" not in first and "[[changes]]" not in first


# --- nothing from the future, nothing outside 1900-2200 -------------------------------------

_RETARGET = (
    '[[commitment.retarget]]\nat = {at}\nby = "pm"\nfrom = 2026-06-30\nto = 2026-12-31\n'
    'reason = "Delay."\nevidence = "https://news.example.org/pilot"\n\n[[commitment]]\nref = "T-2"'
)


def _with_target(text: str, at: str = "2025-04-01T00:00:00Z") -> str:
    text = text.replace(
        "last_reviewed = 2025-06-01", "last_reviewed = 2025-06-01\ntarget = 2026-06-30"
    )
    return text.replace('[[commitment]]\nref = "T-2"', _RETARGET.format(at=at), 1)


FUTURE_CASES = [
    # (label, edit of MINI_TEXT, text on the refused line, field named)
    (
        "history at",
        lambda t: t.replace("at = 2025-03-05T17:00:00Z", "at = 2100-03-05T17:00:00Z"),
        "2100-03-05T17",
        "history[1].at",
    ),
    (
        "evidence added_at",
        lambda t: t.replace(
            "added_at = 2025-03-02T09:00:00Z", "added_at = 2100-03-02T09:00:00Z", 1
        ),
        "2100-03-02T09",
        "evidence[1].added_at",
    ),
    (
        "revision at",
        lambda t: t.replace(
            "added_at = 2025-03-02T09:00:00Z\n",
            "added_at = 2025-03-02T09:00:00Z\n\n[[commitment.evidence.revision]]\n"
            'at = 2100-01-01T00:00:00Z\nby = "x"\nreason = "fix"\nchanges = []\n',
            1,
        ),
        "2100-01-01T00",
        "evidence[1].revision[1].at",
    ),
    (
        "note at",
        lambda t: t.replace("at = 2025-03-06T11:00:00Z", "at = 2100-03-06T11:00:00Z"),
        "2100-03-06T11",
        "note[2].at",
    ),
    (
        "retarget at",
        lambda t: _with_target(t, at="2100-01-01T00:00:00Z"),
        "2100-01-01T00",
        "retarget[1].at",
    ),
    (
        "commitment added_at",
        lambda t: t.replace(
            'title = "Explore data centres"',
            'title = "Explore data centres"\nadded_at = 2100-01-01T00:00:00Z',
        ),
        "2100-01-01T00",
        "commitment[T-2].added_at",
    ),
    (
        "last_reviewed",
        lambda t: t.replace("last_reviewed = 2025-06-01", "last_reviewed = 2100-06-01"),
        "2100-06-01",
        "last_reviewed",
    ),
    (
        "published",
        lambda t: t.replace("published = 2025-03-01", "published = 2100-03-01"),
        "2100-03-01",
        "evidence[1].published",
    ),
    (
        "link check",
        lambda t: (
            t + '\n[[link_check]]\nurl = "https://news.example.org/pilot"\n'
            'checked_at = 2100-01-01T00:00:00Z\nstate = "ok"\n'
        ),
        "2100-01-01T00",
        "link_check[1].checked_at",
    ),
    (
        "sync run",
        lambda t: (
            t + '\n[[sync_run]]\nat = 2100-01-01T00:00:00Z\nby = "x"\nfile = "a.toml"\n'
            f'sha256 = "{"0" * 64}"\n'
        ),
        "2100-01-01T00",
        "sync_run[1].at",
    ),
]


@pytest.mark.parametrize(
    ("label", "edit", "needle", "field"), FUTURE_CASES, ids=[c[0] for c in FUTURE_CASES]
)
def test_anything_dated_in_the_future_is_refused_with_its_line(label, edit, needle, field):
    text = edit(MINI_TEXT)
    assert text != MINI_TEXT
    with pytest.raises(InvalidInput) as info:
        parse_document(text)
    message = str(info.value)
    assert f"commitments.toml:{_line_of(text, needle)}:" in message, message
    assert field in message and "is in the future" in message and "\n" not in message
    if "T" in needle:  # a time: the allowed clock skew is stated
        assert "5 minutes" in message


def test_a_few_minutes_of_clock_skew_are_allowed():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ahead = MINI_TEXT.replace("at = 2025-03-06T11:00:00Z", "at = 2030-01-01T00:04:59Z")
    assert parse_document(ahead, now=now).commitments[1]["notes"][1]["at"].minute == 4
    too_far = MINI_TEXT.replace("at = 2025-03-06T11:00:00Z", "at = 2030-01-01T00:05:01Z")
    with pytest.raises(InvalidInput, match="in the future"):
        parse_document(too_far, now=now)
    # A date is in the future while that day has begun nowhere on Earth: at noon UTC it is
    # already tomorrow at UTC+14, but not the day after.
    noon = datetime(2030, 1, 1, 12, tzinfo=UTC)
    tomorrow = MINI_TEXT.replace("last_reviewed = 2025-06-01", "last_reviewed = 2030-01-02")
    assert parse_document(tomorrow, now=noon).commitments[1]["last_reviewed"].day == 2
    with pytest.raises(InvalidInput, match="in the future"):
        parse_document(tomorrow, now=now)
    with pytest.raises(InvalidInput, match="in the future"):
        parse_document(tomorrow.replace("2030-01-02", "2030-01-03"), now=noon)


def test_a_future_publication_date_is_refused_by_sync_as_by_every_other_way_in(mini, monkeypatch):
    """One rule for "today" (validate.day_not_in_future: the date in UTC+14), judged on the
    tracker's clock, with the same message as the CLI, CSV and forms; nothing is saved."""
    from mou_tracker.domain import clock

    monkeypatch.setattr(clock, "now", lambda: datetime(2030, 1, 1, 12, tzinfo=UTC))
    before = _dump(mini)
    later = MINI_TEXT.replace("published = 2025-03-01", "published = 2030-01-03")
    with pytest.raises(InvalidInput) as info:
        _sync_text(mini, later)
    assert str(info.value) == (
        f"commitments.toml:{_line_of(later, 'published = 2030-01-03')}: "
        "commitment[T-1].evidence[1].published: 2030-01-03 is in the future (today is "
        "2030-01-01 in UTC, and no time zone has reached 2030-01-03 yet)"
    )
    assert _dump(mini) == before
    # 2 January has begun in UTC+14 at noon UTC on 1 January: accepted, as `evidence add` does
    text = MINI_TEXT.replace(
        "[[commitment.history]]\nat = 2025-03-05",
        '[[commitment.evidence]]\nurl = "https://news.example.org/kiribati"\ntitle = "Early"\n'
        'published = 2030-01-02\nkind = "news_report"\ndirection = "context"\n'
        'confidence = "secondary"\nadded_by = "seed"\nadded_at = 2030-01-01T11:00:00Z\n\n'
        "[[commitment.history]]\nat = 2025-03-05",
    )
    assert _sync_text(mini, text).added["evidence"] == 1


def test_a_refused_future_sync_writes_nothing_and_the_commitment_stays_usable(
    mini_cli_main, tmp_path
):
    """The audit's D2: a history entry dated 2100 used to freeze the commitment for good."""
    before = mini_cli_main("dump")
    future = tmp_path / "future.toml"
    future.write_text(
        MINI_TEXT.replace("at = 2025-03-05T17:00:00Z", "at = 2100-03-05T17:00:00Z"),
        encoding="utf-8",
    )
    result = mini_cli_main("sync", str(future))
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert "future.toml:" in result.err and "in the future" in result.err
    assert mini_cli_main("dump").out == before.out
    status = mini_cli_main(
        "status", "T-1", "stalled", "--reason", "x", "--evidence", "https://news.example.org/pilot"
    )
    assert status.code == 0, status.err


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("signed = 2025-01-15", "signed = 9999-12-31", "signed"),
        ("signed = 2025-01-15", "signed = 0001-01-01", "signed"),
        ("last_reviewed = 2025-06-01", "last_reviewed = 1899-12-31", "last_reviewed"),
        ("published = 2025-03-01", "published = 0001-01-01", "published"),
        ("last_reviewed = 2025-06-01", "last_reviewed = 2025-06-01\ntarget = 9999-12-31", "target"),
        ("at = 2025-03-05T17:00:00Z", "at = 1850-03-05T17:00:00Z", "history[1].at"),
        ("at = 2025-03-05T17:00:00Z", "at = 0001-01-01T00:00:00+01:00", "history[1].at"),
    ],
)
def test_dates_outside_1900_to_2200_are_refused(old, new, field):
    assert old in MINI_TEXT
    text = MINI_TEXT.replace(old, new, 1)
    with pytest.raises(InvalidInput, match="outside the years 1900-2200") as info:
        parse_document(text)
    assert field in str(info.value) and "\n" not in str(info.value)


def test_the_first_target_setting_needs_no_from_and_must_be_the_target():
    first = (
        '[[commitment.retarget]]\nat = 2025-04-01T00:00:00Z\nby = "pm"\nto = 2026-06-30\n'
        'reason = "In the plan."\n\n'
    )
    text = _with_target(MINI_TEXT).replace(
        "[[commitment.retarget]]\n", first + "[[commitment.retarget]]\n", 1
    )
    retargets = parse_document(text).commitments[1]["retargets"]
    assert [(r["from"], r["to"], r["evidence"]) for r in retargets] == [
        (None, date(2026, 6, 30), None),
        (date(2026, 6, 30), date(2026, 12, 31), "https://news.example.org/pilot"),
    ]
    with pytest.raises(InvalidInput, match="must be the commitment's target"):
        parse_document(text.replace("to = 2026-06-30\n", "to = 2026-07-31\n", 1))
    # Only the first change may leave `from` out.
    swapped = _with_target(MINI_TEXT).replace("\nfrom = 2026-06-30", "", 1)
    swapped = swapped.replace("[[commitment.retarget]]\n", first + "[[commitment.retarget]]\n", 1)
    with pytest.raises(InvalidInput, match=r"retarget\[2\]\.from: is required"):
        parse_document(swapped)


def test_an_evidence_id_is_a_whole_number_listed_once():
    with_id = MINI_TEXT.replace(
        'url = "https://news.example.org/pilot"', 'id = 7\nurl = "https://news.example.org/pilot"'
    )
    assert parse_document(with_id).commitments[1]["evidence"][0]["id"] == 7
    twice = with_id.replace(
        'url = "https://gov.example.org/undated"', 'id = 7\nurl = "https://gov.example.org/undated"'
    )
    with pytest.raises(InvalidInput, match="evidence id 7 is listed twice"):
        parse_document(twice)
    with pytest.raises(InvalidInput, match="whole number"):
        parse_document(with_id.replace("id = 7", 'id = "7"'))
