"""Each rule of DESIGN.md ("Rules the data layer enforces") at the domain layer, on every backend.

Every test here fails if its rule is removed from the domain code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mou_tracker.domain import service
from mou_tracker.domain.errors import ConflictError, InvalidInput, NotFound, RuleViolation
from mou_tracker.domain.models import AppendOnlyError, Commitment, HistoryEntry, Note
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read, run_write, write


def _detail(engine, ref):
    with read(engine) as s:
        return commitment_detail(s, ref)


def _add(
    engine, ref="T-2", url="https://news.example.org/t2", published="2026-02-20", actor="alice"
):
    item = service.EvidenceInput.build(
        url=url, title="Evidence", published=published, direction="progress"
    )
    return run_write(engine, lambda s: service.add_evidence(s, ref, item, actor=actor))


# Rule 1: actor and reason; evidence for anything beyond not_assessed/not_started, published in time.


def test_status_change_needs_a_reason(mini):
    with pytest.raises(InvalidInput, match="reason"):
        run_write(
            mini, lambda s: service.change_status(s, "T-2", "not_started", actor="a", reason="  ")
        )


def test_status_change_needs_an_actor(mini):
    with pytest.raises(InvalidInput, match="actor"):
        run_write(
            mini, lambda s: service.change_status(s, "T-2", "not_started", actor="", reason="why")
        )


def test_not_started_needs_no_evidence(mini):
    run_write(
        mini,
        lambda s: service.change_status(s, "T-2", "not_started", actor="a", reason="nothing yet"),
    )
    assert _detail(mini, "T-2").status == "not_started"


@pytest.mark.parametrize("status", ["in_progress", "partially_met", "met", "stalled", "not_met"])
def test_scored_status_needs_evidence(mini, status):
    with pytest.raises(RuleViolation, match="must cite at least one evidence"):
        run_write(mini, lambda s: service.change_status(s, "T-2", status, actor="a", reason="why"))
    assert _detail(mini, "T-2").status == "not_assessed"
    assert _detail(mini, "T-2").history == ()


def test_evidence_must_belong_to_the_commitment(mini):
    # evidence #1 belongs to T-1, not T-2
    with pytest.raises(NotFound, match="evidence on T-2"):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "in_progress", actor="a", reason="r", evidence=["1"]
            ),
        )


def test_evidence_published_after_the_change_is_refused(mini):
    ev = _add(mini, published="2026-03-01")
    at = datetime(2026, 2, 1, 12, tzinfo=UTC)
    with pytest.raises(RuleViolation, match="after the change"):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "in_progress", actor="a", reason="r", evidence=[ev.id], at=at
            ),
        )


def test_undated_evidence_cannot_support_a_change(mini):
    ev = run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(url="https://x.example.org/u", title="t"),
            actor="a",
        ),
    )
    with pytest.raises(RuleViolation, match="no publication date"):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "met", actor="a", reason="r", evidence=[ev.id]
            ),
        )


def test_cited_change_is_recorded_with_everything(mini):
    ev = _add(mini)
    run_write(
        mini,
        lambda s: service.change_status(
            s, "T-2", "in_progress", actor="alice", reason="Work began", evidence=[ev.url]
        ),
    )
    d = _detail(mini, "T-2")
    assert d.status == "in_progress"
    (h,) = d.history
    assert (h.from_status, h.to_status, h.actor, h.reason, h.evidence_ids) == (
        "not_assessed",
        "in_progress",
        "alice",
        "Work began",
        (ev.id,),
    )
    assert h.at.tzinfo is not None and h.at.utcoffset().total_seconds() == 0


def test_vision_commitments_are_not_scored(mini):
    with pytest.raises(RuleViolation, match="vision"):
        run_write(
            mini, lambda s: service.change_status(s, "T-0", "not_started", actor="a", reason="r")
        )


def test_unknown_status_and_ref_are_refused(mini):
    with pytest.raises(InvalidInput, match="status"):
        run_write(mini, lambda s: service.change_status(s, "T-2", "done", actor="a", reason="r"))
    with pytest.raises(NotFound, match="ref"):
        run_write(
            mini, lambda s: service.change_status(s, "NOPE-1", "not_started", actor="a", reason="r")
        )


# Rule 2: history is append-only.


def test_history_rows_cannot_be_updated_or_deleted_through_the_orm(mini):
    with pytest.raises(AppendOnlyError):
        with write(mini) as s:
            row = s.scalars(select(HistoryEntry)).first()
            row.reason = "rewritten"
            s.flush()
    with pytest.raises(AppendOnlyError):
        with write(mini) as s:
            s.delete(s.scalars(select(Note)).first())
            s.flush()


def test_history_rows_cannot_be_updated_or_deleted_in_sql(mini):
    for statement in ("UPDATE history SET reason = 'x'", "DELETE FROM history", "DELETE FROM note"):
        with pytest.raises(DBAPIError, match="append-only"):
            with write(mini) as s:
                s.execute(text(statement))
    assert _detail(mini, "T-1").history[0].reason == "The pilot started."


def test_a_correction_is_a_new_entry(mini):
    ev = _add(mini)
    run_write(
        mini,
        lambda s: service.change_status(
            s, "T-2", "met", actor="a", reason="looked met", evidence=[ev.id]
        ),
    )
    run_write(
        mini,
        lambda s: service.change_status(
            s, "T-2", "in_progress", actor="b", reason="correction: not met yet", evidence=[ev.id]
        ),
    )
    statuses = [(h.from_status, h.to_status) for h in _detail(mini, "T-2").history]
    assert statuses == [("not_assessed", "met"), ("met", "in_progress")]


def test_evidence_correction_keeps_the_old_values(mini):
    ev = _add(mini)
    run_write(
        mini,
        lambda s: service.edit_evidence(
            s, ev.id, {"title": "Right title"}, actor="bob", reason="typo"
        ),
    )
    (e,) = _detail(mini, "T-2").evidence
    assert e.title == "Right title" and e.version == 2
    (rev,) = e.revisions
    assert rev.changes == (("title", "Evidence", "Right title"),) and rev.by == "bob"


def test_evidence_date_cannot_move_after_a_change_that_cites_it(mini):
    ev = _add(mini, published="2026-01-01")
    run_write(
        mini,
        lambda s: service.change_status(
            s,
            "T-2",
            "in_progress",
            actor="a",
            reason="r",
            evidence=[ev.id],
            at=datetime(2026, 1, 5, tzinfo=UTC),
        ),
    )
    with pytest.raises(RuleViolation, match="published"):
        run_write(
            mini,
            lambda s: service.edit_evidence(
                s, ev.id, {"published": "2026-02-01"}, actor="a", reason="r"
            ),
        )


# Rule 3: concurrent edits are detected.


def test_stale_version_is_refused_with_who_and_when(mini):
    loaded = _detail(mini, "T-2").version
    run_write(
        mini,
        lambda s: service.change_status(s, "T-2", "not_started", actor="carol", reason="first"),
    )
    with pytest.raises(
        ConflictError,
        match=r"changed by carol at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC since you loaded it",
    ):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "not_started", actor="dave", reason="second", expected_version=loaded
            ),
        )
    d = _detail(mini, "T-2")
    assert [h.actor for h in d.history] == ["carol"]


def test_concurrent_update_between_read_and_write_is_detected(mini):
    """The version check is in the UPDATE itself: a write that lands between our read and
    our write makes the row count zero, and the change is refused, not overwritten."""

    def racing(session):
        c = session.scalars(select(Commitment).where(Commitment.ref == "T-2")).one()
        seen = c.version
        # someone else bumps the row inside our window
        session.execute(
            text(
                "UPDATE commitment SET version = version + 1, updated_by = 'eve' WHERE ref = 'T-2'"
            )
        )
        return service._bump_commitment(
            session, c, seen, "frank", datetime.now(UTC), status="not_started"
        )

    with pytest.raises(ConflictError, match="changed by eve"):
        run_write(mini, racing)


def test_stale_evidence_edit_is_refused(mini):
    ev = _add(mini)
    run_write(
        mini, lambda s: service.edit_evidence(s, ev.id, {"title": "One"}, actor="gina", reason="r")
    )
    with pytest.raises(ConflictError, match="changed by gina"):
        run_write(
            mini,
            lambda s: service.edit_evidence(
                s, ev.id, {"title": "Two"}, actor="hal", reason="r", expected_version=1
            ),
        )


# Rule 4: evidence URLs are absolute http(s).


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://x.example.org/a",
        "example.org",
        "https://exa mple.org/",
        "//example.org/a",
        "https://",
        "data:text/html,hi",
        "http://exa\x07mple.org",
    ],
)
def test_bad_urls_are_refused(mini, url):
    with pytest.raises(InvalidInput, match="url"):
        service.EvidenceInput.build(url=url, title="t")


def test_duplicate_url_on_a_commitment_is_refused(mini):
    _add(mini)
    with pytest.raises(RuleViolation, match="already recorded"):
        _add(mini)


# Rule 5: dates parsed strictly and shown back; timestamps aware UTC.


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-02-20", date(2026, 2, 20)),
        ("20 Feb 2026", date(2026, 2, 20)),
        ("February 20, 2026", date(2026, 2, 20)),
        ("13/04/2026", date(2026, 4, 13)),
    ],
)
def test_dates_parse(raw, expected):
    from mou_tracker.domain.validate import parse_date

    assert parse_date(raw, "published") == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("31 Feb 2026", "no such date"),
        ("Clause 12", "cannot read"),
        ("03/04/2026", "ambiguous"),
        ("Feb 2026", "not a full date"),
        ("12", "not a full date"),
        ("2026-02-20 10:00", "has a time"),
        ("", "required"),
    ],
)
def test_bad_dates_are_refused(raw, problem):
    from mou_tracker.domain.validate import parse_date

    with pytest.raises(InvalidInput, match=problem):
        parse_date(raw, "published")


@pytest.mark.parametrize(
    "raw", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "1 Jan 2201"]
)
def test_dates_outside_1900_to_2200_are_refused_whatever_their_form(raw):
    """The ISO form used to skip the range check that the other forms had."""
    from mou_tracker.domain.validate import parse_date

    with pytest.raises(InvalidInput, match="outside the years 1900-2200"):
        parse_date(raw, "published")


def test_the_ends_of_the_range_and_date_objects():
    from mou_tracker.domain.validate import parse_date

    assert parse_date("1900-01-01", "d") == date(1900, 1, 1)
    assert parse_date("2200-12-31", "d") == date(2200, 12, 31)
    with pytest.raises(InvalidInput, match="outside the years"):
        parse_date(date(9999, 12, 31), "d")


def test_timestamps_outside_the_range_are_refused_not_overflowed():
    from datetime import timedelta, timezone

    from mou_tracker.domain.validate import aware_utc

    # Converting this to UTC would be year 0: an OverflowError, not a message, before.
    with pytest.raises(InvalidInput, match="outside the years 1900-2200"):
        aware_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "at")
    with pytest.raises(InvalidInput, match="outside the years 1900-2200"):
        aware_utc("9999-12-31T23:59:59-05:00", "at")


def test_review_on_a_date_past_the_range_is_a_one_line_error(mini_cli):
    """`review --on 9999-12-31` ended in "unexpected ValueError: year 10000 is out of range"."""
    before = mini_cli("dump").out
    result = mini_cli("review", "T-1", "--on", "9999-12-31", "--note", "x")
    assert result.code == 1
    assert result.err.strip() == (
        "mou-tracker: error: --on: 9999-12-31 is outside the years 1900-2200"
    )
    assert mini_cli("dump").out == before


def test_naive_timestamps_are_refused(mini):
    with pytest.raises(InvalidInput, match="offset"):
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "not_started", actor="a", reason="r", at=datetime(2026, 1, 1)
            ),
        )


# Rule 6: a refusal leaves the database unchanged (the transaction rolls back).


def test_refusal_rolls_back_everything(mini):
    def half_then_fail(session):
        service.add_note(session, "T-2", "written first", actor="a")
        service.change_status(session, "T-2", "met", actor="a", reason="r")  # refused: no evidence

    with pytest.raises(RuleViolation):
        run_write(mini, half_then_fail)
    assert [n.body for n in _detail(mini, "T-2").notes] == []


def test_review_keeps_status_and_moves_next_review(mini):
    run_write(
        mini,
        lambda s: service.record_review(
            s, "T-1", actor="ivy", note="checked", reviewed_on=date(2026, 1, 31)
        ),
    )
    d = _detail(mini, "T-1")
    assert d.status == "in_progress"
    assert d.history[-1].kind == "review" and d.history[-1].reason == "checked"
    assert (d.last_reviewed, d.next_review) == (date(2026, 1, 31), date(2026, 4, 30))
