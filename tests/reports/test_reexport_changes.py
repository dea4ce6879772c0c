"""A re-export loads details only for the commitments whose cheap summary changed
(reports/changes.py) and copies everything else from the previous export: after each kind of
change it must still be byte for byte a cold export, data files and manifest included; and each
change here must show in the files, so a change the summary missed would fail these tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col
from tests.conftest import frozen_clock
from tests.reports.helpers import cache_home  # noqa: F401  # an autouse fixture
from tests.reports.test_reexport_cache import (
    AS_OF,
    CHANGES,
    T0,
    _assert_same_as_cold,
    _evidence,
    _export,
    _tree,
    built,  # noqa: F401  # a fixture, used by name
)

from mou_tracker.domain import service
from mou_tracker.domain.models import LinkCheck, Party
from mou_tracker.reports import changes, reuse
from mou_tracker.reports import export as export_module
from mou_tracker.reports.markdown import page_path
from mou_tracker.storage.engine import read, run_write

URL = "https://news.example.org/pilot"  # the evidence _evidence adds to T-2


def _more_evidence(engine: Any, _: int) -> None:
    run_write(
        engine,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://news.example.org/second",
                title="Second report",
                published="2026-02-20",
                direction="progress",
            ),
            actor="staff",
        ),
    )


def _withdrawal(engine: Any, _: int) -> None:
    note = run_write(engine, lambda s: service.add_note(s, "T-2", "Said too soon.", actor="pm"))
    # the first export (see _prepared) already holds the note; this withdraws it
    run_write(
        engine,
        lambda s: service.add_note(s, "T-2", "Withdrawn: wrong.", actor="pm", withdraws=note.id),
    )


def _target(engine: Any, _: int) -> None:
    run_write(
        engine,
        lambda s: service.set_target(s, "T-2", "2027-06-30", actor="pm", reason="Announced."),
    )


def _link_state(engine: Any, _: int) -> None:
    def check(s: Any) -> None:
        s.add(LinkCheck(url=URL, checked_at=T0 + timedelta(days=1), state="broken", error="404"))

    run_write(engine, check)


def _party_rename(engine: Any, _: int) -> None:
    def rename(s: Any) -> None:
        s.execute(update(Party).where(col(Party.code) == "ACME").values(name="Acme AI Ltd"))

    run_write(engine, rename)


MORE: dict[str, Callable[[Any, int], None]] = {
    "evidence added": _more_evidence,
    "withdrawal": _withdrawal,
    "target": _target,
    "link state": _link_state,
    "party rename": _party_rename,
}
EVERY = {**CHANGES, **MORE}


def _prepared(engine: Any, out: Path, change: str) -> int:
    """The tracker with T-2's evidence (and, for a withdrawal, the note to withdraw), exported."""
    evidence_id = _evidence(engine)
    _export(engine, out)
    return evidence_id


@pytest.mark.parametrize("change", sorted(MORE))
def test_reexport_after_a_change_equals_a_cold_export(mini, tmp_path, built, change):  # noqa: F811
    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        evidence_id = _prepared(mini, out, change)
        built.clear()
        MORE[change](mini, evidence_id)
        _export(mini, out)
        if change == "link state":  # T-1 cites the same URL
            assert sorted(built) == ["T-1", "T-2"]
        elif change != "party rename":  # a party's name is on every page
            assert built == ["T-2"]
        _assert_same_as_cold(mini, out, tmp_path)


@pytest.mark.parametrize("change", sorted(EVERY))
def test_a_change_the_summary_missed_would_show(mini, tmp_path, monkeypatch, change):
    """Each change shows in the files: a re-export that kept the previous keys (as a summary
    blind to the change would) differs from a cold export."""
    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        evidence_id = _prepared(mini, out, change)
        before = dict(json.loads(reuse.cache_file(out).read_text(encoding="utf-8"))["keys"])
        EVERY[change](mini, evidence_id)
        monkeypatch.setattr(changes, "keys", lambda *_args: before)
        _export(mini, out)
        monkeypatch.undo()
        with pytest.raises(AssertionError):
            _assert_same_as_cold(mini, out, tmp_path)


def test_only_the_changed_commitment_is_loaded(mini, tmp_path, monkeypatch):
    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        evidence_id = _prepared(mini, out, "status")
        CHANGES["status"](mini, evidence_id)
        loaded: list[int] = []
        real = export_module.commitment_details

        def counting(session: Any, ids: Any, **kw: Any) -> Any:
            loaded.extend(ids)
            return real(session, ids, **kw)

        monkeypatch.setattr(export_module, "commitment_details", counting)
        _export(mini, out)
        monkeypatch.undo()
        assert len(loaded) == 1
        _assert_same_as_cold(mini, out, tmp_path)


def test_a_new_report_date_rebuilds_everything(mini, tmp_path, built):  # noqa: F811
    out, cold = tmp_path / "exports", tmp_path / "cold"
    _evidence(mini)
    with read(mini) as s:
        export_module.export(s, out, report_date=AS_OF)
    built.clear()
    later = AS_OF + timedelta(days=200)  # evidence goes stale, reviews fall overdue
    with frozen_clock(T0 + timedelta(days=400)), read(mini) as s:
        export_module.export(s, out, report_date=later)
        export_module.export(s, cold, report_date=later)
    assert sorted(set(built)) == ["T-0", "T-1", "T-2"]
    assert _tree(out) == _tree(cold)


def test_a_data_file_edited_by_hand_is_not_copied_from(mini, tmp_path):
    """tracker.json edited in place (same size, its times put back): its ctime gives it away,
    so the re-export writes every commitment's line afresh."""
    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        evidence_id = _prepared(mini, out, "status")
        path = out / "data/tracker.json"
        st = path.stat()
        text = path.read_bytes()
        edited = text.replace(b"Find uses in public services", b"Find uses in PUBLIC services")
        assert edited != text  # T-1's line, which the status change of T-2 leaves alone
        path.write_bytes(edited)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        CHANGES["status"](mini, evidence_id)
        _export(mini, out)
        _assert_same_as_cold(mini, out, tmp_path)


def test_a_page_edited_by_hand_with_its_times_put_back_is_rebuilt(mini, tmp_path, built):  # noqa: F811
    out = tmp_path / "exports"
    _export(mini, out)
    page = out / page_path("T-1")
    st = page.stat()
    data = page.read_bytes()
    page.write_bytes(data.replace(b"T-1", b"T-9", 1))
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size
    built.clear()
    _export(mini, out)
    assert built == ["T-1"]
    _assert_same_as_cold(mini, out, tmp_path)


def test_a_json_only_export_reuses_its_data(mini, tmp_path):
    out, cold = tmp_path / "exports", tmp_path / "cold"
    with frozen_clock(T0 + timedelta(days=1)):
        with read(mini) as s:
            export_module.export(s, out, formats=("json",), report_date=AS_OF)
        _evidence(mini)
        with read(mini) as s:
            export_module.export(s, out, formats=("json",), report_date=AS_OF)
            export_module.export(s, cold, formats=("json",), report_date=AS_OF)
    assert _tree(out) == _tree(cold)


def test_an_edit_behind_the_trackers_back_needs_rebuild(mini, tmp_path):
    """A title changed by plain SQL, leaving version and updated_at alone, is invisible to the
    cheap summaries (the documented limit of reports/changes.py): the re-export keeps the old
    page. ``export --rebuild`` trusts no cache and gives the cold export, byte for byte."""
    from sqlalchemy import text

    out = tmp_path / "exports"
    _evidence(mini)
    _export(mini, out)
    page = out / page_path("T-2")
    run_write(
        mini,
        lambda s: s.execute(
            text("UPDATE commitment SET title = 'Retitled by hand' WHERE ref = 'T-2'")
        ),
    )
    _export(mini, out)
    assert "Retitled by hand" not in page.read_text(encoding="utf-8")  # the limit, as documented
    with read(mini) as s:
        export_module.export(s, out, report_date=AS_OF, rebuild=True)
    assert "Retitled by hand" in page.read_text(encoding="utf-8")
    _assert_same_as_cold(mini, out, tmp_path)


def test_the_rebuild_flag_reaches_the_export(mini_cli_main, tmp_path, monkeypatch):
    seen: list[bool] = []
    real = export_module.export

    def spy(*args: Any, **kw: Any) -> int:
        seen.append(kw.get("rebuild", False))
        return real(*args, **kw)

    monkeypatch.setattr(export_module, "export", spy)
    out = tmp_path / "flagged"
    for argv in ((), ("--rebuild",)):
        r = mini_cli_main("export", "--out", str(out), *argv)
        assert r.code == 0, r.err
    assert seen == [False, True]
