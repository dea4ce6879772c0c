"""Every write from the keyboard, through the same domain rules as the CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.tui.conftest import TODAY
from tests.tui.helpers import plain, settle, table_lines, type_text
from textual.widgets import Input, Select, SelectionList, TextArea

from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read
from mou_tracker.tui.text import status_label


def detail(engine, ref):  # type: ignore[no-untyped-def]
    with read(engine) as s:
        return commitment_detail(s, ref)


async def open_on(pilot, ref: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.main.go_to(ref)
    await settle(pilot)
    assert pilot.app.main.detail.ref == ref


def hint(app, field: str) -> str:  # type: ignore[no-untyped-def]
    return plain(app.screen.query_one(f"#{field}-hint"))


def dated_evidence(engine, ref: str):  # type: ignore[no-untyped-def]
    """The newest evidence of ``ref`` that can support a change on TODAY (from whatever
    commitments.toml holds now)."""
    usable = [e for e in detail(engine, ref).evidence if e.published and e.published <= TODAY]
    return max(usable, key=lambda e: (e.published, e.id))


# --- status -------------------------------------------------------------------------------------


async def test_change_status_with_new_evidence_added_from_the_form(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        before = detail(shipped, "OAI-3.1")
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        form.query_one("#status", Select).value = "in_progress"
        await pilot.pause()
        assert "stalled → in progress" in hint(app, "status")
        assert "must cite at least one evidence record" in hint(app, "evidence")
        form.query_one("#reason", Input).focus()
        await type_text(pilot, "Works")
        form.query_one("#reason", Input).value = "Stargate UK works resumed"
        await pilot.press("ctrl+n")  # add the evidence it cites without leaving the form
        await pilot.pause()
        evidence_form = app.screen
        evidence_form.query_one("#url", Input).value = "https://news.example.org/stargate-resumes"
        evidence_form.query_one("#title", Input).value = "Stargate UK resumes"
        evidence_form.query_one("#published", Input).value = "2026-07-10"
        evidence_form.query_one("#direction", Select).value = "progress"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # back in the status form, the new evidence ticked
        new_id = max(e.id for e in detail(shipped, "OAI-3.1").evidence)
        assert form.query_one("#evidence", SelectionList).selected == [new_id]
        assert form.query_one("#reason", Input).value == "Stargate UK works resumed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        after = detail(shipped, "OAI-3.1")
        assert after.status == "in_progress" and after.version == before.version + 1
        assert after.history[-1].actor == "pm" and after.history[-1].evidence_ids == (new_id,)
        assert after.history[-1].reason == "Stargate UK works resumed"
        assert app.screen is app.main
        assert any(
            line.startswith(" OAI-3.1") and "in progress" in line for line in table_lines(app)
        )
        assert "OAI-3.1: stalled → in progress" in app.notices_text()
        assert f"Evidence #{new_id} added and ticked" in app.notices_text()


async def test_status_change_without_evidence_is_refused_and_input_kept(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.3")
        before = detail(shipped, "OAI-2.3")
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        form.query_one("#status", Select).value = "met"
        form.query_one("#reason", Input).focus()
        await type_text(pilot, "It happened")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        error = plain(form.query_one("#form-error"))
        assert error.startswith(
            "Not saved: evidence: a change to met must cite at least one evidence record of OAI-2.3"
        )
        assert "--evidence" not in error  # the CLI's flag means nothing in a form
        assert form.query_one("#reason", Input).value == "It happened"
        assert form.query_one("#status", Select).value == "met"
        assert detail(shipped, "OAI-2.3") == before  # nothing saved
        assert ("error", "Refused") in [(sev, title) for sev, title, _, _ in app.notices]
        # an empty reason: refused by the same validator, with the field named and focused
        form.query_one("#reason", Input).value = "  "
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "reason: must not be empty" in plain(form.query_one("#form-error"))
        assert app.focused is form.query_one("#reason", Input)
        assert detail(shipped, "OAI-2.3") == before


async def test_a_vision_clause_cannot_be_scored(shipped, make_app):
    from mou_tracker.tui.modals.status import StatusForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-0")
        await pilot.press("s")  # no form that could never save: the domain's refusal at once
        await pilot.pause()
        assert app.screen is app.main
        assert "OAI-0 is a vision clause: it is shown but not scored" in app.notices_text()
        # and had a form been opened anyway, the domain refuses the save
        app.push_screen(StatusForm(app.main.detail))
        await pilot.pause()
        app.screen.query_one("#status", Select).value = "not_started"
        app.screen.query_one("#reason", Input).value = "try anyway"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is a vision clause: it is shown but not scored" in plain(
            app.screen.query_one("#form-error")
        )
        assert detail(shipped, "OAI-0").history == ()


async def test_concurrent_cli_write_is_a_conflict_that_keeps_input(shipped, make_app, cli):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        opened_version = form.version
        cited = dated_evidence(shipped, "OAI-3.1")
        paused = cited.id
        # meanwhile, someone else changes the same commitment from the command line
        result = await asyncio.to_thread(
            cli,
            "status",
            "OAI-3.1",
            "not_met",
            "--reason",
            "Abandoned",
            "--evidence",
            cited.url,
        )
        assert result.code == 0, result.err
        form.query_one("#status", Select).value = "partially_met"
        form.query_one("#reason", Input).value = "Some GPUs delivered"
        form.query_one("#evidence", SelectionList).select(paused)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, input kept
        assert form.query_one("#reason", Input).value == "Some GPUs delivered"
        assert form.query_one("#status", Select).value == "partially_met"
        assert form.query_one("#evidence", SelectionList).selected == [paused]
        heading = plain(form.query_one("#form-heading"))
        assert "changed by tester at" in heading and "now not met" in heading
        assert ("error", "Changed by someone else") in [(s, t) for s, t, _, _ in app.notices]
        assert "changed by tester at" in app.notices_text()
        assert detail(shipped, "OAI-3.1").status == "not_met"  # the CLI's change stands
        assert form.version == opened_version + 1  # the form now holds what is in the database
        row = next(line for line in table_lines(app) if line.startswith(" OAI-3.1"))
        assert "not met" in row  # the view refreshed underneath
        await pilot.press("ctrl+s")  # a deliberate second save goes on top
        await settle(pilot)
        assert app.screen is app.main
        assert detail(shipped, "OAI-3.1").status == "partially_met"


# --- evidence -----------------------------------------------------------------------------------


async def test_add_evidence_validates_as_you_type_and_echoes_the_date(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-P4")
        count = len(detail(shipped, "OAI-P4").evidence)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert app.focused is form.query_one("#url", Input)
        await type_text(pilot, "ftp://x.org")
        assert (
            hint(app, "url") == "url: must be an absolute http or https URL (ftp: in 'ftp://x.org')"
        )
        form.query_one("#url", Input).value = detail(shipped, "OAI-P4").evidence[0].url
        await pilot.pause()
        assert hint(app, "url").startswith("url: already recorded on OAI-P4 as evidence #")
        first = detail(shipped, "OAI-P4").evidence[0]
        scheme, rest = first.url.split("://", 1)
        form.query_one("#url", Input).value = f"{scheme.upper()}://{rest}#another-address"
        await pilot.pause()
        assert hint(app, "url") == f"url: same page as evidence #{first.id} ({first.url})"
        form.query_one("#url", Input).value = "https://news.example.org/p4"
        form.query_one("#published", Input).focus()
        await type_text(pilot, "03/04/2026")
        assert "ambiguous" in hint(app, "published")
        form.query_one("#published", Input).value = "9 April 2026"
        await pilot.pause()
        assert hint(app, "published") == "read as 2026-04-09, Thursday 9 April 2026"
        form.query_one("#published", Input).value = "Clause 12"
        await pilot.pause()
        assert "published:" in hint(app, "published")
        form.query_one("#published", Input).value = "9 April 2026"
        await pilot.press("ctrl+s")  # no title yet: the domain refuses, naming the field
        await settle(pilot)
        assert "title: must not be empty" in plain(form.query_one("#form-error"))
        assert app.focused is form.query_one("#title", Input)
        await type_text(pilot, "Data")
        form.query_one("#title", Input).value = "Data centre plans"
        form.query_one("#kind", Select).value = "official_document"
        form.query_one("#direction", Select).value = "progress"
        form.query_one("#confidence", Select).value = "primary"
        await pilot.press("enter")  # Enter in a one-line field saves
        await settle(pilot)
        assert app.screen is app.main
        after = detail(shipped, "OAI-P4")
        assert len(after.evidence) == count + 1
        item = max(after.evidence, key=lambda e: e.id)
        assert (
            item.url,
            item.title,
            item.published.isoformat(),
            item.kind,
            item.direction,
            item.confidence,
            item.added_by,
        ) == (
            "https://news.example.org/p4",
            "Data centre plans",
            "2026-04-09",
            "official_document",
            "progress",
            "primary",
            "pm",
        )
        assert f"Evidence #{item.id} added to OAI-P4" in app.notices_text()
        assert app.main.pane.detail.evidence == after.evidence  # the detail refreshed


async def test_duplicate_evidence_is_refused_by_the_domain(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        count = len(detail(shipped, "OAI-3.1").evidence)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#url", Input).value = detail(shipped, "OAI-3.1").evidence[0].url
        app.screen.query_one("#title", Input).value = "Again"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "url: already recorded on OAI-3.1 as evidence #" in plain(
            app.screen.query_one("#form-error")
        )
        assert len(detail(shipped, "OAI-3.1").evidence) == count


# --- notes, reviews -----------------------------------------------------------------------------


async def test_add_internal_and_public_notes(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.1")
        notes = len(detail(shipped, "OAI-2.1").notes)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert app.focused is form.query_one("#body", TextArea)
        assert "INTERNAL: kept out of every export" in hint(app, "visibility")  # the default
        form.query_one("#visibility", Select).value = "public"
        await pilot.pause()
        assert "PUBLIC" in hint(app, "visibility")
        form.query_one("#visibility", Select).value = "internal"
        await pilot.pause()
        assert "INTERNAL: kept out of every export" in hint(app, "visibility")
        await type_text(pilot, "Chase")
        await pilot.press("enter")  # a new line in the note, not a save
        await type_text(pilot, "*DSIT*")
        await pilot.press("ctrl+s")
        await settle(pilot)
        after = detail(shipped, "OAI-2.1")
        assert len(after.notes) == notes + 1
        note = after.notes[-1]
        assert (note.visibility, note.body, note.author) == ("internal", "Chase\n*DSIT*", "pm")
        assert "Internal note added to OAI-2.1." in app.notices_text()
        assert " INTERNAL  never exported" in plain(app.main.pane.query_one("#detail-notes"))
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")  # empty: refused
        await settle(pilot)
        assert "text: must not be empty" in plain(app.screen.query_one("#form-error"))
        assert len(detail(shipped, "OAI-2.1").notes) == notes + 1


async def test_record_review_moves_the_next_review(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.2")
        status = status_label(detail(shipped, "OAI-3.2").status)
        await pilot.press("v")
        await pilot.pause()
        assert "the next review moves to 2027-02-27" in plain(app.screen.query_one("#form-heading"))
        await type_text(pilot, "Checked")
        app.screen.query_one("#review_note", Input).value = "Checked: still paused"
        await pilot.press("ctrl+s")
        await settle(pilot)
        after = detail(shipped, "OAI-3.2")
        assert after.last_reviewed.isoformat() == "2026-11-27"
        assert (
            after.history[-1].kind == "review"
            and after.history[-1].reason == "Checked: still paused"
        )
        assert f"OAI-3.2: review recorded; {status} stands." in app.notices_text()


async def test_a_review_refused_by_a_concurrent_change_reloads_and_saves_on_top(
    shipped, make_app, cli
):
    # The CLI in a child process records its review on the real date, so the UI reviews on the
    # same day (never before the last review, which the rules refuse).
    app = make_app(shipped, today=max(TODAY, datetime.now(UTC).date()))
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-P4")
        await pilot.press("v")
        await pilot.pause()
        form = app.screen
        cited = dated_evidence(shipped, "OAI-P4")
        result = await asyncio.to_thread(
            cli, "status", "OAI-P4", "not_met", "--reason", "Dropped", "--evidence", str(cited.id)
        )
        assert result.code == 0, result.err
        await type_text(pilot, "Nothing new on Stargate UK")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        heading = plain(form.query_one("#form-heading"))
        assert "The status stays not met" in heading  # the form shows the status as it is now
        assert "ctrl+s saves on top" in heading and "changed by tester at" in heading
        assert form.query_one("#review_note", Input).value == "Nothing new on Stargate UK"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        last = detail(shipped, "OAI-P4").history[-1]
        assert (last.kind, last.reason, last.to_status) == (
            "review",
            "Nothing new on Stargate UK",
            "not_met",
        )


# --- correcting evidence ---------------------------------------------------------------------------


async def test_correct_evidence_keeps_the_old_values_and_detects_a_concurrent_edit(
    shipped, make_app, cli
):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press("E")  # several records: first choose one in the evidence list
        await pilot.pause()
        assert app.screen is app.main
        assert app.focused is app.main.query_one("#detail-evidence")
        assert "Which evidence of OAI-2.1?" in app.notices_text()
        await pilot.press("down")
        item = app.main.pane.highlighted_evidence
        assert item is not None and item is app.main.pane.evidence[1]
        await pilot.press("E")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#title", Input).value == item.title  # filled in
        assert form.query_one("#direction", Select).value == item.direction
        assert hint(app, "reason") == "required: what was wrong, in a sentence"
        form.query_one("#title", Input).value = "Corrected [/] [bold]title"
        form.query_one("#archived_url", Input).value = "javascript:alert(1)"
        await pilot.pause()
        assert "archived_url" in hint(app, "archived_url") and "http" in hint(app, "archived_url")
        form.query_one("#archived_url", Input).value = "https://web.archive.org/x"
        form.query_one("#reason", Input).value = "Headline changed"
        await pilot.pause()
        assert hint(app, "reason") == "changes archived_url, title"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        after = next(e for e in detail(shipped, "OAI-2.1").evidence if e.id == item.id)
        assert after.title == "Corrected [/] [bold]title"
        assert after.archived_url == "https://web.archive.org/x"
        revision = after.revisions[-1]
        assert (
            revision.reason == "Headline changed"
            and ("title", item.title, after.title) in revision.changes
        )
        assert f"Evidence #{item.id} on OAI-2.1 corrected" in app.notices_text()
        # the detail pane shows each record's URL and its correction history (item 7)
        listing = app.main.query_one("#detail-evidence")
        shown = next(
            listing.get_option_at_index(i).prompt.plain
            for i in range(listing.option_count)
            if listing.get_option_at_index(i).id == str(item.id)
        )
        assert after.url in shown
        assert "by pm (title, archived_url): Headline changed" in shown

        # Someone corrects the same record from the command line while the form is open.
        await pilot.press("E")
        await pilot.pause()
        form = app.screen
        result = await asyncio.to_thread(
            cli, "evidence", "edit", str(item.id), "--publisher", "Elsewhere", "--reason", "cli fix"
        )
        assert result.code == 0, result.err
        form.query_one("#summary", Input).value = "A new summary"
        form.query_one("#reason", Input).value = "Summary clearer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, input kept
        assert form.query_one("#summary", Input).value == "A new summary"
        assert "changed by tester at" in app.notices_text()
        final = next(e for e in detail(shipped, "OAI-2.1").evidence if e.id == item.id)
        assert final.publisher == "Elsewhere" and final.summary != "A new summary"
        # issue 18 item 4: the form reloaded; untouched fields show the other person's values,
        # and a second ctrl+s saves on top without undoing their correction
        heading = plain(form.query_one("#form-heading"))
        assert "ctrl+s saves on top" in heading and f"version {final.version}," in heading
        assert form.query_one("#publisher", Input).value == "Elsewhere"
        assert "reload and try again" not in app.notices_text()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        final = next(e for e in detail(shipped, "OAI-2.1").evidence if e.id == item.id)
        assert (final.publisher, final.summary) == ("Elsewhere", "A new summary")
        assert [r.reason for r in final.revisions][-2:] == ["cli fix", "Summary clearer"]


# --- correcting a commitment ----------------------------------------------------------------------


async def test_correct_commitment_publishes_old_and_new_values_with_the_reason(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-4.2")
        before = detail(shipped, "OAI-4.2")
        await pilot.press("C")
        await pilot.pause()
        form = app.screen
        # every field filled in with what is recorded now
        assert form.query_one("#title", Input).value == before.title
        assert form.query_one("#summary", TextArea).text == before.summary
        assert form.query_one("#strength", Select).value == before.strength
        assert form.query_one("#theme", Input).value == before.theme
        assert form.query_one("#text_basis", Select).value == before.text_basis
        assert form.query_one("#origin", Select).value == before.origin
        assert form.query_one("#owners", Input).value == "DSIT:lead,OPENAI:lead,AISI:support"
        assert hint(app, "reason") == "required: what was wrong, in a sentence"
        form.query_one("#owners", Input).value = "DSIT:lead,OPENAI:chief"
        await pilot.pause()
        assert hint(app, "owners").startswith("owners (OPENAI):")
        form.query_one("#owners", Input).value = "OPENAI:lead, DSIT:support"
        form.query_one("#title", Input).value = "Fund [/] [bold]x safeguards"
        form.query_one("#strength", Select).value = "explore"
        form.query_one("#reason", Input).value = "Wording checked against the Guardian report"
        await pilot.pause()
        assert hint(app, "reason") == "changes owners, strength, title"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        after = detail(shipped, "OAI-4.2")
        assert (after.title, after.strength) == ("Fund [/] [bold]x safeguards", "explore")
        assert after.version == before.version + 1
        assert len(after.corrections) == len(before.corrections) + 1
        correction = next(
            c
            for c in after.corrections
            if c.reason == "Wording checked against the Guardian report"
        )
        assert correction.by == "pm"
        assert ("title", before.title, "Fund [/] [bold]x safeguards") in correction.changes
        assert ("strength", "intend", "explore") in correction.changes
        assert (
            "owners",
            "DSIT (lead), OPENAI (lead), AISI (support)",
            "OPENAI (lead), DSIT (support)",
        ) in correction.changes
        assert {field for field, _, _ in correction.changes} == {"title", "strength", "owners"}
        assert "OAI-4.2: corrected title, strength, owners" in app.notices_text()
        assert app.main.pane.detail.title == "Fund [/] [bold]x safeguards"  # the view refreshed


async def test_correct_commitment_without_a_reason_or_a_change_is_refused(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-4.2")
        before = detail(shipped, "OAI-4.2")
        await pilot.press("C")
        await pilot.pause()
        form = app.screen
        form.query_one("#theme", Input).value = "Security"
        await pilot.press("ctrl+s")  # no reason
        await settle(pilot)
        assert app.screen is form
        assert plain(form.query_one("#form-error")) == "Not saved: reason: must not be empty"
        assert app.focused is form.query_one("#reason", Input)
        assert form.query_one("#theme", Input).value == "Security"  # input kept
        assert ("error", "Refused") in [(s, t) for s, t, _, _ in app.notices]
        assert detail(shipped, "OAI-4.2") == before  # nothing saved
        # a reason but nothing changed (the owners only reordered): refused too
        form.query_one("#theme", Input).value = before.theme
        form.query_one("#owners", Input).value = "AISI:support, OPENAI:lead, DSIT:lead"
        form.query_one("#reason", Input).value = "Tidy"
        await pilot.pause()
        assert hint(app, "reason") == "nothing changed yet"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert plain(form.query_one("#form-error")).startswith(
            "Not saved: changes: OAI-4.2 already has these values"
        )
        assert detail(shipped, "OAI-4.2") == before


async def test_correct_commitment_detects_a_concurrent_correction(shipped, make_app, cli):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-4.2")
        await pilot.press("C")
        await pilot.pause()
        form = app.screen
        result = await asyncio.to_thread(
            cli, "commitment", "correct", "OAI-4.2", "--theme", "Security", "--reason", "cli fix"
        )
        assert result.code == 0, result.err
        form.query_one("#title", Input).value = "A clearer title"
        form.query_one("#reason", Input).value = "Clearer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, input kept
        assert form.query_one("#title", Input).value == "A clearer title"
        assert "changed by tester at" in plain(form.query_one("#form-error"))
        assert ("error", "Changed by someone else") in [(s, t) for s, t, _, _ in app.notices]
        final = detail(shipped, "OAI-4.2")
        assert final.theme == "Security" and final.title != "A clearer title"
        assert [c.reason for c in final.corrections].count("Clearer") == 0


# --- export -------------------------------------------------------------------------------------


async def test_export_writes_the_reports_in_a_worker(shipped, make_app, tmp_path, monkeypatch):
    import threading

    from mou_tracker.reports import export as export_module
    from mou_tracker.storage import roles

    real_export, real_viewer = export_module.export, roles.as_viewer
    threads = []
    sessions = []

    def spy(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        sessions.append(("export", session))
        return real_export(session, *args, **kwargs)

    def viewer(session):  # type: ignore[no-untyped-def]
        sessions.append(("as_viewer", session))
        return real_viewer(session)

    monkeypatch.setattr(export_module, "export", spy)
    monkeypatch.setattr(roles, "as_viewer", viewer)
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        form = app.screen
        form.query_one("#out", Input).value = str(tmp_path / "out")
        form.query_one("#formats", SelectionList).deselect("csv")
        form.query_one("#since", Input).value = "1 June 2026"
        await pilot.pause()
        assert hint(app, "since") == "read as 2026-06-01, Monday 1 June 2026"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        assert threads == [False]  # the export ran in a worker thread
        # with the viewer's rights, in the same read session, as `mou-tracker export`
        assert [what for what, _ in sessions] == ["as_viewer", "export"]
        assert sessions[0][1] is sessions[1][1]
        out = tmp_path / "out"
        assert (out / "README.md").is_file() and (out / "changes-since-2026-06-01.md").is_file()
        assert (out / "html/index.html").is_file() and (out / "data/tracker.json").is_file()
        assert not (out / "data/commitments.csv").exists()
        written = len([p for p in out.rglob("*") if p.is_file()])
        assert f"Wrote {written} file(s) to {out}" in app.notices_text()


async def test_export_into_a_folder_of_other_files_is_refused(shipped, make_app, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("keep me")
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one("#out", Input).value = str(folder)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "holds files mou-tracker did not write" in plain(app.screen.query_one("#form-error"))
        assert app.screen.query_one("#out", Input).value == str(folder)  # input kept
        assert ("error", "Refused") in [(s, t) for s, t, _, _ in app.notices]
    assert sorted(p.name for p in folder.iterdir()) == ["letter.txt"]


# --- never lose typed input ---------------------------------------------------------------------


async def test_escape_and_quit_ask_before_discarding_typed_input(shipped, make_app):
    from mou_tracker.tui.modals.confirm import ConfirmScreen
    from mou_tracker.tui.modals.note import NoteForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-2.1")
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("escape")  # nothing typed: closes at once
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "draft")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing
        await pilot.pause()
        assert (
            isinstance(app.screen, NoteForm)
            and app.screen.query_one("#body", TextArea).text == "draft"
        )
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+d")  # discard (a bare y does not: test_walk_small.py)
        await pilot.pause()
        assert app.screen is app.main


# --- links and refs -----------------------------------------------------------------------------


async def test_open_evidence_and_source_links_and_copy_ref(shipped, make_app, monkeypatch):
    import webbrowser

    monkeypatch.setattr(webbrowser, "get", lambda *a: object())
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        newest = app.main.pane.evidence[0]
        await pilot.press("o")
        assert app.opened == [newest.url] and app.clipboard == newest.url
        await pilot.press("tab", "tab")  # to the detail, then its evidence list
        assert app.focused is app.main.query_one("#detail-evidence")
        await pilot.press("down", "enter")
        assert app.opened[-1] == app.main.pane.evidence[1].url
        await pilot.press("O")
        assert app.opened[-1] == app.main.pane.detail.source_url
        await pilot.press("y")
        assert app.clipboard == "OAI-3.1"
        assert "Copied OAI-3.1 to the clipboard." in app.notices_text()

    def no_browser(*a):  # type: ignore[no-untyped-def]
        raise webbrowser.Error("none")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.1")
        await pilot.press("o")
        assert app.opened == [] and app.clipboard == app.main.pane.evidence[0].url
        assert "No web browser found here" in app.notices_text()


async def test_a_role_without_the_right_is_told_why_and_no_form_opens(shipped, make_app):
    """Issue 19: where PostgreSQL has the tracker's roles, the UI refuses up front what the
    database would refuse on save, and says which role it needs (the role checks themselves
    are tested against a real server in tests/team/test_roles.py)."""
    from mou_tracker.storage.roles import Identity

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-3.2")
        screen = app.screen
        screen._identity_cache = Identity(
            role="jo_viewer",
            superuser=False,
            display_name=None,
            roles_set_up=True,
            groups=("mou_viewer",),
        )
        before = len(detail(shipped, "OAI-3.2").history)
        for key in ("s", "v"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen  # no form was opened
        assert "status: needs the mou_manager role; you are connected as jo_viewer" in (
            app.notices_text()
        )
        assert "review: needs the mou_manager role" in app.notices_text()
        assert len(detail(shipped, "OAI-3.2").history) == before
        screen._identity_cache = Identity(
            "mo", False, None, True, ("mou_viewer", "mou_staff", "mou_manager")
        )
        await pilot.press("v")
        await pilot.pause()
        assert app.screen is not screen  # a manager gets the review form
