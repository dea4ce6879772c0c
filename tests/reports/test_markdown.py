"""The one escape function, the one link function and the note filter, checked by parsing their
output back with markdown-it-py, on hostile examples and on hypothesis-generated text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reports.helpers import plain_text, tokens, walk

from mou_tracker.reports.markdown import (
    escape,
    inline,
    link,
    note_markdown,
    page_link,
    page_name,
    table,
)

HOSTILE = [
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    "a | b | c",
    "# heading at line start",
    "line one\nline two\n\n- not a list",
    "`code` and ``double`` backticks",
    "[/] [bold]x[/bold] Fund [/] [bold]x",
    "1. not a numbered item",
    "> not a quote",
    "---",
    "===",
    "    indented four spaces",
    "&amp; &lt;b&gt; entity",
    "**not bold** _not em_ ~~not struck~~ $x^2$",
    "<https://example.org/autolink>",
    "![img](https://example.org/x.png)",
    "trailing backslash \\",
    "[ref]: https://example.org/definition",
    "a | b\n--- | ---\nc | d",
    "x" * 10_000,
]

# Text built from the characters Markdown cares about, plus letters, spaces and newlines.
MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("\\`*_[]()<>|#!-+.=:&;~$\"' \n\tab1"))
    | st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cf")),
    max_size=200,
)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _no_markup(markdown: str) -> None:
    for tok in walk(tokens(markdown)):
        assert tok.type not in ("html_inline", "html_block", "image", "code_block", "fence")
        assert tok.type not in ("link_open", "em_open", "strong_open", "code_inline"), tok.type
        assert tok.type not in ("heading_open", "bullet_list_open", "ordered_list_open")
        assert tok.type not in ("blockquote_open", "hr", "table_open")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_comes_back_literally(text):
    rendered = escape(text)
    _no_markup(rendered)
    assert _norm(plain_text(rendered)) == _norm(text)
    one_line = inline(text)
    assert "\n" not in one_line
    _no_markup(one_line)
    assert _norm(plain_text(one_line)) == _norm(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
def test_any_text_comes_back_literally(text):
    rendered = escape(text)
    _no_markup(rendered)
    assert _norm(plain_text(rendered)) == _norm(text.replace("\x00", ""))


@settings(max_examples=200)
@given(MARKDOWNISH)
def test_any_text_in_a_table_cell_stays_in_its_cell(text):
    md = table(["A", "B", "C"], [["left", inline(text), "right"]])
    toks = tokens(md)
    cells = [t for t in walk(toks) if t.type == "inline"]
    assert len(cells) == 6  # three headers, three cells: nothing leaked into a new cell
    assert cells[3].content == "left" and cells[5].content == "right"
    assert _norm(plain_text(md)).endswith(f"{_norm(text)} right".strip()) or not _norm(text)
    _no_markup_except_table(md)


def _no_markup_except_table(markdown: str) -> None:
    for tok in walk(tokens(markdown)):
        assert tok.type not in ("html_inline", "link_open", "em_open", "strong_open", "code_inline")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "//example.org/no-scheme",
        "example.org",
        "https://exa mple.org/space",
        "https:///no-host",
        "vbscript:msgbox",
        "",
        None,
    ],
)
def test_link_admits_only_http_and_https(url):
    md = link("Title", url)
    assert not [t for t in walk(tokens(md)) if t.type == "link_open"]
    assert "link withheld" in md


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a_(b)",
        "https://example.org/path?q=1&r=<2>",
        "http://example.org/`tick`",
        "https://example.org/back\\slash",
    ],
)
def test_link_keeps_awkward_but_valid_urls_whole(url):
    md = link("Title [with] brackets", url)
    links = [t for t in walk(tokens(md)) if t.type == "link_open"]
    assert len(links) == 1
    from mdurl import decode

    assert decode(str(links[0].attrGet("href"))) == decode(url)
    assert plain_text(md).strip() == "Title [with] brackets"


def test_page_links_admit_only_generated_paths():
    assert page_link("OAI-2.1", "commitments/oai-2.1.md") == "[OAI-2.1](commitments/oai-2.1.md)"
    for bad in (
        "javascript:alert(1)",
        "../../etc/passwd",
        "https://x.org/a.md",
        "commitments/A.md",
    ):
        with pytest.raises(ValueError):
            page_link("x", bad)


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=60))
def test_page_names_are_safe_and_stable_whatever_the_ref(ref):
    name = page_name(ref)
    assert name == page_name(ref)
    assert name and len(name) <= 70
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789._-" for c in name)
    assert not name.startswith((".", "-"))
    assert name.split(".")[0] not in ("con", "prn", "aux", "nul", "com1", "lpt1")


def test_page_names_of_real_refs_are_readable_and_distinct():
    refs = ["OAI-0", "OAI-1.1", "OAI-2.1", "OAI-C.1", "OAI-P1", "T_1", "a..b"]
    names = [page_name(r) for r in refs]
    assert names[:5] == ["oai-0", "oai-1.1", "oai-2.1", "oai-c.1", "oai-p1"]
    assert len(set(names)) == len(names)
    assert page_name("CON") != "con" and page_name("../x") != page_name("x")


NOTE_HOSTILE = [
    "**Bold** and *em* and `code` and [a link](https://example.org/ok)",
    "[bad](javascript:alert(1)) and <script>alert(1)</script> and <b>raw</b>",
    "# A heading\n\nText\n\n- item one\n- item two\n\n> quoted\n>\n> more",
    "![image](https://example.org/x.png) ![bad](javascript:x)",
    "```\ncode block with <b>html</b> and [x](javascript:y)\n```",
    "1. one\n2. two\n   continued\n\n---\n\nafter rule",
    "text with a | pipe and \\ backslash and & ampersand",
]


@pytest.mark.parametrize("body", NOTE_HOSTILE + HOSTILE)
def test_notes_keep_structure_but_nothing_unsafe(body):
    md = note_markdown(body)
    for tok in walk(tokens(md)):
        assert tok.type not in ("html_inline", "html_block", "image")
        if tok.type == "link_open":
            assert str(tok.attrGet("href")).startswith(("http://", "https://"))
    text = plain_text(md)
    if "<script>" in body:
        assert "<script>" in text  # shown, not run
    if "javascript:" in body:
        assert "javascript:" not in "".join(
            str(t.attrGet("href")) for t in walk(tokens(md)) if t.type == "link_open"
        )


def test_notes_keep_emphasis_links_and_lists():
    md = note_markdown(NOTE_HOSTILE[0] + "\n\n- a\n- b")
    kinds = {t.type for t in walk(tokens(md))}
    assert {"strong_open", "em_open", "code_inline", "link_open", "bullet_list_open"} <= kinds


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
def test_any_note_renders_without_raw_html_or_unsafe_links(body):
    md = note_markdown(body)
    for tok in walk(tokens(md)):
        assert tok.type not in ("html_inline", "html_block", "image")
        if tok.type == "link_open":
            assert str(tok.attrGet("href")).startswith(("http://", "https://"))
