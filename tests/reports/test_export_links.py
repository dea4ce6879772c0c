"""A re-export takes the unchanged commitment pages over as hard links made in a thread
(reports/export.py, ``_Linker``): a link that cannot be made is a copy, checked against the
previous manifest's hash, and the export is still byte for byte a cold one; a page whose bytes
change while the export runs fails the export, which leaves the previous one whole."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import frozen_clock
from tests.reports.helpers import cache_home  # noqa: F401  # an autouse fixture
from tests.reports.test_reexport_cache import (
    T0,
    _assert_same_as_cold,
    _evidence,
    _export,
    _status,
    _tree,
)

from mou_tracker.domain.errors import TrackerError
from mou_tracker.reports import export as export_module
from mou_tracker.reports.markdown import page_path

UNCHANGED = page_path("T-0")  # a page the change below leaves alone


def _change_and_export(engine: Any, out: Path) -> None:
    evidence_id = _evidence(engine)
    with frozen_clock(T0 + timedelta(days=1)):
        _export(engine, out)
        _status(engine, evidence_id)
        _export(engine, out)


def test_the_unchanged_pages_are_linked_in_the_thread(mini, tmp_path, monkeypatch):
    made: list[str] = []
    real = export_module._link_all

    def counting(links: list[tuple[str, str, str]]) -> None:
        made.extend(Path(new).as_posix() for _old, new, _digest in links)
        real(links)

    monkeypatch.setattr(export_module, "_link_all", counting)
    out = tmp_path / "exports"
    _change_and_export(mini, out)
    # the first export had nothing to link from; the re-export links T-0's page, not T-2's
    assert any(m.endswith("/" + UNCHANGED) for m in made)
    assert not any(m.endswith("/" + page_path("T-2")) for m in made)
    assert os.stat(out / UNCHANGED).st_nlink == 1  # the previous export's link is gone
    with frozen_clock(T0 + timedelta(days=1)):
        _assert_same_as_cold(mini, out, tmp_path)


def test_a_page_that_cannot_be_linked_is_copied(mini, tmp_path, monkeypatch):
    out = tmp_path / "exports"
    evidence_id = _evidence(mini)
    with frozen_clock(T0 + timedelta(days=1)):
        _export(mini, out)
        _status(mini, evidence_id)

        def refused(_old: Any, _new: Any, **_kw: Any) -> None:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(os, "link", refused)
        _export(mini, out)
        monkeypatch.undo()
        _assert_same_as_cold(mini, out, tmp_path)


def test_a_page_changed_while_the_export_runs_fails_it(mini, tmp_path, monkeypatch):
    """Untouched when the export looked, edited before its link was made (then the link is
    refused, and the copy's bytes are not the manifest's): the export fails and the previous
    export stays as it was, with no working directory left."""
    out = tmp_path / "exports"
    evidence_id = _evidence(mini)
    with frozen_clock(T0 + timedelta(days=1)):
        _export(mini, out)
        _status(mini, evidence_id)
        before = _tree(out)
        real = export_module._link_all

        def edited_first(links: list[tuple[str, str, str]]) -> None:
            old = links[0][0]
            with open(old, "ab") as handle:
                handle.write(b"edited\n")
            before[Path(old).relative_to(out).as_posix()] += b"edited\n"

            def refused(_old: Any, _new: Any, **_kw: Any) -> None:
                raise OSError(18, "Invalid cross-device link")

            monkeypatch.setattr(os, "link", refused)
            try:
                real(links)
            finally:
                monkeypatch.setattr(os, "link", os_link)

        os_link = os.link
        monkeypatch.setattr(export_module, "_link_all", edited_first)
        with pytest.raises(TrackerError, match="changed while the export read it"):
            _export(mini, out)
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".exports")] == []


def test_the_facts_looked_at_ahead_are_those_looked_at_then(mini, tmp_path):
    """The export cache takes the previous files' facts in a thread from the start of an
    export (ExportCache.look_ahead): it finds untouched exactly the files it finds so asking
    file by file, a page edited by hand included."""
    from concurrent.futures import ThreadPoolExecutor

    from mou_tracker.reports import reuse

    out = tmp_path / "exports"
    with frozen_clock(T0 + timedelta(days=1)):
        _export(mini, out)
    edited = out / UNCHANGED
    edited.write_bytes(edited.read_bytes())  # the same bytes, a new ctime
    salt = export_module._salt(export_module.FORMATS)
    direct = reuse.ExportCache(out, out, salt)
    assert direct.old_stats  # the cache describes this export
    ahead = reuse.ExportCache(out, out, salt)
    with ThreadPoolExecutor(max_workers=1) as thread:
        ahead.look_ahead(out, thread)
        found = {rel: ahead.untouched(rel, out / rel) for rel in ahead.old_stats}
    assert found == {rel: direct.untouched(rel, out / rel) for rel in direct.old_stats}
    assert found[UNCHANGED] is False and sum(found.values()) == len(found) - 1
