"""Link checks: fetch every evidence URL and each memorandum's official text, and record what
came back (status, final URL, a hash of the normalised text, the page title, a compressed
snapshot) so broken, moved and silently changed pages show up.

Network work runs in a bounded thread pool with a clear user agent; database work happens
afterwards in one short transaction. Nothing here can crash on a bad response: every failure is
recorded as a state.

The URLs come from people and the redirects from strangers, so the checker is careful about where
it goes (a tracker on a server must not become a way to read the server's own network):

- only ``http`` and ``https`` are fetched, on the first URL and on every redirect;
- each hop's host is resolved once, and the hop is refused if *any* address it resolves to is not
  a public one (see :func:`is_public_address`); the connection then goes to an address that was
  checked, so a second DNS answer cannot swap in an internal one, while the Host header and the
  TLS server name stay those of the URL;
- redirects are followed here, one hop at a time, at most :data:`MAX_REDIRECTS` of them;
- one deadline per URL (the ``timeout``) covers the DNS lookup, connecting, TLS, every redirect
  and the whole body, so a server that drips a byte at a time is cut off at it;
- at most :data:`MAX_BYTES` of a page are read, the text is extracted in time linear in its size,
  and stored snapshots are inflated to a bounded size when read back.

``allow_private`` lifts the address rule (not the others), for tests against local servers.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from mou_tracker import __version__

if TYPE_CHECKING:  # the checker reads these; a run imports SQLModel only when it records
    from sqlmodel import Session

USER_AGENT = f"mou-tracker/{__version__} (link check of public evidence; +https://pypi.org/project/mou-tracker/)"
MAX_BYTES = 5_000_000  # read at most this much of a page
SNAPSHOT_CHARS = 200_000  # keep at most this much normalised text
SNAPSHOT_BYTES = 4 * SNAPSHOT_CHARS  # the most a stored snapshot can inflate to (UTF-8)
MAX_REDIRECTS = 5
ALLOW_PRIVATE_ENV = "MOU_TRACKER_ALLOW_PRIVATE_URLS"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SKIPPED = frozenset({"script", "style", "noscript", "template"})
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, not global
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # an IPv4 address inside an IPv6 one
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
_T = TypeVar("_T")


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


# --- where the checker may go ------------------------------------------------------------------


class Refused(Exception):
    """A hop the checker will not make; ``str()`` says why, in words fit for the record."""


class NonPublicAddress(Refused):
    def __init__(self, host: str, address: Address) -> None:
        self.host = host
        self.address = address
        self.detail = str(address) if host == str(address) else f"{host} resolves to {address}"
        super().__init__(f"non-public address refused: {self.detail}")


def is_public_address(address: Address) -> bool:
    """True only for a globally reachable unicast address. Loopback, private, link-local,
    multicast, reserved, unspecified and shared (100.64.0.0/10) addresses are not public, nor an
    IPv6 address that carries one of those inside it (IPv4-mapped, NAT64, 6to4) or is site-local."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if inner is not None:
            return is_public_address(inner)
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
        if address.is_site_local:
            return False
    elif address in _SHARED_V4:
        return False
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    ):
        return False
    return address.is_global


def resolve_public(
    host: str, port: int, *, allow_private: bool = False, resolver: Resolver | None = None
) -> list[tuple[int, tuple[Any, ...]]]:
    """``(family, sockaddr)`` for every address ``host`` resolves to, to connect to exactly
    these. Raises :class:`NonPublicAddress` if any of them is not public (unless
    ``allow_private``), and ``socket.gaierror`` if the name does not resolve. ``resolver`` stands
    in for ``socket.getaddrinfo`` (tests use a fake one)."""
    lookup = resolver or socket.getaddrinfo
    targets: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in lookup(host, port, type=socket.SOCK_STREAM):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if not allow_private and not is_public_address(address):
            raise NonPublicAddress(host, address)
        targets.append((family, tuple(sockaddr)))
    if not targets:
        raise socket.gaierror(socket.EAI_NONAME, f"no IPv4 or IPv6 address for {host}")
    return targets


def publishable_url(url: str | None) -> str | None:
    """``url`` if a report may show it, else None: it must be http(s) and its host must not be
    ``localhost`` or a literal non-public address. New checks never record such a final URL, but
    a database written by an older version may hold one."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return None
    address = _literal_address(host)
    if address is not None and not is_public_address(address):
        return None
    return url


def _literal_address(host: str) -> Address | None:
    """The address a host name spells out, also in the old forms ``2130706433``, ``0x7f000001``
    and ``127.1`` that resolvers still accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


# --- one deadline per URL ----------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; raises TimeoutError once there are none."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"timed out after {self.seconds:g} s")
        return left


def _arm(sock: socket.socket, deadline: _Deadline | None) -> None:
    if deadline is not None:
        sock.settimeout(deadline.left())


class _DeadlineIO(socket.socket):
    """Every send and receive may wait only until the URL's deadline, so that many small reads
    cannot add up to more than it. The TLS class below puts ``ssl.SSLSocket`` after it in the
    method order, so there ``super()`` reaches the TLS methods."""

    deadline: _Deadline | None = None

    def recv(self, *args: Any, **kwargs: Any) -> bytes:
        _arm(self, self.deadline)
        return super().recv(*args, **kwargs)

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        _arm(self, self.deadline)
        return super().recv_into(*args, **kwargs)

    def send(self, *args: Any, **kwargs: Any) -> int:
        _arm(self, self.deadline)
        return super().send(*args, **kwargs)

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        _arm(self, self.deadline)
        super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineIO):
    """A TCP socket bound by the URL's deadline."""


class _DeadlineSSLSocket(_DeadlineIO, ssl.SSLSocket):
    """The same for TLS (made by the context below through ``sslsocket_class``)."""


def _make_tls_context(cafile: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    context.sslsocket_class = _DeadlineSSLSocket
    return context


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return _make_tls_context()


def _within(deadline: _Deadline, work: Callable[[], _T]) -> _T:
    """``work()`` (a DNS lookup, which has no timeout of its own) if it ends before the
    deadline. A lookup that outlives it is left to finish on its own daemon thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="mou-tracker-dns", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if worker.is_alive():
        raise TimeoutError(f"timed out after {deadline.seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Hop:
    """How to reach one host: resolve, check, connect to a checked address before the deadline."""

    def __init__(
        self,
        host: str,
        port: int,
        deadline: _Deadline,
        *,
        allow_private: bool,
        resolver: Resolver | None,
    ) -> None:
        self.host = host
        self.port = port
        self.deadline = deadline
        self.allow_private = allow_private
        self.resolver = resolver

    def open(self) -> _DeadlineSocket:
        targets = _within(
            self.deadline,
            lambda: resolve_public(
                self.host, self.port, allow_private=self.allow_private, resolver=self.resolver
            ),
        )
        failure: OSError | None = None
        for family, sockaddr in targets:
            sock = _DeadlineSocket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.deadline.left())
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            sock.deadline = self.deadline
            return sock
        assert failure is not None
        raise failure


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, hop: _Hop) -> None:
        super().__init__(hop.host, hop.port, timeout=hop.deadline.seconds)
        self._hop = hop

    def connect(self) -> None:
        self.sock = self._hop.open()


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, hop: _Hop) -> None:
        super().__init__(hop.host, hop.port, timeout=hop.deadline.seconds, context=_tls_context())
        self._hop = hop

    def connect(self) -> None:
        sock = self._hop.open()
        try:
            sock.settimeout(self._hop.deadline.left())
            tls = _tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        if isinstance(tls, _DeadlineSSLSocket):
            tls.deadline = self._hop.deadline
        self.sock = tls


# --- fetching ----------------------------------------------------------------------------------


class _Answer(NamedTuple):
    status: int
    reason: str
    location: str | None
    body: bytes
    content_type: str


def _ascii_host(parts: SplitResult) -> str:
    host = parts.hostname
    if not host:
        raise Refused("no host name in the URL")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("the host name cannot be encoded") from None


def _request_target(parts: SplitResult) -> str:
    """Path and query as sent: anything outside printable ASCII is percent-encoded."""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return "".join(ch if "\x20" < ch < "\x7f" else quote(ch, safe="") for ch in target)


def _get(
    parts: SplitResult, deadline: _Deadline, *, allow_private: bool, resolver: Resolver | None
) -> _Answer:
    host = _ascii_host(parts)
    try:
        port = parts.port
    except ValueError:
        raise Refused("the port in the URL is not a number from 0 to 65535") from None
    secure = parts.scheme.lower() == "https"
    hop = _Hop(
        host,
        port or (443 if secure else 80),
        deadline,
        allow_private=allow_private,
        resolver=resolver,
    )
    conn: http.client.HTTPConnection = _HTTPSConnection(hop) if secure else _HTTPConnection(hop)
    try:
        conn.request(
            "GET",
            _request_target(parts),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/html,*/*;q=0.5",
                "Connection": "close",
            },
        )
        response = conn.getresponse()
        status, reason = response.status, response.reason
        if not 200 <= status < 300:
            return _Answer(status, reason, response.getheader("Location"), b"", "")
        chunks: list[bytes] = []
        size = 0
        while size < MAX_BYTES:
            chunk = response.read(min(65_536, MAX_BYTES - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return _Answer(
            status, reason, None, b"".join(chunks), response.getheader("Content-Type") or ""
        )
    finally:
        conn.close()


def fetch(
    url: str, *, timeout: float, allow_private: bool = False, resolver: Resolver | None = None
) -> Fetch:
    """Fetch ``url`` following at most MAX_REDIRECTS redirects, all within ``timeout`` seconds.
    A refused hop is recorded as unreachable with no final URL."""
    deadline = _Deadline(timeout)
    current = url
    hop = 0
    try:
        while True:
            parts = urlsplit(current)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https"):
                if hop:
                    return Fetch(
                        url,
                        "unreachable",
                        error=f"redirect to {scheme or 'a URL with no scheme'}: refused",
                    )
                return Fetch(
                    url,
                    "unreachable",
                    error=f"only http and https URLs are checked, not {scheme or 'this'}",
                )
            try:
                answer = _get(parts, deadline, allow_private=allow_private, resolver=resolver)
            except NonPublicAddress as exc:
                where = "redirect to a non-public address" if hop else "non-public address"
                return Fetch(url, "unreachable", error=f"{where} refused: {exc.detail}"[:300])
            except Refused as exc:
                where = "redirect refused" if hop else "refused"
                return Fetch(url, "unreachable", error=f"{where}: {exc}"[:300])
            if answer.status in _REDIRECTS and answer.location:
                if hop == MAX_REDIRECTS:
                    return Fetch(
                        url,
                        "broken",
                        answer.status,
                        error=f"more than {MAX_REDIRECTS} redirects; stopped",
                    )
                current = urljoin(current, answer.location.strip())
                hop += 1
                continue
            if not 200 <= answer.status < 300:
                return Fetch(
                    url,
                    "broken",
                    answer.status,
                    current,
                    error=f"HTTP {answer.status} {answer.reason}"[:300],
                )
            text, title = normalise(answer.body, answer.content_type)
            return Fetch(url, "ok", answer.status, current, text, title)
    except TimeoutError:
        return Fetch(url, "unreachable", error=f"timed out after {timeout:g} s")
    except socket.gaierror:
        return Fetch(url, "unreachable", error="DNS lookup failed")
    except ConnectionRefusedError:
        return Fetch(url, "unreachable", error="connection refused")
    except ssl.SSLError as exc:
        return Fetch(url, "unreachable", error=f"TLS error: {exc}"[:300])
    except Exception as exc:  # a malformed response must never crash a whole run
        return Fetch(url, "unreachable", error=f"{type(exc).__name__}: {exc}"[:300])


def fetch_all(
    urls: Iterable[str],
    *,
    timeout: float = 10.0,
    concurrency: int = 8,
    allow_private: bool = False,
    progress: Callable[[int, int], None] | None = None,
    resolver: Resolver | None = None,
) -> list[Fetch]:
    unique = sorted(set(urls))
    results: list[Fetch] = []

    def one(url: str) -> Fetch:
        return fetch(url, timeout=timeout, allow_private=allow_private, resolver=resolver)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for done, result in enumerate(pool.map(one, unique), start=1):
            results.append(result)
            if progress:
                progress(done, len(unique))
    return results


# --- the text of a page ------------------------------------------------------------------------


class _PageText(HTMLParser):
    """Visible text and the first title of a page, in one pass. Every tag, comment and
    declaration becomes a space; script, style, noscript and template contents are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._title_parts: list[str] | None = None
        self._skipping: str | None = None

    def read(self, raw: str) -> None:
        # One feed and no close(): what the parser keeps back at the end is an unfinished tag,
        # comment or <script> (dropped, as a browser drops it at the end of a page) or text that
        # may end in half an entity. close() would walk that tail again, which CPython before
        # 3.11.13 / 3.12.11 / 3.13.5 does in quadratic time (CVE-2025-6069).
        self.feed(raw)
        rest: str = getattr(self, "rawdata", "")
        if rest and not rest.startswith("<") and not getattr(self, "cdata_elem", None):
            self.handle_data(html.unescape(rest))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(" ")
        if self._skipping is not None:
            return
        if tag in _SKIPPED:
            self._skipping = tag
        elif tag == "title" and self.title is None and self._title_parts is None:
            self._title_parts = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <script/> still opens a script in HTML

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")
        if self._skipping == tag:
            self._skipping = None
        elif tag == "title" and self._title_parts is not None:
            self.title = "".join(self._title_parts)
            self._title_parts = None

    def handle_data(self, data: str) -> None:
        if self._skipping is not None:
            return
        self.parts.append(data)
        if self._title_parts is not None:
            self._title_parts.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.parts.append(" ")

    def handle_decl(self, decl: str) -> None:
        self.parts.append(" ")

    def handle_pi(self, data: str) -> None:
        self.parts.append(" ")

    def unknown_decl(self, data: str) -> None:
        self.parts.append(" ")


def normalise(body: bytes, content_type: str) -> tuple[str, str | None]:
    """Visible text of a page with markup, scripts and runs of white space removed, so that a
    changed hash means changed words, not a new tracking script or re-indented HTML. Linear in
    the size of the page, whatever the markup."""
    charset = "utf-8"
    match = re.search(r"charset=([\w-]+)", content_type or "", re.IGNORECASE)
    if match:
        charset = match.group(1)
    try:
        raw = body.decode(charset, errors="replace")
    except LookupError:
        raw = body.decode("utf-8", errors="replace")
    is_html = "html" in (content_type or "").lower() or "<html" in raw[:2000].lower()
    page: _PageText | None = None
    if is_html or "<title" in raw.lower():
        page = _PageText()
        page.read(raw)
    title = _SPACE.sub(" ", page.title).strip()[:300] if page and page.title else None
    text = "".join(page.parts) if is_html and page is not None else raw
    return _SPACE.sub(" ", text).strip(), title or None


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
    session: Session, results: list[Fetch], *, memo_urls: dict[str, str], at: datetime
) -> CheckReport:
    """Append one LinkCheck per result and work out what moved or changed since last time."""
    from sqlmodel import col, select

    from mou_tracker.domain.models import LinkCheck

    urls = [r.url for r in results]
    previous: dict[str, LinkCheck] = {}
    first_ok: dict[str, str] = {}
    if urls:
        for row in session.scalars(
            select(LinkCheck)
            .where(col(LinkCheck.url).in_(urls))
            .order_by(col(LinkCheck.url), col(LinkCheck.checked_at), col(LinkCheck.id))
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
        session.add(
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
    session.flush()
    ok = sum(1 for r in results if r.state == "ok")
    return CheckReport(len(results), ok, broken, unreachable, moved, changed, memo_changed)


def read_snapshot(blob: bytes) -> str:
    """The text of a stored snapshot, never inflated past SNAPSHOT_BYTES (what the largest
    honest snapshot takes), so a planted compression bomb costs no more than a real page.
    Raises ``zlib.error`` if the blob is damaged."""
    inflated = zlib.decompressobj().decompress(blob, SNAPSHOT_BYTES)
    return inflated.decode("utf-8", errors="replace")[:SNAPSHOT_CHARS]


def latest_snapshot(session: Session, url: str) -> tuple[datetime, str] | None:
    """The newest stored text of ``url`` and when it was taken (None if none, or if the stored
    copy is damaged)."""
    from sqlmodel import col, select

    from mou_tracker.domain.models import LinkCheck

    row = session.scalars(
        select(LinkCheck)
        .where(col(LinkCheck.url) == url, col(LinkCheck.snapshot).is_not(None))
        .order_by(col(LinkCheck.checked_at).desc(), col(LinkCheck.id).desc())
    ).first()
    if row is None or row.snapshot is None:
        return None
    try:
        return row.checked_at, read_snapshot(row.snapshot)
    except zlib.error:
        return None
