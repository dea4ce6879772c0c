"""``mou-tracker export``: every report, written atomically.

The files are written into a new directory beside the target and then swapped into place in
one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, with the previous
export restored on the next run if a crash fell between them). A crash at any point leaves the
previous export whole. Only an empty directory, or one that mou-tracker wrote, is ever replaced:
its ``manifest.json`` must name mou-tracker as its generator and list every file in it, so a
folder that merely holds a file of that name (a browser extension, a web app) is refused, not
deleted. The new directory gets the mode the user's umask gives, as ``mkdir`` would.

Commitment pages (their Markdown and HTML, from one page model: see ``reports/doc.py``) are
written by two worker processes when there are many, while this process reads the database and
writes the data files; ``data/tracker.sqlite`` is built from ``tracker.json`` by a worker, or by
a thread of this process when there is no full pool.

A re-export does only what changed (``reports/changes.py``, ``reports/reuse.py``): a cheap
summary of each commitment's rows, read with one grouped query a table, is compared with the one
recorded for the previous export (in the user's cache directory, not in the export, so
``manifest.json`` and every published byte are those of a cold export); only the commitments
whose summary differs have their details loaded. The others' pages are hard-linked from the
previous export (a file untouched since that export recorded its size, times and inode is taken
on the previous manifest's hash; any other is read and checked) and their pieces of
``tracker.json`` and the CSV files are copied from the previous files by byte offset. The
system calls of that (the facts of the previous files, the links) are made in a thread, beside
this one's work, as are the reading of the previous ``tracker.sqlite`` and ``tracker.json``
(from the start) and the hashes of the new data files.

One export at a time per parent directory: an advisory ``flock`` on the parent, which the
kernel releases when its holder dies. The workers are started with ``spawn`` (so they do
not share the lock's open file) and are told to die with the process that started them, so a
``kill -9`` of an export leaves nothing behind that could hold the lock. A second export waits
at most ``LOCK_WAIT`` seconds, says that it is waiting, and then gives up with a message.

The output is a pure function of the database: the same database gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.domain.queries import commitment_details
from mou_tracker.domain.serialize import iso
from mou_tracker.reports import changes, chart, feed, model, pages, public_source, reuse
from mou_tracker.reports import html as html_report
from mou_tracker.reports.data import DataWriter
from mou_tracker.reports.doc import Doc
from mou_tracker.reports.markdown import page_name, page_path

FORMATS = ("md", "html", "json", "csv")
MANIFEST = "manifest.json"
GENERATOR = "mou-tracker"
LOCK_WAIT = 60.0  # seconds a second export waits for the first before giving up
Progress = Callable[[int, int], None]
Notice = Callable[[str], None]


def export(
    session: Session,
    out: Path,
    *,
    formats: Sequence[str] = FORMATS,
    since: date | None = None,
    report_date: date | None = None,
    progress: Progress | None = None,
    notice: Notice | None = None,
    lock_wait: float | None = None,
    rebuild: bool = False,
) -> int:
    """Write the reports into ``out`` (replacing an earlier export there); return the number
    of files written. ``report_date`` (default: today, UTC) dates the report: overdue reviews
    and stale evidence are judged on it. ``notice`` is told (once) when another export holds
    the lock. ``rebuild`` builds every file from the database, trusting nothing the cache says
    of the previous export (for an edit made outside the tracker, which the cache cannot see:
    ``reports/changes.py``)."""
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
    with _lock(parent, LOCK_WAIT if lock_wait is None else lock_wait, notice):
        _recover(out)
        previous = _check_target(out)
        tmp = _make_dir(parent, f".{out.name}.new-")
        # A rebuild starts from an empty cache: every commitment is loaded and every page and
        # data file built again. Files of the previous export are still linked where their
        # bytes are equal, compared byte for byte, and its earlier digests are kept.
        cache = reuse.ExportCache(out, None if rebuild else previous, _salt(chosen))
        try:
            count = _write_all(session, tmp, chosen, since, report_date, progress, previous, cache)
            sys.audit("mou_tracker.crashpoint", "export:before-swap")  # see faults.py
            _swap(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # After the previous export's files are gone: removing a hard link changes the ctime
        # of the file it shares with this export, and the cache records ctimes.
        cache.save(out, cache.rels)
    return count


# --- writing ------------------------------------------------------------------------------------


class _Files:
    """Files written under the new directory, with their hashes for the manifest.

    A file whose bytes equal the same file in the previous export is hard-linked from there
    instead of written again, and an HTML page whose Markdown source is unchanged (same hash,
    same renderer) is linked instead of rendered again, so re-exporting after a small change
    costs little. The previous files are compared byte for byte, never trusted blindly.
    """

    def __init__(self, root: Path, previous: Path | None) -> None:
        self.root = root
        self.hashes: dict[str, str] = {}
        self.sources: dict[str, str] = {}  # html page -> hash of the Markdown it came from
        self.previous = previous
        self.old: dict[str, object] = {}
        if previous is not None:
            try:
                self.old = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.old = {}
        self.made_dirs: set[Path] = set()
        self.linked = 0
        # Whether a file of the previous export is untouched since that export recorded it
        # (then its hash in the previous manifest is taken without reading it again).
        self.untouched: Callable[[str, str], bool] | None = None
        self.made: set[str] = set()  # directories made, as strings (the fast path of carry)
        self.linker: _Linker | None = None  # makes the links of link_later, in a thread
        self.later: dict[str, Future[str]] = {}  # hashes taken in a thread (the data files)

    def link_later(self, rel: str, digest: str) -> None:
        """Take over a file of the previous export that is untouched since the export that
        hashed it: its link is made in a thread (see _Linker)."""
        assert self.previous is not None and self.linker is not None
        new = os.path.join(self.root, rel)
        parent = os.path.dirname(new)
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)
        self.linker.add(os.path.join(self.previous, rel), new, digest)
        self.linked += 1
        self.hashes[rel] = digest

    def _path(self, rel: str) -> Path:
        path = self.root / rel
        if path.parent not in self.made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made_dirs.add(path.parent)
        return path

    def _old_bytes(self, rel: str) -> bytes | None:
        if self.previous is None:
            return None
        try:
            return (self.previous / rel).read_bytes()
        except OSError:
            return None

    def _link(self, rel: str, path: Path) -> bool:
        assert self.previous is not None
        try:
            os.link(self.previous / rel, path)
        except OSError:
            return False
        self.linked += 1
        return True

    def write(self, rel: str, text: str) -> str:
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(rel)
        old_files = self.old.get("files") if isinstance(self.old, dict) else None
        same = isinstance(old_files, dict) and old_files.get(rel) == digest
        if not (same and self._old_bytes(rel) == data and self._link(rel, path)):
            with open(path, "wb") as handle:
                handle.write(data)
        self.hashes[rel] = digest
        return digest

    def carry(self, rel: str, digest: str) -> bool:
        """Take a file of the previous export over unchanged, if its bytes match its hash (or
        it is untouched since the export that hashed it recorded its facts)."""
        assert self.previous is not None
        # Plain strings here, not Path objects: this runs for every page of a re-export.
        old = os.path.join(self.previous, rel)
        if self.untouched is not None and self.untouched(rel, old):
            new = os.path.join(self.root, rel)
            parent = os.path.dirname(new)
            if parent not in self.made:
                os.makedirs(parent, exist_ok=True)
                self.made.add(parent)
            try:
                os.link(old, new)
            except OSError:
                pass
            else:
                self.linked += 1
                self.hashes[rel] = digest
                return True
        data = self._old_bytes(rel)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            return False
        path = self._path(rel)
        if not self._link(rel, path):
            with open(path, "wb") as handle:
                handle.write(data)
        self.hashes[rel] = digest
        return True

    def reusable_html(self, rel: str, source_digest: str) -> bool:
        """Link the previous export's HTML page if it was rendered from the same Markdown."""
        old = self.old if isinstance(self.old, dict) else {}
        sources, files = old.get("html_sources"), old.get("files")
        if (
            old.get("renderer") != html_report.RENDERER
            or not isinstance(sources, dict)
            or not isinstance(files, dict)
            or sources.get(rel) != source_digest
        ):
            return False
        data = self._old_bytes(rel)
        if data is None or hashlib.sha256(data).hexdigest() != files.get(rel):
            return False
        if not self._link(rel, self._path(rel)):
            return False
        self.hashes[rel] = str(files[rel])
        self.sources[rel] = source_digest
        return True

    def rendered(self, rel: str, html_text: str, source_digest: str) -> None:
        self.write(rel, html_text)
        self.sources[rel] = source_digest


_cache_file = reuse.cache_file  # where the export cache of an export directory lives


def _salt(formats: tuple[str, ...]) -> str:
    """What every key depends on besides the database: the code, the formats, the renderer."""
    return _code_version() + "|" + ",".join(formats) + "|" + html_report.RENDERER


_CODE_VERSION: list[str] = []


def _code_version() -> str:
    """A hash of the installed package's source (and its version): any change to the code
    that builds pages changes every page's key."""
    if not _CODE_VERSION:
        import mou_tracker

        root = Path(mou_tracker.__file__).parent
        digest = hashlib.sha256(getattr(mou_tracker, "__version__", "").encode())
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
        _CODE_VERSION.append(digest.hexdigest())
    return _CODE_VERSION[0]


def _take_over(files: _Files, ref: str, formats: tuple[str, ...]) -> bool:
    """Take an unchanged commitment's page (Markdown and HTML) over from the previous export,
    each file checked against the previous manifest's hash; False if any is missing."""
    old = files.old if isinstance(files.old, dict) else {}
    listed, sources = old.get("files"), old.get("html_sources")
    if not isinstance(listed, dict) or not isinstance(sources, dict):
        return False
    rel = page_path(ref)
    wanted: list[str] = []
    if "md" in formats:
        wanted.append(rel)
    html_rel = "html/" + html_report.html_path(rel)
    if "html" in formats:
        if html_rel not in sources:
            return False
        wanted.append(html_rel)
    if not all(isinstance(listed.get(w), str) for w in wanted):
        return False
    untouched, previous = files.untouched, files.previous
    if (
        files.linker is not None
        and untouched is not None
        and previous is not None
        and all(untouched(w, os.path.join(previous, w)) for w in wanted)
    ):
        for w in wanted:
            files.link_later(w, str(listed[w]))
    else:
        for i, w in enumerate(wanted):
            if not files.carry(w, str(listed[w])):
                for done in wanted[:i]:  # a link to the previous export's file: never write
                    files.hashes.pop(done, None)
                    with contextlib.suppress(OSError):
                        (files.root / done).unlink()
                return False
    if "html" in formats:
        files.sources[html_rel] = str(sources[html_rel])
    return True


class _Linker:
    """Hard links to the previous export's files, made in a thread a batch at a time: making
    a link is a system call, which gives up the interpreter lock, so this process goes on
    reading the database meanwhile. A link that cannot be made is a copy, checked against
    its hash (see _link_all). Every link is made when :meth:`finish` returns."""

    BATCH = 500

    def __init__(self) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1)
        self.batch: list[tuple[str, str, str]] = []
        self.sent: list[Future[None]] = []

    def add(self, old: str, new: str, digest: str) -> None:
        self.batch.append((old, new, digest))
        if len(self.batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        if self.batch:
            self.sent.append(self.thread.submit(_link_all, self.batch))
            self.batch = []

    def finish(self) -> None:
        """Wait for every link; raise what the thread raised."""
        self._send()
        for done in self.sent:
            done.result()

    def close(self) -> None:
        """Stop: the links not made yet are not made."""
        self.batch = []
        self.thread.shutdown(wait=True, cancel_futures=True)


def _link_all(links: list[tuple[str, str, str]]) -> None:
    for old, new, digest in links:
        try:
            os.link(old, new)
        except OSError:
            with open(old, "rb") as handle:
                data = handle.read()
            if hashlib.sha256(data).hexdigest() != digest:
                raise TrackerError(
                    f"export: {old} changed while the export read it; export again"
                ) from None
            with open(new, "wb") as handle:
                handle.write(data)


def _write_commitment(
    files: _Files, snap: model.Snapshot, formats: tuple[str, ...], detail: Any
) -> None:
    """One commitment's page: its Markdown and its HTML from one page model (reports/doc.py);
    markdown-it renders the HTML only of a page the model cannot vouch for."""
    page = pages.commitment_doc(detail, snap)
    text = page.markdown()
    rel = page_path(detail.ref)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if "md" in formats:
        files.write(rel, text)
    if "html" in formats:
        html_rel = "html/" + html_report.html_path(rel)
        if not files.reusable_html(html_rel, digest):
            built = page.html("../../") if page.exact else html_report.render_page(text)
            files.rendered(html_rel, built, digest)


# What a worker process holds: the snapshot, the files of the new export, the formats.
_WORKER: dict[str, Any] = {}


def _start_worker(
    parent: int,
    snap: model.Snapshot | None,
    root: str,
    previous: str | None,
    formats: tuple[str, ...],
) -> None:
    _die_with_parent(parent)
    _WORKER.update(
        snap=snap,
        files=_Files(Path(root), Path(previous) if previous else None),
        formats=formats,
    )


def _pages_job(details: list[Any]) -> tuple[dict[str, str], dict[str, str], int]:
    """In a worker: write the pages of a batch of commitments; return their hashes."""
    files: _Files = _WORKER["files"]
    files.hashes, files.sources, files.linked = {}, {}, 0
    for detail in details:
        _write_commitment(files, _WORKER["snap"], _WORKER["formats"], detail)
    return files.hashes, files.sources, files.linked


def _public_db_job(path: str, json_path: str, previous: str | None, trusted: list[str]) -> str:
    """In a worker: data/tracker.sqlite from the tracker.json this export has written; its
    hash."""
    old = Path(previous) if previous else None
    return _build_public_db(_WORKER["snap"], Path(path), Path(json_path), old, trusted)


def _build_public_db(
    snap: model.Snapshot,
    path: Path,
    json_path: Path,
    previous: Path | public_source.Previous | None,
    trusted: list[str],
) -> str:
    """data/tracker.sqlite from the tracker.json this export has written; its hash (taken
    here, in the worker or thread, not in the process writing the pages)."""
    from mou_tracker.reports import public_db

    public_db.write(None, snap, path, json_path, previous, trusted)
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _Renderer:
    """The pages, written in worker processes when there are many (both cores: this process
    reads the database and writes the data files meanwhile), in this process otherwise.

    Commitment pages go to the workers a batch at a time, as page models; the few other pages
    (digests, key) as Markdown for markdown-it. The index is built here from its page model
    (see ``_write_index``), so a re-export that builds few commitment pages starts no worker."""

    POOL_FROM = 200
    WORKERS = 2
    AHEAD = 4  # batches in flight before this process waits for the workers

    def __init__(
        self,
        files: _Files,
        pages_expected: int,
        snap: model.Snapshot,
        formats: tuple[str, ...],
    ) -> None:
        self.files = files
        self.snap = snap
        self.formats = formats
        self.pool: Any = None
        self.full = False  # the pool builds commitment pages (and tracker.sqlite) too
        self.thread: ThreadPoolExecutor | None = None  # builds tracker.sqlite otherwise
        self.pending: deque[tuple[str | None, str, Any]] = deque()
        if (os.cpu_count() or 1) < 2:
            return
        self.full = pages_expected >= self.POOL_FROM
        if not self.full:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: a forked worker would share the export lock's open file and the
        # parent's state; and each worker dies with its parent (see _die_with_parent).
        previous = str(files.previous) if files.previous is not None else None
        self.pool = ProcessPoolExecutor(
            max_workers=min(self.WORKERS, os.cpu_count() or 1),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), snap, str(files.root), previous, formats),
        )

    def add(self, rel: str, markdown_text: str, source_digest: str) -> None:
        """Render one page's HTML from its Markdown with markdown-it."""
        if self.files.reusable_html(rel, source_digest):
            return
        if self.pool is None:
            self.files.rendered(rel, html_report.render_page(markdown_text), source_digest)
            return
        self.pending.append(
            (rel, source_digest, self.pool.submit(html_report.render_page, markdown_text))
        )

    def commitments(self, details: list[Any]) -> None:
        """Build these commitments' pages (none of them taken over)."""
        if not details:
            return
        if not self.full:
            for detail in details:
                _write_commitment(self.files, self.snap, self.formats, detail)
            return
        self.pending.append((None, "", self.pool.submit(_pages_job, details)))
        while len(self.pending) > self.AHEAD:
            self._take()

    def _take(self) -> None:
        rel, digest, future = self.pending.popleft()
        if rel is not None:
            self.files.rendered(rel, future.result(), digest)
            return
        hashes, sources, linked = future.result()
        self.files.hashes.update(hashes)
        self.files.sources.update(sources)
        self.files.linked += linked

    def drain(self, wait: bool = False) -> None:
        while self.pending and (wait or self.pending[0][2].done()):
            self._take()

    def close(self) -> None:
        try:
            self.drain(wait=True)
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
            if self.thread is not None:
                self.thread.shutdown(wait=True)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Run in each worker: be killed when the export process dies, however it dies.

    On Linux the kernel does it (``PR_SET_PDEATHSIG``); elsewhere a thread watches for the
    parent to go. Either way a ``kill -9`` of the export leaves no worker behind."""
    import signal
    import threading

    armed = False
    if hasattr(os, "uname") and os.uname().sysname == "Linux":
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _write_all(
    session: Session,
    root: Path,
    formats: tuple[str, ...],
    since: date | None,
    report_date: date | None,
    progress: Progress | None,
    previous: Path | None,
    cache: reuse.ExportCache,
) -> int:
    # A re-export's data/tracker.sqlite starts from the previous export's (reports/public_db.py):
    # that file and the previous tracker.json are read and checked in a thread from the start,
    # while this thread reads the database. The previous export's rows are used only if this
    # code wrote it (the cache holds keys only then).
    reading = (
        _Reading(previous, cache) if previous and cache.old_keys and "json" in formats else None
    )
    # The previous export's files are looked at (stat) and linked into the new one in another
    # thread: tens of thousands of system calls beside this thread's work.
    linker = _Linker() if previous is not None else None
    try:
        if linker is not None and previous is not None:
            cache.look_ahead(previous, linker.thread)
        return _write_files(
            session, root, formats, since, report_date, progress, previous, cache, reading, linker
        )
    finally:
        if linker is not None:
            linker.close()
        if reading is not None:
            reading.thread.shutdown(wait=True)


class _Reading:
    """The previous export's tracker.json and tracker.sqlite, read in a thread (which then
    builds the new tracker.sqlite, unless the worker processes do)."""

    def __init__(self, previous: Path, cache: reuse.ExportCache) -> None:
        from mou_tracker.reports import public_db

        self.previous = previous
        # the files known untouched since the previous export: their hashes are not checked
        self.trusted = [
            rel
            for rel in (public_db.SQLITE_FILE, public_source.JSON_FILE)
            if cache.untouched(rel, os.path.join(previous, rel))
        ]
        self.thread = ThreadPoolExecutor(max_workers=1)
        self.files = self.thread.submit(public_source.previous_files, previous, self.trusted)


def _write_files(
    session: Session,
    root: Path,
    formats: tuple[str, ...],
    since: date | None,
    report_date: date | None,
    progress: Progress | None,
    previous: Path | None,
    cache: reuse.ExportCache,
    reading: _Reading | None,
    linker: _Linker | None,
) -> int:
    # the latest change is read by the snapshot (model.as_of, eight queries), not again here
    chosen = _report_date(report_date)
    snap = model.snapshot(session, chosen)
    _check_report_date(chosen, snap.as_of, since)
    _check_page_names([r.ref for r in snap.rows])
    files = _Files(root, previous)
    files.untouched = cache.untouched
    files.linker = linker
    order = changes.report_order(session)
    cache.keys = changes.keys(session, snap, order, cache.salt)
    to_build = sum(1 for _cid, ref in order if not cache.unchanged(ref))
    renderer = _Renderer(files, to_build if {"md", "html"} & set(formats) else 0, snap, formats)
    public: dict[str, str] | None = None
    try:
        _write_commitments(session, snap, files, renderer, formats, progress, order, cache)
        # The public record as SQLite with its Datasette metadata, beside the JSON and CSV:
        # built from the tracker.json just written while the other pages are written (in a
        # worker when there are workers, else in a thread: SQLite's work runs outside the GIL).
        sqlite = _start_public_db(session, snap, files, renderer, formats, reading, cache)
        _write_pages(session, snap, files, renderer, formats, since)
        if sqlite is not None:
            from mou_tracker.reports import datasette_meta, public_db

            renderer.drain(wait=True)
            files.hashes[public_db.SQLITE_FILE] = sqlite.result()
            files.write(datasette_meta.METADATA_FILE, datasette_meta.metadata_yaml(snap))
            public = public_db.REPRODUCIBLE
    finally:
        renderer.close()
    if files.linker is not None:
        files.linker.finish()
    files.hashes.update((rel, done.result()) for rel, done in files.later.items())
    manifest = {
        "generator": GENERATOR,
        "as_of": iso(snap.as_of),
        "report_date": iso(snap.report_date),
        "formats": list(formats),
        "renderer": html_report.RENDERER if "html" in formats else None,
        "files": dict(sorted(files.hashes.items())),
        "html_sources": dict(sorted(files.sources.items())),
    }
    if public is not None:
        manifest["sqlite"] = public
    files.write(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return len(files.hashes)


def _start_public_db(
    session: Session,
    snap: model.Snapshot,
    files: _Files,
    renderer: _Renderer,
    formats: tuple[str, ...],
    reading: _Reading | None,
    cache: reuse.ExportCache,
) -> Future[str] | None:
    """Start building data/tracker.sqlite (its hash when done); None when the formats have
    no data files. The export cache keeps the file's facts, so the next export can tell it is
    untouched without hashing it."""
    if "json" not in formats and "csv" not in formats:
        return None
    from mou_tracker.reports import public_db, public_source

    path = files._path(public_db.SQLITE_FILE)
    cache.rels.append(public_db.SQLITE_FILE)
    if "json" not in formats:  # from the details, here and now
        public_db.write(session, snap, path, None)
        done: Future[str] = Future()
        done.set_result(hashlib.sha256(path.read_bytes()).hexdigest())
        return done
    json_path = files.root / public_source.JSON_FILE
    if renderer.full:  # the worker reads the previous files again: its thread is elsewhere
        old = str(reading.previous) if reading else None
        trusted = reading.trusted if reading else []
        return renderer.pool.submit(_public_db_job, str(path), str(json_path), old, trusted)
    if reading is None:
        renderer.thread = ThreadPoolExecutor(max_workers=1)
        return renderer.thread.submit(_build_public_db, snap, path, json_path, None, [])
    # after the previous files are read, in the same thread
    return reading.thread.submit(_build_from_read, snap, path, json_path, reading)


def _build_from_read(snap: model.Snapshot, path: Path, json_path: Path, reading: _Reading) -> str:
    """data/tracker.sqlite from the previous export's files as the thread read them."""
    return _build_public_db(snap, path, json_path, reading.files.result(), reading.trusted)


def _write_pages(
    session: Session,
    snap: model.Snapshot,
    files: _Files,
    renderer: _Renderer,
    formats: tuple[str, ...],
    since: date | None,
) -> None:
    """The pages of the whole tracker: digests, index, key, feed and charts."""

    def page(rel: str, text: str) -> None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if "md" in formats:
            files.write(rel, text)
        if "html" in formats:
            renderer.add("html/" + html_report.html_path(rel), text, digest)

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
    digest_files += _keep_earlier_digests(files, formats, {name for name, _ in digest_files})

    recent = model.events(
        session, None, snap.as_of, limit=model.RECENT_CHANGES, kinds=("history", "target")
    )
    latest = model.latest_evidence(session, model.LATEST_EVIDENCE)
    index = pages.index_doc(snap, recent, latest, digest_files=digest_files, formats=formats)
    _write_index(files, renderer, formats, index)
    # The readers' files beside the pages: the key, the feed, and status over time (the
    # chart goes with the pages, its figures with the CSV files).
    readable = "md" in formats or "html" in formats
    if readable:
        page(pages.LEGEND_FILE, pages.legend_page(snap))
        files.write(pages.FEED_FILE, feed.atom_feed(session, snap, formats))
    if readable or "csv" in formats:
        # Two series: by the day each change was recorded (what the tracker said then) and
        # by the day it took effect (how the commitments moved, as the record now stands).
        charts: list[tuple[chart.Series, chart.Basis, str, str, str]] = [
            (
                model.status_by_date(session, snap),
                "recorded",
                pages.CHART_FILE,
                pages.STATUS_BY_DATE_FILE,
                "Commitments at each status over time",
            ),
            (
                chart.status_by_effective_date(session, snap),
                "effective",
                chart.EFFECTIVE_CHART_FILE,
                chart.EFFECTIVE_CSV_FILE,
                "Commitments at each status over time, by the day each change took effect",
            ),
        ]
        for series, basis, svg_file, csv_file, title in charts:
            if readable:
                files.write(
                    svg_file, chart.status_svg(series, snap.report_date, title, basis=basis)
                )
            if "csv" in formats:
                files.write(csv_file, chart.status_csv(series))


def _write_index(files: _Files, renderer: _Renderer, formats: tuple[str, ...], index: Doc) -> None:
    """The index (``README.md``): its Markdown and its HTML from one page model, as a
    commitment page's; markdown-it renders the HTML only if the model cannot vouch for it."""
    text = index.markdown()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if "md" in formats:
        files.write("README.md", text)
    if "html" not in formats:
        return
    html_rel = "html/" + html_report.html_path("README.md")
    if not index.exact:
        renderer.add(html_rel, text, digest)
    elif not files.reusable_html(html_rel, digest):
        files.rendered(html_rel, index.html("../"), digest)


def _write_commitments(
    session: Session,
    snap: model.Snapshot,
    files: _Files,
    renderer: _Renderer,
    formats: tuple[str, ...],
    progress: Progress | None,
    order: list[tuple[int, str]],
    cache: reuse.ExportCache,
) -> None:
    """Every commitment's page and its pieces of the data files, in report order, a batch at
    a time. A commitment whose key is the previous export's has its page taken over and its
    data pieces copied from the previous files; only the others' details are loaded."""
    rels = {name: rel for name, rel, fmt in reuse.DATA_FILES if fmt in formats}
    readable = "md" in formats or "html" in formats
    writer = DataWriter(
        snap, json_file=None, commitments_csv=None, evidence_csv=None, history_csv=None
    )
    old = reuse.OldData(files.previous, cache, rels)
    hasher = files.linker.thread if files.linker is not None else None
    data = reuse.DataFiles(rels, files._path, writer.head, writer.separator, hasher)
    cache.rels = list(rels.values())
    try:
        for start in range(0, len(order), model.DETAIL_BATCH):
            batch = order[start : start + model.DETAIL_BATCH]
            load: list[int] = []
            build: set[str] = set()
            for cid, ref in batch:
                same = cache.unchanged(ref)
                if readable and not (same and _take_over(files, ref, formats)):
                    build.add(ref)
                if ref in build or (rels and not (same and old.has(ref))):
                    load.append(cid)
            details = commitment_details(session, load, include_internal=False) if load else []
            renderer.commitments([d for d in details if d.ref in build])
            fresh = {d.ref: d for d in details}
            for _cid, ref in batch:
                detail = fresh.get(ref)
                if detail is None:
                    data.put(ref, old.pieces(ref))
                else:
                    pieces = writer.pieces(detail, rels)
                    data.put(ref, {name: text.encode("utf-8") for name, text in pieces.items()})
            renderer.drain()
            sys.audit("mou_tracker.crashpoint", "export:batch")  # see faults.py
            if progress is not None:
                progress(start + len(batch), len(order))
    except BaseException:
        data.abort()
        raise
    files.later.update(data.close(writer.tail))
    cache.spans = data.spans
    if readable:
        for _cid, ref in order:
            rel = page_path(ref)
            cache.rels += [rel, "html/" + html_report.html_path(rel)]


def _report_date(report_date: date | None) -> date:
    """The report date, today (UTC) unless given, if not in the future."""
    today = datetime.now(UTC).date()
    chosen = report_date or today
    if chosen > today:
        raise InvalidInput("--as-of", f"{chosen.isoformat()} is in the future (today is {today})")
    return chosen


def _check_report_date(chosen: date, latest: datetime | None, since: date | None) -> None:
    """The report date ``chosen`` (see _report_date) must not be before the latest change the
    report shows (``model.as_of``, read by the snapshot), and ``--since`` not after it."""
    if latest is not None and chosen < latest.date():
        raise InvalidInput(
            "--as-of",
            f"{chosen.isoformat()} is before the latest recorded change "
            f"({latest.date().isoformat()}); a report cannot be dated before what it shows",
        )
    if since is not None and since > chosen:
        raise InvalidInput(
            "--since", f"{since.isoformat()} is after the report date ({chosen.isoformat()})"
        )


_EARLIER_DIGEST = re.compile(r"^changes-since-\d{4}-\d{2}-\d{2}\.md$")


def _keep_earlier_digests(
    files: _Files, formats: tuple[str, ...], written: set[str]
) -> list[tuple[str, str]]:
    """Carry the ``--since`` digests of the previous export into this one (unless this export
    wrote the same file again), so a link someone shared to one keeps working. Returns
    (file, title) for the index, newest window first."""
    old = files.old.get("files") if isinstance(files.old, dict) else None
    if files.previous is None or not isinstance(old, dict):
        return []
    kept: list[tuple[str, str]] = []
    for name in sorted((n for n in old if _EARLIER_DIGEST.match(n)), reverse=True):
        if name in written:
            continue
        carried = False
        for fmt, rel in (("md", name), ("html", "html/" + html_report.html_path(name))):
            if fmt in formats and rel in old and files.carry(rel, str(old[rel])):
                carried = True
        if not carried:
            continue
        title = _digest_title_of(files.previous / name) or name
        kept.append((name, f"{title} (kept from an earlier export)"))
    return kept


def _digest_title_of(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline().strip()
    except OSError:
        return None
    return first[2:].strip() if first.startswith("# ") else None


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


def _check_target(out: Path) -> Path | None:
    """Refuse anything but a missing or empty directory or an earlier export of ours; return
    the earlier export (whose unchanged files the new one may reuse), if there is one."""
    if not out.exists() and not out.is_symlink():
        return None
    if out.is_symlink() or not out.is_dir():
        what = "a symbolic link" if out.is_symlink() else "not a directory"
        raise InvalidInput("--out", f"{out} exists and is {what}")
    try:
        present = _files_under(out)
    except OSError as exc:
        raise InvalidInput("--out", f"cannot read {out}: {exc.strerror or exc}") from None
    if not present:
        return None
    manifest = _read_manifest(out)
    if manifest is None:
        raise InvalidInput(
            "--out",
            f"{out} holds files mou-tracker did not write (no mou-tracker {MANIFEST}); "
            "choose an empty directory or an earlier export",
        )
    listed = set(manifest["files"]) | {MANIFEST}
    foreign = sorted(present - listed)
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise InvalidInput(
            "--out",
            f"{out} holds files its {MANIFEST} does not list ({shown}); mou-tracker replaces "
            "only its own exports: move them or choose another directory",
        )
    return out


def _files_under(root: Path) -> set[str]:
    """Every entry under ``root`` as a relative POSIX path; a directory counts only through
    what it holds, except an empty one or anything that is neither a file nor a directory
    (a symlink, a socket), which count as themselves and so are never in a manifest."""
    found: set[str] = set()

    def walk(directory: str, prefix: str) -> None:
        # os.scandir: the entry's type comes with the listing, no stat per file
        with os.scandir(directory) as entries:
            empty = True
            for entry in entries:
                empty = False
                rel = prefix + entry.name
                if entry.is_symlink():
                    found.add(rel + "@")
                elif entry.is_dir():
                    walk(entry.path, rel + "/")
                else:
                    found.add(rel + ("" if entry.is_file() else "@"))
        if empty and prefix:
            found.add(prefix)

    walk(os.fspath(root), "")
    return found


def _read_manifest(out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("generator") != GENERATOR:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) for k in files):
        return None
    return data


def _make_dir(parent: Path, prefix: str) -> Path:
    """A new, uniquely named directory with the mode ``mkdir`` gives under the user's umask
    (``tempfile.mkdtemp`` would make it 0700, which a web server running as another user
    cannot read)."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise TrackerError(f"export: cannot create a working directory in {parent}")


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
    sys.audit("mou_tracker.crashpoint", "export:between-renames")  # see faults.py
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
def _lock(directory: Path, wait: float, notice: Notice | None) -> Iterator[None]:
    """One export at a time per parent directory: an advisory lock on the directory itself, so
    no lock file is left behind (where the OS has ``flock``). The kernel drops the lock when
    the process holding it dies, and no worker shares its open file (they are spawned)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                raise TrackerError(
                    f"export: another export into {directory} has held the lock for "
                    f"{wait:g} s; try again when it has finished"
                )
            if not told and notice is not None:
                notice(
                    f"export: waiting for another export into {directory} to finish "
                    f"(up to {wait:g} s)"
                )
                told = True
            time.sleep(0.1)
        yield
    finally:
        os.close(fd)
