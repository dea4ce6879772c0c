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


def test_review_on_a_date_past_the_range_is_a_one_line_error(mini_cli_main):
    """`review --on 9999-12-31` ended in "unexpected ValueError: year 10000 is out of range"."""
    before = mini_cli_main("dump").out
    result = mini_cli_main("review", "T-1", "--on", "9999-12-31", "--note", "x")
    assert result.code == 1
    assert result.err.strip() == (
        "mou-tracker: error: --on: 9999-12-31 is outside the years 1900-2200"
    )
    assert mini_cli_main("dump").out == before


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


# Issue 12, item 4: what cannot be true is refused, naming the field. The clock is injected
# (mou_tracker.domain.clock.now, which every "now" in the domain reads), never slept.

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock_at(monkeypatch):
    """Set the tracker's clock: ``clock_at(when)``."""
    from mou_tracker.domain import clock

    def set_to(when: datetime) -> datetime:
        monkeypatch.setattr(clock, "now", lambda: when)
        return when

    return set_to


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20260409", date(2026, 4, 9)),
        ("20240229", date(2024, 2, 29)),
        (" 19000101 ", date(1900, 1, 1)),
    ],
)
def test_iso_basic_dates_are_read_as_dates(raw, expected):
    from mou_tracker.domain.validate import parse_date

    assert parse_date(raw, "published") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("20261301", "published: no such date '20261301' (month must be in 1..12)"),
        ("20250229", "published: no such date '20250229' (day is out of range for month)"),
        ("00260409", "published: 0026-04-09 is outside the years 1900-2200"),
        ("0026-04-09", "published: 0026-04-09 is outside the years 1900-2200"),
        ("9 Apr 0026", "published: '9 Apr 0026': the year 0026 is before 1900"),
        (
            "26-4-9",
            "published: '26-4-9' has no four-digit year; write the year in full, as YYYY-MM-DD",
        ),
        (
            "9 Apr 26",
            "published: '9 Apr 26' has no four-digit year; write the year in full, as YYYY-MM-DD",
        ),
        (
            "April 9, 26",
            "published: 'April 9, 26' has no four-digit year; write the year in full, as YYYY-MM-DD",
        ),
        (
            "99-12-31",
            "published: '99-12-31' has no four-digit year; write the year in full, as YYYY-MM-DD",
        ),
        (
            "260409",
            "published: '260409' has no four-digit year; write the year in full, as YYYY-MM-DD",
        ),
    ],
)
def test_short_and_early_years_are_refused_not_guessed(raw, message):
    """python-dateutil reads '26-4-9' as 2009-04-26 and '9 Apr 0026' as 2026-04-09."""
    from mou_tracker.domain.validate import parse_date

    with pytest.raises(InvalidInput) as info:
        parse_date(raw, "published")
    assert str(info.value) == message


def test_a_publication_date_may_be_today_anywhere_on_earth_but_no_later():
    """One rule for "today": the date in UTC+14, where each day begins first."""
    from mou_tracker.domain.validate import latest_day, publication_date

    early = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 19:00 on the 27th in UTC+14
    assert latest_day(early) == date(2026, 11, 27)
    assert latest_day(NOON) == date(2026, 11, 28)  # 02:00 on the 28th in UTC+14
    assert publication_date("28 Nov 2026", "published", now=NOON) == date(2026, 11, 28)
    with pytest.raises(InvalidInput) as info:
        publication_date("2026-11-28", "published", now=early)
    assert str(info.value) == (
        "published: 2026-11-28 is in the future (today is 2026-11-27 in UTC, and no time zone "
        "has reached 2026-11-28 yet)"
    )
    with pytest.raises(InvalidInput) as info:
        publication_date("2027-06-01", "published", now=NOON)
    assert str(info.value) == (
        "published: 2027-06-01 is in the future (today is 2026-11-27 in UTC, and no time zone "
        "has reached 2027-06-01 yet)"
    )


def test_future_publication_dates_are_refused_on_every_domain_path(mini, clock_at):
    clock_at(NOON)
    future = "2026-11-29"
    with pytest.raises(InvalidInput, match=r"^published: 2026-11-29 is in the future"):
        service.EvidenceInput.build(url="https://a.example.org/1", title="t", published=future)
    # an EvidenceInput made without build() is checked when it is added
    direct = service.EvidenceInput(
        url="https://a.example.org/1", title="t", published=date(2026, 11, 29)
    )
    with pytest.raises(InvalidInput, match=r"^published: 2026-11-29 is in the future"):
        run_write(mini, lambda s: service.add_evidence(s, "T-2", direct, actor="a"))
    rows = [
        (
            2,
            {
                "ref": "T-2",
                "url": "https://a.example.org/2",
                "title": "ok",
                "published": "2026-11-27",
            },
        ),
        (3, {"ref": "T-2", "url": "https://a.example.org/3", "title": "t", "published": future}),
    ]
    with pytest.raises(InvalidInput) as info:
        run_write(mini, lambda s: service.import_evidence(s, rows, actor="a", source="links.csv"))
    assert str(info.value).startswith(
        "links.csv row 3: published: 2026-11-29 is in the future (today is 2026-11-27 in UTC"
    )
    with pytest.raises(InvalidInput, match=r"^published: 2026-11-29 is in the future"):
        run_write(
            mini,
            lambda s: service.edit_evidence(s, 2, {"published": future}, actor="a", reason="r"),
        )
    d = _detail(mini, "T-2")
    assert d.evidence == () and _detail(mini, "T-1").evidence[1].published is None
    # the last day begun somewhere on Earth is accepted
    assert _add(mini, published="2026-11-28").published == date(2026, 11, 28)


def _write_at(name: str, at: datetime):
    """Each service function that records a change, called with the effective time ``at``."""
    ev = service.EvidenceInput.build(url="https://b.example.org/1", title="t")
    return {
        "change_status": lambda s: service.change_status(
            s, "T-2", "not_started", actor="a", reason="r", at=at
        ),
        "record_review": lambda s: service.record_review(s, "T-2", actor="a", note="n", at=at),
        "set_target": lambda s: service.set_target(
            s, "T-2", date(2027, 1, 1), actor="a", reason="r", at=at
        ),
        "add_note": lambda s: service.add_note(s, "T-2", "body", actor="a", at=at),
        "edit_evidence": lambda s: service.edit_evidence(
            s, 2, {"title": "New"}, actor="a", reason="r", at=at
        ),
        "add_evidence": lambda s: service.add_evidence(s, "T-2", ev, actor="a", at=at),
        "import_evidence": lambda s: service.import_evidence(
            s,
            [(2, {"ref": "T-2", "url": "https://b.example.org/2", "title": "t"})],
            actor="a",
            at=at,
        ),
    }[name]


WRITES = [
    "change_status",
    "record_review",
    "set_target",
    "add_note",
    "edit_evidence",
    "add_evidence",
    "import_evidence",
]


@pytest.mark.parametrize("name", WRITES)
def test_an_effective_time_in_the_future_is_refused(mini, clock_at, name):
    from datetime import timedelta

    from mou_tracker.storage.tomlio import dump_document

    clock_at(NOON)
    with read(mini) as s:
        before = dump_document(s)
    with pytest.raises(InvalidInput) as info:
        run_write(mini, _write_at(name, NOON + timedelta(minutes=5, seconds=1)))
    assert str(info.value) == (
        "at: 2026-11-27T12:05:01Z is in the future (it is 2026-11-27T12:00:00Z now; clocks may "
        "differ by 5 minutes, no more)"
    )
    with read(mini) as s:
        assert dump_document(s) == before
    run_write(mini, _write_at(name, NOON + timedelta(minutes=5)))  # the skew allowed


def test_a_review_date_in_the_future_is_refused(mini, clock_at):
    clock_at(datetime(2026, 11, 27, 5, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput) as info:
        run_write(
            mini,
            lambda s: service.record_review(
                s, "T-1", actor="a", note="n", reviewed_on=date(2026, 11, 28)
            ),
        )
    assert str(info.value) == (
        "review date (--on): 2026-11-28 is in the future (today is 2026-11-27 in UTC, and no "
        "time zone has reached 2026-11-28 yet)"
    )
    assert _detail(mini, "T-1").last_reviewed == date(2025, 6, 1)


def test_a_review_dated_before_the_last_review_is_refused(mini, clock_at):
    clock_at(NOON)
    # T-1 was last reviewed on 2025-06-01 (and its latest history entry is 2025-03-05)
    with pytest.raises(RuleViolation) as info:
        run_write(
            mini,
            lambda s: service.record_review(
                s, "T-1", actor="a", note="n", reviewed_on=date(2025, 5, 31)
            ),
        )
    assert str(info.value) == (
        "review date (--on): 2025-05-31 is before the last review of T-1 (2025-06-01); "
        "reviews are recorded in order"
    )
    with pytest.raises(RuleViolation) as info:
        run_write(
            mini,
            lambda s: service.record_review(
                s, "T-1", actor="a", note="n", at=datetime(2025, 4, 1, tzinfo=UTC)
            ),
        )
    assert str(info.value).startswith("at: 2025-04-01 is before the last review of T-1")
    assert _detail(mini, "T-1").history[-1].kind == "status"
    run_write(
        mini,
        lambda s: service.record_review(
            s, "T-1", actor="a", note="n", reviewed_on=date(2025, 6, 1)
        ),
    )
    run_write(
        mini,
        lambda s: service.record_review(
            s, "T-1", actor="a", note="n", reviewed_on=date(2026, 11, 1)
        ),
    )
    with pytest.raises(RuleViolation, match=r"^review date \(--on\): 2026-10-31 is before"):
        run_write(
            mini,
            lambda s: service.record_review(
                s, "T-1", actor="a", note="n", reviewed_on=date(2026, 10, 31)
            ),
        )
    assert _detail(mini, "T-1").last_reviewed == date(2026, 11, 1)


def test_a_review_made_now_never_rewinds_the_schedule(mini, clock_at):
    """A review dated today in UTC+14 is allowed; a plain review a little later in UTC, when
    it is still the day before there, keeps that date rather than being refused."""
    clock_at(NOON)
    run_write(
        mini,
        lambda s: service.record_review(
            s, "T-1", actor="a", note="n", reviewed_on=date(2026, 11, 28)
        ),
    )
    run_write(mini, lambda s: service.record_review(s, "T-1", actor="b", note="again"))
    d = _detail(mini, "T-1")
    assert d.last_reviewed == date(2026, 11, 28) and d.history[-1].actor == "b"


def test_a_change_dated_before_the_latest_history_entry_names_the_field_and_both_times(mini):
    with pytest.raises(RuleViolation) as info:
        run_write(
            mini,
            lambda s: service.change_status(
                s,
                "T-1",
                "stalled",
                actor="a",
                reason="r",
                evidence=[1],
                at=datetime(2025, 3, 1, 9, tzinfo=UTC),
            ),
        )
    assert str(info.value) == (
        "at: 2025-03-01T09:00:00Z is before the latest history entry of T-1 "
        "(2025-03-05T17:00:00Z); history is recorded in order"
    )


def test_cited_evidence_must_be_published_by_the_effective_date(mini, clock_at):
    """Kept: evidence dated today somewhere on Earth cannot back a change effective today in
    UTC, the day before there."""
    clock_at(NOON)
    ev = _add(mini, published="2026-11-28")
    with pytest.raises(RuleViolation) as info:
        run_write(
            mini,
            lambda s: service.change_status(
                s, "T-2", "in_progress", actor="a", reason="r", evidence=[ev.id]
            ),
        )
    assert str(info.value) == (
        f"evidence: #{ev.id} was published 2026-11-28, after the change (2026-11-27)"
    )


@pytest.mark.parametrize(
    "address",
    [
        "https://user:pass@example.org/",
        "https://user@example.org/page",
        "http://:secret@example.org",
        "HTTPS://alice:hunter2@www.gov.uk/x",
    ],
)
def test_urls_with_credentials_are_refused_without_echoing_them(address):
    from mou_tracker.domain import validate

    with pytest.raises(InvalidInput) as caught:
        validate.url(address, "url")
    message = str(caught.value)
    assert message.startswith("url: must not carry a user name or password")
    assert "pass" not in message.replace("password", "") and "hunter2" not in message
    assert "secret" not in message


def test_an_at_sign_in_the_path_or_query_is_still_a_valid_url():
    from mou_tracker.domain import validate

    for address in ("https://example.org/@handle", "https://example.org/x?by=a@b.org"):
        assert validate.url(address, "url") == address
