"""TOML validation (line-precise errors), sync (idempotent, three-way, append-only) and dump."""

from __future__ import annotations

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
