"""The one screen: what it shows, search and filters, sorting, sizes, hostile text."""

from __future__ import annotations

from sqlalchemy import update
from tests.tui.conftest import TODAY
from tests.tui.helpers import plain, settle, showing, table_lines, type_text

from mou_tracker.domain.models import Commitment, Evidence, Party
from mou_tracker.domain.queries import (
    ListFilter,
    commitment_detail,
    count_commitments,
    headline_status_counts,
)
from mou_tracker.storage.engine import read, run_write
from mou_tracker.tui.widgets.summary import MemoHeader, SummaryStrip

HOSTILE = "Fund [/] [bold]x"


async def test_first_screen_shows_the_tracker_at_a_glance(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.main
        memo = plain(screen.query_one(MemoHeader))
        assert "Memorandum of Understanding between UK and OpenAI" in memo
        assert "Legal status: Voluntary and not legally binding" in memo
        with read(shipped) as s:
            counts = headline_status_counts(s)  # as the exports count
            overdue = count_commitments(s, ListFilter(overdue_on=TODAY))
        strip = plain(screen.query_one(SummaryStrip))
        assert f"stalled {counts['stalled']}" in strip
        assert f"in progress {counts['in_progress']}" in strip
        assert f"reviews overdue {overdue}" in strip
        lines = table_lines(app)
        assert lines[0].split()[:3] == ["Ref", "Title", "Owners"]
        assert any("OAI-3.1" in line and "stalled" in line for line in lines)
        assert "showing 1–" in showing(app) and "of 19" in showing(app)
        # the first row is selected and its detail is shown
        assert screen.detail is not None and screen.detail.ref == "OAI-0"
        assert "Shared intent" in plain(screen.query_one("#detail-head"))


async def test_detail_shows_evidence_timeline_and_both_kinds_of_note(shipped, make_app):
    from mou_tracker.domain import service

    def annotate(session):  # type: ignore[no-untyped-def]
        service.add_note(session, "OAI-3.1", "For readers", actor="pm", visibility="public")
        service.add_note(session, "OAI-3.1", "Call NECA", actor="pm", visibility="internal")
        service.record_review(session, "OAI-3.1", actor="pm", note="Still paused")

    run_write(shipped, annotate)
    app = make_app(shipped)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        app.main.go_to("OAI-3.1")
        await settle(pilot)
        pane = app.main.pane
        with read(shipped) as s:
            expected = commitment_detail(s, "OAI-3.1")  # what commitments.toml says today
        assert pane.detail == expected
        head = plain(pane.query_one("#detail-head"))
        assert f"Status   stalled since {expected.status_changed_at.date().isoformat()}" in head
        assert f"Reason   {expected.status_reason}" in head
        assert f"Source   {expected.source_url}" in head
        owners = ", ".join(f"{o.name} ({o.code}, {o.role})" for o in expected.owners)
        assert f"Owners   {owners}" in head
        published = [e.published for e in pane.evidence if e.published]
        assert published == sorted(published, reverse=True)  # newest first
        assert len(pane.evidence) == len(expected.evidence)
        timeline = plain(pane.query_one("#detail-timeline"))
        assert timeline.startswith(f"Status timeline ({len(expected.history)})")
        for entry in expected.history:
            assert entry.reason in timeline
        assert "→ stalled" in timeline and "reviewed: stalled stands  by pm" in timeline
        notes = plain(pane.query_one("#detail-notes"))
        assert " PUBLIC  appears in exports" in notes and "For readers" in notes
        assert " INTERNAL  never exported" in notes and "Call NECA" in notes
        await pilot.press("z")  # full-screen detail, and back
        assert app.main.has_class("-detail-only") and not app.main.table.display
        await pilot.press("escape")
        assert not app.main.has_class("-detail-only")


async def test_live_filter_matches_title_summary_owner_and_evidence_title(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "stargate")
        await settle(pilot)
        refs = [r for r in (app.main.table.row_at(i) for i in range(app.main.table.total)) if r]
        # "Stargate" is in no commitment title: these match through their evidence titles
        assert {r.ref for r in refs} >= {"OAI-3.1", "OAI-3.2", "OAI-P4"}
        assert f"showing 1–{len(refs)} of {len(refs)} (19 in all)" in showing(app)
        # every word must match (AND)
        await type_text(pilot, " xylophone")
        await settle(pilot)
        assert app.main.table.total == 0
        assert "showing 0" in showing(app)
        assert "No commitment matches" in plain(app.main.pane.query_one("#detail-head"))
        await pilot.press("escape")  # clears the search
        await settle(pilot)
        assert app.main.table.total == 19
        await type_text(pilot, "aisi")  # an owner's code
        await settle(pilot)
        rows = [app.main.table.row_at(i) for i in range(app.main.table.total)]
        assert rows and all(
            any(o.code == "AISI" for o in r.owners)
            or "AISI" in r.title
            or "AI Security Institute" in r.title
            for r in rows
            if r
        )
        await pilot.press("escape", "escape")
        assert app.main.focused is app.main.table


async def test_filters_overdue_toggle_and_clear(shipped, make_app):
    from textual.widgets import Checkbox, Select, SelectionList

    app = make_app(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        form = app.screen
        form.query_one("#status", SelectionList).select("stalled")
        form.query_one("#owner", Select).value = "OPENAI"
        await pilot.press("ctrl+s")
        await settle(pilot)
        table = app.main.table
        rows = [table.row_at(i) for i in range(table.total)]
        assert rows and all(
            r.status == "stalled" and any(o.code == "OPENAI" for o in r.owners) for r in rows
        )
        assert "status stalled · owner OPENAI" in showing(app)
        await pilot.press("F")
        await settle(pilot)
        assert table.total == 19 and "no filter" in showing(app)
        await pilot.press("d")
        await settle(pilot)
        with read(shipped) as s:
            overdue = count_commitments(s, ListFilter(overdue_on=TODAY))
        assert table.total == overdue and "review overdue" in showing(app)
        await pilot.press("f")
        await pilot.pause()
        assert app.screen.query_one("#overdue", Checkbox).value is True
        app.screen.query_one("#theme", Select).value = "AI security"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert all(table.row_at(i).theme == "AI security" for i in range(table.total))
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("ctrl+x")  # clear all in the form
        await settle(pilot)
        assert table.total == 19


async def test_sort_by_every_column_with_keys_and_header_clicks(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.main.table

        def column(attr):  # type: ignore[no-untyped-def]
            return [getattr(table.row_at(i), attr) for i in range(table.total)]

        await pilot.press("5")  # status, in the vocabulary's order
        await settle(pilot)
        from mou_tracker.domain.vocab import STATUSES

        ranks = [STATUSES.index(s) for s in column("status")]
        assert ranks == sorted(ranks)
        assert "Status▲" in table_lines(app)[0]
        await pilot.press("5")  # again: reversed
        await settle(pilot)
        ranks = [STATUSES.index(s) for s in column("status")]
        assert ranks == sorted(ranks, reverse=True)
        assert "Status▼" in table_lines(app)[0]
        await pilot.press("6")  # evidence count
        await settle(pilot)
        assert column("evidence_count") == sorted(column("evidence_count"))
        await pilot.press("7")  # latest evidence: empty dates last
        await settle(pilot)
        latest = column("latest_evidence")
        dated = [d for d in latest if d]
        assert dated == sorted(dated) and latest[len(dated) :] == [None] * (
            len(latest) - len(dated)
        )
        # a click on a heading sorts by it
        header = table_lines(app)[0]
        await pilot.click("#list", offset=(header.index("Title") + 1, 0))
        await settle(pilot)
        assert app.main.view_query.sort == "title"
        titles = [t.lower() for t in column("title")]
        assert titles == sorted(titles)
        await pilot.press("0")
        await settle(pilot)
        assert column("ref")[:4] == ["OAI-0", "OAI-1.1", "OAI-1.2", "OAI-2.1"]


async def test_sorting_keeps_the_selected_commitment_selected(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.go_to("OAI-3.1")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert app.main.table.current.ref == "OAI-3.1"
        assert app.main.detail.ref == "OAI-3.1"


async def test_resizes_from_80x24_up(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.main
        assert screen.has_class("-narrow")
        header = table_lines(app)[0]
        assert "Ref" in header and "Status" in header and "Title" in header
        assert all(len(line) <= 80 for line in table_lines(app))
        assert screen.table.region.height >= 6 and screen.pane.region.height >= 6
        assert "showing 1–" in showing(app)
        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        assert screen.has_class("-wide")
        header = table_lines(app)[0]
        for heading in ("Owners", "Strength", "Ev", "Latest ev.", "Next review"):
            assert heading in header
        assert screen.pane.region.x > screen.table.region.x  # side by side


async def test_hostile_text_is_never_parsed_as_markup(shipped, make_app):
    def plant(session):  # type: ignore[no-untyped-def]
        session.execute(
            update(Commitment)
            .where(Commitment.ref == "OAI-3.1")
            .values(title=HOSTILE, summary=HOSTILE, theme=HOSTILE)
        )
        session.execute(update(Party).where(Party.code == "MOJ").values(name=HOSTILE))
        session.execute(
            update(Evidence).where(Evidence.id == 1).values(title=HOSTILE, publisher=HOSTILE)
        )
        from mou_tracker.domain import service

        service.add_note(
            session, "OAI-3.1", HOSTILE + " [red]note", actor="[b]mallory", visibility="internal"
        )

    run_write(shipped, plant)
    app = make_app(shipped, actor="[b]pm[/b]")
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "[bold]")
        await settle(pilot)
        assert app.main.table.total >= 1
        assert any(HOSTILE in line for line in table_lines(app))
        app.main.go_to("OAI-3.1")
        await settle(pilot)
        pane = app.main.pane
        assert HOSTILE in plain(pane.query_one("#detail-head"))
        assert HOSTILE + " [red]note" in plain(pane.query_one("#detail-notes"))
        assert "[b]mallory" in plain(pane.query_one("#detail-notes"))
        await pilot.press("c")  # a notification naming the ref: no markup
        assert app.clipboard == "OAI-3.1"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "fund")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.press("e")
        await pilot.pause()
        assert HOSTILE in plain(app.screen.query_one("#form-heading"))
        await pilot.press("escape")
        await pilot.press("f")  # owner names and themes from the database, in the filter form
        await pilot.pause()
        from textual.widgets import Select

        app.screen.query_one("#theme", Select).value = HOSTILE
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.main.table.total == 1 and app.main.table.current.ref == "OAI-3.1"
        # every notification with user text in it was sent without markup
        assert all(not markup for _, _, msg, markup in app.notices if "[" in msg)


async def test_an_empty_database_says_what_to_do(engine, make_app):
    app = make_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "No memorandum yet: quit, then `mou-tracker --db URL init`" in plain(
            app.main.query_one(MemoHeader)
        )
        assert app.main.table.total == 0 and "showing 0" in showing(app)
        assert "No commitments yet." in plain(app.main.pane.query_one("#detail-head"))
        await pilot.press("s")  # nothing selected: the action is disabled, nothing opens
        await pilot.pause()
        assert app.screen is app.main
