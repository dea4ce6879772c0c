"""The floor for ``mou-tracker export``: the least any exporter of the same data must do.

    python bench/export_floor.py DB OUT_DIR SIZES.json

Only the standard library: opens the SQLite file with ``sqlite3``, reads every row the export
reads (commitments with their memorandum and owners, evidence, history with its cited evidence,
notes), turns the rows into text, and writes plain files of exactly the sizes listed in
SIZES.json (a list of byte counts: those of the files the real export wrote), so the floor
writes the same total number of bytes into the same number of files. No formatting, escaping,
sorting or rendering: whatever the real export spends beyond this is its own overhead.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

QUERIES = (
    "SELECT c.*, m.slug FROM commitment c JOIN memorandum m ON m.id = c.memorandum_id "
    "ORDER BY c.memorandum_id, c.position, c.id",
    "SELECT o.commitment_id, p.code, p.name, o.role FROM owner o JOIN party p ON p.id = o.party_id",
    "SELECT * FROM evidence ORDER BY id",
    "SELECT * FROM history ORDER BY at, id",
    "SELECT * FROM history_evidence",
    "SELECT * FROM note WHERE visibility = 'public' ORDER BY at, id",
)


def main() -> None:
    db, out, sizes_file = sys.argv[1:4]
    sizes = json.loads(Path(sizes_file).read_text())
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    parts = []
    for query in QUERIES:
        for row in conn.execute(query):
            parts.append("\t".join("" if v is None else str(v) for v in row))
    conn.close()
    text = "\n".join(parts).encode("utf-8") or b"-"
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    offset = 0
    for k, size in enumerate(sizes):
        chunk = bytearray()
        while len(chunk) < size:  # the rows' text, repeated if one file is larger than it
            piece = text[offset : offset + size - len(chunk)]
            chunk += piece
            offset = (offset + len(piece)) % len(text)
        (target / f"part-{k:03d}.txt").write_bytes(chunk)


if __name__ == "__main__":
    main()
