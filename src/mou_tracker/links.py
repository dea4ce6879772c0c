"""Link checks: fetch every evidence URL and each memorandum's official text, and record what
came back (status, final URL, a hash of the normalised text, the page title, a compressed
snapshot) so broken, moved and silently changed pages show up.

Network work runs in a bounded thread pool with a timeout per request and a clear user agent;
database work happens afterwards in one short transaction. Nothing here can crash on a bad
response: every failure is recorded as a state.
"""

from __future__ import annotations

import hashlib
import html
import re
import socket
import ssl
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from mou_tracker import __version__

USER_AGENT = f"mou-tracker/{__version__} (link check of public evidence; +https://pypi.org/project/mou-tracker/)"
MAX_BYTES = 5_000_000  # read at most this much of a page
SNAPSHOT_CHARS = 200_000  # keep at most this much normalised text
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_DROP = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Fetch:
    """What one request found. ``state`` is ok, broken (HTTP 4xx/5xx) or unreachable."""

    url: str
    state: str
    http_status: int | None = None
    final_url: str | None = None
    text: str | None = None
    title: str | None = None
    error: str | None = None


def normalise(body: bytes, content_type: str) -> tuple[str, str | None]:
    """Visible text of a page with markup, scripts and runs of white space removed, so that a
    changed hash means changed words, not a new tracking script or re-indented HTML."""
    charset = "utf-8"
    match = re.search(r"charset=([\w-]+)", content_type or "", re.IGNORECASE)
    if match:
        charset = match.group(1)
    try:
        raw = body.decode(charset, errors="replace")
    except LookupError:
        raw = body.decode("utf-8", errors="replace")
    title_match = _TITLE.search(raw)
    title = (
        _SPACE.sub(" ", html.unescape(_TAG.sub("", title_match.group(1)))).strip()[:300]
        if title_match
        else None
    )
    if "html" in (content_type or "").lower() or "<html" in raw[:2000].lower():
        raw = _COMMENT.sub(" ", _DROP.sub(" ", raw))
        raw = html.unescape(_TAG.sub(" ", raw))
    return _SPACE.sub(" ", raw).strip(), title or None


class _NoRedirectLoop(urllib.request.HTTPRedirectHandler):
    max_redirections = 10


def fetch(url: str, *, timeout: float) -> Fetch:
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"}
    )
    opener = urllib.request.build_opener(_NoRedirectLoop)
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES)
            text, title = normalise(body, response.headers.get("Content-Type", ""))
            return Fetch(url, "ok", response.status, response.geturl(), text, title)
    except urllib.error.HTTPError as exc:
        return Fetch(
            url,
            "broken",
            exc.code,
            exc.geturl() if hasattr(exc, "geturl") else url,
            error=f"HTTP {exc.code} {exc.reason}"[:300],
        )
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            message = "DNS lookup failed"
        elif isinstance(reason, ConnectionRefusedError):
            message = "connection refused"
        elif isinstance(reason, (TimeoutError, socket.timeout)):
            message = f"timed out after {timeout:g} s"
        elif isinstance(reason, ssl.SSLError):
            message = f"TLS error: {reason}"
        else:
            message = str(reason)
        return Fetch(url, "unreachable", error=message[:300])
    except TimeoutError:
        return Fetch(url, "unreachable", error=f"timed out after {timeout:g} s")
    except (ConnectionError, OSError, ValueError) as exc:
        return Fetch(url, "unreachable", error=f"{type(exc).__name__}: {exc}"[:300])
    except Exception as exc:  # a malformed response must never crash a whole run
        return Fetch(url, "unreachable", error=f"{type(exc).__name__}: {exc}"[:300])


def fetch_all(
    urls: Iterable[str],
    *,
    timeout: float = 10.0,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> list[Fetch]:
    unique = sorted(set(urls))
    results: list[Fetch] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for done, result in enumerate(
            pool.map(lambda u: fetch(u, timeout=timeout), unique), start=1
        ):
            results.append(result)
            if progress:
                progress(done, len(unique))
    return results


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same_place(a: str, b: str | None) -> bool:
    if b is None:
        return True
    return a.rstrip("/") == b.rstrip("/")


@dataclass(frozen=True)
class CheckReport:
    checked: int
    ok: int
    broken: list[Fetch]
    unreachable: list[Fetch]
    moved: list[tuple[str, str]]
    changed: list[str]
    memoranda_changed: list[
        tuple[str, str]
    ]  # (slug, url): official text differs from the first record


def record(
    session: object, results: list[Fetch], *, memo_urls: dict[str, str], at: datetime
) -> CheckReport:
    """Append one LinkCheck per result and work out what moved or changed since last time."""
    from sqlalchemy import select

    from mou_tracker.domain.models import LinkCheck

    urls = [r.url for r in results]
    previous: dict[str, LinkCheck] = {}
    first_ok: dict[str, str] = {}
    if urls:
        for row in session.scalars(  # type: ignore[attr-defined]
            select(LinkCheck)
            .where(LinkCheck.url.in_(urls))
            .order_by(LinkCheck.url, LinkCheck.checked_at, LinkCheck.id)  # type: ignore[attr-defined]
        ):
            if row.content_hash and row.url not in first_ok:
                first_ok[row.url] = row.content_hash
            if row.content_hash:
                previous[row.url] = row
    broken, unreachable, moved, changed, memo_changed = [], [], [], [], []
    url_to_memo = {url: slug for slug, url in memo_urls.items()}
    for r in results:
        digest = content_hash(r.text) if r.text is not None else None
        is_moved = r.state == "ok" and not _same_place(r.url, r.final_url)
        last = previous.get(r.url)
        is_changed = bool(digest and last is not None and last.content_hash != digest)
        snapshot = None
        chars = None
        if r.text is not None and (last is None or is_changed):
            kept = r.text[:SNAPSHOT_CHARS]
            snapshot = zlib.compress(kept.encode("utf-8"), 9)
            chars = len(kept)
        session.add(  # type: ignore[attr-defined]
            LinkCheck(
                url=r.url,
                checked_at=at,
                state=r.state,
                http_status=r.http_status,
                final_url=r.final_url,
                moved=is_moved,
                changed=is_changed,
                content_hash=digest,
                page_title=r.title,
                error=r.error,
                snapshot=snapshot,
                snapshot_chars=chars,
            )
        )
        if r.state == "broken":
            broken.append(r)
        elif r.state == "unreachable":
            unreachable.append(r)
        if is_moved:
            moved.append((r.url, r.final_url or ""))
        if is_changed:
            changed.append(r.url)
        if r.url in url_to_memo and digest and r.url in first_ok and first_ok[r.url] != digest:
            memo_changed.append((url_to_memo[r.url], r.url))
    session.flush()  # type: ignore[attr-defined]
    ok = sum(1 for r in results if r.state == "ok")
    return CheckReport(len(results), ok, broken, unreachable, moved, changed, memo_changed)


def latest_snapshot(session: object, url: str) -> tuple[datetime, str] | None:
    """The newest stored text of ``url`` and when it was taken."""
    from sqlalchemy import select

    from mou_tracker.domain.models import LinkCheck

    row = session.scalars(  # type: ignore[attr-defined]
        select(LinkCheck)
        .where(LinkCheck.url == url, LinkCheck.snapshot.is_not(None))  # type: ignore[union-attr]
        .order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc())  # type: ignore[union-attr]
    ).first()
    if row is None or row.snapshot is None:
        return None
    return row.checked_at, zlib.decompress(row.snapshot).decode("utf-8")
