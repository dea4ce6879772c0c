"""Sync benchmark: the generated tracker's commitments.toml into an empty database, then again
(a no-op), on SQLite and on PostgreSQL, each beside the floor of parsing the same TOML alone.

    .venv/bin/python bench/sync_bench.py                     # 10,000 commitments, 3 runs
    .venv/bin/python bench/sync_bench.py --sizes 10000,100000 --repeat 1
    .venv/bin/python bench/sync_bench.py --pg postgresql://postgres@127.0.0.1:5432/postgres

The machine may be shared: each probe also reports the CPU time of its own process (the client
side; PostgreSQL's server work is not in it), which a loaded machine distorts far less than the
wall-clock time. Every measure runs in a fresh interpreter (``--probe``) that reports its phases and its own
peak memory (VmHWM), so one run's memory never counts in another's. The phases:

- ``parse``: rtoml's parse of the file, one commitment at a time as the reader does it, and
  nothing else (the floor; ``--tomli-floor`` uses ``tomli.loads``, the parser before 28
  November 2026), the collector paused as in a sync;
- ``write floor``: the same rows written into an empty tracker with no checks and no Python per
  row, in one transaction with the load's own deferred indexes and single search-index fill:
  on SQLite copied by SQLite itself from the generated database (``INSERT ... SELECT``), on
  PostgreSQL sent by one ``COPY`` per table from it. What the apply cannot go below on this
  machine; printed beside the apply of a sync into an empty database;
- ``read``: parse and check every field (``read_document``);
- ``plan``: compare with the database, read only; ``apply``: write it, one transaction;
- ``total``: read + plan + apply, as ``mou-tracker sync`` does them (without the start-up of
  the interpreter and the fingerprint shortcut the CLI takes for an unchanged file);
- ``cli``: the whole ``mou-tracker sync FILE`` process, start-up included, on the database the
  no-op left: the file and the database are both unchanged since the last sync, so the CLI
  answers from the fingerprint (the file's SHA-256 and the database's change token) without
  parsing the file. This is what a person waits for when nothing changed.

On PostgreSQL the benchmark creates a database of its own for each run and drops it after.
Figures go to stdout as a Markdown table; progress to stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
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

TARGETS = {  # issue 15: seconds
    ("sqlite", "empty", 10_000): 5.0,
    ("postgresql", "empty", 10_000): 8.0,
    ("sqlite", "noop", 10_000): 1.5,
    ("postgresql", "noop", 10_000): 1.5,
    ("sqlite", "empty", 100_000): 60.0,
    ("postgresql", "empty", 100_000): 60.0,
}


def src_env() -> dict[str, str]:
    """The environment of a ``python -m mou_tracker`` child: this tree's source first."""
    return {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(args: argparse.Namespace) -> None:
    """One measure in this interpreter; prints a JSON line."""
    path = Path(args.toml)
    if args.what in ("parse", "parse-tomli"):
        import tomli

        from mou_tracker.storage.sync.read import _by_commitment

        # rtoml as the reader runs it (one commitment at a time, the collector paused)
        loads = tomli.loads if args.what == "parse-tomli" else _by_commitment
        text = path.read_text(encoding="utf-8")
        gc.disable()
        cpu0, t0 = time.process_time(), time.perf_counter()
        loads(text)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(json.dumps({"parse": seconds, "cpu": cpu, "peak_mb": peak_mb()}))
        return
    if args.what == "write-floor":
        if args.db.startswith("postgresql"):
            write_floor_pg(args.toml, args.db)
        else:
            write_floor(args.toml, args.db)
        return
    from mou_tracker.storage.engine import make_engine, read, write
    from mou_tracker.storage.migrate import create_schema, has_schema
    from mou_tracker.storage.sync import apply_plan, plan_sync, read_document

    if args.what == "rowwise":  # the baseline: every bulk shortcut of a load into empty off
        from contextlib import nullcontext

        from mou_tracker.storage import search_index
        from mou_tracker.storage.sync import apply as sync_apply

        for module, name in (
            (sync_apply, "indexes_after"),
            (sync_apply, "search_filled_after"),
            (search_index, "filled_after"),
        ):
            setattr(module, name, lambda _conn: nullcontext())

    engine = make_engine(args.db)
    if not has_schema(engine):
        create_schema(engine)
    times: dict[str, float] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    doc = read_document(path)
    times["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    with read(engine) as session:
        plan = plan_sync(session, doc, actor="bench")
    times["plan"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    with write(engine) as session:
        report = apply_plan(session, plan)
    times["apply"] = time.perf_counter() - t2
    times["total"] = time.perf_counter() - t0
    times["cpu"] = time.process_time() - cpu0
    remember_fingerprint(engine, path, report)
    engine.dispose()
    print(json.dumps({**times, "peak_mb": peak_mb(), "summary": report.summary()}))


def write_floor(source: str, db: str) -> None:
    """The write floor (SQLite): copy every row of the generated database ``source`` into an
    empty tracker at ``db`` with SQLite's own ``INSERT ... SELECT``, one transaction, the load's
    deferred indexes and single search-index fill around it; prints a JSON line."""
    from sqlalchemy import event
    from sqlmodel import SQLModel

    import mou_tracker.domain.models  # noqa: F401 - the tables, in dependency order
    from mou_tracker.storage import search_index
    from mou_tracker.storage.engine import make_engine
    from mou_tracker.storage.migrate import create_schema
    from mou_tracker.storage.sync.bulk_load import indexes_after

    engine = make_engine(db)
    create_schema(engine)
    engine.dispose()
    engine = make_engine(db)

    @event.listens_for(engine, "connect")
    def attach(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"ATTACH DATABASE 'file:{source}?mode=ro' AS src")

    copied: dict[str, int] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    with engine.connect() as conn, conn.begin():
        with indexes_after(conn), search_index.filled_after(conn):
            for table in SQLModel.metadata.sorted_tables:
                name = table.name
                have = {r[1] for r in conn.exec_driver_sql(f"PRAGMA src.table_info('{name}')")}
                columns = ", ".join(f'"{c.name}"' for c in table.columns if c.name in have)
                if not columns or name in ("sync_run", "tracker_meta"):
                    continue
                copied[name] = conn.exec_driver_sql(
                    f'INSERT INTO main."{name}" ({columns}) '
                    f'SELECT {columns} FROM src."{name}" ORDER BY rowid'
                ).rowcount
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    engine.dispose()
    print(json.dumps({"write": seconds, "cpu": cpu, "rows": copied}))


def write_floor_pg(source: str, url: str) -> None:
    """The write floor on PostgreSQL: every row of the generated SQLite database ``source``
    sent by one COPY per table (text form, as stored) into an empty tracker at ``url``, in one
    transaction, with an owner's load's deferred indexes and single search-index fill (the
    trigram index built once); prints a JSON line. The client reads and sends; the server
    parses, stores and indexes: what an owner's sync into an empty database cannot go below."""
    import sqlite3

    from sqlmodel import SQLModel

    import mou_tracker.domain.models  # noqa: F401 - the tables, in dependency order
    from mou_tracker.storage.engine import make_engine
    from mou_tracker.storage.migrate import create_schema
    from mou_tracker.storage.sync.bulk_load import indexes_after, search_filled_after

    engine = make_engine(url)
    create_schema(engine)
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    copied: dict[str, int] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")  # stored times are UTC, no zone
        with indexes_after(conn), search_filled_after(conn):
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for table in SQLModel.metadata.sorted_tables:
                name = table.name
                have = {r[1] for r in lite.execute(f"PRAGMA table_info('{name}')")}
                names = [c.name for c in table.columns if c.name in have]
                if not names or name in ("sync_run", "tracker_meta"):
                    continue
                columns = ", ".join(f'"{c}"' for c in names)
                rows = lite.execute(f'SELECT {columns} FROM "{name}" ORDER BY rowid')
                count = 0
                with cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                copied[name] = count
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    engine.dispose()
    print(json.dumps({"write": seconds, "cpu": cpu, "rows": copied}))


def remember_fingerprint(engine: Any, path: Path, report: Any) -> None:
    """Store the fingerprint as ``mou-tracker sync`` does after a sync (not timed)."""
    import hashlib

    from mou_tracker.domain.models import Meta
    from mou_tracker.storage.engine import write
    from mou_tracker.storage.sync import SYNC_FINGERPRINT, sync_fingerprint

    if report.kept or report.conflicts:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with write(engine) as session:
        row = session.get(Meta, SYNC_FINGERPRINT)
        value = sync_fingerprint(session, digest)
        if row is None:
            session.add(Meta(key=SYNC_FINGERPRINT, value=value))
        else:
            row.value = value


def run_cli(toml: Path, db: str) -> dict[str, Any]:
    """``mou-tracker sync FILE`` in a process of its own, timed from outside."""
    cmd = [sys.executable, "-m", "mou_tracker", "--db", db, "--as", "bench", "sync", str(toml)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=src_env())
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or "already in sync" not in out.stdout:
        raise SystemExit(f"mou-tracker sync was not a no-op:\n{out.stdout}{out.stderr[-2000:]}")
    return {"total": seconds}


def run_probe(what: str, toml: Path, db: str = "") -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--probe", what, "--toml", str(toml), "--db", db]
    out = subprocess.run(cmd, capture_output=True, text=True, env=src_env())
    if out.returncode != 0:
        raise SystemExit(f"probe {what} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


class Postgres:
    """Creates a database of its own on the server and drops it afterwards."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine

        url = admin_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.base = url.rsplit("/", 1)[0]

    def __enter__(self) -> str:
        from sqlalchemy import text

        self.name = f"mou_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return f"{self.base}/{self.name}"

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def measure(
    toml: Path, backend: str, pg: str | None, tmp: Path, rowwise: bool
) -> dict[str, dict[str, Any]]:
    """One sync into an empty database and one no-op re-sync (and, with ``rowwise``, one
    into another empty database with the bulk shortcuts off, just before)."""
    runs = {}
    if backend == "sqlite":
        db = str(tmp / f"sync-{uuid.uuid4().hex[:8]}.db")
        if rowwise:
            runs["rowwise"] = run_probe("rowwise", toml, db + "-rowwise")
        runs["empty"], runs["noop"] = run_probe("sync", toml, db), run_probe("sync", toml, db)
        runs["cli"] = run_cli(toml, db)
        for suffix in ("", "-wal", "-shm", "-rowwise", "-rowwise-wal", "-rowwise-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return runs
    assert pg is not None
    if rowwise:
        with Postgres(pg) as url:
            runs["rowwise"] = run_probe("rowwise", toml, url)
    with Postgres(pg) as url:
        runs["empty"], runs["noop"] = run_probe("sync", toml, url), run_probe("sync", toml, url)
        runs["cli"] = run_cli(toml, url)
        return runs


def write_floor_run(source: Path, backend: str, pg: str | None, tmp: Path) -> dict[str, Any]:
    """One write floor (see :func:`write_floor`) into a new, empty database."""
    if backend == "postgresql":
        assert pg is not None
        with Postgres(pg) as url:
            return run_probe("write-floor", source, url)
    db = tmp / f"floor-{uuid.uuid4().hex[:8]}.db"
    try:
        return run_probe("write-floor", source, f"sqlite:///{db}")
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


LABELS = {
    "rowwise": "into empty db, row by row (baseline)",
    "empty": "into empty db",
    "noop": "again (no-op), full path",
    "cli": "again, `mou-tracker sync` (fingerprint)",
}


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg",
        default=os.environ.get("MOU_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server URL to create the benchmark databases on ('' to skip)",
    )
    parser.add_argument(
        "--rowwise",
        action="store_true",
        help="also sync into an empty database with the bulk shortcuts off (the baseline)",
    )
    parser.add_argument(
        "--tomli-floor",
        action="store_true",
        help="parse the floor with tomli (the parser sync used before rtoml) instead of rtoml",
    )
    parser.add_argument(
        "--probe",
        choices=("parse", "parse-tomli", "write-floor", "sync", "rowwise"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--toml", help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(argparse.Namespace(what=args.probe, toml=args.toml, db=args.db))
        return

    import generate as gen

    backends = ["sqlite"] + (["postgresql"] if args.pg else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="mou-sync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for size in (int(s) for s in args.sizes.split(",")):
            toml = gen.toml_path(gen.Spec(size), log=log)
            mb = toml.stat().st_size / 1e6
            what = "parse-tomli" if args.tomli_floor else "parse"
            floor = [run_probe(what, toml) for _ in range(args.repeat)]
            parse_s = statistics.median(r["parse"] for r in floor)
            parse_cpu = statistics.median(r["cpu"] for r in floor)
            parse_mb = statistics.median(r["peak_mb"] for r in floor)
            log(f"{size:,}: {mb:.1f} MB of TOML; parse floor {fmt(parse_s)}, {parse_mb:.0f} MB")
            source = gen.sqlite_path(gen.Spec(size), log=log)
            for backend in backends:
                writes = [
                    write_floor_run(source, backend, args.pg, tmp) for _ in range(args.repeat)
                ]
                write_s = statistics.median(r["write"] for r in writes)
                log(f"{size:,} {backend}: write floor {fmt(write_s)} ({json.dumps(writes[-1])})")
                runs = []
                for i in range(args.repeat):
                    runs.append(measure(toml, backend, args.pg, tmp, args.rowwise))
                    log(f"{size:,} {backend} run {i + 1}: " + json.dumps(runs[-1]))
                for kind in [k for k in LABELS if k in runs[0]]:
                    got = {k: statistics.median(r[kind][k] for r in runs) for k in runs[0][kind]
                           if k != "summary"}  # fmt: skip
                    target = TARGETS.get((backend, "noop" if kind == "cli" else kind, size))
                    rows.append(
                        (
                            f"{size:,}",
                            backend,
                            LABELS[kind],
                            fmt(got["total"]),
                            "-"
                            if kind == "cli"
                            else f"{fmt(got['read'])} / {fmt(got['plan'])} / {fmt(got['apply'])}",
                            f"{fmt(write_s)} ({got['apply'] / write_s:.1f}x)"
                            if kind == "empty"
                            else "-",
                            fmt(parse_s),
                            f"{got['total'] / parse_s:.1f}x",
                            "-"
                            if kind == "cli"
                            else f"{fmt(got['cpu'])} ({got['cpu'] / parse_cpu:.1f}x {fmt(parse_cpu)})",
                            "-"
                            if kind == "cli"
                            else f"{got['peak_mb']:.0f} MB (parse {parse_mb:.0f} MB; file {mb:.0f} MB)",
                            "-"
                            if target is None
                            else f"<= {target:g} s: {'met' if got['total'] <= target else 'NOT met'}",
                        )
                    )
    head = (
        "size",
        "backend",
        "sync",
        "total",
        "read / plan / apply",
        "write floor (apply x)",
        "parse floor",
        "x floor",
        "client CPU (x parse CPU)",
        "peak memory",
        "target",
    )
    print(f"median of {args.repeat} run(s), Python {sys.version.split()[0]}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
