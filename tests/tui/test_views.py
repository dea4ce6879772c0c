"""Issue 18, item 11: saved views, per user, in the user's config directory, recalled from the
palette."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from tests.tui.helpers import settle, showing, type_text

from mou_tracker.tui.data import ViewQuery
from mou_tracker.tui.views import ViewsError, load_views, save_view, views_path


def test_views_round_trip_per_user(_private_config) -> None:
    query = ViewQuery(search="compute", status=("stalled",), overdue=True, sort="next_review")
    assert save_view("pm", "  stalled   compute ", query) == "stalled compute"
    save_view("bob", "mine", ViewQuery(owner="DSIT"))
    assert load_views("pm") == {"stalled compute": query}
    assert load_views("bob") == {"mine": ViewQuery(owner="DSIT")}
    assert load_views("nobody") == {}
    assert views_path() == _private_config / "views.json"
    assert json.loads(views_path().read_text())["users"]["pm"]["stalled compute"]["status"] == [
        "stalled"
    ]


def test_bad_names_and_a_broken_file_are_refused_and_left_alone(_private_config) -> None:
    with pytest.raises(ViewsError, match="name: must not be empty"):
        save_view("pm", "   ", ViewQuery())
    with pytest.raises(ViewsError, match="the limit is 40"):
        save_view("pm", "x" * 41, ViewQuery())
    _private_config.mkdir(parents=True)
    views_path().write_text("{not json")
    with pytest.raises(ViewsError, match="cannot be read"):
        load_views("pm")
    with pytest.raises(ViewsError, match="cannot be read"):
        save_view("pm", "a", ViewQuery())
    assert views_path().read_text() == "{not json"  # never overwritten


async def test_save_a_view_and_recall_it_from_the_palette(shipped_sqlite, make_app):
    app = make_app(shipped_sqlite)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.set_query(replace(app.main.view_query, status=("stalled",)))
        await settle(pilot)
        wanted = app.main.view_query
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "save view")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, "stalled only")
        await pilot.press("enter")
        await settle(pilot)
        assert "View 'stalled only' saved" in app.notices_text()
    app = make_app(shipped_sqlite)  # a new session of the same user
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.main.view_query.filtered
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "view: stalled")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.view_query == wanted
        assert "status stalled" in showing(app)
