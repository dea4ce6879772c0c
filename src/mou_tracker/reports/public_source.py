"""Where the rows of ``data/tracker.sqlite`` come from (reports/public_db.py): the commitments'
lines of the ``tracker.json`` an export has just written, and, for a re-export, the previous
export's ``tracker.json`` and ``tracker.sqlite``, whose rows are kept for every commitment whose
line is unchanged (:func:`plan`)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from mou_tracker.domain.errors import TrackerError
from mou_tracker.reports.public_schema import SQLITE_FILE

JSON_FILE = "data/tracker.json"
MANIFEST = "manifest.json"
# Each stretch of unchanged commitments kept costs a few statements a table; past one stretch
# for every RUNS_PER commitments (and MIN_RUNS), the file is built from the JSON alone.
RUNS_PER = 5
MIN_RUNS = 16

Step = tuple[int, int] | bytes


class Previous(NamedTuple):
    """The previous export's files, checked against its manifest: the commitment lines of its
    ``tracker.json`` with their report order, and the bytes of its ``tracker.sqlite``."""

    lines: dict[bytes, int]
    sqlite: bytes


class Plan(NamedTuple):
    """What to do for each commitment of the new JSON, in report order (``steps``): keep a
    stretch of the previous file's commitments (first, last, by report order there), or build
    one from its JSON line; and the previous file's bytes, to start from."""

    steps: list[Step]
    sqlite: bytes
    old_count: int  # commitments in the previous files


def plan(
    json_path: Path, previous: Path | Previous | None, trusted: Collection[str] = ()
) -> Plan | None:
    """The plan of the new ``tracker.json`` against the previous export (its directory, or its
    files already read by :func:`previous_files`). None when the previous files cannot be used,
    or would save little. ``trusted``: as for :func:`previous_files`."""
    old = previous_files(previous, trusted) if isinstance(previous, Path) else previous
    if not old:
        return None
    steps: list[Step] = []
    runs, most = 0, max(MIN_RUNS, len(old.lines) // RUNS_PER)
    # Read whole, as the previous file is: in a thread beside the export's pages, each read
    # of a small buffer would give up the interpreter lock and wait to get it back.
    for line in _commitment_lines(io.BytesIO(json_path.read_bytes()), JSON_FILE):
        found = old.lines.get(line)
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
    return Plan(steps, old.sqlite, len(old.lines)) if runs else None


def previous_files(previous: Path, trusted: Collection[str] = ()) -> Previous | None:
    """The previous export's commitment lines of ``tracker.json``, each with its report order,
    and its ``tracker.sqlite``, if both files are as the previous manifest lists them. A file
    named in ``trusted`` (its path in the export) is known untouched since that export recorded
    it (reports/reuse.py): its bytes are taken to have the listed hash without hashing them."""
    try:
        listed = json.loads((previous / MANIFEST).read_bytes())["files"]
        if not (isinstance(listed[SQLITE_FILE], str) and isinstance(listed[JSON_FILE], str)):
            return None
        base = (previous / SQLITE_FILE).read_bytes()
        if SQLITE_FILE not in trusted and hashlib.sha256(base).hexdigest() != listed[SQLITE_FILE]:
            return None
        data = (previous / JSON_FILE).read_bytes()
        if JSON_FILE not in trusted and hashlib.sha256(data).hexdigest() != listed[JSON_FILE]:
            return None
        lines = list(_commitment_lines(io.BytesIO(data), JSON_FILE))
    except (OSError, ValueError, KeyError, TypeError, TrackerError):
        return None
    found = {line: order for order, line in enumerate(lines, 1)}
    if len(found) != len(lines):  # the same line twice: which to keep would be a guess
        return None
    return Previous(found, base)


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
