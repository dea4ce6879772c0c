"""Evidence import benchmark: ``mou-tracker evidence import`` of the generated CSV (10 rows per
commitment, at most 100,000) into a copy of the generated tracker, on SQLite and PostgreSQL,
each beside a floor: the same rows read with ``csv`` and written with one DBAPI executemany
(stdlib sqlite3, or psycopg's COPY), no checks at all.

    .venv/bin/python bench/import_bench.py                          # 1,000 and 10,000 commitments
    .venv/bin/python bench/import_bench.py --sizes 10000 --repeat 3
    .venv/bin/python bench/import_bench.py --pg ''                  # SQLite only

The import runs as a user runs it, in a fresh interpreter (start-up included), on a fresh copy
of the database each time: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL (the benchmark creates its databases and drops them after). Figures go to stdout as
a Markdown table; progress to stderr.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

TARGET = 20_000  # rows/s, issue 17


def src_env() -> dict[str, str]:
    """The environment of a ``python -m mou_tracker`` child: this tree's source first."""
    return {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], what: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``cmd`` run to its end (the CPU time is the process's own,
    which a loaded machine distorts far less than the wall clock)."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=src_env())
    seconds, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if out.returncode != 0:
        raise SystemExit(f"{what} failed:\n{out.stderr[-2000:]}")
    return seconds, cpu


def run_cli(db: str, csv_file: Path) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "mou_tracker", "--db", db, "--as", "bench"]
    return timed([*cmd, "evidence", "import", str(csv_file)], f"import into {db}")


FLOOR = r"""
import csv, sys, time
from datetime import datetime, timezone
t0 = time.perf_counter()
backend, db, path = sys.argv[1:4]
now = datetime.now(timezone.utc)
with open(path, encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    rows = [(int(r[0].rsplit("-", 1)[1]), r[1], r[2], r[3] or None, r[5] or "news_report",
             r[6] or "context", r[7] or "secondary", "bench", now, "bench", now, 1)
            for r in reader]
cols = ("commitment_id, url, title, publisher, kind, direction, confidence, added_by, added_at, "
        "updated_by, updated_at, version")
if backend == "sqlite":
    import sqlite3
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA cache_size=-CACHE_KIB")  # the tracker's own page cache
    conn.executemany(f"INSERT INTO evidence ({cols}) VALUES ({', '.join('?' * 12)})",
                     [r[:8] + (r[8].isoformat(),) + r[9:10] + (r[10].isoformat(),) + r[11:]
                      for r in rows])
    conn.commit()
else:
    import psycopg
    with psycopg.connect(db) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY evidence ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
print(time.perf_counter() - t0)
"""


def run_floor(backend: str, db: str, csv_file: Path) -> tuple[float, float]:
    from mou_tracker.storage.engine import CACHE_KIB

    script = FLOOR.replace("CACHE_KIB", str(CACHE_KIB))
    return timed([sys.executable, "-c", script, backend, db, str(csv_file)], f"floor on {db}")


class Postgres:
    """A template database holding the generated tracker, and fresh copies of it."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine

        url = admin_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.base = admin_url.rsplit("/", 1)[0]
        self.names: list[str] = []

    def sql(self, statement: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def create(self, template: str | None = None) -> str:
        name = f"mou_import_{uuid.uuid4().hex[:10]}"
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.names.append(name)
        return name

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def drop(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in self.names:
            self.drop(name)
        self.admin.dispose()


def pg_template(pg: Postgres, toml: Path) -> str:
    """A database with the generated tracker synced in; the template of every run."""
    name = pg.create()
    url = pg.url(name)
    cmd = [sys.executable, "-m", "mou_tracker", "--db", url, "--as", "bench", "sync", str(toml)]
    t0 = time.perf_counter()
    init = [sys.executable, "-m", "mou_tracker", "--db", url, "init"]
    subprocess.run(init, check=False, capture_output=True, env=src_env())
    out = subprocess.run(cmd, capture_output=True, text=True, env=src_env())
    if out.returncode != 0:
        raise SystemExit(f"sync into {name} failed:\n{out.stderr[-2000:]}")
    log(f"PostgreSQL template {name} filled in {time.perf_counter() - t0:.1f} s")
    return name


def fresh(cached: Path, db: Path) -> str:
    """A copy of the cached SQLite tracker at ``db``."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cached, db)
    return str(db)


def median(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in values), statistics.median(c for _, c in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg",
        default=os.environ.get("MOU_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL to create the benchmark databases on ('' to skip)",
    )
    args = parser.parse_args()
    import generate as gen

    results: list[tuple[Any, ...]] = []
    pg = Postgres(args.pg) if args.pg else None
    try:
        with tempfile.TemporaryDirectory(prefix="mou-import-bench-") as tmp_name:
            tmp = Path(tmp_name)
            for size in (int(s) for s in args.sizes.split(",")):
                spec = gen.Spec(size)
                rows = min(100_000, 10 * size)
                csv_file = gen.csv_path(spec, rows, log=log)
                with csv_file.open(encoding="utf-8", newline="") as handle:
                    assert sum(1 for _ in csv.reader(handle)) - 1 == rows
                cached = gen.sqlite_path(spec, log=log)
                db = tmp / "import.db"
                cli = [run_cli(fresh(cached, db), csv_file) for _ in range(args.repeat)]
                floor = [
                    run_floor("sqlite", fresh(cached, db), csv_file) for _ in range(args.repeat)
                ]
                results.append((size, rows, "sqlite", median(cli), median(floor)))
                log(f"{size:,} sqlite: import {cli}, floor {floor}")
                if pg is not None:
                    template = pg_template(pg, gen.toml_path(spec, log=log))
                    cli, floor = [], []
                    for _ in range(args.repeat):
                        for runner, into in ((run_cli, cli), (run_floor, floor)):
                            name = pg.create(template)
                            url = pg.url(name)
                            if runner is run_floor:
                                into.append(run_floor("postgresql", url, csv_file))
                            else:
                                into.append(run_cli(url, csv_file))
                            pg.drop(name)
                    pg.drop(template)
                    results.append((size, rows, "postgresql", median(cli), median(floor)))
                    log(f"{size:,} postgresql: import {cli}, floor {floor}")
    finally:
        if pg is not None:
            pg.close()
    print(f"median of {args.repeat} run(s), each in a fresh interpreter, Python "
          f"{sys.version.split()[0]}\n")  # fmt: skip
    head = (
        "commitments",
        "CSV rows",
        "backend",
        "import",
        "rows/s",
        "floor",
        "x floor",
        "CPU: import / floor",
        "rows per CPU s",
        "target",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for size, rows, backend, (cli_s, cli_cpu), (floor_s, floor_cpu) in results:
        rate = rows / cli_s
        met = "met" if rate >= TARGET else "NOT met"
        print(
            f"| {size:,} | {rows:,} | {backend} | {cli_s:.2f} s | {rate:,.0f} | {floor_s:.2f} s "
            f"| {cli_s / floor_s:.1f}x | {cli_cpu:.2f} s / {floor_cpu:.2f} s "
            f"| {rows / cli_cpu:,.0f} | >= {TARGET:,} rows/s: {met} |"
        )


if __name__ == "__main__":
    main()
