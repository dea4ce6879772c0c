"""The floor for ``mou-tracker export``: pure I/O, the least any exporter of the same data does.

    python bench/export_floor.py DB OUT_DIR REFERENCE_DIR

It reads every row of every table the export reads (one ``SELECT *`` a table, each row
fetched) and writes the bytes of a real export (REFERENCE_DIR, an earlier ``mou-tracker export``
of the same database) to the same relative paths under OUT_DIR: the same files, the same bytes,
with no formatting, escaping, sorting or rendering between the two. Whatever the real export
spends beyond this is its own work.

DB is a SQLite file (read with the standard library's ``sqlite3``) or a ``postgresql://`` URL
(read with ``psycopg``, the driver the tracker uses there).

The reference files are loaded into memory first, since the real export does not read them;
that step's seconds are printed on stdout (``{"load_seconds": ...}``) so that the runner can
subtract them from the wall-clock time it measures.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

TABLES = (
    "memorandum",
    "party",
    "commitment",
    "owner",
    "evidence",
    "evidence_revision",
    "history",
    "history_evidence",
    "note",
    "target_change",
    "commitment_revision",
    "link_check",
)


def load(reference: Path) -> list[tuple[str, bytes]]:
    files = []
    for dirpath, _dirs, names in os.walk(reference):
        for name in sorted(names):
            path = Path(dirpath) / name
            files.append((path.relative_to(reference).as_posix(), path.read_bytes()))
    return files


def read_rows(db: str) -> int:
    """Fetch every row of every table the export reads; return the number of rows."""
    n = 0
    if db.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        import psycopg

        url = db.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            for table in TABLES:
                cur.execute(f'SELECT * FROM "{table}"')
                n += len(cur.fetchall())
        return n
    lite = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for table in TABLES:
            n += len(lite.execute(f'SELECT * FROM "{table}"').fetchall())
    finally:
        lite.close()
    return n


def write(out: Path, files: list[tuple[str, bytes]]) -> None:
    made: set[Path] = set()
    for rel, data in files:
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        with open(path, "wb") as handle:
            handle.write(data)


def main() -> None:
    db, out, reference = sys.argv[1:4]
    started = time.perf_counter()
    files = load(Path(reference))
    loaded = time.perf_counter() - started
    read_rows(db)
    write(Path(out), files)
    print(json.dumps({"load_seconds": loaded, "files": len(files)}))


if __name__ == "__main__":
    main()
