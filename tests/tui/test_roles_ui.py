"""Issue 19 in the UI: where PostgreSQL has the tracker's roles, the footer dims the actions the
connected role may not do, and pressing one says which role it needs. Nothing is written."""

from __future__ import annotations

import pytest
from tests.team.test_roles import staffed, team  # noqa: F401 - the real roles, as fixtures
from tests.tui.helpers import settle
from textual.widgets import Footer

from mou_tracker.storage.roles import Identity

VIEWER = Identity("jo_viewer", False, None, True, ("mou_viewer",))
STAFF = Identity("sam_staff", False, None, True, ("mou_staff", "mou_viewer"))


def footer_keys(app) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Footer key -> shown enabled (False: dimmed)."""
    footer = app.main.query_one(Footer)
    return {
        key.key: not key.has_class("-disabled") for key in footer.children if hasattr(key, "key")
    }


async def _as(app, pilot, identity) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    app.main._identity_cache = identity
    app.main.refresh_bindings()
    await pilot.pause()
    await pilot.pause()


async def test_a_viewer_sees_writes_dimmed_and_is_told_why(shipped, make_app):
    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await _as(app, pilot, VIEWER)
        main = app.main
        for action in ("change_status", "record_review", "add_evidence", "add_note"):
            assert main.check_action(action, ()) is None, action
        assert main.check_action("export", ()) is True  # a viewer may export
        keys = footer_keys(app)
        assert keys["s"] is False and keys["e"] is False and keys["n"] is False
        assert keys["x"] is True and keys["slash"] is True
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is main
        assert "status: needs the mou_manager role; you are connected as jo_viewer" in (
            app.notices_text()
        )
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is main
        assert "evidence add: needs the mou_staff role" in app.notices_text()


async def test_staff_may_add_evidence_but_not_change_a_status(shipped, make_app):
    from mou_tracker.tui.modals.evidence import EvidenceForm

    app = make_app(shipped)
    async with app.run_test(size=(120, 45)) as pilot:
        await _as(app, pilot, STAFF)
        keys = footer_keys(app)
        assert keys["s"] is False and keys["e"] is True and keys["n"] is True
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EvidenceForm)


@pytest.mark.parametrize("who", ["viewer", "manager"])
async def test_real_roles_on_postgresql_dim_the_footer(staffed, make_app, who):  # noqa: F811
    from mou_tracker.storage.engine import make_engine

    login = staffed.logins[who]
    engine = make_engine(staffed.url(login))
    try:
        app = make_app(engine, actor=login)
        async with app.run_test(size=(120, 45)) as pilot:
            await settle(pilot)
            await pilot.pause()
            identity = app.main._identity()
            assert identity is not None and identity.role == login
            keys = footer_keys(app)
            assert keys["s"] is (who == "manager")
            assert keys["e"] is (who == "manager")
            await pilot.press("s")
            await pilot.pause()
            if who == "viewer":
                assert app.screen is app.main
                assert f"needs the mou_manager role; you are connected as {login}" in (
                    app.notices_text()
                )
            else:  # allowed: whatever happens next, it is not a role refusal
                assert "Not allowed" not in [t for _, t, _, _ in app.notices]
                assert app.main.check_action("change_status", ()) is True
    finally:
        engine.dispose()
