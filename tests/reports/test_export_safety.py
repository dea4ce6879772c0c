"""``export`` replaces only its own work, with the user's modes, and a killed export leaves
nothing behind that could hold the lock (issue 20, findings D1 and D3 of the reliability audit)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tests.conftest import ROOT

from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import read


def _export(engine, out: Path, **kw) -> int:
    with read(engine) as s:
        return export(s, out, **kw)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_folder_with_a_foreign_manifest_is_refused_and_kept(mini, tmp_path):
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "manifest.json").write_text('{"manifest_version": 3}')
    (ext / "background.js").write_text("// work")
    before = _snapshot(ext)
    with pytest.raises(InvalidInput, match=r"--out.*no mou-tracker manifest\.json"):
        _export(mini, ext)
    assert _snapshot(ext) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ext.")]  # none left


def test_an_export_with_a_file_it_did_not_list_is_refused_and_kept(mini, tmp_path):
    out = tmp_path / "site"
    _export(mini, out)
    (out / "commitments" / "mine.txt").write_text("my own notes")
    (out / "empty-dir").mkdir()
    before = _snapshot(out)
    with pytest.raises(InvalidInput, match=r"does not list \(commitments/mine\.txt, empty-dir/\)"):
        _export(mini, out)
    assert _snapshot(out) == before and (out / "empty-dir").is_dir()


def test_a_symlink_inside_an_export_is_refused(mini, tmp_path):
    out = tmp_path / "site"
    _export(mini, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    (out / "link").symlink_to(elsewhere)
    with pytest.raises(InvalidInput, match="does not list"):
        _export(mini, out)
    assert (elsewhere / "keep.txt").read_text() == "keep"


def test_an_earlier_export_is_replaced(mini, tmp_path):
    out = tmp_path / "site"
    _export(mini, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generator"] == "mou-tracker"
    assert _export(mini, out) == len(manifest["files"]) + 1


def test_modes_follow_the_umask(mini, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "public"
        _export(mini, out)
        _export(mini, out)  # the swapped-in second export too
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "commitments").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "README.md").stat().st_mode) == 0o644


def test_a_second_export_says_it_waits_then_gives_up(mini, tmp_path):
    out = tmp_path / "exports"
    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running export holds it
    told: list[str] = []
    try:
        start = time.monotonic()
        with pytest.raises(TrackerError, match=r"another export into .* has held the lock"):
            _export(mini, out, notice=told.append, lock_wait=0.5)
        assert time.monotonic() - start < 10
    finally:
        os.close(fd)
    assert len(told) == 1 and "waiting for another export" in told[0]
    assert not out.exists()
    assert _export(mini, out, lock_wait=0.5) > 0  # the lock is free again


def _processes_with(marker: str) -> list[int]:
    """PIDs of live processes whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def pooled_db(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A SQLite tracker big enough that export renders HTML in worker processes."""
    from tests.tui.bulk import bulk_sqlite

    from mou_tracker.reports.export import _Renderer

    path = tmp_path_factory.mktemp("pooled") / "bulk.db"
    bulk_sqlite(path, _Renderer.POOL_FROM + 20)
    return path


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the worker pool needs two cores")
@pytest.mark.parametrize("point", ["export:batch", "export:before-swap"])
def test_a_killed_export_leaves_no_worker_and_the_next_one_completes(pooled_db, tmp_path, point):
    marker = f"MOU_TRACKER_TEST_MARK={uuid.uuid4().hex}"
    name, value = marker.split("=", 1)
    env = {**os.environ, name: value, "MOU_TRACKER_CRASH_AT": point}
    env.pop("MOU_TRACKER_DB", None)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "mou_tracker", "--db", str(pooled_db), "export", "--out", str(out)]
    # capture_output: a worker that outlived the export would keep these pipes open and hang run()
    killed = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []
    env.pop("MOU_TRACKER_CRASH_AT")
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "waiting" not in again.stderr
    assert (out / "manifest.json").is_file()
    assert _processes_with(marker) == []
