"""How fast the terminal UI is at 1,000, 10,000 and 100,000 commitments.

    .venv/bin/python bench/bench_tui.py [--sizes 1000,10000,100000] [--keys "fund x"] [--repeat 3]

Prints, for each size:

- first screen: from creating the app to the table showing its first rows and the selected
  commitment's detail (headless, 120x40), against a baseline measured in the same run: an
  empty Textual app, and a Textual app with a header, a footer and a 20-row DataTable;
- per filter keystroke: from pressing a key in the search box to the list showing the rows that
  match (first page), and to the exact "of N" count, for each key of ``--keys``;
- the same as a one-off DataTable would cost: adding every row of the database to a DataTable
  (only up to 10,000 rows; it is the design this UI avoids).

Databases are SQLite files built with tests/tui/bulk.py (Core bulk inserts) in a temporary
directory. Timings are wall-clock medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

SIZE = (120, 40)
TODAY = date(2026, 7, 15)


async def _wait(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the UI did not get there in time")
        await asyncio.sleep(0.001)


async def baseline_empty() -> float:
    from textual.app import App

    start = time.perf_counter()
    async with App().run_test(size=SIZE) as pilot:
        await pilot.pause()
        return time.perf_counter() - start


async def baseline_datatable() -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Small(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Ref", "Title", "Status")
            table.add_rows([(f"R-{i}", f"Title {i}", "met") for i in range(20)])

    start = time.perf_counter()
    async with Small().run_test(size=SIZE) as pilot:
        await pilot.pause()
        return time.perf_counter() - start


async def datatable_all_rows(url: str, limit: int) -> tuple[int, float] | None:
    """Every commitment in a DataTable: the cost this UI's virtual list avoids."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from mou_tracker.domain.queries import list_commitments
    from mou_tracker.storage.engine import make_engine, read

    engine = make_engine(url)
    with read(engine) as session:
        rows = list_commitments(session, limit=limit)
    engine.dispose()
    if len(rows) > limit:
        return None

    class Full(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    start = time.perf_counter()
    async with Full().run_test(size=SIZE) as pilot:
        table = pilot.app.query_one(DataTable)
        table.add_columns(
            "Ref", "Title", "Owners", "Strength", "Status", "Ev", "Latest", "Next review"
        )
        table.add_rows(
            [
                (
                    r.ref,
                    r.title,
                    r.owners_text,
                    r.strength,
                    r.status,
                    str(r.evidence_count),
                    str(r.latest_evidence),
                    str(r.next_review),
                )
                for r in rows
            ]
        )
        await pilot.pause()
        return len(rows), time.perf_counter() - start


def _shown(main, typed: str) -> bool:  # type: ignore[no-untyped-def]
    table = main.table
    return bool(
        table.loaded and table.view_query.search == typed and table.generation == main.generation
    )


def _counted(main) -> bool:  # type: ignore[no-untyped-def]
    return bool(main.table.exact and main.table.generation == main.generation)


def press(app, key: str) -> None:  # type: ignore[no-untyped-def]
    """Send a key the way the terminal driver does, without the pilot's idle waits (they would
    add ~100 ms of sleeping to every measurement)."""
    from textual import events

    name = {" ": "space", "/": "slash"}.get(key, key)
    event = events.Key(name, key)
    event.set_sender(app)
    app._driver.send_message(event)


async def tracker(url: str, keys: str) -> tuple[float, list[tuple[str, float, float]]]:
    from mou_tracker.storage.engine import make_engine
    from mou_tracker.tui.app import TrackerApp

    engine = make_engine(url)
    start = time.perf_counter()
    app = TrackerApp(engine, actor="bench", today=TODAY, poll_seconds=0)
    per_key: list[tuple[str, float, float]] = []
    async with app.run_test(size=SIZE):
        await _wait(lambda: app.main.detail is not None and app.main.table.loaded)
        first = time.perf_counter() - start
        await _wait(lambda: app.main.summary is not None)
        press(app, "/")
        await _wait(lambda: app.focused is app.main.query_one("#search"))
        typed = ""
        for key in keys:
            typed += key
            main = app.main
            t0 = time.perf_counter()
            press(app, key)
            await _wait(partial(_shown, main, typed))
            shown = time.perf_counter() - t0
            await _wait(partial(_counted, main))
            counted = time.perf_counter() - t0
            per_key.append((typed, shown, counted))
    engine.dispose()
    return first, per_key


def ms(value: float) -> str:
    return f"{value * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--keys", default="fund x", help="typed into the search box, one key at a time"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    from tests.tui.bulk import bulk_sqlite

    print(f"Textual baseline, headless {SIZE[0]}x{SIZE[1]} (median of {args.repeat}):")
    empty = statistics.median(asyncio.run(baseline_empty()) for _ in range(args.repeat))
    small = statistics.median(asyncio.run(baseline_datatable()) for _ in range(args.repeat))
    print(f"  empty App first screen                 {ms(empty)}")
    print(f"  Header + 20-row DataTable + Footer     {ms(small)}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            t0 = time.perf_counter()
            url = bulk_sqlite(Path(tmp) / f"bench-{n}.db", n)
            built = time.perf_counter() - t0
            print(f"\n{n:,} commitments (database built in {built:.1f} s)")
            firsts: list[float] = []
            keys: dict[str, list[tuple[float, float]]] = {}
            for _ in range(args.repeat):
                first, per_key = asyncio.run(tracker(url, args.keys))
                firsts.append(first)
                for typed, shown, counted in per_key:
                    keys.setdefault(typed, []).append((shown, counted))
            print(f"  first screen (rows and detail shown)   {ms(statistics.median(firsts))}")
            shown_all = []
            for typed, samples in keys.items():
                shown = statistics.median(s for s, _ in samples)
                counted = statistics.median(c for _, c in samples)
                shown_all.append(shown)
                print(
                    f"  keystroke -> {typed!r:<10} rows shown {ms(shown)}   exact count {ms(counted)}"
                )
            print(
                f"  per keystroke, median over keys        {ms(statistics.median(shown_all))}  (max {ms(max(shown_all)).strip()})"
            )
            full = asyncio.run(datatable_all_rows(url, 10_000))
            if full is not None:
                print(f"  for comparison: all {full[0]:,} rows in a DataTable {ms(full[1])}")


if __name__ == "__main__":
    main()
