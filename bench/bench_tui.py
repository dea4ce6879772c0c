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
directory (or, if that builder does not match the models of this build, bench/generate.py's
cached tracker of the same size). Timings are wall-clock medians of ``--repeat`` runs.

``--probe URL`` runs the tracker once on an existing database and prints one JSON line (first
screen, per-key timings, and the wall-clock time of the first screen, so a caller that knows
when it started the process can tell the time from launch); ``--probe-baseline`` does the same
for the Textual baselines. bench/run.py runs these in subprocesses to measure peak memory.
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


# time.time() when the last tracker() run showed its first screen (for the launch-to-screen
# figure of a probe run in its own process).
LAST_FIRST_WALL: float | None = None


async def tracker(url: str, keys: str) -> tuple[float, list[tuple[str, float, float]]]:
    global LAST_FIRST_WALL
    from mou_tracker.storage.engine import make_engine
    from mou_tracker.tui.app import TrackerApp

    engine = make_engine(url)
    start = time.perf_counter()
    app = TrackerApp(engine, actor="bench", today=TODAY, poll_seconds=0)
    per_key: list[tuple[str, float, float]] = []
    async with app.run_test(size=SIZE):
        await _wait(lambda: app.main.detail is not None and app.main.table.loaded)
        first = time.perf_counter() - start
        LAST_FIRST_WALL = time.time()
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


def peak_rss_mb() -> float | None:
    """This process's own peak resident memory in MB: VmHWM, the high-water mark of the memory
    map that exec created. (``ru_maxrss`` from wait4 or getrusage is no use for this on Linux:
    exec carries the parent's high-water mark over, so a child of a large benchmark process
    reports the parent's peak.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def probe(url: str, keys: str) -> dict[str, object]:
    """One run of the tracker in this process, as a JSON-able dict."""
    first, per_key = asyncio.run(tracker(url, keys))
    return {
        "first": first,
        "first_wall": LAST_FIRST_WALL,
        "keys": [{"typed": t, "shown": s, "counted": c} for t, s, c in per_key],
        "peak_mb": peak_rss_mb(),
    }


def probe_baseline() -> dict[str, object]:
    return {
        "empty": asyncio.run(baseline_empty()),
        "datatable": asyncio.run(baseline_datatable()),
    }


def database(tmp: Path, n: int) -> str:
    """A database of ``n`` commitments: tests/tui/bulk.py's, or bench/generate.py's when that
    builder does not fit this build's models (it checks its columns against them)."""
    from tests.tui.bulk import bulk_sqlite

    try:
        return bulk_sqlite(tmp / f"bench-{n}.db", n)
    except AssertionError as exc:
        sys.path.insert(0, str(ROOT / "bench"))
        import shutil

        import generate

        print(
            f"  (tests/tui/bulk.py does not match the models ({exc}); using bench/generate.py)",
            file=sys.stderr,
        )
        path = tmp / f"gen-{n}.db"
        shutil.copyfile(generate.sqlite_path(generate.Spec(size=n)), path)
        return f"sqlite:///{path}"


def ms(value: float) -> str:
    return f"{value * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--keys", default="fund x", help="typed into the search box, one key at a time"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--probe", metavar="URL", help="one run on URL; print JSON")
    parser.add_argument("--probe-baseline", action="store_true", help="baselines once; JSON")
    args = parser.parse_args()
    if args.probe or args.probe_baseline:
        import json

        result = probe(args.probe, args.keys) if args.probe else probe_baseline()
        print(json.dumps(result))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    print(f"Textual baseline, headless {SIZE[0]}x{SIZE[1]} (median of {args.repeat}):")
    empty = statistics.median(asyncio.run(baseline_empty()) for _ in range(args.repeat))
    small = statistics.median(asyncio.run(baseline_datatable()) for _ in range(args.repeat))
    print(f"  empty App first screen                 {ms(empty)}")
    print(f"  Header + 20-row DataTable + Footer     {ms(small)}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            t0 = time.perf_counter()
            url = database(Path(tmp), n)
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
