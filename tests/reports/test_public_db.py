"""How ``data/tracker.sqlite`` is built (reports/public_db.py): in memory, written to the file
whole by ``VACUUM INTO`` with the header a ``VACUUM`` in place left, or not at all; the columns
the table descriptions mark as copies of a JSON field hold that field; and a re-export copies
the rows of the commitments whose JSON lines did not change from the previous file, renumbered,
and is still byte for byte a cold export. Runs on both backends. (What the file holds, and that
Datasette reads it: test_datasette.py.)"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import frozen_clock
from tests.reports.helpers import cache_home  # noqa: F401  # an autouse fixture
from tests.reports.test_datasette import (
    REPORT,
    T0,
    _export,
    tracker,  # noqa: F401  # a fixture, used by name
)

from mou_tracker.domain import service
from mou_tracker.domain.errors import TrackerError
from mou_tracker.reports import public_db, public_source
from mou_tracker.reports.model import snapshot
from mou_tracker.storage.engine import read, run_write


@pytest.fixture
def copied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many commitments each build of the file that follows copied from the previous."""
    found: list[int] = []
    real = public_db.write

    def counting(*args: Any, **kwargs: Any) -> int:
        found.append(real(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(public_db, "write", counting)
    return found


@pytest.fixture
def out(tracker: Any, tmp_path: Path) -> Path:  # noqa: F811
    target = tmp_path / "exports"
    _export(tracker, target)
    return target


def _pragma(path: Path, name: str) -> Any:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_the_file_is_compact_with_the_header_of_a_vacuum_in_place(out):
    path = out / public_db.SQLITE_FILE
    header = path.read_bytes()[:100]
    # the file change counter and the version-valid-for number: 3, as after the user_version,
    # the build's transaction and VACUUM of a file built in place (see _settle_header)
    assert int.from_bytes(header[24:28], "big") == public_db.HEADER_COUNTER
    assert int.from_bytes(header[92:96], "big") == public_db.HEADER_COUNTER
    assert header[18:20] == b"\x01\x01"  # rollback journal, not WAL
    assert _pragma(path, "page_size") == public_db.PAGE_SIZE
    assert _pragma(path, "user_version") == public_db.USER_VERSION
    assert _pragma(path, "freelist_count") == 0
    assert _pragma(path, "integrity_check") == "ok"
    leftovers = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert leftovers == [path.name]


def test_a_build_that_fails_leaves_no_file(tracker, out):  # noqa: F811
    """Not a half-built database, nor the previous export's beside the new tracker.json."""
    path = out / public_db.SQLITE_FILE
    json_path = out / "data" / "tracker.json"
    lines = json_path.read_text("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.rstrip().endswith('"commitments": ['))
    del lines[first + 1]  # one commitment fewer than the report has
    json_path.write_text("".join(lines), "utf-8")
    with read(tracker) as s:
        snap = snapshot(s, REPORT)
    assert path.exists()
    with pytest.raises(TrackerError, match="commitments"):
        public_db.write(None, snap, path, json_path)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == []


def test_every_table_is_built_from_the_snapshot_or_with_its_commitments():
    """So a table added later is not left out of the rows a re-export copies."""
    head, of_commitments = public_db.PublicDatabase.HEAD, public_db.PublicDatabase.OF_COMMITMENTS
    assert sorted(head + of_commitments) == sorted(public_db.TABLE)


def test_every_column_is_in_its_insert_once_copies_first():
    for table in public_db.TABLES:
        sql = public_db.insert_sql(table)
        names = sql[sql.index("(") + 1 : sql.index(")")].replace('"', "").split(", ")
        assert sorted(names) == sorted(c.name for c in table.columns), table.name
        copied = [c.name for c in table.columns if c.field]
        assert names[: len(copied)] == copied, table.name


def test_the_copied_columns_hold_their_json_fields(out):
    """Each column marked as a copy holds the field it names, row by row, in report order."""
    doc = json.loads((out / "data" / "tracker.json").read_text("utf-8"))
    sources = {
        "commitments": lambda c: [c],
        "owners": lambda c: c["owners"],
        "evidence": lambda c: c["evidence"],
        "history": lambda c: c["history"],
        "targets": lambda c: c["target"]["changes"],
        "notes": lambda c: c["notes"],
    }
    order = {"commitments": "report_order", "owners": "rowid", "evidence": "id"}
    conn = sqlite3.connect(out / public_db.SQLITE_FILE)
    try:
        for name, items in sources.items():
            table = public_db.TABLE[name]
            copied = [c for c in table.columns if c.field]
            assert copied, name
            cols = ", ".join(f'"{c.name}"' for c in copied)
            rows = conn.execute(f"SELECT {cols} FROM {name} ORDER BY {order.get(name, 'id')}")
            expected = [
                tuple(item[c.field] for c in copied if c.field)
                for commitment in doc["commitments"]
                for item in items(commitment)
            ]
            if name == "evidence":
                expected.sort(key=lambda row: row[0])
            assert rows.fetchall() == expected, name
            assert expected, name  # the tracker fixture has rows in each of these tables
    finally:
        conn.close()


# --- a re-export copies the unchanged commitments' rows ------------------------------------------


def _new_evidence(engine: Any, _out: Path | None = None) -> int:
    item = service.EvidenceInput.build(
        url="https://gov.example.org/zero", title="Vision restated", published="2026-02-25"
    )
    added = run_write(engine, lambda s: service.add_evidence(s, "T-0", item, actor="staff"))
    assert added.id is not None
    return int(added.id)


def _note(engine: Any, _out: Path) -> None:
    run_write(engine, lambda s: service.add_note(s, "T-0", "First note.", actor="pm"))


def _target(engine: Any, out: Path) -> None:
    """T-1's target moved (T-0, a vision clause, has none), citing T-1's first evidence."""
    doc = json.loads((out / "data" / "tracker.json").read_text("utf-8"))
    cited = next(c for c in doc["commitments"] if c["ref"] == "T-1")["evidence"][0]["id"]
    run_write(
        engine,
        lambda s: service.set_target(
            s, "T-1", "31 July 2026", actor="pm", reason="Delayed", evidence=[cited]
        ),
    )


def _review(engine: Any, _out: Path | None = None) -> None:
    run_write(engine, lambda s: service.record_review(s, "T-0", actor="pm", note="Still vague."))


def _correction(engine: Any, _out: Path) -> None:
    evidence_id = _new_evidence(engine)
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s, evidence_id, {"title": "Vision restated, again"}, actor="staff", reason="typo"
        ),
    )


# Changes to T-0, the first commitment (and T-1 for a target): each moves the numbers of the
# rows after it (T-1 has history citing evidence, a correction, a target change and a note;
# T-2 is given a target change here).
CHANGES: dict[str, Callable[[Any, Path], Any]] = {
    "evidence": _new_evidence,
    "note": _note,
    "target": _target,
    "review": _review,
    "correction": _correction,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_reexport_copies_the_unchanged_rows_and_equals_a_cold_export(
    tracker,  # noqa: F811
    tmp_path,
    copied,
    change,
):
    with frozen_clock(T0 + timedelta(days=1)):
        run_write(
            tracker,
            lambda s: service.set_target(s, "T-2", "1 June 2026", actor="pm", reason="Planned"),
        )
    out = tmp_path / "exports"
    _export(tracker, out)
    with frozen_clock(T0 + timedelta(days=2)):
        CHANGES[change](tracker, out)
    _export(tracker, out)
    # a cold export, then the two commitments the change left alone copied
    assert copied == [0, 2]
    _export(tracker, tmp_path / "cold")
    name = public_db.SQLITE_FILE
    assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()
    assert copied[-1] == 0


def test_a_previous_file_not_as_its_manifest_lists_it_is_not_copied_from(
    tracker,  # noqa: F811
    tmp_path,
    copied,
):
    out = tmp_path / "exports"
    _export(tracker, out)
    with frozen_clock(T0 + timedelta(days=2)):
        _review(tracker)
    # an edit by hand (a row of T-2 deleted); the cache still describes this export
    path = out / public_db.SQLITE_FILE
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM owners WHERE ref = 'T-2'")
    conn.commit()
    conn.close()
    _export(tracker, out)
    assert copied == [0, 0]
    _export(tracker, tmp_path / "cold")
    cold = tmp_path / "cold" / public_db.SQLITE_FILE
    assert path.read_bytes() == cold.read_bytes()


def test_a_reexport_trusts_previous_files_untouched_since_without_hashing_them(
    tracker,  # noqa: F811
    tmp_path,
    copied,
    monkeypatch,
):
    """The export cache keeps the facts of tracker.sqlite and tracker.json: while they are
    unchanged, the next export copies from them without hashing them again (an edit changes
    their ctime, and then they are hashed: the test above)."""
    out = tmp_path / "exports"
    _export(tracker, out)
    hashed: list[str] = []
    real = public_source.hashlib

    class Counting:
        def file_digest(self, handle: Any, name: str) -> Any:
            hashed.append("file")
            return real.file_digest(handle, name)

        def sha256(self, data: bytes = b"") -> Any:
            hashed.append("bytes")
            return real.sha256(data)

    monkeypatch.setattr(public_source, "hashlib", Counting())
    with frozen_clock(T0 + timedelta(days=2)):
        _review(tracker)
    _export(tracker, out)
    assert copied == [0, 2]
    assert hashed == []
    _export(tracker, tmp_path / "cold")
    name = public_db.SQLITE_FILE
    assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()


@pytest.mark.parametrize("most", [2, 1])
def test_a_reexport_after_the_commitments_are_reordered(
    tracker,  # noqa: F811
    tmp_path,
    monkeypatch,
    most,
):
    """Lines found again but not in the same order are copied a stretch at a time; past the
    most stretches worth copying, the file is built from the JSON alone. Same bytes."""
    monkeypatch.setattr(public_source, "MIN_RUNS", most)
    out = tmp_path / "exports"
    _export(tracker, out)
    previous = tmp_path / "previous"
    shutil.copytree(out, previous)
    json_path = out / "data" / "tracker.json"
    lines = json_path.read_text("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.rstrip().endswith('"commitments": ['))
    body = [line.rstrip("\n").rstrip(",") for line in lines[first + 1 : first + 4]]
    assert len(body) == 3 and lines[first + 4].strip() == "]"
    body = [body[2], body[0], body[1]]  # T-2, T-0, T-1
    lines[first + 1 : first + 4] = [line + ",\n" for line in body[:2]] + [body[2] + "\n"]
    json_path.write_text("".join(lines), "utf-8")
    with read(tracker) as s:
        snap = snapshot(s, REPORT)
    built = tmp_path / "built.sqlite"
    assert public_db.write(None, snap, built, json_path, previous) == (3 if most == 2 else 0)
    fresh = tmp_path / "fresh.sqlite"
    assert public_db.write(None, snap, fresh, json_path) == 0
    assert built.read_bytes() == fresh.read_bytes()
    refs = sqlite3.connect(built).execute("SELECT ref FROM commitments ORDER BY report_order")
    assert [r for (r,) in refs] == ["T-2", "T-0", "T-1"]


@pytest.mark.parametrize(("change", "kept"), [("review", True), ("correction", False)])
def test_a_reexport_builds_again_only_the_search_indexes_whose_rows_changed(
    tracker,  # noqa: F811
    tmp_path,
    monkeypatch,
    change,
    kept,
):
    """A review leaves every evidence row as it was: the previous file's evidence search
    index is kept. A corrected evidence title is searched text: that index is built again.
    Either way the bytes are a cold export's."""
    out = tmp_path / "exports"
    _export(tracker, out)
    public_db._cold_schema()  # the empty schema it compares with, built once, beforehand
    rebuilt: list[str] = []
    real = public_db._build_search

    def recording(conn: sqlite3.Connection, table: Any) -> None:
        rebuilt.append(table.name)
        real(conn, table)

    monkeypatch.setattr(public_db, "_build_search", recording)
    with frozen_clock(T0 + timedelta(days=2)):
        CHANGES[change](tracker, out)
    _export(tracker, out)
    assert ("evidence" not in rebuilt) == kept
    if change == "review":  # its entry moves the numbers of the entries after it
        assert "history" in rebuilt
    rebuilt.clear()
    _export(tracker, tmp_path / "cold")
    assert sorted(rebuilt) == ["commitments", "evidence", "history"]
    name = public_db.SQLITE_FILE
    assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()


def test_a_previous_file_of_another_layout_is_not_started_from(
    tracker,  # noqa: F811
    tmp_path,
):
    """A previous file with the manifest's hash but not the schema this code builds (an index
    more, as an older or newer version might have) is not patched: the file is built from the
    JSON alone, and is the same as ever."""
    out = tmp_path / "exports"
    _export(tracker, out)
    previous = tmp_path / "previous"
    shutil.copytree(out, previous)
    path = previous / public_db.SQLITE_FILE
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE INDEX extra ON notes (author)")
    conn.execute("VACUUM")
    conn.close()
    manifest = json.loads((previous / "manifest.json").read_text("utf-8"))
    manifest["files"][public_db.SQLITE_FILE] = hashlib.sha256(path.read_bytes()).hexdigest()
    (previous / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    json_path = out / "data" / "tracker.json"
    with read(tracker) as s:
        snap = snapshot(s, REPORT)
    assert public_source.previous_files(previous) is not None  # as its manifest lists it
    built = tmp_path / "built.sqlite"
    assert public_db.write(None, snap, built, json_path, previous) == 0
    assert built.read_bytes() == (out / public_db.SQLITE_FILE).read_bytes()
