"""What a reader sees on the pages (issue 13): notes that cannot pass for the page, the key and
the symbols beside every status, the caveat and origin on every page, owners' lead and support
counted apart, anchors and links, and HTML that a screen reader and a phone can use."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import MINI
from tests.reports.helpers import check_page, plain_text, tokens

from mou_tracker.domain import service
from mou_tracker.domain.queries import CommitmentRow, OwnerView
from mou_tracker.reports.export import export
from mou_tracker.reports.legend import STATUS_MEANINGS, STATUS_STYLE
from mou_tracker.reports.markdown import note_markdown
from mou_tracker.reports.model import owner_counts
from mou_tracker.storage.engine import read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAKE_STATUS_NOTE = "# Status: met\n\n**Status: met** since 1 March 2026.\n\nBody text."


def _export(engine, out: Path, **kw) -> None:
    with read(engine) as s:
        export(s, out, **kw)


def _stalled_with_evidence(engine) -> int:
    ev = run_write(
        engine,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://news.example.org/paused",
                title="Data centre plan paused",
                publisher="Example News",
                published="2026-02-20",
                direction="against",
            ),
            actor="staff",
            at=T0,
        ),
    )
    run_write(
        engine,
        lambda s: service.change_status(
            s, "T-2", "stalled", actor="pm", reason="Paused.", evidence=[ev.id], at=T0
        ),
    )
    return ev.id


# --- 9: notes cannot imitate the page ------------------------------------------------------------


def test_a_note_cannot_pass_for_the_page_status_line(mini, tmp_path):
    _stalled_with_evidence(mini)
    run_write(mini, lambda s: service.add_note(s, "T-2", FAKE_STATUS_NOTE, actor="pm", at=T0))
    out = tmp_path / "exports"
    _export(mini, out)
    page = (out / "commitments/t-2.md").read_text("utf-8")
    depth = 0
    own_status_lines = []
    for tok in tokens(page):
        if tok.type == "blockquote_open":
            depth += 1
        elif tok.type == "blockquote_close":
            depth -= 1
        elif tok.type == "heading_open" and tok.tag != "h1":
            assert depth == 0  # no heading comes from a note
        elif tok.type == "inline" and "Status:" in tok.content:
            if "met" in tok.content and "stalled" not in tok.content:
                assert depth > 0, tok.content  # the note's fake line stays inside its quote
            elif depth == 0:
                own_status_lines.append(tok.content)
    assert own_status_lines == ["**Status: ⊘ stalled** since 1 March 2026."]
    assert "Body text." in plain_text(page)
    html = (out / "html/commitments/t-2.html").read_text("utf-8")
    note = html[html.index('<blockquote class="note">') :]
    assert "Status: met" in note and "Status: met" not in html[: html.index('id="notes"')]


def test_a_note_heading_is_demoted_to_a_plain_paragraph():
    kinds = [t.type for t in tokens(note_markdown("# Status: met\n\n## Also\n\ntext"))]
    assert "heading_open" not in kinds and "strong_open" not in kinds
    assert kinds.count("paragraph_open") == 3


# --- 1 and 2: the key, symbols, the caveat and the origin ----------------------------------------


def test_every_status_wears_a_symbol_beside_its_word_and_the_key_defines_it(mini, tmp_path):
    _stalled_with_evidence(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    index = (out / "README.md").read_text("utf-8")
    row_t1 = next(line for line in index.splitlines() if line.startswith("| [T-1]"))
    row_t2 = next(line for line in index.splitlines() if line.startswith("| [T-2]"))
    assert "| **◔ in progress** |" in row_t1 and "| **⊘ stalled** |" in row_t2
    symbols = [symbol for symbol, _colour in STATUS_STYLE.values()]
    assert len(set(symbols)) == len(symbols)  # one shape per status: readable in monochrome
    legend = plain_text((out / "legend.md").read_text("utf-8"))
    for text in (index, legend):
        for meaning in STATUS_MEANINGS.values():
            assert meaning in plain_text(text)
    for term in ("vision", "may", "explore", "intend", "will", "press release"):
        assert term in legend
    html = (out / "html/index.html").read_text("utf-8")
    assert '<span class="st st-stalled" aria-hidden="true">⊘</span> stalled' in html
    for page in sorted(out.rglob("*.md")):
        assert check_page(page, out) == [], page


def test_every_commitment_page_says_non_binding_origin_and_wording(mini, tmp_path):
    out = tmp_path / "exports"
    _export(mini, out)
    expected = {
        "t-0": ("a clause of the memorandum", "wording verified"),
        "t-1": ("a clause of the memorandum", "wording verified"),
        "t-2": ("a press-release undertaking", "wording reconstructed"),
    }
    for stem, (origin, basis) in expected.items():
        raw = (out / f"commitments/{stem}.md").read_text("utf-8")
        text = plain_text(raw)
        assert "Voluntary and not legally binding." in text, stem
        assert f"This commitment is {origin}; {basis}" in text, stem
        assert "](../legend.md)" in raw, stem
    index = (out / "README.md").read_text("utf-8")
    assert "| press release; wording reconstructed |" in index
    assert "| MoU clause; wording verified |" in index
    assert "](legend.md)" in (out / "changes.md").read_text("utf-8")


def test_a_commitment_page_shows_its_own_status_strip(mini, tmp_path):
    _stalled_with_evidence(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    days = (datetime.now(UTC).date() - T0.date()).days
    text = plain_text((out / "commitments/t-2.md").read_text("utf-8"))
    assert (
        "Status over time: ◌ not yet assessed from 15 January 2025 → ⊘ stalled from "
        f"1 March 2026 ({days} days to the report date)." in text
    )
    t1 = plain_text((out / "commitments/t-1.md").read_text("utf-8"))
    assert (
        "Status over time: ◌ not yet assessed from 15 January 2025 → ◔ in progress from 5 March 2025"
        in t1
    )


# --- 7: by owner, lead apart from support --------------------------------------------------------


def test_owners_are_counted_as_lead_and_as_support_apart(mini, tmp_path):
    _stalled_with_evidence(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    index = (out / "README.md").read_text("utf-8")
    table = index[index.index("### By owner") : index.index("## All commitments")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    cells = [[c.strip() for c in row.strip("|").split("|")][:3] for row in rows[1:]]
    assert cells == [
        ["Acme AI (ACME)", "lead", "1"],  # T-2
        ["Acme AI (ACME)", "support", "1"],  # T-1: supports only
        ["Department of Examples (GOV)", "lead", "1"],  # T-1
    ]
    assert "1 ⊘ stalled" in rows[1] and "1 ◔ in progress" in rows[2]


def test_an_owner_named_twice_on_one_commitment_counts_once_as_lead():
    row = CommitmentRow(
        ref="X-1",
        memorandum="m",
        section="1",
        title="t",
        theme="th",
        strength="will",
        status="stalled",
        owners=(OwnerView("GOV", "Gov", "support"), OwnerView("GOV", "Gov", "lead")),
        evidence_count=0,
        latest_evidence=None,
        last_reviewed=None,
        next_review=None,
        version=1,
        updated_at=T0,
        updated_by="x",
    )
    assert owner_counts([row]) == [("GOV", "lead", {"stalled": 1})]


# --- 6 and 8: anchors, links, accessibility ------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self.metas: list[dict[str, str | None]] = []
        self.th_text: list[str] = []
        self.hidden_bars: list[str] = []
        self._in_th = False
        self._in_bar = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "a":
            self.hrefs.append(str(a.get("href")))
        if tag == "link":
            self.links.append(a)
        if tag == "meta":
            self.metas.append(a)
        if tag == "th":
            self._in_th = True
            self.th_text.append("")
        if tag == "span" and a.get("class") == "bar":
            assert a.get("aria-hidden") == "true"
            self._in_bar = True
            self.hidden_bars.append("")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "th":
            self._in_th = False
        if tag == "span":
            self._in_bar = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_th:
            self.th_text[-1] += data
        if self._in_bar:
            self.hidden_bars[-1] += data
        elif data.strip() and set(data.strip()) <= set("█░"):
            raise AssertionError(f"a bar a screen reader would read: {data!r}")


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


def test_evidence_and_timeline_rows_have_ids_and_citations_link_to_them(mini, tmp_path):
    ev = _stalled_with_evidence(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    page = _parse(out / "html/commitments/t-2.html")
    assert f"ev-{ev}" in page.ids
    assert "t-202603011200" in page.ids  # the row of the change effective 2026-03-01 12:00 UTC
    assert f"#ev-{ev}" in page.hrefs
    assert len(page.ids) == len(set(page.ids))
    # A second export of the same database gives the same ids.
    again = tmp_path / "again"
    _export(mini, again)
    assert _parse(again / "html/commitments/t-2.html").ids == page.ids


def test_the_html_links_the_data_files_and_the_feed(mini, tmp_path):
    out = tmp_path / "exports"
    _export(mini, out)
    for rel in ("html/index.html", "html/commitments/t-1.html", "html/changes.html"):
        path = out / rel
        page = _parse(path)
        feeds = [link for link in page.links if link.get("type") == "application/atom+xml"]
        assert len(feeds) == 1 and feeds[0].get("rel") == "alternate", rel
        assert (path.parent / str(feeds[0]["href"])).resolve() == (out / "feed.xml").resolve()
    index = _parse(out / "html/index.html")
    for name in ("data/tracker.json", "data/commitments.csv", "data/status-by-date.csv"):
        assert f"../{name}" in index.hrefs, name
        assert (out / name).is_file()
    assert "../feed.xml" in index.hrefs


def test_the_html_is_usable_with_a_screen_reader(mini, tmp_path):
    out = tmp_path / "exports"
    _export(mini, out)
    for path in sorted((out / "html").rglob("*.html")):
        page = _parse(path)
        assert all(t.strip() for t in page.th_text), (path, page.th_text)
        description = [m for m in page.metas if m.get("name") == "description"]
        assert len(description) == 1 and len(str(description[0]["content"])) > 20, path
        icons = [link for link in page.links if link.get("rel") == "icon"]
        assert icons and icons[0]["href"] == "data:,", path
    index = (out / "html/index.html").read_text("utf-8")
    assert _parse(out / "html/index.html").hidden_bars
    assert re.search(r'aria-hidden="true">[█░]+</span><span class="sr">about \d+%</span>', index)


def test_phone_and_print_styles_are_in_every_page(mini, tmp_path):
    out = tmp_path / "exports"
    _export(mini, out)
    html = (out / "html/index.html").read_text("utf-8")
    assert "@media (max-width: 640px)" in html and "@media print" in html
    assert 'data-label="Status"' in html  # the label a stacked row shows on a phone
    assert MINI.is_file()


def test_user_text_that_looks_like_a_bar_or_a_symbol_stays_text(mini, tmp_path):
    run_write(
        mini,
        lambda s: service.add_evidence(
            s,
            "T-2",
            service.EvidenceInput.build(
                url="https://news.example.org/blocks",
                title="████░░░░",
                publisher="Blocks <b>Co</b>",
                published="2026-02-01",
            ),
            actor="staff",
            at=T0,
        ),
    )
    out = tmp_path / "exports"
    _export(mini, out)
    html = (out / "html/commitments/t-2.html").read_text("utf-8")
    # the title is read out as it is, not hidden as one of the report's bars
    assert ">████░░░░</a>" in html and 'class="bar"' not in html
    assert "Blocks &lt;b&gt;Co&lt;/b&gt;" in html
