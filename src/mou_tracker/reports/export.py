"""``mou-tracker export``: every report, written atomically.

The files are written into a new directory beside the target and then swapped into place in
one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, with the previous
export restored on the next run if a crash fell between them). A crash at any point leaves the
previous export whole. Only a directory that mou-tracker wrote (it holds ``manifest.json``), or
an empty one, is ever replaced.

The output is a pure function of the database: the same database gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO

from sqlmodel import Session

from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.domain.serialize import iso
from mou_tracker.faults import crashpoint
from mou_tracker.reports import html as html_report
from mou_tracker.reports import model, pages
from mou_tracker.reports.data import DataWriter
from mou_tracker.reports.markdown import page_name, page_path

FORMATS = ("md", "html", "json", "csv")
MANIFEST = "manifest.json"
Progress = Callable[[int, int], None]


def export(
    session: Session,
    out: Path,
    *,
    formats: Sequence[str] = FORMATS,
    since: date | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the reports into ``out`` (replacing an earlier export there); return the number
    of files written."""
    chosen = tuple(f for f in FORMATS if f in formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not chosen:
        raise InvalidInput("--format", f"choose from {', '.join(FORMATS)}")
    out = Path(os.path.abspath(out.expanduser()))
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput("--out", f"cannot create {parent}: {exc.strerror or exc}") from None
    with _lock(parent):
        _recover(out)
        _check_target(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
        try:
            count = _write_all(session, tmp, chosen, since, progress)
            crashpoint("export:before-swap")
            _swap(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return count


# --- writing ------------------------------------------------------------------------------------


class _Files:
    """Files written under the new directory, with their hashes for the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hashes: dict[str, str] = {}

    def write(self, rel: str, text: str) -> None:
        data = text.encode("utf-8")
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.hashes[rel] = hashlib.sha256(data).hexdigest()

    @contextlib.contextmanager
    def stream(self, rel: str) -> Iterator[IO[str]]:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle
        self.hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()


def _write_all(
    session: Session,
    root: Path,
    formats: tuple[str, ...],
    since: date | None,
    progress: Progress | None,
) -> int:
    snap = model.snapshot(session)
    _check_page_names([r.ref for r in snap.rows])
    files = _Files(root)
    total = len(snap.rows)

    def page(rel: str, text: str) -> None:
        if "md" in formats:
            files.write(rel, text)
        if "html" in formats:
            files.write("html/" + html_report.html_path(rel), html_report.render_page(text))

    # Digests: the last 30 days always; a window from --since as well when asked.
    digest_files: list[tuple[str, str]] = []
    for start, default in ((None, True), (since, False)):
        if not default and since is None:
            continue
        dg = model.digest(session, snap, start)
        if dg is None:
            continue
        title = pages.digest_title(dg, default)
        name = pages.digest_file_name(None if default else start)
        page(name, pages.digest_page(dg, snap, title=title))
        digest_files.append((name, title))

    recent = model.events(
        session, None, snap.as_of, limit=model.RECENT_CHANGES, kinds=("history", "target")
    )
    latest = model.latest_evidence(session, model.LATEST_EVIDENCE)
    page(
        "README.md",
        pages.index_page(snap, recent, latest, digest_files=digest_files, formats=formats),
    )

    with contextlib.ExitStack() as stack:

        def maybe(fmt: str, rel: str) -> IO[str] | None:
            return stack.enter_context(files.stream(rel)) if fmt in formats else None

        writer = DataWriter(
            snap,
            json_file=maybe("json", "data/tracker.json"),
            commitments_csv=maybe("csv", "data/commitments.csv"),
            evidence_csv=maybe("csv", "data/evidence.csv"),
            history_csv=maybe("csv", "data/history.csv"),
        )
        done = 0
        for batch in model.details_in_batches(session):
            for detail in batch:
                page(page_path(detail.ref), pages.commitment_page(detail, snap))
                writer.add(detail)
            done += len(batch)
            crashpoint("export:batch")
            if progress is not None:
                progress(done, total)
        writer.close()

    manifest = {
        "generator": "mou-tracker",
        "as_of": iso(snap.as_of),
        "formats": list(formats),
        "renderer": html_report.RENDERER if "html" in formats else None,
        "files": dict(sorted(files.hashes.items())),
    }
    files.write(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return len(files.hashes)


def _check_page_names(refs: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for ref in refs:
        name = page_name(ref)
        if name in seen:
            raise TrackerError(
                f"export: commitments {seen[name]!r} and {ref!r} differ only in letter case, so "
                "their pages would share a file; rename one of them"
            )
        seen[name] = ref


# --- the swap -----------------------------------------------------------------------------------


def _check_target(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    if (out / MANIFEST).is_file() or not any(out.iterdir()):
        return
    raise InvalidInput(
        "--out",
        f"{out} holds files mou-tracker did not write (no {MANIFEST}); "
        "choose an empty directory or an earlier export",
    )


def _recover(out: Path) -> None:
    """Undo a swap cut short between its two renames, and clear half-written directories."""
    parent = out.parent
    old = sorted(parent.glob(f".{out.name}.old-*"))
    if not out.exists() and old:
        os.rename(old[-1], out)
        old = old[:-1]
    for leftover in old + sorted(parent.glob(f".{out.name}.new-*")):
        shutil.rmtree(leftover, ignore_errors=True)


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` where ``out`` is; afterwards ``new`` holds the previous export (if any)."""
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    crashpoint("export:between-renames")
    os.rename(new, out)
    os.rename(old, new)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux ``renameat2``); False if unsupported.

    ``MOU_TRACKER_NO_EXCHANGE=1`` forces the two-rename fallback (the crash tests use it)."""
    if os.environ.get("MOU_TRACKER_NO_EXCHANGE") or not hasattr(os, "uname"):
        return False
    if os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    """One export at a time per parent directory: an advisory lock on the directory itself,
    so no lock file is left behind (where the OS has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
