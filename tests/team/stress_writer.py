"""One writer of the stress test: runs the real CLI entry point in-process, many times, against
a shared database, and logs every attempt as a JSON line on stdout."""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
import time

from mou_tracker.cli.main import main
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import make_engine, read

EVIDENCE = {"T-1": "https://news.example.org/pilot", "T-2": "https://stress.example.org/base"}


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def writer(db: str, name: str, attempts: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = make_engine(db)
    for n in range(attempts):
        op = rng.choice(["status", "status", "status", "review", "evidence", "note"])
        ref = rng.choice(["T-1", "T-2"])
        token = f"{name}-{n}"
        if op == "status":
            with read(engine) as s:
                d = commitment_detail(s, ref)
            target = rng.choice(
                [x for x in ("not_started", "in_progress", "stalled") if x != d.status]
            )
            time.sleep(rng.random() * 0.01)  # think time: others may save in between
            argv = [
                "--db",
                db,
                "--as",
                name,
                "status",
                ref,
                target,
                "--reason",
                token,
                "--expect-version",
                str(d.version),
            ]
            if target != "not_started":
                argv += ["--evidence", EVIDENCE[ref]]
        elif op == "review":
            # no --expect-version: the person loaded nothing, so nothing may be refused as a
            # conflict (on PostgreSQL the write reads the commitment FOR UPDATE)
            argv = ["--db", db, "--as", name, "review", ref, "--note", token]
        elif op == "evidence":
            argv = [
                "--db",
                db,
                "--as",
                name,
                "evidence",
                "add",
                ref,
                f"https://stress.example.org/{token}",
                "--title",
                token,
                "--published",
                "2026-01-01",
            ]
        else:
            argv = ["--db", db, "--as", name, "note", "add", ref, token]
        code, err = run(argv)
        print(
            json.dumps({"op": op, "ref": ref, "token": token, "code": code, "err": err.strip()}),
            flush=True,
        )
    engine.dispose()


if __name__ == "__main__":
    writer(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
