"""``mou-tracker export``: every page parses back clean, internal notes never leave, the same
database gives the same bytes, a crash leaves the previous export whole, and the shipped
``exports/`` is the report of the shipped ``commitments.toml``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import signal
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import MINI, ROOT, SHIPPED, frozen_clock, sync_file
from tests.reports.helpers import check_page, plain_text

from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _export(engine, out: Path, **kw) -> int:
    with read(engine) as s:
        return export(s, out, **kw)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _add(engine, ref, url, title, published="2026-02-01", **kw):
    return run_write(
        engine,
        lambda s: service.add_evidence(
            s,
            ref,
            service.EvidenceInput.build(url=url, title=title, published=published, **kw),
            actor="tester",
            at=T0,
        ),
    )


@pytest.fixture
def busy(mini):
    """The mini tracker with evidence, a status change, a review, notes of both kinds, each
    recorded at the time the tracker's clock shows (injected, never slept)."""
    with frozen_clock(T0):
        ev = run_write(
            mini,
            lambda s: service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url="https://news.example.org/pilot",
                    title="Pilot launched",
                    publisher="Example News",
                    published="2026-02-01",
                    direction="progress",
                    archived_url="https://archive.example.org/pilot",
                ),
                actor="staff",
            ),
        )
    with frozen_clock(T0 + timedelta(hours=1)):
        run_write(
            mini,
            lambda s: service.change_status(
                s,
                "T-2",
                "in_progress",
                actor="pm",
                reason="A pilot has started.",
                evidence=[ev.id],
            ),
        )
    with frozen_clock(T0 + timedelta(hours=2)):
        run_write(mini, lambda s: service.add_note(s, "T-2", "Public context note.", actor="pm"))
    with frozen_clock(T0 + timedelta(days=40)):  # later than everything: must not move "as of"
        run_write(
            mini,
            lambda s: service.add_note(
                s, "T-2", "CANARY-7f3a9c internal only", actor="pm", visibility="internal"
            ),
        )
    return mini


# --- every page is sound --------------------------------------------------------------------


def _check_all_pages(root: Path) -> None:
    pages = sorted(root.rglob("*.md"))
    assert pages
    for page in pages:
        assert check_page(page, root) == [], page


def test_every_markdown_page_parses_back_clean(busy, tmp_path):
    out = tmp_path / "exports"
    count = _export(busy, out)
    files = _tree(out)
    assert count == len(files)
    assert {"README.md", "changes.md", "manifest.json", "data/tracker.json"} <= set(files)
    assert {"commitments/t-0.md", "commitments/t-1.md", "commitments/t-2.md"} <= set(files)
    assert {"html/index.html", "html/commitments/t-2.html", "html/changes.html"} <= set(files)
    _check_all_pages(out)
    page = (out / "commitments/t-2.md").read_text(encoding="utf-8")
    text = plain_text(page)
    assert "in progress" in text and "A pilot has started." in text
    assert "Pilot launched" in text and "Public context note." in text
    assert "1 internal note kept by the tracking team is withheld" in text
    assert "https://archive.example.org/pilot" in page


def test_internal_notes_never_leave_the_database(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out, since=date(2020, 1, 1))
    for name, data in _tree(out).items():
        assert b"CANARY-7f3a9c" not in data, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == "2026-03-01T14:00:00Z"  # the internal note is later: ignored


def test_same_database_gives_byte_identical_files(busy, tmp_path):
    _export(busy, tmp_path / "a")
    _export(busy, tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_the_manifest_lists_every_file_with_its_hash(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out)
    manifest = json.loads((out / "manifest.json").read_text())
    files = _tree(out)
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest


def test_formats_choose_the_files(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out, formats=("json", "csv"))
    names = set(_tree(out))
    assert names >= {
        "manifest.json",
        "data/tracker.json",
        "data/commitments.csv",
        "data/evidence.csv",
        "data/history.csv",
        "data/corrections.csv",
        "data/status-by-date.csv",
        "data/status-by-effective-date.csv",
    }
    # no page, and nothing that goes only with the pages (the key, the feed, the chart)
    assert not any(n.endswith((".md", ".html", ".xml", ".svg")) for n in names), names
    # Exporting again with other formats replaces the whole set: no stale files survive.
    _export(busy, out, formats=("md",))
    assert not any(n.startswith("data/") for n in _tree(out))
    with pytest.raises(InvalidInput, match="--format"):
        _export(busy, out, formats=("pdf",))


# --- hostile text ------------------------------------------------------------------------------

HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("\\`*_[]()<>|#!-+.=:&;~$\"' ab1é")), min_size=1, max_size=120
).filter(lambda t: t.strip())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=HOSTILE_TEXT,
    publisher=HOSTILE_TEXT,
    summary=HOSTILE_TEXT,
    reason=HOSTILE_TEXT,
)
def test_hostile_fields_come_back_as_literal_text(
    tmp_path_factory, title, publisher, summary, reason
):
    tmp = tmp_path_factory.mktemp("hostile")
    engine = make_engine(f"sqlite:///{tmp / 'h.db'}")
    create_schema(engine)
    try:
        sync_file(engine, MINI)
        ev = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url="https://news.example.org/x?a=(1)&b=<2>",
                    title=title,
                    publisher=publisher,
                    summary=summary,
                    published="2026-02-01",
                ),
                actor=title[:100],
                at=T0,
            ),
        )
        run_write(
            engine,
            lambda s: service.change_status(
                s, "T-2", "stalled", actor="pm", reason=reason, evidence=[ev.id], at=T0
            ),
        )
        out = tmp / "exports"
        _export(engine, out)
        _check_all_pages(out)
        text = " ".join(plain_text((out / "commitments/t-2.md").read_text("utf-8")).split())
        for value in (title, publisher, summary, reason):
            assert " ".join(value.split()) in text
        _check_html(out)
    finally:
        engine.dispose()


def test_the_classic_hostile_strings(mini, tmp_path):
    nasty = {
        "title": "Fund [/] [bold]x [x](javascript:alert(1)) <script>alert(1)</script>",
        "publisher": "Pipe | Co # not a heading",
        "summary": "`tick` ``two`` [/] " + "long " * 90,
    }
    ev = run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://e.example.org/1", published="2026-01-01", **nasty
            ),
            actor="staff",
            at=T0,
        ),
    )
    body = "# heading\n\n<script>alert(2)</script>\n\n[click](javascript:alert(3))\n\n" + "z" * 9000
    run_write(mini, lambda s: service.add_note(s, "T-2", body, actor="pm", at=T0))
    run_write(
        mini,
        lambda s: service.change_status(
            s,
            "T-2",
            "stalled",
            actor="pm",
            reason="line one\n# line two | x",
            evidence=[ev.id],
            at=T0,
        ),
    )
    out = tmp_path / "exports"
    _export(mini, out)
    _check_all_pages(out)
    page = (out / "commitments/t-2.md").read_text("utf-8")
    text = plain_text(page)
    for value in nasty.values():
        assert " ".join(value.split()) in " ".join(text.split())
    assert "<script>alert(2)</script>" in text and "z" * 9000 in text
    for data in _tree(out).values():
        assert b"javascript:alert" not in data or b'href="javascript' not in data
    _check_html(out)


# --- HTML ----------------------------------------------------------------------------------------


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                raise AssertionError(f"event handler attribute {name}")
            if name == "href":
                self.hrefs.append(value or "")


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "a",
    "strong", "em", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li",
    "blockquote", "hr", "br", "pre",
    # added by the renderer, never from user text: status symbols and bars (span), the feed
    # and the empty icon (link), the chart (figure, img)
    "span", "link", "figure", "img",
}  # fmt: skip


def _check_html(out: Path) -> None:
    pages = sorted((out / "html").rglob("*.html"))
    assert pages
    for page in pages:
        parser = _Html()
        parser.feed(page.read_text("utf-8"))
        assert set(parser.tags) <= ALLOWED_TAGS, (page, set(parser.tags) - ALLOWED_TAGS)
        for href in parser.hrefs:
            parts = urlsplit(href)
            if href == "data:,":  # the empty icon: no request for a missing favicon
                continue
            if parts.scheme:
                assert parts.scheme in ("http", "https") and parts.netloc, href
            elif not parts.path:  # a link within the page: its target exists
                assert f'id="{parts.fragment}"' in page.read_text("utf-8"), href
            else:
                assert parts.path.endswith((".html", ".xml", ".csv", ".json", ".svg")), href
                assert (page.parent / parts.path).resolve().is_file(), href


def test_html_pages_are_standalone_and_link_to_each_other(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out)
    _check_html(out)
    index = (out / "html/index.html").read_text("utf-8")
    assert index.startswith("<!DOCTYPE html>") and "<style>" in index
    assert 'href="commitments/t-2.html"' in index and 'href="changes.html"' in index


# --- JSON and CSV --------------------------------------------------------------------------------


def test_json_and_csv_schemas(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out)
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    assert data["schema"] == "mou-tracker-export/1" and data["as_of"] == "2026-03-01T14:00:00Z"
    refs = [c["ref"] for c in data["commitments"]]
    assert refs == ["T-0", "T-1", "T-2"]
    t2 = data["commitments"][2]
    assert t2["status"] == "in_progress" and t2["status_reason"] == "A pilot has started."
    assert t2["internal_notes_withheld"] == 1 and len(t2["notes"]) == 1
    assert t2["evidence"][-1]["url"] == "https://news.example.org/pilot"
    assert t2["history"][-1]["evidence_ids"] == [t2["evidence"][-1]["id"]]
    assert t2["page"] == "commitments/t-2.md" and t2["scored"] is True
    assert data["commitments"][0]["scored"] is False

    def rows(name):
        return list(csv.DictReader(io.StringIO((out / "data" / name).read_text("utf-8"))))

    commitments = rows("commitments.csv")
    assert [r["ref"] for r in commitments] == refs
    assert commitments[2]["status"] == "in_progress" and commitments[2]["evidence_count"] == str(
        len(t2["evidence"])
    )
    evidence = rows("evidence.csv")
    assert {r["url"] for r in evidence} >= {"https://news.example.org/pilot"}
    history = rows("history.csv")
    assert history[-1]["to_status"] == "in_progress" and history[-1]["by"] == "pm"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(mini, tmp_path):
    _add(
        mini,
        "T-2",
        "https://e.example.org/f",
        '=HYPERLINK("https://evil.example")',
        publisher="@SUM(1)",
    )
    out = tmp_path / "exports"
    _export(mini, out, formats=("csv",))
    rows = list(csv.DictReader(io.StringIO((out / "data/evidence.csv").read_text("utf-8"))))
    row = next(r for r in rows if r["url"] == "https://e.example.org/f")
    assert row["title"].startswith("'=") and row["publisher"].startswith("'@")


# --- the digest ------------------------------------------------------------------------------------


def test_digest_groups_changes_by_transition(busy, tmp_path):
    with frozen_clock(T0 + timedelta(hours=3)):
        run_write(
            busy, lambda s: service.record_review(s, "T-1", actor="pm", note="Looked; nothing new")
        )
    out = tmp_path / "exports"
    _export(busy, out, since=date(2026, 2, 15), report_date=date(2026, 3, 1))
    text = plain_text((out / "changes-since-2026-02-15.md").read_text("utf-8"))
    assert "What changed since 15 February 2026" in text
    assert "Moved to ◔ in progress (1)" in text and "A pilot has started." in text
    assert "Reviews that left the status unchanged (1)" in text and "Looked; nothing new" in text
    assert "Evidence recorded in the tracker (1)" in text and "Pilot launched" in text
    assert "New commitments (0)" in text
    default = plain_text((out / "changes.md").read_text("utf-8"))
    assert "What changed in the 30 days to 1 March 2026" in default
    index = plain_text((out / "README.md").read_text("utf-8"))
    assert "What changed since 15 February 2026" in index


def test_digest_lists_new_commitments_and_reviews_that_fell_overdue(engine, tmp_path):
    text = MINI.read_text("utf-8").replace(
        'ref = "T-2"', 'ref = "T-2"\nadded_at = 2025-06-01T09:00:00Z', 1
    )
    from mou_tracker.storage.tomlio import parse_document, sync_document

    doc = parse_document(text)
    run_write(engine, lambda s: sync_document(s, doc, actor="tester"))
    out = tmp_path / "exports"
    _export(engine, out, since=date(2025, 5, 20))
    digest = plain_text((out / "changes-since-2025-05-20.md").read_text("utf-8"))
    assert "New commitments (1)" in digest and "T-2" in digest.split("New commitments (1)")[1]
    # Signed 15 January 2025 with a 3-month cadence: reviews were due 15 April 2025; T-1 was
    # reviewed (see mini.toml) so only the unreviewed scored commitments fell overdue then.
    assert "Reviews that fell overdue" in digest


# --- atomicity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["export:batch", "export:before-swap", "export:between-renames"])
def test_a_killed_export_leaves_the_previous_one_whole(mini_cli, tmp_path, point):
    out = mini_cli.home / "exports"
    first = mini_cli("export", "--out", str(out))
    assert first.code == 0, first.err
    before = _tree(out)
    evidence = mini_cli(
        "evidence",
        "add",
        "T-2",
        "https://e.example.org/new",
        "--title",
        "New",
        "--published",
        "2026-01-02",
    )
    assert evidence.code == 0, evidence.err
    env = {"MOU_TRACKER_CRASH_AT": point}
    if point == "export:between-renames":  # only the two-rename fallback has that moment
        env["MOU_TRACKER_NO_EXCHANGE"] = "1"
    killed = mini_cli("export", "--out", str(out), env=env)
    assert killed.code == -signal.SIGKILL
    if point == "export:between-renames":
        assert not out.exists()  # the one moment the name is free: recovered below
    else:
        assert _tree(out) == before
    again = mini_cli("export", "--out", str(out))
    assert again.code == 0, again.err
    after = _tree(out)
    assert after != before and b"https://e.example.org/new" in after["data/evidence.csv"]
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".exports.")]
    assert leftovers == []


def test_a_crash_between_the_renames_is_recovered_without_a_new_export(mini_cli, tmp_path):
    out = mini_cli.home / "exports"
    assert mini_cli("export", "--out", str(out)).code == 0
    before = _tree(out)
    killed = mini_cli(
        "export",
        "--out",
        str(out),
        env={"MOU_TRACKER_CRASH_AT": "export:between-renames", "MOU_TRACKER_NO_EXCHANGE": "1"},
    )
    assert killed.code == -signal.SIGKILL and not out.exists()
    from mou_tracker.reports.export import _recover

    _recover(out)
    assert _tree(out) == before


def test_export_never_replaces_a_directory_it_did_not_write(mini, tmp_path):
    home = tmp_path / "notes"
    home.mkdir()
    (home / "precious.txt").write_text("keep me")
    with pytest.raises(InvalidInput, match="did not write"):
        _export(mini, home)
    assert (home / "precious.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="not a directory"):
        _export(mini, tmp_path / "file")


def test_refs_that_differ_only_in_case_are_refused(engine, tmp_path):
    text = MINI.read_text("utf-8").replace('ref = "T-2"', 'ref = "t-1"', 1)
    from mou_tracker.storage.tomlio import parse_document, sync_document

    doc = parse_document(text)
    run_write(engine, lambda s: sync_document(s, doc, actor="tester"))
    with pytest.raises(TrackerError, match="differ only in letter case"):
        _export(engine, tmp_path / "exports")
    assert not (tmp_path / "exports").exists()


# --- the CLI -------------------------------------------------------------------------------------


def test_cli_export_echoes_the_date_and_refuses_bad_input(mini_cli_main):
    out = mini_cli_main.home / "reports"
    ok = mini_cli_main("export", "--out", str(out), "--format", "md,json", "--since", "1 Feb 2026")
    assert ok.code == 0, ok.err
    assert "since: 2026-02-01 (read from '1 Feb 2026')" in ok.err
    assert (out / "changes-since-2026-02-01.md").is_file() and not (out / "html").exists()
    for args, field in (
        (["--format", "pdf"], "--format"),
        (["--format", ""], "--format"),
        (["--since", "Clause 12"], "--since"),
        (["--since", "03/04/2026"], "--since"),
    ):
        before = _tree(out)
        bad = mini_cli_main("export", "--out", str(out), *args)
        assert bad.code == 1, (args, bad.err)
        assert field in bad.err and len(bad.err.strip().splitlines()) == 1
        assert "Traceback" not in bad.err
        assert _tree(out) == before


# --- the shipped report --------------------------------------------------------------------------


@pytest.mark.skipif(not SHIPPED.exists(), reason="commitments.toml not written yet")
def test_shipped_exports_are_the_report_of_the_shipped_data(engine, tmp_path):
    """The committed exports/ must be regenerated whenever commitments.toml or the report code
    changes: `mou-tracker --db /tmp/fresh.db sync && mou-tracker --db /tmp/fresh.db export`.
    Run on both backends: SQLite and PostgreSQL give the same bytes."""
    sync_file(engine, SHIPPED)
    out = tmp_path / "exports"
    shipped = ROOT / "exports"
    assert (shipped / "manifest.json").is_file(), "exports/ has not been generated"
    manifest = json.loads((shipped / "manifest.json").read_text("utf-8"))
    assert manifest.get("report_date"), "exports/ must be generated with an explicit --as-of"
    _export(engine, out, report_date=date.fromisoformat(manifest["report_date"]))
    fresh, committed = _tree(out), _tree(shipped)
    stale = sorted(n for n in set(fresh) | set(committed) if fresh.get(n) != committed.get(n))
    assert stale == [], f"exports/ is stale: regenerate it ({len(stale)} files differ: {stale[:5]})"
    _check_all_pages(shipped)


# --- re-exports reuse what did not change; big exports render in worker processes ---------------


def test_a_re_export_links_unchanged_files_and_rewrites_changed_ones(busy, tmp_path):
    out = tmp_path / "exports"
    _export(busy, out)
    before = _tree(out)
    inodes = {p.relative_to(out): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    _export(busy, out)
    assert _tree(out) == before
    relinked = [
        p
        for p in out.rglob("*")
        if p.is_file() and inodes.get(p.relative_to(out)) == p.stat().st_ino
    ]
    pages = {n for n in before if n.endswith((".md", ".html"))}
    # every page was linked, not written or rendered again
    assert pages <= {str(p.relative_to(out)) for p in relinked}

    # A change: only what depends on it is new; a tampered old file is never reused.
    (out / "commitments/t-1.md").write_text("tampered", encoding="utf-8")
    _add(busy, "T-2", "https://e.example.org/late", "Late report", published="2026-02-20")
    _export(busy, out)
    after = _tree(out)
    assert (
        b"Late report" in after["commitments/t-2.md"]
        and b"Late report" in after["html/commitments/t-2.html"]
    )
    assert after["commitments/t-1.md"] == before["commitments/t-1.md"]
    fresh = tmp_path / "fresh"
    _export(busy, fresh)
    assert _tree(fresh) == after


def test_worker_processes_render_the_same_html(tmp_path, monkeypatch):
    from tests.tui.bulk import bulk_sqlite

    from mou_tracker.reports import export as export_module

    url = bulk_sqlite(tmp_path / "bulk.db", 250)
    engine = make_engine(url)
    try:
        _export(engine, tmp_path / "pooled", formats=("html",))
        monkeypatch.setattr(export_module._Renderer, "POOL_FROM", 10**9)
        _export(engine, tmp_path / "inline", formats=("html",))
    finally:
        engine.dispose()
    pooled, inline_ = _tree(tmp_path / "pooled"), _tree(tmp_path / "inline")
    # the pages, the index, the digest and the key; the feed, the two charts and the manifest
    assert len(pooled) == 250 + 7 and pooled == inline_


# --- targets and link health reach the reports ----------------------------------------------------


def test_re_baselined_targets_and_link_health_are_shown(busy, tmp_path):
    from mou_tracker.domain.models import LinkCheck

    url = "https://news.example.org/pilot"
    run_write(
        busy,
        lambda s: service.set_target(
            s,
            "T-2",
            "30 June 2026",
            actor="pm",
            reason="Stated in the plan",
            at=T0 + timedelta(hours=3),
        ),
    )
    run_write(
        busy,
        lambda s: service.set_target(
            s,
            "T-2",
            "31 December 2026",
            actor="pm",
            reason="Delay announced",
            evidence=[url],
            at=T0 + timedelta(hours=4),
        ),
    )
    run_write(
        busy,
        lambda s: s.add(
            LinkCheck(
                url=url,
                checked_at=T0 + timedelta(hours=5),
                state="broken",
                http_status=404,
                final_url=url,
            )
        ),
    )
    out = tmp_path / "exports"
    _export(busy, out)
    _check_all_pages(out)
    page = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    assert "original 2026-06-30; current 2026-12-31 (re-baselined 1 time)" in page
    assert "2026-06-30 → 2026-12-31" in page and "Delay announced" in page
    assert "Link health: broken (HTTP 404) (checked 2026-03-01)" in page
    index = plain_text((out / "README.md").read_text("utf-8"))
    assert "Evidence links needing attention" in index
    attention = index.split("Evidence links needing attention")[1].split("What changed")[0]
    assert "T-2" in attention and url in attention and "broken (HTTP 404)" in attention
    data = json.loads((out / "data/tracker.json").read_text("utf-8"))
    t2 = data["commitments"][2]
    assert t2["target"]["original"] == "2026-06-30" and t2["target"]["current"] == "2026-12-31"
    assert [c["to"] for c in t2["target"]["changes"]] == ["2026-06-30", "2026-12-31"]
    link = next(e for e in t2["evidence"] if e["url"] == url)["link"]
    assert link["state"] == "broken" and link["http_status"] == 404


# --- the report date ------------------------------------------------------------------------------


def test_the_report_date_judges_overdue_reviews_and_is_said_at_the_top(mini, tmp_path):
    early, late = tmp_path / "early", tmp_path / "late"
    latest = model_as_of(mini)
    _export(mini, early, report_date=latest.date())
    _export(mini, late, report_date=date(2026, 11, 27))
    again = tmp_path / "again"
    _export(mini, again, report_date=date(2026, 11, 27))
    assert _tree(again) == _tree(late)  # same database, same report date: same bytes
    early_index = plain_text((early / "README.md").read_text("utf-8"))
    late_index = plain_text((late / "README.md").read_text("utf-8"))
    assert "Report date: 27 November 2026." in late_index
    gap = (date(2026, 11, 27) - latest.date()).days
    assert f"{gap} days before the report date" in late_index
    assert f"Nothing has been recorded for {gap} days." in late_index
    assert "the same day" in early_index
    early_rows = list(csv.DictReader(io.StringIO((early / "data/commitments.csv").read_text())))
    late_rows = list(csv.DictReader(io.StringIO((late / "data/commitments.csv").read_text())))
    overdue = lambda rows: sum(r["review_overdue"] == "true" for r in rows)  # noqa: E731
    assert overdue(late_rows) > overdue(early_rows)
    manifest = json.loads((late / "manifest.json").read_text())
    assert manifest["report_date"] == "2026-11-27"
    assert json.loads((late / "data/tracker.json").read_text())["report_date"] == "2026-11-27"


def model_as_of(engine) -> datetime:  # type: ignore[no-untyped-def]
    from mou_tracker.reports import model

    with read(engine) as s:
        found = model.as_of(s)
    assert found is not None
    return found


def test_report_dates_and_windows_that_cannot_be_true_are_refused(mini, tmp_path):
    latest = model_as_of(mini).date()
    future = datetime.now(UTC).date() + timedelta(days=2)
    with pytest.raises(InvalidInput, match=r"--as-of.*in the future"):
        _export(mini, tmp_path / "a", report_date=future)
    with pytest.raises(InvalidInput, match=r"--as-of.*before the latest recorded change"):
        _export(mini, tmp_path / "b", report_date=latest - timedelta(days=1))
    with pytest.raises(InvalidInput, match=r"--since.*after the report date"):
        _export(mini, tmp_path / "c", since=latest + timedelta(days=1), report_date=latest)
    assert not any(tmp_path.glob("[abc]"))


def test_every_timestamp_is_utc_whole_seconds(busy, tmp_path):
    import re

    out = tmp_path / "exports"
    _export(busy, out)
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    for name in ("commitments.csv", "evidence.csv", "history.csv"):
        rows = list(csv.DictReader(io.StringIO((out / "data" / name).read_text("utf-8"))))
        for column in rows[0] if rows else []:
            values = [r[column] for r in rows if r[column]]
            if any("T" in v and v[:4].isdigit() and ":" in v for v in values):
                assert all(stamp.match(v) for v in values), (name, column, values[:3])
