"""Every mou-tracker benchmark in one command, with its baseline measured in the same run.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--repeat 5] [--quick]

Each measure runs the real CLI (the ``mou-tracker`` script beside this Python, else
``python -m mou_tracker``) as a subprocess and takes the wall-clock median of several runs,
beside a floor measured in the same run and interleaved with it (floor, command, floor, ...):

- ``--help`` and ``--version`` against ``python -c "import argparse"`` (the CLI library);
- writes (``status``, ``evidence add``) and ``list --format json`` against
  ``python -c "import sqlmodel"``: the least any command that touches the database imports;
  on SQLite and, with ``--pg``, again on a PostgreSQL copy of the same tracker;
- ``export --out DIR`` and a re-export after one status change, on SQLite and on PostgreSQL
  (``--pg``), against bench/export_floor.py (pure I/O: the plain driver reads the same rows, the
  same bytes go to the same files);
- ``sync`` of the tracker's commitments.toml into an empty database, and again (no-op);
- ``evidence import`` of a CSV (100,000 rows, or 10 per commitment when smaller), as rows/s;
- the terminal UI (bench/bench_tui.py's measurements, in a subprocess per run for its peak
  memory) at 100 commitments and at every size;
- Taskwarrior, where ``task`` is installed, with the same number of items.

Trackers come from bench/generate.py (cached in bench/out/). Every write runs on a working
copy, never on the cache. Runs: the first run of a command is a warm-up and is dropped when it
took under 5 s; a slower command keeps it as a sample and runs at most 3 times (once with
--quick); one that takes a minute or more runs once; one that takes over ``--timeout`` seconds
(default 1200) is stopped and reported. Progress goes to stderr, the table to stdout; the results are also
written to bench/out/results-<time>.json.

``--quick`` is a smoke run: size 1,000 only, 2 runs each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(BENCH), str(ROOT / "src"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import generate as gen  # noqa: E402

PY = sys.executable
PARTS = ("startup", "writes", "export", "sync", "import", "taskwarrior", "tui")
WARMUP_DROP_UNDER = 5.0  # seconds: a faster first run is a warm-up, dropped
HEAVY = 5.0  # seconds: a slower command runs at most 3 times
ONCE = 60.0  # seconds: a command this slow runs once
TUI_KEYS = "fund x"
STARTED = time.perf_counter()


def target_commitment(db: Path) -> tuple[str, int]:
    """A scored commitment near the middle that is neither in_progress nor stalled, with
    evidence published on or before today: (ref, evidence id). bench/cli_bench.py and
    bench/reexport_bench.py change the same one."""
    today = datetime.now(UTC).date().isoformat()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        n = conn.execute("SELECT count(*) FROM commitment").fetchone()[0]
        row = conn.execute(
            "SELECT c.ref, e.id FROM commitment c JOIN evidence e ON e.commitment_id = c.id "
            "WHERE c.strength != 'vision' AND c.status NOT IN ('in_progress', 'stalled') "
            "AND e.published IS NOT NULL AND e.published <= ? AND c.position >= ? "
            "ORDER BY c.position, e.id LIMIT 1",
            (today, n // 2),
        ).fetchone()
    assert row, "no commitment to write to"
    return str(row[0]), int(row[1])


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- running one subprocess ---------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    rc: int
    peak_mb: float
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def problem(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return f"exit {self.rc}: {lines[-1] if lines else 'no message'}"


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 1200.0,
    stdout: Any = None,
) -> Result:
    """Run ``argv``; wall-clock time, exit code and wait4's ru_maxrss. On Linux that is
    never below this runner's own peak (exec carries it over), so the terminal-UI rows use the
    probe's VmHWM instead (bench_tui.peak_rss_mb)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Result(seconds, proc.returncode, usage.ru_maxrss / 1024, text, killed.is_set())


# --- samples and the table ----------------------------------------------------------------------


@dataclass
class Series:
    """Timed runs of one command (samples) and what went wrong, if anything."""

    samples: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    error: str | None = None
    done: bool = False
    limit: int = 0

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


HEAVY_RUNS = 3  # at most this many runs of a command slower than HEAVY (--quick: 1)


def rounds(
    commands: dict[str, Callable[[int], Result]], repeat: int, *, on_warmup: Any = None
) -> dict[str, Series]:
    """Run each command ``repeat`` times, interleaved (a, b, c, a, b, c, ...), after a warm-up
    round. ``commands[name](i)`` runs the i-th run (0 is the warm-up) and returns its Result.
    A warm-up under 5 s is dropped; a slower one is kept and the command runs at most 3 times
    (once if it took a minute or more). A failing command stops and records why."""
    series = {name: Series() for name in commands}
    for name, fn in commands.items():
        s = series[name]
        r = fn(0)
        if not r.ok:
            s.error, s.done = r.problem(), True
            continue
        if r.seconds < WARMUP_DROP_UNDER:
            s.limit = repeat
        else:
            s.samples.append(r.seconds)
            s.peaks.append(r.peak_mb)
            s.limit = 1 if r.seconds >= ONCE else min(repeat, HEAVY_RUNS)
        if on_warmup:
            on_warmup(name, r)
    i = 1
    while any(not s.done and len(s.samples) < s.limit for s in series.values()):
        for name, fn in commands.items():
            s = series[name]
            if s.done or len(s.samples) >= s.limit:
                continue
            r = fn(i)
            if not r.ok:
                s.error, s.done = r.problem(), True
                continue
            s.samples.append(r.seconds)
            s.peaks.append(r.peak_mb)
        i += 1
    return series


@dataclass
class Row:
    measure: str
    size: str
    runs: int = 0
    value: str = ""
    baseline: str = ""
    base_value: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_size(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def table(rows: list[Row]) -> str:
    heads = (
        "Measure",
        "Size",
        "Runs",
        "Median",
        "Baseline (same run)",
        "Baseline",
        "Ratio",
        "Target",
        "Met",
    )
    body = [
        (
            r.measure,
            r.size,
            str(r.runs) if r.runs else "-",
            r.value,
            r.baseline,
            r.base_value,
            r.ratio,
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(b[k]) for b in body)) for k, h in enumerate(heads)]
    right = {1, 2, 3, 5, 6}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(widths[k]) if k in right else c.ljust(widths[k]) for k, c in enumerate(cells)
        ).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    for r, cells in zip(rows, body, strict=True):
        out.append(line(cells))
        if r.note:
            out.append(" " * 4 + "note: " + r.note)
    return "\n".join(out)


class PgDatabase:
    """A database of the bench's own on a PostgreSQL server, dropped afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def __enter__(self) -> str:
        import uuid

        import psycopg

        self.name = f"mou_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')  # type: ignore[arg-type]
        return f"{self.admin.rsplit('/', 1)[0]}/{self.name}"

    def __exit__(self, *exc: object) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')  # type: ignore[arg-type]


# --- the benchmark ------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.repeat = args.repeat
        self.timeout = args.timeout
        script = Path(PY).with_name("mou-tracker")
        self.cli = [str(script)] if script.exists() else [PY, "-m", "mou_tracker"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MOU_TRACKER")} | {
            "MOU_TRACKER_USER": "bench",
            "PYTHONDONTWRITEBYTECODE": "0",
        }
        self.rows: list[Row] = []
        self.results: dict[str, Any] = {}  # (measure, size) -> median, for later comparisons
        self.counter = 0

    # helpers

    def mou(self, *args: str, stdout: Any = None) -> Result:
        return run([*self.cli, *args], env=self.env, timeout=self.timeout, stdout=stdout)

    def py(self, code: str) -> Result:
        return run([PY, "-c", code], env=self.env, timeout=self.timeout)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        met = {True: "met", False: "MISSED", None: ""}[row.met]
        log(f"  {row.measure} @ {row.size}: {row.value} {row.ratio} {met} {row.note}".rstrip())
        return row

    def row_vs(
        self,
        measure: str,
        size: str,
        s: Series,
        baseline: str,
        b: Series | None,
        *,
        max_ratio: float | None = None,
        max_seconds: float | None = None,
        note: str = "",
    ) -> Row:
        checks, target = [], []
        r = ratio(s.median, b.median if b else None)
        if max_seconds is not None:
            checks.append(s.median is not None and s.median <= max_seconds)
            target.append(f"<={max_seconds:g} s")
        if max_ratio is not None:
            checks.append(r is not None and r <= max_ratio)
            target.append(f"<={max_ratio:g}x base")
        if s.error:
            timed_out = s.error.startswith("timed out")
            return self.add(
                Row(
                    measure,
                    size,
                    value=f">{self.timeout:.0f} s" if timed_out else "error",
                    target=" and ".join(target) or "-",
                    met=False if timed_out and target else None,
                    note=s.error,
                )
            )
        return self.add(
            Row(
                measure,
                size,
                runs=len(s.samples),
                value=fmt_s(s.median),
                baseline=baseline if b else "",
                base_value=fmt_s(b.median) if b else "",
                ratio=fmt_ratio(r),
                target=" and ".join(target) or "-",
                met=all(checks) if checks else None,
                note=note if not (b and b.error) else f"baseline error: {b.error}",
                raw={
                    "samples": s.samples,
                    "baseline_samples": b.samples if b else None,
                    "peak_mb": max(s.peaks) if s.peaks else None,
                },
            )
        )

    # 1. start-up

    def startup(self) -> None:
        log("CLI start-up: --help, --version vs python -c 'import argparse'")
        series = rounds(
            {
                "floor": lambda i: self.py("import argparse"),
                "help": lambda i: self.mou("--help"),
                "version": lambda i: self.mou("--version"),
            },
            self.repeat,
        )
        floor = series["floor"]
        base = 'python -c "import argparse"'
        self.row_vs("mou-tracker --help", "-", series["help"], base, floor, max_ratio=1.5)
        self.row_vs("mou-tracker --version", "-", series["version"], base, floor, max_ratio=1.5)

    # 2. writes and the list

    def target_commitment(self, db: Path) -> tuple[str, int]:
        return target_commitment(db)

    def writes_and_list(self, n: int, db: str, backend: str = "SQLite") -> None:
        """status, evidence add and list on ``db`` (a SQLite file or a PostgreSQL URL), each
        interleaved with its floor: the least a command that opens that database imports,
        ``import sqlmodel`` (SQLite's driver is in the standard library), and on PostgreSQL
        ``import sqlmodel, psycopg`` (its driver)."""
        size = fmt_size(n)
        if backend == "SQLite":
            ref, evidence_id = self.target_commitment(Path(db))
        else:
            ref, evidence_id = self.target_commitment_pg(db)
        floor_code = "import sqlmodel" if backend == "SQLite" else "import sqlmodel, psycopg"
        log(
            f"{size}: status, evidence add, list --format json on {ref} ({backend}) "
            f"vs '{floor_code}'"
        )
        run_id = f"{os.getpid()}-{int(time.time())}"
        on = "" if backend == "SQLite" else f", {backend}"
        key = "" if backend == "SQLite" else "-pg"

        def status(i: int) -> Result:
            new = "in_progress" if i % 2 == 0 else "stalled"
            return self.mou(
                "--db", db, "status", ref, new,
                "--reason", f"Benchmark run {i}: a real status change.",
                "--evidence", str(evidence_id),
            )  # fmt: skip

        def add(i: int) -> Result:
            return self.mou(
                "--db", db, "evidence", "add", ref,
                f"https://bench.example.org/{run_id}/{n}/{i}",
                "--title", f"Benchmark evidence {i}",
                "--publisher", "Bench", "--published", "2026-01-15",
            )  # fmt: skip

        series = rounds(
            {
                "floor": lambda i: self.py(floor_code),
                "status": status,
                "add": add,
                "list": lambda i: self.mou("--db", db, "list", "--format", "json"),
            },
            self.repeat,
        )
        floor = series["floor"]
        base = f'python -c "{floor_code}"'
        self.results[("status" + key, n)] = series["status"].median
        self.results[("add" + key, n)] = series["add"].median
        self.results[("list" + key, n)] = series["list"].median
        self.results[("floor" + key, n)] = floor.median
        small = n <= 10_000
        self.row_vs(
            f"status REF NEW --reason --evidence ID{on}", size, series["status"], base, floor,
            max_ratio=1.3 if small else None,
        )  # fmt: skip
        self.row_vs(
            f"evidence add REF URL --title ...{on}", size, series["add"], base, floor,
            max_ratio=1.3 if small else None,
        )  # fmt: skip
        self.row_vs(
            f"list --format json{on}", size, series["list"], base, floor,
            max_ratio=1.6 if small else None,
            note="" if small else "target (<=1.6x) is set at 10,000",
        )  # fmt: skip

    def scaling_rows(self) -> None:
        """Writes at 100,000 (or any size above 10,000) within 10% of the 10,000 figure.

        Each figure is taken as its ratio to the ``import sqlmodel`` floor of the same size's
        run: the floor itself drifts between sizes (page cache, memory left by the larger
        exports), and the interleaved floor is what cancels that drift. The raw medians go in
        the row's note."""
        for what, label in (("status", "status"), ("add", "evidence add")):
            base = self.results.get((what, 10_000))
            base_floor = self.results.get(("floor", 10_000))
            base_r = ratio(base, base_floor)
            for (name, n), value in sorted(self.results.items(), key=lambda kv: kv[0][1]):
                if name != what or n <= 10_000:
                    continue
                here_r = ratio(value, self.results.get(("floor", n)))
                r = ratio(here_r, base_r)
                self.add(
                    Row(
                        f"{label}: {fmt_size(n)} vs 10,000 (each / its floor)",
                        fmt_size(n),
                        value=fmt_ratio(here_r),
                        baseline=f"{label} at 10,000 / floor" if base_r else "",
                        base_value=fmt_ratio(base_r) if base_r else "",
                        ratio=fmt_ratio(r),
                        target="<=1.1x" if base_r else "- (10,000 not run)",
                        met=None if r is None else r <= 1.1,
                        note=f"raw medians {fmt_s(value)} at {fmt_size(n)}, {fmt_s(base)} at 10,000"
                        if base
                        else "",
                    )
                )

    # 3. export

    def on_postgresql(self, n: int, spec: gen.Spec, measures: set[str]) -> None:
        """The writes, the list and the export again on a PostgreSQL database of the same
        tracker (created from its commitments.toml by ``sync``, not timed, and dropped after)."""
        toml = gen.toml_path(spec, log=log)
        with PgDatabase(self.args.pg) as url:
            log(f"{fmt_size(n)}: loading {toml.name} into PostgreSQL (sync, not timed)")
            r = self.mou("--db", url, "sync", str(toml))
            if not r.ok:
                self.add(Row("PostgreSQL copy", fmt_size(n), value="error", note=r.problem()))
                return
            if "writes" in measures:
                self.writes_and_list(n, url, "PostgreSQL")
            if "export" in measures:
                self.export_on("PostgreSQL", n, url, None)

    def export_on(self, backend: str, n: int, db: str, sqlite_file: Path | None) -> None:
        size = fmt_size(n)
        log(f"{size}: export on {backend} vs its pure-I/O floor")
        outs = self.tmp / f"export-{backend.lower()}-{n}"
        outs.mkdir(exist_ok=True)
        reference = outs / "reference"
        facts: dict[str, Any] = {}
        # One fixed report date for every export of this measure, so a re-export differs from
        # the previous one only by the status change (not by a report date crossing midnight).
        as_of = datetime.now(UTC).date().isoformat()

        def export(i: int) -> Result:
            target = reference if i == 0 else outs / f"real-{i}"
            r = self.mou("--db", db, "export", "--out", str(target), "--as-of", as_of)
            if r.ok and i == 0:
                files = [p for p in target.rglob("*") if p.is_file()]
                facts.update(files=len(files), bytes=sum(p.stat().st_size for p in files))
            if i:
                shutil.rmtree(target, ignore_errors=True)
            return r

        first = export(0)
        if not first.ok:
            self.add(Row(f"export ({backend})", size, value="error", note=first.problem()))
            return

        def floor(i: int) -> Result:
            target = outs / f"floor-{i}"
            with tempfile.TemporaryFile() as out:
                r = run(
                    [PY, str(BENCH / "export_floor.py"), db, str(target), str(reference)],
                    env=self.env,
                    timeout=self.timeout,
                    stdout=out,
                )
                out.seek(0)
                said = out.read().decode("utf-8", "replace").strip().splitlines()
            if r.ok and said:  # loading the reference files is not part of the floor
                r.seconds -= float(json.loads(said[-1])["load_seconds"])
            shutil.rmtree(target, ignore_errors=True)
            return r

        # The re-export: one status change (not timed), then an export into the directory
        # that holds the previous export, whose unchanged pages it reuses. The first export
        # into it is not timed: it also records each page's inputs (in the user's cache
        # directory, by export directory), as any export does.
        again = outs / "again"
        primed = self.mou("--db", db, "export", "--out", str(again), "--as-of", as_of)
        if not primed.ok:
            self.add(Row(f"re-export ({backend})", size, value="error", note=primed.problem()))
            return
        ref, evidence_id = self.target_commitment(sqlite_file) if sqlite_file else ("", 0)
        if not ref:
            ref, evidence_id = self.target_commitment_pg(db)

        def reexport(i: int) -> Result:
            new = "in_progress" if i % 2 == 0 else "stalled"
            changed = self.mou(
                "--db", db, "status", ref, new,
                "--reason", f"Benchmark re-export {i}: one status change.",
                "--evidence", str(evidence_id),
            )  # fmt: skip
            if not changed.ok:
                return changed
            return self.mou("--db", db, "export", "--out", str(again), "--as-of", as_of)

        series = rounds(
            {"floor": floor, "export": lambda i: export(i + 1), "again": reexport}, self.repeat
        )
        small = n <= 10_000
        self.row_vs(
            f"export --out DIR (all formats), {backend}", size, series["export"],
            "pure I/O: plain driver reads the rows, same bytes to the same files", series["floor"],
            max_ratio=5, max_seconds=10 if small else None,
            note=f"{facts.get('files', 0)} files, {facts.get('bytes', 0) / 1e6:.0f} MB",
        )  # fmt: skip
        self.row_vs(
            f"re-export after one status change, {backend}", size, series["again"],
            "", None, max_seconds=3 if small else None,
            note="" if small else "target (<=3 s) is set at 10,000",
        )  # fmt: skip

    def target_commitment_pg(self, url: str) -> tuple[str, int]:
        """target_commitment on PostgreSQL (psycopg, the tracker's driver there)."""
        import psycopg

        today = date.today().isoformat()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            n = conn.execute("SELECT count(*) FROM commitment").fetchone()[0]  # type: ignore[index]
            row = conn.execute(
                "SELECT c.ref, e.id FROM commitment c JOIN evidence e ON e.commitment_id = c.id "
                "WHERE c.strength != 'vision' AND c.status NOT IN ('in_progress', 'stalled') "
                "AND e.published IS NOT NULL AND e.published <= %s AND c.position >= %s "
                "ORDER BY c.position, e.id LIMIT 1",
                (today, n // 2),
            ).fetchone()
        assert row, "no commitment to write to"
        return row[0], row[1]

    # 4. sync

    def sync(self, n: int, spec: gen.Spec, cache: Path) -> None:
        size = fmt_size(n)
        toml = gen.toml_path(spec, log=log)
        mb = toml.stat().st_size / 1e6
        log(
            f"{size}: sync {toml.name} ({mb:.1f} MB) into an empty db; then into a db that "
            "already holds it (no-op)"
        )

        def full(i: int) -> Result:
            db = self.tmp / f"sync-{n}-{i}.db"
            r = self.mou("--db", str(db), "sync", str(toml))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            return r

        # The generated database holds exactly what this file holds, with the source hashes a
        # sync records (bench/generate.py --check verifies it), so syncing into a copy of it
        # is the second, no-op sync, and needs no full sync first.
        synced = self.tmp / f"synced-{n}.db"
        shutil.copyfile(cache, synced)

        def noop(i: int) -> Result:
            with tempfile.TemporaryFile() as out:
                r = self.mou("--db", str(synced), "sync", str(toml), stdout=out)
                out.seek(0)
                said = out.read().decode("utf-8", "replace").strip()
            if r.ok and "nothing changed" not in said:
                r.rc, r.stderr = 99, f"not a no-op: {said}"
            return r

        series = rounds({"noop": noop, "full": full}, self.repeat)
        self.row_vs(
            f"sync {spec.size:,}-commitment TOML into an empty db",
            size,
            series["full"],
            "",
            None,
            max_seconds=5,
            note=f"{mb:.0f} MB of TOML",
        )
        self.row_vs(
            "sync the same TOML again (no-op)", size, series["noop"], "", None, max_seconds=2
        )

    # 5. evidence import

    def evidence_import(self, n: int, spec: gen.Spec, db_cache: Path) -> None:
        size = fmt_size(n)
        rows = min(100_000, 10 * n)
        csv_file = gen.csv_path(spec, rows, log=log)
        log(f"{size}: evidence import of {rows:,} CSV rows (on a fresh copy each run)")

        def one(i: int) -> Result:
            db = self.tmp / f"import-{n}.db"
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(db_cache, db)
            return self.mou("--db", str(db), "evidence", "import", str(csv_file))

        s = rounds({"import": one}, self.repeat)["import"]
        if s.error:
            self.add(Row(f"evidence import {rows:,} rows", size, value="error", note=s.error))
            return
        rate = rows / s.median if s.median else None
        self.add(
            Row(
                f"evidence import {rows:,} CSV rows",
                size,
                runs=len(s.samples),
                value=f"{rate:,.0f} rows/s" if rate else "-",
                base_value=fmt_s(s.median),
                baseline="(time per import)",
                target=">=20,000 rows/s",
                met=rate is not None and rate >= 20_000,
                raw={"samples": s.samples, "rows": rows, "peak_mb": max(s.peaks)},
            )
        )

    # 6. terminal UI

    def tui(self, sizes: list[int]) -> None:
        log(f"terminal UI at {', '.join(f'{n:,}' for n in sizes)}: subprocess per run")
        probe = [PY, str(BENCH / "bench_tui.py"), "--keys", TUI_KEYS]

        def json_run(argv: list[str]) -> tuple[Result, dict[str, Any] | None]:
            with tempfile.TemporaryFile() as out:
                spawned = time.time()
                r = run(argv, env=self.env, timeout=self.timeout, stdout=out)
                out.seek(0)
                text = out.read().decode()
            if not r.ok:
                return r, None
            data = json.loads(text.strip().splitlines()[-1])
            data["spawned"] = spawned
            return r, data

        base: list[float] = []
        for _ in range(max(self.repeat, 2)):
            r, data = json_run([*probe, "--probe-baseline"])
            if data:
                base.append(data["datatable"])
        base_median = statistics.median(base) if base else None
        firsts: dict[int, float] = {}
        for n in sizes:
            size = fmt_size(n)
            db = gen.sqlite_path(
                gen.Spec(size=n, evidence=self.args.evidence, seed=self.args.seed), log=log
            )
            work = self.tmp / f"tui-{n}.db"
            shutil.copyfile(db, work)
            samples: list[dict[str, Any]] = []
            peaks: list[float] = []
            error = None
            for i in range(self.repeat + 1):  # the first is a warm-up (page cache, .pyc)
                r, data = json_run([*probe, "--probe", f"sqlite:///{work}"])
                if data is None:
                    error = r.problem()
                    break
                if i:
                    samples.append(data)
                    # The probe's own VmHWM; wait4's ru_maxrss only where /proc is missing.
                    peaks.append(data.get("peak_mb") or r.peak_mb)
            if error or not samples:
                self.add(Row("TUI first screen", size, value="error", note=error or ""))
                continue
            first = statistics.median(d["first"] for d in samples)
            launch = statistics.median(d["first_wall"] - d["spawned"] for d in samples)
            shown = [k["shown"] for d in samples for k in d["keys"]]
            counted = [k["counted"] for d in samples for k in d["keys"]]
            firsts[n] = first
            runs = len(samples)
            self.add(
                Row(
                    "TUI first screen (app start -> rows + detail)",
                    size,
                    runs,
                    fmt_s(first),
                    "Header+20-row DataTable+Footer",
                    fmt_s(base_median),
                    fmt_ratio(ratio(first, base_median)),
                    "<=1.5 s",
                    first <= 1.5,
                    raw={"samples": [d["first"] for d in samples], "baseline": base},
                )
            )
            ref = firsts.get(100)
            if n != 100 and ref:
                r100 = ratio(first, ref)
                self.add(
                    Row(
                        f"TUI first screen: {size} vs 100",
                        size,
                        runs,
                        fmt_s(first),
                        "first screen at 100",
                        fmt_s(ref),
                        fmt_ratio(r100),
                        "<=1.25x",
                        r100 is not None and r100 <= 1.25,
                    )
                )
            self.add(
                Row(
                    "TUI first screen from process launch",
                    size,
                    runs,
                    fmt_s(launch),
                    note="imports included; information (the target applies to the row above)",
                )
            )
            self.add(
                Row(
                    f"TUI filter keystroke (typing {TUI_KEYS!r}), rows shown",
                    size,
                    runs,
                    fmt_s(statistics.median(shown)),
                    target="<=50 ms",
                    met=statistics.median(shown) <= 0.05,
                    note=f"max {fmt_s(max(shown))}; exact count median "
                    f"{fmt_s(statistics.median(counted))}",
                )
            )
            self.add(
                Row(
                    "TUI peak memory (VmHWM of the run)",
                    size,
                    runs,
                    f"{max(peaks):.0f} MB",
                    target="<=300 MB",
                    met=max(peaks) <= 300,
                )
            )

    # 7. Taskwarrior

    def taskwarrior(self, n: int, spec: gen.Spec, db: Path) -> None:
        size = fmt_size(n)
        task = shutil.which("task")
        if task is None:
            return
        log(f"{size}: Taskwarrior with {n:,} tasks (private TASKDATA), vs mou-tracker")
        home = self.tmp / f"task-{n}"
        data = home / "data"
        data.mkdir(parents=True, exist_ok=True)
        rc = home / "taskrc"
        rc.write_text(
            f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\n"
            "news.version=99.0.0\n"
        )
        env = {**self.env, "TASKRC": str(rc), "TASKDATA": str(data)}
        tasks_file = home / "tasks.json"
        self.task_json(spec, tasks_file)
        imported = run([task, "import", str(tasks_file)], env=env, timeout=self.timeout)
        if not imported.ok:
            self.add(Row("Taskwarrior import", size, value="error", note=imported.problem()))
            return
        self.add(
            Row(
                f"Taskwarrior: task import of {n:,} tasks",
                size,
                1,
                fmt_s(imported.seconds),
                note="information: the bulk load, once",
            )
        )
        task_id = str(max(1, n // 2))

        def t(*args: str) -> Callable[[int], Result]:
            return lambda i: run([task, *args], env=env, timeout=self.timeout)

        series = rounds(
            {
                "export": t("export"),
                "modify": lambda i: run(
                    [task, task_id, "modify", f"priority:{'H' if i % 2 else 'L'}"],
                    env=env, timeout=self.timeout,
                ),
                "annotate": lambda i: run(
                    [task, task_id, "annotate", f"https://bench.example.org/task/{i} note"],
                    env=env, timeout=self.timeout,
                ),
            },
            self.repeat,
        )  # fmt: skip
        pairs = (
            ("list", "export", "list --format json / task export"),
            ("status", "modify", "status / task N modify"),
            ("add", "annotate", "evidence add / task N annotate"),
        )
        for ours, theirs, label in pairs:
            s = series[theirs]
            mine = self.results.get((ours, n))
            if s.error:
                self.add(Row(f"vs Taskwarrior: {label}", size, value="error", note=s.error))
                continue
            self.add(
                Row(
                    f"vs Taskwarrior: {label}",
                    size,
                    len(s.samples),
                    fmt_s(mine),
                    f"task {theirs}",
                    fmt_s(s.median),
                    fmt_ratio(ratio(mine, s.median)),
                    "- (comparison)",
                    raw={"task_samples": s.samples},
                )
            )

    @staticmethod
    def task_json(spec: gen.Spec, path: Path) -> None:
        """The tracker as Taskwarrior tasks: one per commitment, its evidence as annotations."""
        import uuid

        memos = gen.memoranda(spec)
        with path.open("w", encoding="utf-8") as out:
            out.write("[\n")
            for k, item in enumerate(gen.items(spec, memos)):
                task = {
                    "uuid": str(uuid.UUID(int=(spec.seed << 64) + k + 1, version=4)),
                    "description": f"{item.ref} {item.title}",
                    "status": "pending",
                    "entry": memos[item.memo].signed.strftime("%Y%m%dT000000Z"),
                    "project": memos[item.memo].slug,
                    "tags": [item.status, item.strength],
                    "annotations": [
                        {"entry": e[10].strftime("%Y%m%dT%H%M%SZ"), "description": f"{e[0]} {e[1]}"}
                        for e in item.evidence
                    ],
                }
                out.write(("," if k else "") + json.dumps(task) + "\n")
            out.write("]\n")

    # the whole run

    def size(self, n: int) -> None:
        spec = gen.Spec(size=n, evidence=self.args.evidence, seed=self.args.seed)
        cache = gen.sqlite_path(spec, log=log)
        work = self.tmp / f"work-{n}.db"
        shutil.copyfile(cache, work)
        log(
            f"{n:,} commitments: working copy of {cache.relative_to(ROOT)} "
            f"({cache.stat().st_size / 1e6:.0f} MB)"
        )
        only = self.args.only
        if "writes" in only:
            self.writes_and_list(n, str(work))
        if "export" in only:
            # a full export into a new directory and a re-export after one status change,
            # each beside the pure-I/O floor (bench/export_floor.py)
            self.export_on("SQLite", n, str(work), work)
        if self.args.pg and ("writes" in only or "export" in only):
            self.on_postgresql(n, spec, only)
        if "sync" in only:
            if n <= 10_000:
                self.sync(n, spec, cache)
            else:
                log(f"{n:,}: sync is measured at 10,000 commitments and below; skipped")
        if "import" in only:
            self.evidence_import(n, spec, cache)
        if "taskwarrior" in only and self.args.taskwarrior:
            self.taskwarrior(n, spec, work)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)


def header(args: argparse.Namespace) -> str:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " (+ uncommitted changes)" if git("status", "--porcelain", "--", "src") else ""
    return (
        f"mou-tracker benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}{dirty}\n"
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}\n"
        f"sizes {', '.join(f'{n:,}' for n in args.sizes)} commitments, ~{args.evidence} evidence "
        f"each, seed {args.seed}; medians of up to {args.repeat} runs (wall clock)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="commitments, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 only, 2 runs")
    parser.add_argument("--evidence", type=int, default=10, help="mean evidence per commitment")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds per command (default 1200)"
    )
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"measures to run, comma-separated (default all: {','.join(PARTS)})",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("MOU_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server for the export measures (a database is created and dropped); "
        "--no-pg to skip",
    )
    parser.add_argument("--no-pg", dest="pg", action="store_const", const="")
    parser.add_argument("--no-tui", dest="tui", action="store_false")
    parser.add_argument("--no-taskwarrior", dest="taskwarrior", action="store_false")
    args = parser.parse_args()
    if args.quick:
        global HEAVY_RUNS
        args.sizes, args.repeat, HEAVY_RUNS = "1000", 2, 1
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    args.repeat = max(1, args.repeat)
    args.only = {p.strip() for p in args.only.split(",") if p.strip()}
    if unknown := args.only - set(PARTS):
        parser.error(f"--only: unknown measure(s) {', '.join(sorted(unknown))}")

    log(header(args).replace("\n", "; "))
    rows_before = 0
    with tempfile.TemporaryDirectory(prefix="mou-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            if "startup" in args.only:
                bench.startup()
            if args.only & {"writes", "export", "sync", "import", "taskwarrior"}:
                for n in args.sizes:
                    bench.size(n)
            bench.scaling_rows()
            if args.tui and "tui" in args.only:
                bench.tui(sorted({100, *args.sizes}))
        except KeyboardInterrupt:
            log("interrupted: printing what was measured")
        rows = bench.rows[rows_before:]

    print(header(args))
    print()
    print(table(rows))
    if shutil.which("task") is None:
        print(
            "\nTaskwarrior comparison skipped: `task` is not on PATH. Install it to compare "
            "(Debian/Ubuntu: apt-get install taskwarrior) and run again."
        )
    elif not args.taskwarrior:
        print("\nTaskwarrior comparison skipped (--no-taskwarrior).")
    missed = [r for r in rows if r.met is False]
    print(
        f"\n{sum(r.met is True for r in rows)} targets met, {len(missed)} missed"
        + (": " + "; ".join(f"{r.measure} @ {r.size}" for r in missed) if missed else "")
    )
    gen.OUT.mkdir(parents=True, exist_ok=True)
    out = gen.OUT / f"results-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(
        json.dumps(
            {"header": header(args), "rows": [asdict(r) for r in rows]}, indent=1, default=str
        )
    )
    log(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
