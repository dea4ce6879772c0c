"""Where the rows of ``data/tracker.sqlite`` come from (reports/public_db.py): the commitments'
lines of the ``tracker.json`` an export has just written, and, for a re-export, the previous
export's ``tracker.json`` and ``tracker.sqlite``, whose rows are copied for every commitment whose
line is unchanged (:func:`plan`)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import urllib.parse
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any

from mou_tracker.domain.errors import TrackerError
from mou_tracker.reports.public_schema import SQLITE_FILE

JSON_FILE = "data/tracker.json"
MANIFEST = "manifest.json"
# Copying costs about 0.5 ms a stretch of unchanged commitments (at 10,000 commitments: 2.4 s
# CPU with 2,000 stretches, against 2.6 s to build it all from the JSON, 1.6 s with one): past
# one stretch for every RUNS_PER commitments (and MIN_RUNS), it is built from the JSON alone.
RUNS_PER = 5
MIN_RUNS = 16


def plan(
    json_path: Path, previous: Path, trusted: Collection[str] = ()
) -> list[tuple[int, int] | bytes] | None:
    """What to do for each commitment of the new JSON, in report order: copy a stretch of
    the previous file's commitments (first, last, by report order there), or build one from
    its JSON line. None when the previous files cannot be used, or would save little.
    ``trusted``: as for :func:`previous_lines`."""
    old = previous_lines(previous, trusted)
    if not old:
        return None
    steps: list[tuple[int, int] | bytes] = []
    runs, most = 0, max(MIN_RUNS, len(old) // RUNS_PER)
    # Read whole, as the previous file is: in a thread beside the export's pages, each read
    # of a small buffer would give up the interpreter lock and wait to get it back.
    for line in _commitment_lines(io.BytesIO(json_path.read_bytes()), JSON_FILE):
        found = old.get(line)
        last = steps[-1] if steps else None
        if found is None:
            steps.append(line)
        elif isinstance(last, tuple) and found == last[1] + 1:
            steps[-1] = (last[0], found)
        else:
            steps.append((found, found))
            runs += 1
            if runs > most:
                return None
    return steps if runs else None


def previous_lines(previous: Path, trusted: Collection[str] = ()) -> dict[bytes, int] | None:
    """The previous export's commitment lines of ``tracker.json``, each with its report order,
    if that file and ``tracker.sqlite`` are as the previous manifest lists them. A file named
    in ``trusted`` (its path in the export) is known untouched since that export recorded it
    (reports/reuse.py): its bytes are taken to have the listed hash without hashing them."""
    try:
        listed = json.loads((previous / MANIFEST).read_bytes())["files"]
        if not (isinstance(listed[SQLITE_FILE], str) and isinstance(listed[JSON_FILE], str)):
            return None
        if SQLITE_FILE not in trusted:
            with open(previous / SQLITE_FILE, "rb") as handle:
                if hashlib.file_digest(handle, "sha256").hexdigest() != listed[SQLITE_FILE]:
                    return None
        data = (previous / JSON_FILE).read_bytes()
        if JSON_FILE not in trusted and hashlib.sha256(data).hexdigest() != listed[JSON_FILE]:
            return None
        lines = list(_commitment_lines(io.BytesIO(data), JSON_FILE))
        conn = sqlite3.connect(read_only(previous / SQLITE_FILE), uri=True)
        # one row a line, each at the rowid of its report order (see PublicDatabase.copy)
        try:
            count, ordered = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE rowid = report_order) FROM commitments"
            ).fetchone()
        finally:
            conn.close()
    except (OSError, ValueError, KeyError, TypeError, TrackerError, sqlite3.Error):
        return None
    if not count == ordered == len(lines):
        return None
    return {line: order for order, line in enumerate(lines, 1)}


def read_only(path: Path) -> str:
    """The URI that opens a SQLite file read only."""
    return "file:" + urllib.parse.quote(os.fspath(path)) + "?mode=ro"


def commitments_in_json(path: Path) -> Iterator[dict[str, Any]]:
    """The ``commitments`` of a ``tracker.json`` one at a time, without holding the whole
    document: it is written one commitment per line (see reports/data.py, ``DataWriter``)."""
    with open(path, "rb") as handle:
        for line in _commitment_lines(handle, path.name):
            yield commitment(line, path.name)


def commitment(line: bytes, name: str) -> dict[str, Any]:
    """One commitment of a ``tracker.json``, from its line."""
    item = json.loads(line)
    if not isinstance(item, dict):
        raise TrackerError(f"export: {name}: a commitment is not an object")
    return item


def _commitment_lines(handle: IO[bytes], name: str) -> Iterator[bytes]:
    """The lines of a ``tracker.json``'s ``commitments`` list, one commitment each, without
    the indentation and the comma between them."""
    for line in handle:
        if line.rstrip(b"\r\n").endswith(b'"commitments": ['):
            break
    else:
        raise TrackerError(f"export: {name} has no commitments list")
    for line in handle:
        text = line.strip()
        if text.startswith(b"]"):
            return
        yield text[:-1] if text.endswith(b",") else text
    raise TrackerError(f"export: {name} ends inside its commitments list")
