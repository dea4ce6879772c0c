"""Cold export against a re-export after one status change, on a copy of a SQLite tracker.

    python bench/reexport_bench.py DB [--rounds N] [--keep DIR]

The steps (each ``mou-tracker`` command in its own process, as a user would run it):

1. ``export --out A`` into a new directory: the cold export (timed);
2. ``export --out B``, then one status change on a scored commitment near the middle (the
   change bench/run.py makes), then ``export --out B`` again: the re-export (timed);
3. ``export --out C`` into a new directory: a cold export of the changed database, and B is
   compared with C file by file (they must be byte-identical, manifest.json included).

Steps 2 and 3 repeat ``--rounds`` times (default 2), alternating the status. Wall and CPU
(user + system of the child) seconds are printed for each, with the ratio of the re-export to
the cold export measured in the same run. The database is copied first; the original is
never written.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import target_commitment  # noqa: E402 - the change bench/run.py makes

PY = sys.executable


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a mou-tracker command; (wall, cpu) seconds; exit on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([PY, "-m", "mou_tracker", *args], env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths whose bytes differ between two trees (or that only one has)."""
    names_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    found = sorted(names_a ^ names_b)
    for name in sorted(names_a & names_b):
        if not filecmp.cmp(a / name, b / name, shallow=False):
            found.append(name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="reexport-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"), MOU_TRACKER_USER="pm")
    try:
        db = work / "tracker.db"
        shutil.copyfile(args.db, db)
        as_of = datetime.now(UTC).date().isoformat()
        base = ["--db", str(db), "export", "--as-of", as_of, "--out"]
        ref, evidence_id = target_commitment(db)
        cold = timed([*base, str(work / "A")], env)
        print(f"cold export          wall {cold[0]:6.2f} s  cpu {cold[1]:6.2f} s", flush=True)
        timed([*base, str(work / "B")], env)
        for i in range(args.rounds):
            status = "in_progress" if i % 2 == 0 else "stalled"
            change = ["--db", str(db), "status", ref, status, "--reason", f"Bench {i}."]
            timed([*change, "--evidence", str(evidence_id)], env)
            again = timed([*base, str(work / "B")], env)
            print(
                f"re-export {i + 1}          wall {again[0]:6.2f} s  cpu {again[1]:6.2f} s  "
                f"ratio to cold: wall {again[0] / cold[0]:.3f}, cpu {again[1] / cold[1]:.3f}",
                flush=True,
            )
            shutil.rmtree(work / "C", ignore_errors=True)
            timed([*base, str(work / "C")], env)
            differ = differences(work / "B", work / "C")
            if differ:
                sys.exit(f"re-export differs from a cold export: {', '.join(differ[:10])}")
        print("every re-export is byte-identical to a cold export of the same database")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
