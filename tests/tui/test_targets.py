"""Issue 18, item 5: set and re-baseline a target date from the UI, through the domain's rules;
a passed target is flagged; target changes are in the detail's timeline."""

from __future__ import annotations

from tests.tui.helpers import plain, settle, type_text
from tests.tui.test_forms import dated_evidence, detail, hint, open_on
from textual.widgets import Input, Select


async def test_set_then_rebaseline_a_target(shipped, make_app):
    from mou_tracker.tui.modals.target import TargetForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_on(pilot, "OAI-3.1")
        before = detail(shipped, "OAI-3.1")
        assert before.target is None
        assert "none set · t sets one" in plain(app.main.pane.query_one("#detail-head"))
        await pilot.press("t")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TargetForm)
        await type_text(pilot, "30 September 2026")
        await pilot.pause()
        assert "read as 2026-09-30, Wednesday 30 September 2026" in hint(app, "target")
        form.query_one("#target_reason", Input).value = "DSIT said compute by autumn"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        after = detail(shipped, "OAI-3.1")
        assert (after.target, after.original_target) == (after.target, after.target)
        assert after.target.isoformat() == "2026-09-30" and after.version == before.version + 1
        assert "OAI-3.1: target set to 2026-09-30" in app.notices_text()
        head = plain(app.main.pane.query_one("#detail-head"))
        assert "2026-09-30  PASSED 58 days ago, not met" in head  # still stalled on 2026-11-27
        timeline = plain(app.main.pane.query_one("#detail-timeline"))
        assert "target set: 2026-09-30  by pm" in timeline and "target dates (1)" in timeline

        # moving it is a re-baselining: refused without evidence, saved with it
        await pilot.press("t")
        await pilot.pause()
        form = app.screen
        form.query_one("#target", Input).value = "2027-03-31"
        form.query_one("#target_reason", Input).value = "Delay announced"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "must cite the evidence" in plain(form.query_one("#form-error"))
        assert detail(shipped, "OAI-3.1").target.isoformat() == "2026-09-30"
        cited = dated_evidence(shipped, "OAI-3.1")
        form.query_one("#target_evidence", Select).value = str(cited.id)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is app.main
        final = detail(shipped, "OAI-3.1")
        assert final.target.isoformat() == "2027-03-31"
        assert final.original_target.isoformat() == "2026-09-30"
        assert [t.evidence_id for t in final.targets] == [None, cited.id]
        head = plain(app.main.pane.query_one("#detail-head"))
        assert "2027-03-31 (originally 2026-09-30)" in head and "PASSED" not in head
        timeline = plain(app.main.pane.query_one("#detail-timeline"))
        assert "target moved: 2026-09-30 → 2027-03-31  by pm" in timeline
        assert f"cites #{cited.id}" in timeline


async def test_a_vision_clause_has_no_target(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_on(pilot, "OAI-0")
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is app.main
        assert "OAI-0 is a vision clause: it has no target" in app.notices_text()
