"""Issue 21: ``data/tracker.sqlite`` and ``data/datasette.yaml``, the public record as a
database a journalist opens with Datasette or sqlite-utils.

Read back with the tools themselves (Datasette's test client, sqlite-utils, PyYAML): every
table and named query answers, facets and full-text search work, the canary of an internal note
is nowhere in the file, the row counts agree with ``tracker.json`` and the CSV files, and the
same database and report date give the same bytes. Runs on both backends."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette
from tests.conftest import ROOT, frozen_clock

from mou_tracker.domain import service
from mou_tracker.reports import datasette_meta, public_db
from mou_tracker.reports.export import export
from mou_tracker.reports.model import snapshot
from mou_tracker.storage.engine import read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPORT = date(2026, 4, 20)
CANARY = "CANARY-21d8e4"
PHRASE = "hyperscale turbines"  # only in one status reason


def _export(engine: Any, out: Path, **kw: Any) -> int:
    kw.setdefault("report_date", REPORT)
    with read(engine) as s:
        return export(s, out, **kw)


@pytest.fixture
def tracker(mini):  # type: ignore[no-untyped-def]
    """The mini tracker with two evidence records on T-1 (one corrected), T-1 stalled citing
    both, a target, a public note and an internal note holding the canary."""
    with frozen_clock(T0):
        first = run_write(
            mini,
            lambda s: service.add_evidence(
                s,
                "T-1",
                service.EvidenceInput.build(
                    url="https://news.example.org/halt",
                    title="Rollout halted",
                    publisher="Example News",
                    published="2026-02-10",
                    direction="against",
                    confidence="primary",
                    summary="The rollout stopped.",
                ),
                actor="staff",
            ),
        )
        second = run_write(
            mini,
            lambda s: service.add_evidence(
                s,
                "T-1",
                service.EvidenceInput.build(
                    url="https://wire.example.net/later",
                    title="No restart planned",
                    publisher="Wire Service",
                    published="2026-02-20",
                    direction="against",
                ),
                actor="staff",
            ),
        )
    with frozen_clock(T0 + timedelta(hours=1)):
        run_write(
            mini,
            lambda s: service.change_status(
                s,
                "T-1",
                "stalled",
                actor="pm",
                reason=f"Nothing has moved since the {PHRASE} were shelved.",
                evidence=[first.id, second.id],
            ),
        )
        run_write(
            mini,
            lambda s: service.edit_evidence(
                s,
                first.id,
                {"title": "Rollout halted in February"},
                actor="staff",
                reason="The headline was cut short.",
            ),
        )
        run_write(
            mini,
            lambda s: service.set_target(
                s, "T-1", "30 June 2026", actor="pm", reason="Stated in the plan"
            ),
        )
        run_write(mini, lambda s: service.add_note(s, "T-1", "Public context note.", actor="pm"))
        run_write(
            mini,
            lambda s: service.add_note(
                s, "T-1", f"{CANARY} internal only", actor="pm", visibility="internal"
            ),
        )
    return mini


@pytest.fixture
def out(tracker, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    target = tmp_path / "exports"
    _export(tracker, target)
    return target


def _db(out: Path) -> Path:
    return out / public_db.SQLITE_FILE


def _meta(out: Path) -> dict[str, Any]:
    data = yaml.safe_load((out / datasette_meta.METADATA_FILE).read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "data" / name).read_text("utf-8"))))


def _query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _datasette(out: Path, paths: list[str]) -> dict[str, Any]:
    """GET each path from a Datasette serving the export's file with its metadata."""

    async def run() -> dict[str, Any]:
        ds = Datasette(immutables=[str(_db(out))], metadata=_meta(out))
        await ds.invoke_startup()
        found = {}
        for path in paths:
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            found[path] = response.json()
        return found

    return asyncio.run(run())


# --- written through the export's machinery ---------------------------------------------------


def test_the_export_writes_the_database_and_its_metadata_listed_in_the_manifest(out):
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    for rel in (public_db.SQLITE_FILE, datasette_meta.METADATA_FILE):
        data = (out / rel).read_bytes()
        assert manifest["files"][rel] == hashlib.sha256(data).hexdigest()
    assert _db(out).read_bytes()[:16] == b"SQLite format 3\x00"
    assert manifest["sqlite"]["file"] == public_db.SQLITE_FILE
    assert manifest["sqlite"]["sqlite_version"] == sqlite3.sqlite_version
    # nothing but the file itself: no journal, WAL or shared-memory file beside it
    assert sorted(p.name for p in (out / "data").iterdir() if "tracker.sqlite" in p.name) == [
        "tracker.sqlite"
    ]
    assert _query(_db(out), "PRAGMA journal_mode") == [("delete",)]
    assert _query(_db(out), "PRAGMA page_size") == [(public_db.PAGE_SIZE,)]


def test_only_an_export_with_data_files_writes_it(tracker, tmp_path):
    _export(tracker, tmp_path / "md", formats=("md",))
    assert not (tmp_path / "md" / "data").exists()
    # Without tracker.json the rows come from the details, shaped by the same code: same bytes.
    _export(tracker, tmp_path / "csv", formats=("csv",))
    _export(tracker, tmp_path / "json", formats=("json",))
    assert _db(tmp_path / "csv").read_bytes() == _db(tmp_path / "json").read_bytes()


def test_same_database_and_report_date_give_the_same_bytes(tracker, tmp_path):
    _export(tracker, tmp_path / "a")
    _export(tracker, tmp_path / "b")
    for rel in (public_db.SQLITE_FILE, datasette_meta.METADATA_FILE, "manifest.json"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    # A later report date is a different report: stale flags and report_date move with it.
    _export(tracker, tmp_path / "c", report_date=REPORT + timedelta(days=200))
    assert _query(_db(tmp_path / "c"), "SELECT value FROM export_info WHERE key='report_date'") == [
        ((REPORT + timedelta(days=200)).isoformat(),)
    ]


# --- no internal note ---------------------------------------------------------------------------


def test_the_internal_note_is_in_no_table_no_column_and_no_byte(out):
    raw = _db(out).read_bytes().lower()
    assert CANARY.lower().encode() not in raw
    assert b"canary" not in raw  # not even as a token of the full-text index
    assert CANARY not in (out / datasette_meta.METADATA_FILE).read_text("utf-8")
    db = sqlite_utils.Database(_db(out))
    names = db.table_names()
    assert not {"note", "commitment", "history_entry", "alembic_version"} & set(names)
    for name in names:
        for row in db[name].rows:
            for column, value in row.items():
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                assert CANARY.lower() not in text.lower(), (name, column)
    # the public note is there, the internal one is not
    notes = _query(_db(out), "SELECT ref, body FROM notes")
    assert ("T-1", "Public context note.") in notes
    assert not any("internal only" in body.lower() for _ref, body in notes)
    assert b"internal only" not in raw  # mini.toml's own internal note


# --- agrees with tracker.json and the CSV files -------------------------------------------------


def test_row_counts_and_values_agree_with_the_json_and_the_csv(out):
    doc = json.loads((out / "data" / "tracker.json").read_text("utf-8"))
    commitments = doc["commitments"]
    db = sqlite_utils.Database(_db(out))
    expected = {
        "commitments": (len(commitments), len(_rows(out, "commitments.csv"))),
        "evidence": (sum(len(c["evidence"]) for c in commitments), len(_rows(out, "evidence.csv"))),
        "history": (sum(len(c["history"]) for c in commitments), len(_rows(out, "history.csv"))),
        "corrections": (None, len(_rows(out, "corrections.csv"))),
        "notes": (sum(len(c["notes"]) for c in commitments), None),
        "targets": (sum(len(c["target"]["changes"]) for c in commitments), None),
        "owners": (sum(len(c["owners"]) for c in commitments), None),
        "history_evidence": (
            sum(len(h["evidence_ids"]) for c in commitments for h in c["history"]),
            None,
        ),
        "parties": (len(doc["parties"]), None),
        "memoranda": (len(doc["memoranda"]), None),
    }
    for table, counts in expected.items():
        for count in counts:
            if count is not None:
                assert db[table].count == count, table
    assert db["corrections"].count >= 1 and db["targets"].count == 1
    # the same commitments in the same order, with the same status
    assert [(r["ref"], r["status"]) for r in db.query("SELECT * FROM commitments")] == [
        (c["ref"], c["status"]) for c in commitments
    ]
    in_report_order = (
        "SELECT e.id, e.ref, e.link_state FROM evidence e "
        "JOIN commitments c ON c.ref = e.ref ORDER BY c.report_order, e.id"
    )
    assert [(r["evidence_id"], r["ref"], r["link_state"]) for r in _rows(out, "evidence.csv")] == [
        (str(r["id"]), r["ref"], r["link_state"]) for r in db.query(in_report_order)
    ]
    assert [(h["ref"], h["at"], h["to_status"]) for h in _rows(out, "history.csv")] == [
        (r["ref"], r["at"], r["to_status"]) for r in db.query("SELECT * FROM history ORDER BY id")
    ]
    stalled = next(c for c in commitments if c["ref"] == "T-1")
    row = db["commitments"].get("T-1")
    assert row["status_reason"] == stalled["status_reason"]
    assert json.loads(row["owners"]) == [o["party"] for o in stalled["owners"]]
    assert row["current_target"] == stalled["target"]["current"] == "2026-06-30"


# --- sqlite-utils and Datasette read it ---------------------------------------------------------


def test_sqlite_utils_reads_every_table_with_keys_indexes_and_search(out):
    db = sqlite_utils.Database(_db(out))
    for table in db.tables:
        assert len(list(table.rows)) == table.count
    for spec in public_db.TABLES:
        table = db[spec.name]
        assert table.exists()
        assert table.columns_dict.keys() == {c.name for c in spec.columns}
        assert {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys} == set(
            spec.foreign_keys
        )
        indexed = {tuple(i.columns) for i in table.indexes}
        assert set(spec.indexes) <= indexed, spec.name
        assert table.detect_fts() == spec.fts
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    found = list(db["history"].search(PHRASE.split()[0]))
    assert [r["ref"] for r in found] == ["T-1"]


def test_datasette_answers_every_table_and_named_query(out):
    meta = _meta(out)
    queries = list(meta["databases"]["tracker"]["queries"])
    assert {"stalled_with_latest_evidence", "status_changes_with_evidence"} <= set(queries)
    assert "evidence_by_publisher" in queries
    tables = [t.name for t in public_db.TABLES]
    paths = ["/tracker.json"] + [f"/tracker/{t}.json?_shape=objects" for t in tables]
    paths += [f"/tracker/{q}.json?_shape=objects" for q in queries]
    answers = _datasette(out, paths)
    listed = {t["name"]: t for t in answers["/tracker.json"]["tables"]}
    assert set(tables) <= {name for name, t in listed.items() if not t["hidden"]}
    for t in tables:
        body = answers[f"/tracker/{t}.json?_shape=objects"]
        assert body["filtered_table_rows_count"] == len(body["rows"]) or body["next"], t
        assert body["license"] == "MIT" and body["source_url"] == "https://example.org/mou"
    stalled = answers["/tracker/stalled_with_latest_evidence.json?_shape=objects"]["rows"]
    assert [(r["ref"], r["latest_evidence"], r["latest_publisher"]) for r in stalled] == [
        ("T-1", "No restart planned", "Wire Service")
    ]
    changes = answers["/tracker/status_changes_with_evidence.json?_shape=objects"]["rows"]
    cited = [(r["ref"], r["to_status"], r["evidence_title"]) for r in changes if r["ref"] == "T-1"]
    assert cited == [  # newest change first; its evidence in the order it was recorded
        ("T-1", "stalled", "Rollout halted in February"),
        ("T-1", "stalled", "No restart planned"),
        ("T-1", "in_progress", "Pilot announced"),
    ]
    by_publisher = answers["/tracker/evidence_by_publisher.json?_shape=objects"]["rows"]
    news = next(r for r in by_publisher if r["publisher"] == "Example News")
    assert news["evidence_records"] == 2 and news["distinct_urls"] == 2
    assert news["against"] == 1 and news["primary_sources"] == 1
    months = answers["/tracker/status_by_month.json?_shape=objects"]["rows"]
    assert {"month": "2026-03", "status": "stalled", "commitments": 1} in months
    assert {"month": "2026-02", "status": "stalled", "commitments": 1} not in months


def test_datasette_facets_and_full_text_search(out):
    facets = "/tracker/commitments.json?_shape=objects"
    search = "/tracker/commitments.json?_shape=objects&_search=" + PHRASE.replace(" ", "+")
    evidence = "/tracker/evidence.json?_shape=objects&_search=restart"
    history = "/tracker/history.json?_shape=objects&_search=turbine"  # porter: the stem matches
    owners = "/tracker/owners.json?_shape=objects"
    answers = _datasette(out, [facets, search, evidence, history, owners])
    results = answers[facets]["facet_results"]
    assert {"status", "strength", "theme", "owners"} <= set(results)
    status = {v["value"]: v["count"] for v in results["status"]["results"]}
    assert status["stalled"] == 1
    owner_counts = {v["value"]: v["count"] for v in results["owners"]["results"]}
    assert owner_counts == {"GOV": 2, "ACME": 3}  # T-2 is ACME's alone
    assert {"party", "role"} <= set(answers[owners]["facet_results"])
    assert [r["ref"] for r in answers[search]["rows"]] == ["T-1"]
    assert [r["title"] for r in answers[evidence]["rows"]] == ["No restart planned"]
    assert [r["to_status"] for r in answers[history]["rows"]] == ["stalled"]


def test_every_table_and_column_is_described(out):
    meta = _meta(out)
    tables = meta["databases"]["tracker"]["tables"]
    db = sqlite_utils.Database(_db(out))
    for name in db.table_names():
        if name.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue
        assert tables[name]["description"], name
        assert set(tables[name]["columns"]) == set(db[name].columns_dict), name
        assert all(tables[name]["columns"].values()), name
    assert "not legally binding" in meta["description"].lower() or (
        "Voluntary and not legally binding." in meta["description"]
    )
    assert meta["source_url"] == "https://example.org/mou"
    assert meta["license"] and meta["license_url"].startswith("https://")
    assert tables["evidence"]["facets"][:2] == ["direction", "publisher"]


# --- the YAML is written without a YAML library, and reads back as written -----------------------


def test_the_yaml_reads_back_as_the_metadata(tracker, out):
    with read(tracker) as s:
        snap = snapshot(s, REPORT)
    assert _meta(out) == datasette_meta.metadata(snap)


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "yes",
        "null",
        "123",
        "a: b # c",
        "- dash",
        "quote \" and ' and \\ backslash",
        "two\nlines",
        "  leading spaces\nand more",
        "trailing newline\n",
        "line with trailing space \nx",
        "tab\there",
        "émigré — “quoted” ✓",
        "",
        "select 1\n\n  from x",
        "C1 \x85 del \x7f bom \ufeff sep \u2028 astral \U000e0001 end",
        "block with NEL\nline \x85 two",
    ],
)
def test_the_yaml_writer_keeps_any_string(value):
    doc = {
        "k": value,
        "odd key: #1": [value, {"x": value, "y": [value]}, {}],
        "n": 3,
        "b": True,
        "none": None,
        "empty": [],
    }
    assert yaml.safe_load(datasette_meta.to_yaml(doc)) == doc


# --- the README tells the reader how to open it --------------------------------------------------


def test_the_readme_opens_the_files_the_export_writes():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Exploring the data with Datasette", 1)[1].split("\n## ", 1)[0]
    command = f"datasette exports/{public_db.SQLITE_FILE} -m exports/{datasette_meta.METADATA_FILE}"
    assert command in section
    for name in datasette_meta.QUERIES:
        assert name in section
    assert re.search(r"datasette publish", section)


def test_the_core_writes_it_without_textual_yaml_or_datasette():
    import subprocess
    import sys

    code = (
        "import sys, mou_tracker.reports.public_db, mou_tracker.reports.datasette_meta\n"
        "print(' '.join(m for m in ('textual', 'yaml', 'datasette', 'sqlite_utils') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
