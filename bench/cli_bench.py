"""What each everyday command costs over its floor, and what it imports to get there.

    .venv/bin/python bench/cli_bench.py [--size 10000] [--repeat 7] [--only list,status,add]
        [--compare SRC [--compare-db DB]] [--imports]

Times ``list --format json``, ``status REF NEW --reason --evidence ID`` and ``evidence add REF
URL --title ...`` on a working copy of bench/generate.py's tracker, interleaved with the floor
``python -c "import sqlmodel"`` (the least any command that opens the database imports), and
prints each median beside the floor's with the ratio and issue 17's target (list <= 1.6x,
writes <= 1.3x at 10,000). Each command runs the way the ``mou-tracker`` script runs it
(``from mou_tracker.cli.main import main``), so the figures match bench/run.py's.

``--compare SRC`` times a second source tree in the same rounds (e.g. the last commit:
``git archive HEAD src | tar -x -C /tmp/head`` then ``--compare /tmp/head/src``), on its own
working copy of the tracker (``--compare-db`` when its schema is older than this tree's), so
"before" and "after" share one session and one machine load. ``--only`` times some of the
commands (the floor always runs), so a longer series of one of them fits in the same minutes.

``--imports`` also runs each command once under ``python -X importtime`` and lists what it
loads beyond ``import sqlmodel``: the top-level imports by cumulative time, and the total.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(BENCH), str(ROOT / "src"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import generate as gen  # noqa: E402
from run import log, target_commitment  # noqa: E402

PY = sys.executable
ENTRY = "import sys; from mou_tracker.cli.main import main; sys.exit(main())"
FLOOR = "import sqlmodel"
# The same import with the cyclic collector paused, as the CLI pauses it while it loads its code
# (cli/common.py): shown beside the floor, so a reader can see how much of a ratio that is.
FLOOR_PAUSED = "import gc; gc.disable(); import sqlmodel"
# The same import with the heap frozen at exit, as the CLI's own process freezes it
# (cli/main.py skip_exit_collection): shown beside the floor, so a reader can see how much of a
# ratio is the interpreter's last full collection, which the floor pays and the CLI skips.
FLOOR_FROZEN = "import atexit, gc; atexit.register(gc.freeze); import sqlmodel"
TARGETS = {"list": 1.6, "status": 1.3, "add": 1.3}
LABELS = {
    "list": "list --format json",
    "status": "status REF NEW --reason --evidence ID",
    "add": "evidence add REF URL --title ...",
}


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # seconds of user + system time of the process
    rc: int
    stderr: str


def run_process(argv: list[str], env: dict[str, str]) -> Sample:
    """Run ``argv`` to the end: wall clock, and the CPU time wait4 reports for it (what the
    command itself cost, whatever else the machine is doing)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    rc = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, rc, text)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    def median(self, what: str) -> float | None:
        values = [getattr(s, what) for s in self.samples]
        return statistics.median(values) if values else None


def rounds(commands: dict[str, Callable[[int], Sample]], repeat: int) -> dict[str, Series]:
    """A warm-up round (dropped), then ``repeat`` rounds, each command once per round in turn,
    so the floor and the commands share whatever load the machine has."""
    series = {name: Series() for name in commands}
    for i in range(repeat + 1):
        for name, fn in commands.items():
            s = series[name]
            if s.error:
                continue
            sample = fn(i)
            if sample.rc != 0:
                lines = sample.stderr.strip().splitlines() or ["no message"]
                s.error = f"exit {sample.rc}: {lines[-1]}"
            elif i:
                s.samples.append(sample)
        log(f"round {i}/{repeat} done" + (" (warm-up)" if i == 0 else ""))
    return series


class Tree:
    """One source tree of mou-tracker and its own working copy of the tracker."""

    def __init__(self, name: str, src: Path, db: Path, env: dict[str, str]) -> None:
        self.name, self.src, self.db = name, src, db
        self.tag = "this" if src == ROOT / "src" else "compared"
        self.env = env | {"PYTHONPATH": str(src)}

    def argv(self, *args: str, importtime: bool = False) -> list[str]:
        flags = ["-X", "importtime"] if importtime else []
        return [PY, *flags, "-c", ENTRY, "--db", str(self.db), *args]

    def commands(
        self, ref: str, evidence_id: int, run_id: str
    ) -> dict[str, Callable[[int], Sample]]:
        def status(i: int) -> Sample:
            new = "in_progress" if i % 2 == 0 else "stalled"
            return self.run(
                "status", ref, new, "--reason", f"Benchmark run {i}: a real status change.",
                "--evidence", str(evidence_id),
            )  # fmt: skip

        def add(i: int) -> Sample:
            return self.run(
                "evidence", "add", ref, f"https://bench.example.org/{run_id}/{self.tag}/{i}",
                "--title", f"Benchmark evidence {i}", "--publisher", "Bench",
                "--published", "2026-01-15",
            )  # fmt: skip

        return {
            "list": lambda i: self.run("list", "--format", "json"),
            "status": status,
            "add": add,
        }

    def run(self, *args: str) -> Sample:
        return run_process(self.argv(*args), self.env)


# --- -X importtime ------------------------------------------------------------------------------

LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s+)(\S+)\s*$")


def self_times(stderr: str) -> dict[str, int]:
    """Microseconds spent in each module's own body (its imports of others excluded)."""
    found: dict[str, int] = {}
    for line in stderr.splitlines():
        if m := LINE.match(line):
            found[m.group(4)] = found.get(m.group(4), 0) + int(m.group(1))
    return found


def imports_report(tree: Tree, ref: str, evidence_id: int) -> list[str]:
    floor = subprocess.run(
        [PY, "-X", "importtime", "-c", FLOOR], capture_output=True, text=True, env=tree.env
    ).stderr
    base = self_times(floor)
    out = [
        f"imports beyond `{FLOOR}` ({tree.name}; -X importtime, each module's own time; the "
        f"floor's modules took {sum(base.values()) / 1000:.0f} ms in the same measure):"
    ]
    commands = {
        "list": ("list", "--format", "json"),
        "status": ("status", ref, "not_started", "--reason", "importtime"),
        "add": ("evidence", "add", ref, "https://bench.example.org/importtime", "--title", "t"),
    }
    for name, args in commands.items():
        err = subprocess.run(
            tree.argv(*args, importtime=True), capture_output=True, text=True, env=tree.env
        ).stderr
        extra = {mod: us for mod, us in self_times(err).items() if mod not in base}
        out.append(
            f"  {LABELS[name]}: {len(extra)} modules, {sum(extra.values()) / 1000:.0f} ms beyond "
            "the floor; the slowest:"
        )
        slowest = sorted(((us, mod) for mod, us in extra.items()), reverse=True)[:10]
        out.append("    " + ", ".join(f"{mod} {us / 1000:.0f}" for us, mod in slowest))
        packages = sorted({mod.split(".")[0] for mod in extra})
        out.append("    packages: " + ", ".join(packages))
    return out


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="commitments (default 10000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--compare", type=Path, metavar="SRC", help="another src/ tree to time")
    parser.add_argument("--compare-db", type=Path, metavar="DB", help="its tracker (SQLite)")
    parser.add_argument("--imports", action="store_true", help="also list what each imports")
    parser.add_argument(
        "--only", default=",".join(LABELS), help="commands to time (default list,status,add)"
    )
    args = parser.parse_args()
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    if not args.only or set(args.only) - set(LABELS):
        parser.error(f"--only: choose from {', '.join(LABELS)}")

    spec = gen.Spec(size=args.size)
    cache = gen.sqlite_path(spec, log=log)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOU_TRACKER")}
    env |= {"MOU_TRACKER_USER": "bench"}
    with tempfile.TemporaryDirectory(prefix="mou-cli-bench-") as tmp:
        trees = [Tree("this tree", ROOT / "src", Path(tmp) / "this.db", env)]
        shutil.copyfile(cache, trees[0].db)
        if args.compare:
            other = Tree("compared", args.compare.resolve(), Path(tmp) / "compared.db", env)
            shutil.copyfile(args.compare_db or cache, other.db)
            trees.append(other)
        ref, evidence_id = target_commitment(trees[0].db)
        log(f"{args.size:,} commitments; writing to {ref} citing #{evidence_id}")
        commands: dict[str, Callable[[int], Sample]] = {
            "floor": lambda i: run_process([PY, "-c", FLOOR], env),
            "paused": lambda i: run_process([PY, "-c", FLOOR_PAUSED], env),
            "frozen": lambda i: run_process([PY, "-c", FLOOR_FROZEN], env),
        }
        run_id = f"{os.getpid()}"
        for t, tree in enumerate(trees):
            tref, tev = (ref, evidence_id) if t == 0 else target_commitment(tree.db)
            for name, fn in tree.commands(tref, tev, run_id).items():
                if name in args.only:
                    commands[f"{t}:{name}"] = fn
        series = rounds(commands, max(1, args.repeat))
        report = table(series, trees, args)
        if args.imports:
            for t, tree in enumerate(trees):
                tref, tev = (ref, evidence_id) if t == 0 else target_commitment(tree.db)
                report += [""] + imports_report(tree, tref, tev)
    print("\n".join(report))


def table(series: dict[str, Series], trees: list[Tree], args: argparse.Namespace) -> list[str]:
    fw, fc = series["floor"].median("wall"), series["floor"].median("cpu")
    pw, pc = series["paused"].median("wall"), series["paused"].median("cpu")
    zw, zc = series["frozen"].median("wall"), series["frozen"].median("cpu")
    lines = [
        f"mou-tracker commands at {args.size:,} commitments, medians of {args.repeat} interleaved "
        "runs, each against the floor:",
        f'  floor  `python -c "{FLOOR}"`: {ms(fw)} wall, {ms(fc)} CPU',
        f'  paused `python -c "{FLOOR_PAUSED}"`: {ms(pw)} wall, {ms(pc)} CPU '
        "(the CLI pauses the collector while it loads its code; the last column divides by this)",
        f'  frozen `python -c "{FLOOR_FROZEN}"`: {ms(zw)} wall, {ms(zc)} CPU '
        "(the CLI's process skips the collection at exit too)",
        "(wall clock is what a person waits; CPU, user + system, is what the command itself "
        "costs and holds steady when the machine is busy)",
        "",
        f"{'command':<38} {'tree':<10} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6} "
        f"{'target':>6} {'CPU/paused':>10}",
    ]
    for name, label in LABELS.items():
        if name not in args.only:
            continue
        for t, tree in enumerate(trees):
            s = series[f"{t}:{name}"]
            if s.error:
                lines.append(f"{label:<38} {tree.name:<10} error: {s.error}")
                continue
            w, c = s.median("wall"), s.median("cpu")
            lines.append(
                f"{label:<38} {tree.name:<10} {ms(w):>8} {ratio(w, fw):>6} {ms(c):>8} "
                f"{ratio(c, fc):>6} {TARGETS[name]:5.1f}x {ratio(c, pc):>10}"
            )
    return lines


def ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds is not None else "-"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


if __name__ == "__main__":
    main()
