"""check-links against a local HTTP server on 127.0.0.1 (and nothing else)."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mou_tracker import links
from mou_tracker.domain import service
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.storage.engine import read, run_write


class _Site(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        count = _Site.hits[self.path] = _Site.hits.get(self.path, 0) + 1
        if self.path == "/ok":
            return self._page(
                200,
                "<html><head><title>Fine page</title><script>var t=1</script></head><body><p>Stable   words</p></body></html>",
            )
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.end_headers()
            return None
        if self.path == "/gone":
            return self._page(404, "<title>Not here</title>")
        if self.path == "/error":
            return self._page(500, "oops")
        if self.path == "/slow":
            time.sleep(2)
            return self._page(200, "late")
        if self.path == "/changing":
            return self._page(200, f"<title>Live</title><p>version {count}</p>")
        if self.path == "/official":
            return self._page(
                200,
                f"<title>MoU</title><p>Clause text {'one' if count == 1 else 'quietly edited'}</p>",
            )
        return self._page(404, "unknown")

    def _page(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def site():
    _Site.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_each_kind_of_response_lands_in_the_right_state(site):
    refused = f"http://127.0.0.1:{_closed_port()}/x"
    results = {
        r.url.rsplit("/", 1)[-1]: r
        for r in links.fetch_all(
            [
                f"{site}/ok",
                f"{site}/moved",
                f"{site}/gone",
                f"{site}/error",
                f"{site}/slow",
                refused,
            ],
            timeout=0.5,
            concurrency=4,
            allow_private=True,
        )
    }
    assert (
        results["ok"].state == "ok"
        and results["ok"].http_status == 200
        and results["ok"].title == "Fine page"
    )
    assert (
        results["ok"].text == "Fine page Stable words"
    )  # markup, scripts and spacing normalised away
    assert results["moved"].state == "ok" and results["moved"].final_url == f"{site}/ok"
    assert (results["gone"].state, results["gone"].http_status) == ("broken", 404)
    assert (results["error"].state, results["error"].http_status) == ("broken", 500)
    assert results["slow"].state == "unreachable" and "timed out" in results["slow"].error
    assert results["x"].state == "unreachable" and "refused" in results["x"].error


def _attach(engine, site):
    urls = {
        "ok": f"{site}/ok",
        "moved": f"{site}/moved",
        "gone": f"{site}/gone",
        "changing": f"{site}/changing",
    }
    for name, url in urls.items():
        item = service.EvidenceInput.build(url=url, title=name, published="2026-01-01")
        run_write(engine, lambda s, item=item: service.add_evidence(s, "T-2", item, actor="t"))
    return urls


def test_cli_records_states_and_flags_changes(mini_cli_main, mini_engine_for, site):
    engine = mini_engine_for(mini_cli_main.db)
    _attach(engine, site)
    first = mini_cli_main("check-links", "T-2", "--timeout", "2", "--allow-private-addresses")
    assert first.code == 0, first.err
    assert first.err.count("addresses are allowed") == 1
    assert (
        "broken (HTTP 404 Not Found)" in first.out
        and f"moved: {site}/moved -> {site}/ok" in first.out
    )
    assert "checked 5 URL(s)" in first.out  # four evidence URLs and the memorandum's text
    second = mini_cli_main("check-links", "T-2", "--timeout", "2", "--allow-private-addresses")
    assert f"changed since the last check: {site}/changing" in second.out
    assert f"changed since the last check: {site}/ok" not in second.out
    with read(engine) as s:
        by_title = {e.title: e.link for e in commitment_detail(s, "T-2").evidence}
    assert by_title["ok"].label == "ok"
    assert by_title["gone"].label == "broken (HTTP 404)" and by_title["gone"].needs_attention
    assert by_title["moved"].moved and by_title["changing"].changed
    shown = mini_cli_main("evidence", "show", "3", "--snapshot")
    assert (
        "link health:   ok" in shown.out
        and "stored copy:" in shown.out
        and "Stable words" in shown.out
    )
    engine.dispose()


def test_a_silent_edit_to_the_official_text_is_flagged_loudly(mini_cli_main, site):
    dump = mini_cli_main("dump").out.replace('https://example.org/mou"', f'{site}/official"', 1)
    path = mini_cli_main.home / "m.toml"
    path.write_text(dump, encoding="utf-8")
    fresh = mini_cli_main.home / "fresh.db"
    other = ["--db", f"sqlite:///{fresh}"]
    assert mini_cli_main(*other, "sync", str(path), db=False).code == 0
    allow = {"MOU_TRACKER_ALLOW_PRIVATE_URLS": "1"}
    first = mini_cli_main(*other, "check-links", db=False, env=allow)
    assert "WARNING" not in first.out and "addresses are allowed" in first.err
    second = mini_cli_main(*other, "check-links", db=False, env=allow)
    assert "WARNING: the official text of memorandum gov-acme-2025 has changed" in second.out


def test_offline_runs_finish_quickly_with_everything_unreachable(mini_cli_main):
    # Nothing listens on this port: every URL is refused at once, as with no network at all.
    dead = f"http://127.0.0.1:{_closed_port()}"
    dump = mini_cli_main("dump").out.replace("https://", f"{dead}/")
    path = mini_cli_main.home / "offline.toml"
    path.write_text(dump, encoding="utf-8")
    other = ["--db", f"sqlite:///{mini_cli_main.home / 'offline.db'}"]
    assert mini_cli_main(*other, "sync", str(path), db=False).code == 0
    started = time.monotonic()
    result = mini_cli_main(
        *other, "check-links", "--timeout", "3", "--allow-private-addresses", db=False
    )
    assert time.monotonic() - started < 20
    assert result.code == 0 and " 0 ok" in result.out and "connection refused" in result.out


def test_unknown_ref_is_refused(mini_cli_main):
    result = mini_cli_main("check-links", "NOPE-1")
    assert result.code == 1 and "REF" in result.err


# --- where the checker may go (issue 20, item 3) -----------------------------------------------


class _Listener:
    """A TCP port that only counts the connections made to it (and closes them)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener():
    made = _Listener()
    yield made
    made.close()


def _fake_resolver(names: dict[str, list[str]]):
    """getaddrinfo for the names given; address literals resolve to themselves."""

    def resolve(host, port, *args, **kwargs):
        found = []
        for text in names.get(host, [host]):
            address = ipaddress.ip_address(text)  # a name not listed fails here, as DNS would
            if address.version == 4:
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port)))
            else:
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0)))
        return found

    return resolve


@pytest.mark.parametrize(
    "host, answers",
    [
        ("10.0.0.1", None),
        ("169.254.169.254", None),
        ("metadata.internal", ["169.254.169.254"]),
        ("::1", None),
        ("::ffff:127.0.0.1", None),
        ("100.64.0.1", None),
        ("0.0.0.0", None),
        ("224.0.0.1", None),
        ("fe80::1", None),
        ("fc00::1", None),
        ("fec0::1", None),
        ("2002:7f00:1::1", None),  # 6to4 wrapping of 127.0.0.1
        ("64:ff9b::a00:1", None),  # NAT64 wrapping of 10.0.0.1
        ("localhost", ["127.0.0.1"]),
        ("split.test", ["93.184.215.14", "10.1.2.3"]),  # one bad answer is enough
    ],
)
def test_non_public_addresses_are_refused(host, answers):
    resolver = _fake_resolver({host: answers} if answers else {})
    with pytest.raises(links.NonPublicAddress):
        links.resolve_public(host, 80, resolver=resolver)
    allowed = links.resolve_public(host, 80, resolver=resolver, allow_private=True)
    assert len(allowed) == len(answers or [host])


@pytest.mark.parametrize(
    "host, answers",
    [
        ("93.184.215.14", None),
        ("2606:4700::1", None),
        ("::ffff:93.184.215.14", None),
        ("docs.test", ["93.184.215.14", "2606:4700::1"]),
    ],
)
def test_public_addresses_are_accepted(host, answers):
    resolver = _fake_resolver({host: answers} if answers else {})
    found = links.resolve_public(host, 443, resolver=resolver)
    assert [sockaddr[0] for _, sockaddr in found] == (answers or [host])


def test_localhost_is_refused_by_the_real_resolver():
    with pytest.raises(links.NonPublicAddress, match="localhost resolves to"):
        links.resolve_public("localhost", 80)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://example.org/new-home", True),
        ("http://93.184.215.14/x", True),
        ("http://127.0.0.1:18082/secret", False),
        ("http://[::1]:8080/", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://2130706433/", False),
        ("http://0x7f000001/", False),
        ("http://localhost/admin", False),
        ("http://a.localhost./", False),
        ("file:///etc/passwd", False),
        ("data:text/html,<b>hi</b>", False),
        ("ftp://example.org/x", False),
        ("http://[::1/", False),
        ("", False),
        (None, False),
    ],
)
def test_only_public_http_final_urls_are_publishable(url, shown):
    assert links.publishable_url(url) == (url if shown else None)


@pytest.fixture
def public_loopback(monkeypatch):
    """127.0.0.1 counts as public, every other loopback address does not: the test server is
    reachable with the address rule on, and 127.0.0.2 stands for an internal service."""
    real = links.is_public_address
    monkeypatch.setattr(links, "is_public_address", lambda a: str(a) == "127.0.0.1" or real(a))


class _Redirects(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    hosts: list[str] = []
    targets: dict[str, str] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        _Redirects.hits[self.path] = _Redirects.hits.get(self.path, 0) + 1
        _Redirects.hosts.append(self.headers.get("Host", ""))
        if self.path in _Redirects.targets:
            return self._redirect(_Redirects.targets[self.path])
        if self.path.startswith("/chain/"):
            left = int(self.path.rsplit("/", 1)[1])
            if left:
                return self._redirect(f"/chain/{left - 1}")
        body = b"<title>Arrived</title><p>the end</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def _redirect(self, where):
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def redirects():
    _Redirects.hits, _Redirects.hosts, _Redirects.targets = {}, [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_redirect_to_a_non_public_address_is_refused_before_connecting(
    redirects, public_loopback
):
    internal = _Listener("127.0.0.2")
    try:
        _Redirects.targets["/go"] = f"http://127.0.0.2:{internal.port}/secret"
        _Redirects.targets["/name"] = "http://intranet.test/admin"
        resolver = _fake_resolver({"intranet.test": ["10.0.0.1"]})
        by_path = {
            r.url.rsplit("/", 1)[1]: r
            for r in links.fetch_all(
                [f"{redirects}/go", f"{redirects}/name"], timeout=5, resolver=resolver
            )
        }
        time.sleep(0.2)
        assert internal.connections == 0
    finally:
        internal.close()
    go, name = by_path["go"], by_path["name"]
    assert go.state == "unreachable" and go.final_url is None and go.text is None
    assert go.error == "redirect to a non-public address refused: 127.0.0.2"
    assert name.state == "unreachable" and name.final_url is None
    assert (
        name.error == "redirect to a non-public address refused: intranet.test resolves to 10.0.0.1"
    )
    assert _Redirects.hits == {"/go": 1, "/name": 1}  # the first hops were made


def test_the_connection_goes_to_the_checked_address_under_the_url_host_name(redirects):
    port = redirects.rsplit(":", 1)[1]
    asked: list[str] = []
    fake = _fake_resolver({"docs.test": ["127.0.0.1"]})

    def resolver(host, *args, **kwargs):
        asked.append(host)
        return fake(host, *args, **kwargs)

    result = links.fetch(
        f"http://docs.test:{port}/chain/1", timeout=5, allow_private=True, resolver=resolver
    )
    assert result.state == "ok" and result.title == "Arrived"
    assert result.final_url == f"http://docs.test:{port}/chain/0"
    assert _Redirects.hosts == [f"docs.test:{port}"] * 2  # the Host header keeps the name
    assert asked == ["docs.test", "docs.test"]  # resolved once per hop, and only there


@pytest.mark.parametrize(
    "target, scheme",
    [
        ("ftp://127.0.0.1:{port}/secret.txt", "ftp"),
        ("file:///etc/passwd", "file"),
        ("data:text/html,<title>x</title>", "data"),
    ],
)
def test_redirects_to_other_schemes_are_refused_without_a_connection(
    redirects, listener, target, scheme
):
    _Redirects.targets["/away"] = target.format(port=listener.port)
    result = links.fetch(f"{redirects}/away", timeout=5, allow_private=True)
    time.sleep(0.2)
    assert listener.connections == 0
    assert (result.state, result.final_url, result.text) == ("unreachable", None, None)
    assert result.error == f"redirect to {scheme}: refused"


def test_at_most_five_redirects_are_followed(redirects):
    five = links.fetch(f"{redirects}/chain/5", timeout=5, allow_private=True)
    assert five.state == "ok" and five.final_url == f"{redirects}/chain/0"
    _Redirects.hits.clear()
    six = links.fetch(f"{redirects}/chain/6", timeout=5, allow_private=True)
    assert six.state == "broken" and six.http_status == 302 and six.final_url is None
    assert six.error == "more than 5 redirects; stopped"
    assert sorted(_Redirects.hits) == [f"/chain/{n}" for n in range(1, 7)]  # /chain/0 never asked


def test_without_the_opt_in_check_links_never_connects_to_a_local_address(mini_cli_main, listener):
    local = f"http://127.0.0.1:{listener.port}"
    dump = mini_cli_main("dump").out.replace("https://", f"{local}/")
    path = mini_cli_main.home / "local.toml"
    path.write_text(dump, encoding="utf-8")
    other = ["--db", f"sqlite:///{mini_cli_main.home / 'local.db'}"]
    assert mini_cli_main(*other, "sync", str(path), db=False).code == 0
    off = {"MOU_TRACKER_ALLOW_PRIVATE_URLS": ""}
    result = mini_cli_main(*other, "check-links", "--timeout", "3", db=False, env=off)
    assert result.code == 0, result.err
    assert "allowed" not in result.err
    assert f"unreachable (non-public address refused: 127.0.0.1): {local}/" in result.out
    assert " 0 ok" in result.out
    time.sleep(0.2)
    assert listener.connections == 0


def test_a_bad_opt_in_value_is_one_line_of_error(mini_cli_main):
    result = mini_cli_main("check-links", env={"MOU_TRACKER_ALLOW_PRIVATE_URLS": "maybe"})
    assert result.code == 1
    assert result.err.strip() == (
        "mou-tracker: error: MOU_TRACKER_ALLOW_PRIVATE_URLS: expected 1 or 0, not 'maybe'"
    )


# --- one deadline per URL ----------------------------------------------------------------------


class _Drip:
    """Accepts one connection and answers one byte every half second."""

    def __init__(self, where: str) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
        self.fast, self.slow = (head, b"x" * 100_000) if where == "body" else (b"", head)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(65_536)
                conn.sendall(self.fast)
                for byte in self.slow:
                    if self._stop.wait(0.5):
                        return
                    conn.sendall(bytes([byte]))
                    self.sent += 1
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_drip_fed_page_is_cut_off_at_the_deadline(where):
    drip = _Drip(where)
    try:
        started = time.monotonic()
        result = links.fetch(f"http://127.0.0.1:{drip.port}/", timeout=2, allow_private=True)
        elapsed = time.monotonic() - started
    finally:
        drip.close()
    assert drip.sent >= 2  # it was dripping, not silent
    assert result.state == "unreachable" and result.error == "timed out after 2 s"
    assert 1.9 <= elapsed < 3.5


def test_a_slow_dns_answer_counts_against_the_deadline():
    release = threading.Event()

    def stuck(host, port, *args, **kwargs):
        release.wait(10)
        raise socket.gaierror("too late")

    try:
        started = time.monotonic()
        result = links.fetch("http://slow-dns.test/", timeout=1, resolver=stuck)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert result.state == "unreachable" and result.error == "timed out after 1 s"
    assert elapsed < 2.5


# --- the text of a page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page, text, title",
    [
        (
            "<html><head><title>Fine page</title><script>var t=1</script></head>"
            "<body><p>Stable   words</p></body></html>",
            "Fine page Stable words",
            "Fine page",
        ),
        (
            "<!DOCTYPE html><html><head><title> Two\n <b>parts</b> &amp; more </title>"
            '<style>p{color:red}</style><meta name="x" content="a"></head><body>'
            "<!-- a comment --><noscript><p>enable js</p></noscript>"
            "<template><p>hidden</p></template><h1>Clause&nbsp;1</h1>"
            "<p>We <em>will</em> co&#8209;operate, &lt;not&gt; more.<br/>Next</p>"
            '<script type="application/ld+json">{"a": "</p>"}</script></body></html>',
            "Two parts & more Clause 1 We will co\u2011operate, <not> more. Next",
            "Two parts & more",
        ),
        ("<p>No title, one <a href='/x'>link</a></p>", "No title, one link", None),
        ("plain text, <title>T</title>", "plain text, <title>T</title>", "T"),
    ],
)
def test_ordinary_pages_normalise_as_before(page, text, title):
    content_type = "text/plain" if page.startswith("plain") else "text/html; charset=utf-8"
    assert links.normalise(page.encode(), content_type) == (text, title)


@pytest.mark.parametrize("unit", ["<script>x", "<!--", "<a b='", "</", "<?", "<![CDATA["])
def test_hostile_markup_takes_linear_time(unit):
    # 0.36 MB: the regular expressions this replaced took a minute on `<script>x`, and the
    # parser's own close() takes tens of seconds on some of the others before CPython 3.11.13.
    page = (unit * (360_000 // len(unit) + 1)).encode()
    started = time.monotonic()
    text, title = links.normalise(page, "text/html")
    assert time.monotonic() - started < 5
    assert title is None and len(text) < len(page)
    if unit == "<script>x":
        assert text == ""  # an unclosed script is script to the end, as in a browser


# --- snapshots ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zlib_bomb() -> bytes:
    """0.4 MB that inflates to 400 MB."""
    squeeze = zlib.compressobj(9)
    zeros = b"\0" * (1 << 20)
    blob = b"".join(squeeze.compress(zeros) for _ in range(400)) + squeeze.flush()
    assert len(blob) < 500_000
    return blob


def test_a_snapshot_bomb_is_inflated_only_to_the_cap(zlib_bomb):
    tracemalloc.start()
    try:
        text = links.read_snapshot(zlib_bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) == links.SNAPSHOT_CHARS
    assert peak < 10 * links.SNAPSHOT_BYTES
    assert links.read_snapshot(zlib.compress(b"ordinary text")) == "ordinary text"


def test_evidence_show_reads_a_planted_bomb_at_the_cap(mini_cli_main, mini_engine_for, zlib_bomb):
    from datetime import UTC, datetime

    from mou_tracker.domain.models import LinkCheck

    engine = mini_engine_for(mini_cli_main.db)
    url = "https://news.example.org/pilot"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    run_write(
        engine,
        lambda s: s.add(
            LinkCheck(url=url, checked_at=at, state="ok", http_status=200, snapshot=zlib_bomb)
        ),
    )
    with read(engine) as s:
        evidence_id = next(e.id for e in commitment_detail(s, "T-1").evidence if e.url == url)
        assert len(links.latest_snapshot(s, url)[1]) == links.SNAPSHOT_CHARS
    engine.dispose()
    shown = mini_cli_main("evidence", "show", str(evidence_id))
    assert shown.code == 0, shown.err
    assert f"stored copy:   {links.SNAPSHOT_CHARS:,} characters" in shown.out


def test_final_urls_stored_by_older_versions_are_published_only_if_public(
    mini_cli_main, mini_engine_for, tmp_path
):
    from datetime import UTC, datetime

    from mou_tracker.domain.models import LinkCheck

    engine = mini_engine_for(mini_cli_main.db)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    moves = {
        "https://news.example.org/pilot": "http://127.0.0.1:18082/secret",
        "https://gov.example.org/undated": "https://gov.example.org/new-home",
    }
    for url, final in moves.items():
        run_write(
            engine,
            lambda s, url=url, final=final: s.add(
                LinkCheck(
                    url=url, checked_at=at, state="ok", http_status=200, final_url=final, moved=True
                )
            ),
        )
    engine.dispose()
    out = tmp_path / "exports"
    result = mini_cli_main("export", "--out", str(out))
    assert result.code == 0, result.err
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    finals = {
        e["url"]: e["link"]["final_url"]
        for c in data["commitments"]
        for e in c["evidence"]
        if e["link"]
    }
    assert finals == {
        "https://news.example.org/pilot": None,
        "https://gov.example.org/undated": "https://gov.example.org/new-home",
    }
    # every file, the SQLite one included (its text is stored as UTF-8)
    everything = "".join(
        p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()
    )
    assert "127.0.0.1" not in everything
    assert "Now at" in everything and "https://gov.example.org/new-home" in everything


# --- TLS keeps the URL's host name while connecting to the checked address ---------------------


@pytest.fixture
def tls_site(tmp_path, monkeypatch):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for docs.test only, trusted
    by the checker for this test; records the server names the clients asked for."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=docs.test"]
        + ["-addext", "subjectAltName=DNS:docs.test"],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {made.stderr[:200]!r}")
    names: list[str | None] = []
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    server_side.sni_callback = lambda _sock, name, _ctx: names.append(name)
    _Redirects.hits, _Redirects.hosts, _Redirects.targets = {}, [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    server.socket = server_side.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client_side = links._make_tls_context(cafile=str(cert))
    monkeypatch.setattr(links, "_tls_context", lambda: client_side)
    yield server.server_address[1], names
    server.shutdown()
    server.server_close()


def test_tls_checks_the_certificate_against_the_url_host_not_the_address(tls_site):
    port, names = tls_site
    resolver = _fake_resolver({"docs.test": ["127.0.0.1"]})
    good = links.fetch(
        f"https://docs.test:{port}/chain/0", timeout=5, allow_private=True, resolver=resolver
    )
    assert good.state == "ok" and good.title == "Arrived", good.error
    assert names == ["docs.test"] and _Redirects.hosts == [f"docs.test:{port}"]
    by_address = links.fetch(f"https://127.0.0.1:{port}/chain/0", timeout=5, allow_private=True)
    assert by_address.state == "unreachable" and by_address.error.startswith("TLS error:")
    assert "certificate verify failed" in by_address.error
