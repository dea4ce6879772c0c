"""The page model (reports/doc.py) writes the same HTML that markdown-it renders from the same
page's Markdown: on every page of a generated tracker, of the shipped tracker, of an export,
and with hostile text in every field a page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from sqlmodel import select
from tests.conftest import MINI, SHIPPED, frozen_clock, sync_file
from tests.tui.bulk import bulk_sqlite

from mou_tracker import links
from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.models import Memorandum
from mou_tracker.reports import model, pages
from mou_tracker.reports.export import export
from mou_tracker.reports.html import render_page
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPORT_DATE = datetime(2026, 11, 27, tzinfo=UTC).date()


def _compare_every_page(engine) -> int:  # type: ignore[no-untyped-def]
    """Build every commitment page and the index both ways; return how many commitment pages
    were compared."""
    compared = 0
    with read(engine) as s:
        snap = model.snapshot(s, REPORT_DATE)
        _compare_index(s, snap)
        for batch in model.details_in_batches(s):
            for d in batch:
                page = pages.commitment_doc(d, snap)
                text = page.markdown()
                assert text == pages.commitment_page(d, snap)
                assert page.exact, d.ref
                assert page.html("../../") == render_page(text), d.ref
                compared += 1
    return compared


# With the csv format the index links the figures; without it, it names them in code spans.
FORMATS = (("md", "html", "json", "csv"), ("md", "html"))
DIGESTS = [("changes.md", "Changes in the last 30 days"), ("changes-since-2026-01-01.md", "x")]


def _compare_index(s, snap) -> None:  # type: ignore[no-untyped-def]
    """The index's HTML from its page model is what markdown-it renders from its Markdown."""
    recent = model.events(
        s, None, snap.as_of, limit=model.RECENT_CHANGES, kinds=("history", "target")
    )
    latest = model.latest_evidence(s, model.LATEST_EVIDENCE)
    for formats in FORMATS:
        page = pages.index_doc(snap, recent, latest, digest_files=DIGESTS, formats=formats)
        text = page.markdown()
        assert text == pages.index_page(snap, recent, latest, digest_files=DIGESTS, formats=formats)
        assert page.exact
        assert page.html("../") == render_page(text)


def test_every_page_of_a_generated_tracker(tmp_path):
    engine = make_engine(bulk_sqlite(tmp_path / "bulk.db", 300))
    try:
        assert _compare_every_page(engine) == 300
    finally:
        engine.dispose()


def test_every_page_of_the_shipped_tracker(engine):  # type: ignore[no-untyped-def]
    sync_file(engine, SHIPPED)
    assert _compare_every_page(engine) >= 19  # every clause and undertaking shipped


def test_an_export_writes_markdown_its_html_renders(busy_export):  # type: ignore[no-untyped-def]
    out = busy_export
    md_pages = sorted((out / "commitments").glob("*.md"))
    assert md_pages
    index = (out / "html/index.html").read_text("utf-8")
    assert index == render_page((out / "README.md").read_text("utf-8"))
    for md_page in md_pages:
        html_page = out / "html/commitments" / (md_page.stem + ".html")
        assert html_page.read_text("utf-8") == render_page(md_page.read_text("utf-8"))


@pytest.fixture
def busy_export(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(bulk_sqlite(tmp_path / "bulk.db", 60))
    try:
        out = tmp_path / "exports"
        with read(engine) as s:
            export(s, out, report_date=REPORT_DATE)
        return out
    finally:
        engine.dispose()


# --- hostile text ------------------------------------------------------------------------------

HOSTILE = st.text(
    alphabet=st.sampled_from(
        list("\\`*_[]()<>|#!-+.=:&;~$\"' ab1é\t\n\r\u00a0\u2028◔⊘✓●(#)1234567890-")
    ),
    min_size=0,
    max_size=80,
)
NAMED = st.sampled_from(
    [
        "evidence #1 (#1)",
        "2026-04-09 ◔ in progress (#2)",
        "1. not a list",
        "# not a heading",
        "&amp; &#x41; &copy",
        "  \t ",
        "[x](javascript:alert(1)) <b>x</b>",
        "a\\",
        "x | y \\| z",
    ]
)
TEXT = st.one_of(HOSTILE, NAMED)
URLS = st.sampled_from(
    [
        "https://news.example.org/x?a=(1)&b=<2>",
        "https://e.example.org/a%20b/ü?q=1&amp;r=2",
        "https://bücher.example/path",
        "http://e.example.org/\\back`tick",
        "https://e.example.org/1",
    ]
)


@settings(
    max_examples=40,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a failure is shown as found
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=TEXT,
    publisher=TEXT,
    summary=TEXT,
    reason=TEXT,
    body=TEXT,
    actor=TEXT,
    url=URLS,
)
def test_hostile_text_renders_the_same_both_ways(
    tmp_path_factory, title, publisher, summary, reason, body, actor, url
):
    tmp = tmp_path_factory.mktemp("model")
    engine = make_engine(f"sqlite:///{tmp / 'h.db'}")
    create_schema(engine)
    try:
        sync_file(engine, MINI)
        try:
            _write_hostile(engine, title, publisher, summary, reason, body, actor, url)
        except InvalidInput:
            reject()  # text the tracker refuses never reaches a page
        _compare_every_page(engine)
    finally:
        engine.dispose()


def _write_hostile(engine, title, publisher, summary, reason, body, actor, url):  # type: ignore[no-untyped-def]
    if True:
        with frozen_clock(T0):
            ev = run_write(
                engine,
                lambda s: service.add_evidence(
                    s,
                    "T-2",
                    service.EvidenceInput.build(
                        url=url,
                        title=title.strip() or "t",
                        publisher=publisher,
                        summary=summary,
                        published="2026-02-01",
                    ),
                    actor=actor.strip()[:100] or "a",
                    at=T0,
                ),
            )
            run_write(
                engine,
                lambda s: service.change_status(
                    s,
                    "T-2",
                    "stalled",
                    actor="pm",
                    reason=reason.strip() or "r",
                    evidence=[ev.id],
                    at=T0,
                ),
            )
            if body.strip():
                run_write(engine, lambda s: service.add_note(s, "T-2", body, actor="pm", at=T0))
            _check_links(engine, [links.Fetch(url, "broken", 404, url, error="HTTP 404")])


def _check_links(engine, results) -> None:  # type: ignore[no-untyped-def]
    """Record a round of link checks (the index lists the links needing attention)."""
    with read(engine) as s:
        memo_urls = {m.slug: m.source_url for m in s.scalars(select(Memorandum))}
    run_write(engine, lambda s: links.record(s, results, memo_urls=memo_urls, at=T0))


OTHER_MEMO = """
[[memorandum]]
slug = "other"
title = "Another *memorandum* | of [understanding]"
parties = ["GOV"]
signed = 2025-02-01
source_url = "https://example.org/other"
landing_url = "https://www.example.org/other-page"
legal_status = "Not binding (#1); see evidence #1."
review_cadence = "6 months"
summary = '''A second memorandum.\nOn two lines, with 2026-01-01 and ● met.'''

[[commitment]]
ref = "X-1"
memorandum = "other"
section = "1"
origin = "clause"
title = "Other ● met (#1)"
summary = "Other."
source_url = "https://example.org/other#1"
text_basis = "verified"
theme = "Other"
strength = "will"
owners = [{ party = "GOV", role = "lead" }, { party = "ACME", role = "support" }]

[[commitment]]
ref = "X-2"
memorandum = "other"
section = "2"
origin = "clause"
title = "Other again"
summary = "Again."
source_url = "https://example.org/other#2"
text_basis = "reconstructed"
theme = "Other"
strength = "intend"
owners = [{ party = "ACME", role = "lead" }]
restates = ["X-1"]
"""


def test_the_index_of_a_tracker_of_two_memoranda(engine, tmp_path):  # type: ignore[no-untyped-def]
    """Two memoranda (a heading and a legal caveat each), a restatement, owners in both
    roles, and links broken, moved and changed, the official text among them."""
    path = tmp_path / "two.toml"
    path.write_text(MINI.read_text("utf-8") + OTHER_MEMO, "utf-8")
    sync_file(engine, path)
    memo = "https://example.org/other"
    _check_links(
        engine,
        [
            links.Fetch(memo, "ok", 200, memo, "The text", "Other"),
            links.Fetch("https://news.example.org/pilot", "unreachable", error="DNS"),
        ],
    )
    later = [
        links.Fetch(memo, "ok", 200, memo, "The text, edited", "Other"),
        links.Fetch("https://example.org/mou", "broken", 500, "https://example.org/mou"),
    ]
    with read(engine) as s:
        memo_urls = {m.slug: m.source_url for m in s.scalars(select(Memorandum))}
    run_write(
        engine,
        lambda s: links.record(s, later, memo_urls=memo_urls, at=T0 + timedelta(hours=1)),
    )
    with read(engine) as s:
        snap = model.snapshot(s, REPORT_DATE)
        assert len(snap.memoranda) == 2 and snap.official_text_changed
        assert any(r.restates for r in snap.rows)
    assert _compare_every_page(engine) == 5


def test_a_status_outside_the_vocabulary_falls_back_to_markdown_it(mini):  # type: ignore[no-untyped-def]
    with read(mini) as s:
        snap = model.snapshot(s, REPORT_DATE)
        detail = next(
            d for batch in model.details_in_batches(s) for d in batch if d.strength != "vision"
        )
    odd = detail.__class__(**{**detail.__dict__, "status": "under_*review*_"})
    page = pages.commitment_doc(odd, snap)
    assert not page.exact  # the export renders this one with markdown-it
    assert "under_*review*_" in page.markdown()


def test_the_page_model_is_used_by_the_export(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A commitment page's HTML does not go through markdown-it's parser in the export."""
    from mou_tracker.reports import export as export_module

    rendered: list[str] = []
    real = export_module.html_report.render_page

    def spy(text: str) -> str:
        rendered.append(text.split("\n", 1)[0])
        return real(text)

    monkeypatch.setattr(export_module.html_report, "render_page", spy)
    engine = make_engine(bulk_sqlite(tmp_path / "bulk.db", 20))
    try:
        with read(engine) as s:
            export(s, tmp_path / "out", report_date=REPORT_DATE)
    finally:
        engine.dispose()
    titles = {
        page.read_text("utf-8").split("\n", 1)[0]
        for page in (tmp_path / "out/commitments").glob("*.md")
    }
    assert len(titles) == 20 and rendered  # the digest and the key only
    assert not titles & set(rendered)
    index_title = (tmp_path / "out/README.md").read_text("utf-8").split("\n", 1)[0]
    assert index_title not in rendered
    assert Path(tmp_path / "out/html/commitments").is_dir()


@given(
    url=st.from_regex(
        r"https?://[a-z0-9.-]{1,20}(:[0-9]{1,5})?([/?#][A-Za-z0-9/?#=+,;:@!$'*._~%&()\\<>`é -]{0,40})?",
        fullmatch=True,
    )
)
@settings(max_examples=300, deadline=None)
def test_the_href_shortcut_agrees_with_markdown_it(url):  # type: ignore[no-untyped-def]
    from markdown_it.common.utils import escapeHtml, unescapeAll

    from mou_tracker.reports import doc, markdown
    from mou_tracker.reports.html import _renderer

    destination = markdown._destination(url)
    expected = escapeHtml(_renderer().normalizeLink(unescapeAll(destination)))
    assert doc._href(destination) == expected
