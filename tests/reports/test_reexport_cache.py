"""A re-export takes unchanged commitment pages over from the previous export (keyed by a hash
of each page's inputs, kept in the user's cache directory) and is byte for byte the export a
cold run writes; a cache that describes another export, or a page edited by hand, is never
trusted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import MINI, frozen_clock, sync_file
from tests.reports.helpers import cache_home  # noqa: F401  # an autouse fixture

from mou_tracker.domain import service
from mou_tracker.reports import export as export_module
from mou_tracker.reports import pages
from mou_tracker.reports.markdown import page_path
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AS_OF = date(2026, 3, 10)  # one fixed report date for every export here


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refs whose pages were built (not taken over) by the exports that follow."""
    refs: list[str] = []
    real = pages.commitment_doc

    def counting(d: Any, snap: Any) -> Any:
        refs.append(d.ref)
        return real(d, snap)

    monkeypatch.setattr(pages, "commitment_doc", counting)
    return refs


def _export(engine: Any, out: Path) -> None:
    with read(engine) as s:
        export_module.export(s, out, report_date=AS_OF)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _assert_same_as_cold(engine: Any, out: Path, tmp_path: Path) -> None:
    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    _export(engine, cold)
    again, fresh = _tree(out), _tree(cold)
    assert sorted(again) == sorted(fresh)
    differing = [rel for rel in fresh if again[rel] != fresh[rel]]
    assert differing == []


def _evidence(engine: Any, ref: str = "T-2") -> int:
    with frozen_clock(T0):
        ev = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                ref,
                service.EvidenceInput.build(
                    url="https://news.example.org/pilot",
                    title="Pilot launched",
                    published="2026-02-01",
                    direction="progress",
                ),
                actor="staff",
            ),
        )
    return int(ev.id)


def _status(engine: Any, evidence_id: int) -> None:
    run_write(
        engine,
        lambda s: service.change_status(
            s, "T-2", "in_progress", actor="pm", reason="Started.", evidence=[evidence_id]
        ),
    )


def _note(engine: Any, _: int) -> None:
    run_write(engine, lambda s: service.add_note(s, "T-2", "A *public* note.", actor="pm"))


def _internal_note(engine: Any, _: int) -> None:
    run_write(
        engine,
        lambda s: service.add_note(s, "T-2", "Internal only", actor="pm", visibility="internal"),
    )


def _evidence_correction(engine: Any, evidence_id: int) -> None:
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s, evidence_id, {"title": "Pilot launched in March"}, actor="staff", reason="typo"
        ),
    )


def _commitment_correction(engine: Any, _: int) -> None:
    run_write(
        engine,
        lambda s: service.correct_commitment(
            s, "T-2", {"title": "Explore building data centres"}, actor="ed", reason="Clearer"
        ),
    )


def _owner_change(engine: Any, _: int) -> None:
    run_write(
        engine,
        lambda s: service.correct_commitment(
            s, "T-2", {"owners": "ACME:lead,GOV:support"}, actor="ed", reason="GOV supports it"
        ),
    )


CHANGES: dict[str, Callable[[Any, int], None]] = {
    "status": _status,
    "public note": _note,
    "internal note": _internal_note,
    "evidence correction": _evidence_correction,
    "commitment correction": _commitment_correction,
    "owner change": _owner_change,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_reexport_after_one_change_equals_a_cold_export(mini, tmp_path, built, change):
    evidence_id = _evidence(mini)
    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        _export(mini, out)
        assert sorted(built) == ["T-0", "T-1", "T-2"]
        built.clear()
        CHANGES[change](mini, evidence_id)
        _export(mini, out)
    # Only the changed commitment's page was built again; the others were taken over.
    assert built == ["T-2"]
    with frozen_clock(T0 + timedelta(days=1)):
        _assert_same_as_cold(mini, out, tmp_path)


def test_an_unchanged_reexport_builds_no_page(mini, tmp_path, built):
    out = tmp_path / "exports"
    _export(mini, out)
    first = _tree(out)
    built.clear()
    _export(mini, out)
    assert built == []
    assert _tree(out) == first


def test_a_cache_describing_another_export_is_not_trusted(mini, tmp_path, built):
    """The cache written for ``other`` (whose keys match the database now) must not make the
    stale page in ``out`` look current: it names another manifest."""
    evidence_id = _evidence(mini)
    out, other = tmp_path / "exports", tmp_path / "other"
    with frozen_clock(T0 + timedelta(days=1)):
        _export(mini, out)
        _status(mini, evidence_id)
        _export(mini, other)
        shutil.copyfile(export_module._cache_file(other), export_module._cache_file(out))
        built.clear()
        _export(mini, out)
        assert sorted(built) == ["T-0", "T-1", "T-2"]  # the whole cache is set aside
        _assert_same_as_cold(mini, out, tmp_path)


def test_a_page_edited_by_hand_is_rebuilt(mini, tmp_path, built):
    out = tmp_path / "exports"
    _export(mini, out)
    page = out / page_path("T-1")
    assert page.is_file()
    page.write_text("edited by hand\n", encoding="utf-8")
    built.clear()
    _export(mini, out)
    assert built == ["T-1"]
    _assert_same_as_cold(mini, out, tmp_path)


def test_a_cache_from_another_database_is_not_trusted(mini, tmp_path, built):
    """Export one database, then another whose T-2 differs, into the same directory: the
    second export is the second database's report, page for page."""
    out = tmp_path / "exports"
    _export(mini, out)
    second = make_engine(str(tmp_path / "second.db"))
    try:
        create_schema(second)
        sync_file(second, MINI)
        with frozen_clock(T0):
            _note(second, 0)
        built.clear()
        _export(second, out)
        assert "T-2" in built  # (the others too where their rows' times differ)
        _assert_same_as_cold(second, out, tmp_path)
    finally:
        second.dispose()


def test_the_cache_is_not_part_of_the_export(mini, tmp_path, cache_home):  # noqa: F811
    out = tmp_path / "exports"
    _export(mini, out)
    cache = export_module._cache_file(out)
    assert cache.is_file() and cache_home in cache.parents
    assert not [p for p in out.rglob(".*")]


def test_a_page_reads_only_the_tracker_wide_facts_its_key_holds(mini, tmp_path):
    """The key holds the details and, of the whole tracker, the report date, who restates the
    commitment and how many internal notes it withholds. A page that began to read anything
    else of the snapshot would be taken over when that changed: this fails first."""
    from mou_tracker.reports import model

    _note(mini, _evidence(mini))
    with read(mini) as s:
        snap = model.snapshot(s, AS_OF)
        details = [d for batch in model.details_in_batches(s) for d in batch]
    seen: set[str] = set()

    class Watched:
        def __getattr__(self, name: str) -> Any:
            seen.add(name)
            return getattr(snap, name)

    for detail in details:
        pages.commitment_doc(detail, Watched()).markdown()  # type: ignore[arg-type]
    assert seen <= {"today", "report_date", "restated_by", "internal_notes"}, seen
    assert "internal_notes" in seen and "report_date" in seen
