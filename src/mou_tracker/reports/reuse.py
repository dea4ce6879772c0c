"""What a re-export takes over from the previous export instead of building it again.

The export cache (one JSON file per export directory, in the user's cache directory, never in
the export) records, for the export now in place:

* each commitment's key (``reports/changes.py``): what its page and data lines were built from;
* each commitment page's and data file's ``os.stat`` facts (size, mtime, ctime, inode), so a
  file that nobody touched since is taken over on the strength of the previous manifest's hash
  instead of being read and hashed again. ``ctime`` cannot be set by hand and changes on any
  write, so a page edited by hand (even with its mtime put back) is read and checked as before;
* where each commitment's piece lies in ``tracker.json`` and each CSV file (byte offsets), so
  an unchanged commitment's pieces are copied from the previous files and only the changed
  commitments' are written.

The cache names the ``manifest.json`` (by hash) of the export it describes and is ignored unless
the previous export has exactly that manifest; it is replaced atomically after the swap, so a
crash before that leaves it pointing at a manifest that is gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

FORMAT = 2  # of the cache file; a cache of another format is ignored
MANIFEST = "manifest.json"

# The data files: (DataWriter's name for the file, the path in the export, the format).
DATA_FILES = (
    ("json", "data/tracker.json", "json"),
    ("commitments", "data/commitments.csv", "csv"),
    ("evidence", "data/evidence.csv", "csv"),
    ("history", "data/history.csv", "csv"),
    ("corrections", "data/corrections.csv", "csv"),
)


def stat_of(path: str | Path) -> list[int] | None:
    """The facts of a file that change whenever its bytes do (None if it is not there)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def file_hash(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _facts(base: str, rels: list[str]) -> dict[str, list[int] | None]:
    return {rel: stat_of(os.path.join(base, rel)) for rel in rels}


def cache_file(out: Path) -> Path:
    from platformdirs import user_cache_path

    name = hashlib.sha256(os.fsencode(out)).hexdigest()[:32]
    return user_cache_path("mou-tracker", appauthor=False) / "exports" / f"{name}.json"


class ExportCache:
    """The previous export's keys, file facts and data offsets (see the module's docstring);
    and the same for this export, saved after the swap."""

    def __init__(self, out: Path, previous: Path | None, salt: str) -> None:
        self.path = cache_file(out)
        self.salt = salt
        self.old_keys: dict[str, str] = {}
        self.old_stats: dict[str, list[int]] = {}
        self.old_spans: dict[str, dict[str, list[int]]] = {}
        self.keys: dict[str, str] = {}
        self.spans: dict[str, dict[str, list[int]]] = {}
        self.rels: list[str] = []  # the files whose facts this export's cache keeps
        # the previous export's directory, and the facts of its files taken in a thread
        self.ahead: tuple[str, Future[dict[str, list[int] | None]]] | None = None
        if previous is not None:
            self._load(previous)

    def _load(self, previous: Path) -> None:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            manifest = hashlib.sha256((previous / MANIFEST).read_bytes()).hexdigest()
        except (OSError, ValueError):
            return
        if not (
            isinstance(stored, dict)
            and stored.get("format") == FORMAT
            and stored.get("manifest") == manifest
            and stored.get("salt") == self.salt
            and isinstance(stored.get("keys"), dict)
            and isinstance(stored.get("stats"), dict)
            and isinstance(stored.get("spans"), dict)
        ):
            return
        self.old_keys = stored["keys"]
        self.old_stats = stored["stats"]
        self.old_spans = stored["spans"]

    def unchanged(self, ref: str) -> bool:
        """Whether the commitment's inputs are those of the previous export."""
        old = self.old_keys.get(ref)
        return old is not None and old == self.keys.get(ref)

    def look_ahead(self, previous: Path, thread: Executor) -> None:
        """Take the facts of the previous export's files (every one this cache describes) in
        ``thread``, from now: :meth:`untouched` then compares with those instead of asking the
        system again, file by file, in the thread that wants to know."""
        if self.old_stats:
            base = os.fspath(previous)
            self.ahead = (base, thread.submit(_facts, base, list(self.old_stats)))

    def untouched(self, rel: str, path: str | Path) -> bool:
        """Whether the previous export's file is as it was when that export was saved."""
        old = self.old_stats.get(rel)
        if old is None:
            return False
        if self.ahead is not None and os.fspath(path) == os.path.join(self.ahead[0], rel):
            return self.ahead[1].result().get(rel) == old
        return stat_of(path) == old

    def save(self, out: Path, rels: Iterable[str]) -> None:
        """Record the export now in ``out`` (after the swap): ``rels`` are the files whose
        facts are kept (commitment pages and data files)."""
        try:
            manifest = hashlib.sha256((out / MANIFEST).read_bytes()).hexdigest()
            stats = {}
            for rel in rels:
                found = stat_of(os.path.join(out, rel))
                if found is not None:
                    stats[rel] = found
            body = {
                "format": FORMAT,
                "out": str(out),
                "manifest": manifest,
                "salt": self.salt,
                "keys": self.keys,
                "stats": stats,
                "spans": self.spans,
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".pages-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    # dumps, not dump: dump streams through json's pure-Python encoder
                    handle.write(json.dumps(body, separators=(",", ":")))
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # no cache: the next export builds everything, and is no less right


class OldData:
    """The previous export's data files, each taken only if untouched since it was written
    and with the offsets of every commitment's piece: all the files wanted, or none."""

    def __init__(self, previous: Path | None, cache: ExportCache, rels: dict[str, str]) -> None:
        self.blobs: dict[str, bytes] = {}
        self.spans: dict[str, dict[str, list[int]]] = {}
        if previous is None or not rels:
            return
        blobs, spans = {}, {}
        for name, rel in rels.items():
            found = cache.old_spans.get(name)
            if not isinstance(found, dict) or not cache.untouched(rel, previous / rel):
                return
            try:
                blobs[name] = (previous / rel).read_bytes()
            except OSError:
                return
            spans[name] = found
        self.blobs, self.spans = blobs, spans

    def has(self, ref: str) -> bool:
        return bool(self.blobs) and all(ref in spans for spans in self.spans.values())

    def pieces(self, ref: str) -> dict[str, bytes]:
        found = {}
        for name, blob in self.blobs.items():
            start, end = self.spans[name][ref]
            found[name] = blob[start:end]
        return found


class DataFiles:
    """The new export's data files, written a commitment's pieces at a time, with the offsets
    of each piece (for the next re-export) and each file's hash (for the manifest): taken as
    the bytes go by, or, given a ``hasher``, read back from the finished file in that thread
    (a hundred megabytes hashed beside this thread's work, not in it)."""

    def __init__(
        self,
        rels: dict[str, str],
        path_of: Callable[[str], Path],
        head: Callable[[str], str],
        separator: Callable[[str, bool], str],
        hasher: Executor | None = None,
    ) -> None:
        self.rels = rels
        self.separator = separator
        self.hasher = hasher
        self.handles: dict[str, Any] = {}
        self.paths: dict[str, Path] = {}
        self.digests: dict[str, Any] = {}
        self.offsets: dict[str, int] = {}
        self.spans: dict[str, dict[str, list[int]]] = {name: {} for name in rels}
        self.first = True
        for name, rel in rels.items():
            self.paths[name] = path_of(rel)
            self.handles[name] = open(self.paths[name], "wb", buffering=1 << 20)  # noqa: SIM115
            self.digests[name] = hashlib.sha256()
            self.offsets[name] = 0
            self._write(name, head(name).encode("utf-8"))

    def _write(self, name: str, data: bytes) -> None:
        self.handles[name].write(data)
        if self.hasher is None:
            self.digests[name].update(data)
        self.offsets[name] += len(data)

    def put(self, ref: str, pieces: dict[str, bytes]) -> None:
        """One commitment's pieces, in report order."""
        for name in self.rels:
            sep = self.separator(name, self.first)
            if sep:
                self._write(name, sep.encode("utf-8"))
            start = self.offsets[name]
            self._write(name, pieces[name])
            self.spans[name][ref] = [start, self.offsets[name]]
        self.first = False

    def close(self, tail: Callable[[str, bool], str]) -> dict[str, Future[str]]:
        """Finish every file; return path -> hash (to come, with a hasher)."""
        hashes: dict[str, Future[str]] = {}
        for name, rel in self.rels.items():
            self._write(name, tail(name, self.first).encode("utf-8"))
            self.handles[name].close()
            if self.hasher is not None:
                hashes[rel] = self.hasher.submit(file_hash, self.paths[name])
            else:
                hashes[rel] = Future()
                hashes[rel].set_result(self.digests[name].hexdigest())
        return hashes

    def abort(self) -> None:
        for handle in self.handles.values():
            handle.close()
