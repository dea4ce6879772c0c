"""check-links against a local HTTP server on 127.0.0.1 (and nothing else)."""

from __future__ import annotations

import threading
import time
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
    import socket

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


def test_cli_records_states_and_flags_changes(mini_cli, mini_engine_for, site):
    engine = mini_engine_for(mini_cli.db)
    _attach(engine, site)
    first = mini_cli("check-links", "T-2", "--timeout", "2")
    assert first.code == 0, first.err
    assert (
        "broken (HTTP 404 Not Found)" in first.out
        and f"moved: {site}/moved -> {site}/ok" in first.out
    )
    assert "checked 5 URL(s)" in first.out  # four evidence URLs and the memorandum's text
    second = mini_cli("check-links", "T-2", "--timeout", "2")
    assert f"changed since the last check: {site}/changing" in second.out
    assert f"changed since the last check: {site}/ok" not in second.out
    with read(engine) as s:
        by_title = {e.title: e.link for e in commitment_detail(s, "T-2").evidence}
    assert by_title["ok"].label == "ok"
    assert by_title["gone"].label == "broken (HTTP 404)" and by_title["gone"].needs_attention
    assert by_title["moved"].moved and by_title["changing"].changed
    shown = mini_cli("evidence", "show", "3", "--snapshot")
    assert (
        "link health:   ok" in shown.out
        and "stored copy:" in shown.out
        and "Stable words" in shown.out
    )
    engine.dispose()


def test_a_silent_edit_to_the_official_text_is_flagged_loudly(mini_cli, site):
    dump = mini_cli("dump").out.replace('https://example.org/mou"', f'{site}/official"', 1)
    path = mini_cli.home / "m.toml"
    path.write_text(dump, encoding="utf-8")
    fresh = mini_cli.home / "fresh.db"
    other = ["--db", f"sqlite:///{fresh}"]
    assert mini_cli(*other, "sync", str(path), db=False).code == 0
    first = mini_cli(*other, "check-links", db=False)
    assert "WARNING" not in first.out
    second = mini_cli(*other, "check-links", db=False)
    assert "WARNING: the official text of memorandum gov-acme-2025 has changed" in second.out


def test_offline_runs_finish_quickly_with_everything_unreachable(mini_cli):
    # Nothing listens on this port: every URL is refused at once, as with no network at all.
    dead = f"http://127.0.0.1:{_closed_port()}"
    dump = mini_cli("dump").out.replace("https://", f"{dead}/")
    path = mini_cli.home / "offline.toml"
    path.write_text(dump, encoding="utf-8")
    other = ["--db", f"sqlite:///{mini_cli.home / 'offline.db'}"]
    assert mini_cli(*other, "sync", str(path), db=False).code == 0
    started = time.monotonic()
    result = mini_cli(*other, "check-links", "--timeout", "3", db=False)
    assert time.monotonic() - started < 20
    assert result.code == 0 and " 0 ok" in result.out and "unreachable" in result.out


def test_unknown_ref_is_refused(mini_cli):
    result = mini_cli("check-links", "NOPE-1")
    assert result.code == 1 and "REF" in result.err
