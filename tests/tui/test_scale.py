"""100,000 commitments: the first screen, the live filter, paging to the end, sorting, all in
SQL, with the widget holding only a few pages."""

from __future__ import annotations

from tests.tui.conftest import BIG
from tests.tui.helpers import settle, showing, table_lines, type_text

from mou_tracker.storage.engine import make_engine
from mou_tracker.tui.widgets.commitment_list import MAX_PAGES


async def test_filter_and_page_through_100000_commitments(big_url, make_app):
    engine = make_engine(big_url)
    app = make_app(engine)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            table = app.main.table
            assert table.total == BIG and table.exact
            assert f"of {BIG:,}" in showing(app)
            assert table_lines(app)[1].startswith(" BLK-000001")
            assert table.held_rows <= app.page_size
            # the live filter: every keystroke is a query in SQL
            await pilot.press("slash")
            await type_text(pilot, "BLK-0500")
            await settle(pilot)
            assert table.total == 100  # BLK-050000 ... BLK-050099
            assert "showing 1–" in showing(app) and "of 100 (100,000 in all)" in showing(app)
            await type_text(pilot, "01")
            await settle(pilot)
            assert table.total == 1 and table.current.ref == "BLK-050001"
            await type_text(pilot, " zzz")
            await settle(pilot)
            assert table.total == 0
            await pilot.press("escape")
            await settle(pilot)
            assert table.total == BIG
            # to the end and back: pages come in as needed, only a few are held
            table.focus()
            await pilot.press("end")
            await settle(pilot)
            assert table.cursor == BIG - 1 and table.current.ref == "BLK-100000"
            assert app.main.detail.ref == "BLK-100000"
            assert table_lines(app)[-1].startswith(" BLK-100000")
            await pilot.press("pageup", "pageup", "pageup", "pageup", "pageup", "pageup")
            await settle(pilot)
            assert table.current is not None
            assert table.held_rows <= MAX_PAGES * app.page_size
            # sorting 100,000 rows by a computed column happens in SQL too
            await pilot.press("6")
            await settle(pilot)
            counts = [table.row_at(i).evidence_count for i in range(20)]
            assert counts == sorted(counts)
            await pilot.press("d")  # overdue only
            await settle(pilot)
            assert 0 < table.total < BIG
    finally:
        engine.dispose()
