"""Standalone HTML pages rendered from the exported Markdown with markdown-it-py.

CommonMark with raw HTML off and the table rule on, so whatever the Markdown holds, the HTML has
no markup that did not come from the renderer. Links between exported pages (``*.md``) are
pointed at their ``.html`` twins; every other link is already http(s) (see ``markdown.link``).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from mou_tracker.reports.legend import SYMBOL_CLASSES

RENDERER = "markdown-it-commonmark-table/2"

STYLE = """
:root { color-scheme: light dark; --fg: #1b1f23; --bg: #fff; --muted: #57606a; --line: #d0d7de;
  --link: #0a58ca; --band: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3;
  --line: #30363d; --link: #6cb6ff; --band: #161b22; } }
html { background: var(--bg); color: var(--fg); }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; overflow-wrap: break-word; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .6rem; }
a { color: var(--link); overflow-wrap: anywhere; }
blockquote { margin: 1rem 0; padding: .6rem 1rem; border-left: 4px solid #bf8700; background: var(--band); }
blockquote p { margin: .3rem 0; }
blockquote.note { border-left-color: var(--line); background: transparent; font-style: normal; }
blockquote.note strong { font-weight: 600; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .93rem; display: block;
  overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; vertical-align: top; text-align: left;
  overflow-wrap: break-word; }
th { background: var(--band); }
td:first-child { white-space: nowrap; }
td[style*="right"], th[style*="right"] { text-align: right; font-variant-numeric: tabular-nums; }
tr:target, li:target { outline: 2px solid var(--link); outline-offset: 2px; }
ul { padding-left: 1.3rem; }
li { margin: .35rem 0; }
li p { margin: .25rem 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
hr { border: 0; border-top: 1px solid var(--line); margin: 2rem 0 1rem; }
footer, .muted { color: var(--muted); font-size: .9rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
.st { font-weight: 700; }
.st-met { color: #009e73; } .st-partially_met { color: #56b4e9; } .st-in_progress { color: #0072b2; }
.st-stalled { color: #e69f00; } .st-not_met { color: #d55e00; } .st-not_started { color: #8a8a8a; }
.st-not_assessed { color: #b0b0b0; }
.nw { white-space: nowrap; }
.bar { color: var(--muted); letter-spacing: -1px; white-space: nowrap; }
.sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
@media (max-width: 640px) {
  body { padding: 1rem .8rem 3rem; }
  table { display: block; overflow: visible; border: 0; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tbody, tr, td { display: block; }
  tr { border: 1px solid var(--line); margin: 0 0 .7rem; padding: .2rem 0; }
  td, td:first-child { border: 0; padding: .15rem .6rem; white-space: normal; text-align: left; }
  td[style*="right"] { text-align: left !important; }
  td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  td[data-label=""]::before { content: none; }
  td:first-child { font-weight: 600; }
}
@media print {
  :root { --fg: #000; --bg: #fff; --muted: #333; --line: #999; --link: #000; --band: #eee; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  table { display: table; overflow: visible; width: 100%; table-layout: auto; font-size: 8.5pt; }
  th, td { padding: .15rem .3rem; }
  tr, li, blockquote, figure { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .bar { color: #000; }
}
""".strip()

_PAGE_LINK = re.compile(r"^((?:\.\./)?(?:commitments/)?)(README|[a-z0-9][a-z0-9._-]*)\.md$")


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def html_path(md_path: str) -> str:
    """Where the HTML twin of an exported Markdown page goes, under ``html/``."""
    match = _PAGE_LINK.match(md_path)
    if not match:
        raise ValueError(f"not an exported page: {md_path!r}")
    prefix, stem = match.groups()
    return f"{prefix}{'index' if stem == 'README' else stem}.html"


def render_page(markdown_text: str) -> str:
    """A complete HTML document for one exported Markdown page.

    What the Markdown cannot say is added here, from the tokens and never from user text as
    markup: ids on headings, evidence items and timeline rows; links from citations such as
    "(#30)" to the evidence item; the colour of each status symbol; bars hidden from screen
    readers with their share as text; a label on every table cell for the stacked layout on
    phones; the chart as an image; and, in the head, a description, the feed and an empty
    icon (so no browser asks for a missing favicon).
    """
    md = _renderer()
    tokens = md.parse(markdown_text)
    title = "mou-tracker report"
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1":
            title = _text_of(tokens[i + 1])
            break
    # A commitment page sits one directory deeper (html/commitments/) and is the only kind
    # that links to the index as ../README.md.
    root = "../../" if "](../README.md)" in markdown_text else "../"
    tokens = _decorate(tokens, root)
    body = md.renderer.render(tokens, md.options, {})
    return document(title, _description(tokens, title), root, body)


def document(title: str, description: str, root: str, body: str) -> str:
    """The HTML document around a rendered page body (shared with the page model's path)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="mou-tracker">\n'
        f'<meta name="description" content="{html.escape(description)}">\n'
        '<link rel="icon" href="data:,">\n'
        '<link rel="alternate" type="application/atom+xml" title="Recorded changes (Atom)" '
        f'href="{root}feed.xml">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


_SYMBOL = re.compile("([" + "".join(SYMBOL_CLASSES) + "])(?= )")
_CITATION = re.compile(r"\(#(\d+)\)")
_EVIDENCE_LABEL = re.compile(r"\bevidence #(\d+)\b")
_BAR = re.compile(r"^[█░]+$")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_DATA_FILE = re.compile(
    r"^(?:\.\./)?(?:data/[^/]+|feed\.xml|status-over-time\.svg|status-by-effective-date\.svg)$"
)
CHART_FILE = "status-over-time.svg"
CHART_FILES = (CHART_FILE, "status-by-effective-date.svg")  # drawn as a figure in the HTML


def _text_of(tok: Token) -> str:
    return "".join(
        child.content for child in (tok.children or []) if child.type in ("text", "code_inline")
    )


def _slug(text: str) -> str:
    text = re.sub(r"\s*\(\d+\)$", "", text)  # "Evidence (16)": the count is not part of the name
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def timeline_id(cell_text: str) -> str:
    """The id of a timeline row, from the effective time that starts its first cell
    (``2026-04-09 17:00 UTC`` gives ``t-202604091700``): it does not move when rows are added."""
    return "t-" + re.sub(r"\D", "", cell_text[:16])


def _html(content: str) -> Token:
    return Token("html_inline", "", 0, content=content)


class _Ids:
    """The ids given out on one page: a repeat gets ``-2``, ``-3``... in page order."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.used:
            n += 1
            candidate = f"{name}-{n}"
        self.used.add(candidate)
        return candidate


def _evidence_labels(tokens: list[Token]) -> set[str]:
    """The evidence numbers a page names as "evidence #N" (its citations may link to them)."""
    return {
        match.group(1)
        for tok in tokens
        if tok.type == "inline"
        for child in tok.children or ()
        if child.type == "text"
        for match in _EVIDENCE_LABEL.finditer(child.content)
    }


def _decorate(
    tokens: list[Token],
    root: str,
    *,
    evidence_ids: set[str] | None = None,
    ids: _Ids | None = None,
    section: str = "",
) -> list[Token]:
    """Decorate a page's tokens (or, from the page model, one quoted note's, with the page's
    evidence numbers, ids given so far and current section)."""
    if evidence_ids is None:
        evidence_ids = _evidence_labels(tokens)
    unique = (ids or _Ids()).unique

    out: list[Token] = []
    headers: list[str] = []
    in_head = False
    column = 0
    header = ""  # the header of the cell being read
    row: Token | None = None
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind == "heading_open" and tok.tag in ("h2", "h3"):
            text = _text_of(tokens[i + 1])
            tok.attrSet("id", unique(_slug(text)))
            if tok.tag == "h2":
                section = text
        elif kind == "thead_open":
            in_head, headers = True, []
        elif kind == "thead_close":
            in_head = False
        elif kind == "th_open":
            headers.append(_text_of(tokens[i + 1]))
        elif kind == "tr_open":
            column = 0
            row = tok if not in_head and section == "Status timeline" else None
        elif kind == "td_open":
            header = headers[column] if column < len(headers) else ""
            tok.attrSet("data-label", header)
            if column == 0 and row is not None:
                row.attrSet("id", unique(timeline_id(_text_of(tokens[i + 1]))))
            column += 1
        elif kind == "list_item_open" and section.startswith("Evidence"):
            depth = 0
            for later in tokens[i + 1 :]:
                if later.type == "list_item_open":
                    depth += 1
                elif later.type == "list_item_close":
                    if depth == 0:
                        break
                    depth -= 1
                elif later.type == "inline" and depth == 0:
                    match = _EVIDENCE_LABEL.search(_text_of(later))
                    if match:
                        tok.attrSet("id", unique(f"ev-{match.group(1)}"))
                        break
        elif kind == "blockquote_open":
            tok.attrSet("class", "note" if section == "Notes" else "caveat")
        elif kind == "paragraph_open" and _chart_of(tokens[i + 1]):
            alt = _text_of(tokens[i + 1]) or "Chart"
            chart_file = _chart_of(tokens[i + 1])
            out.append(
                Token(
                    "html_block",
                    "",
                    0,
                    content=(
                        f'<figure><img src="{root}{chart_file}" alt="{html.escape(alt)}" '
                        'width="760" height="330"></figure>\n'
                    ),
                )
            )
        elif kind == "td_close":
            header = ""
        elif kind == "inline":
            meter = header == "Meter"  # only the bars the report draws, never user text
            tok.children = _decorate_inline(
                tok.children or [], evidence_ids, root, meter, cell=bool(header)
            )
        out.append(tok)
    return out


def _chart_of(tok: Token) -> str:
    """The chart a paragraph holding only a link to one of the charts links to, else ``""``."""
    children = tok.children or []
    if tok.type != "inline" or len(children) != 3 or children[0].type != "link_open":
        return ""
    href = str(children[0].attrGet("href") or "")
    return next((name for name in CHART_FILES if href.endswith(name)), "")


def _decorate_inline(
    children: list[Token],
    evidence_ids: set[str],
    root: str,
    meter: bool = False,
    cell: bool = False,
) -> list[Token]:
    out: list[Token] = []
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            if _PAGE_LINK.match(href):
                child.attrSet("href", html_path(href))
            elif _DATA_FILE.match(href):  # data files sit beside html/, one level up
                child.attrSet("href", "../" + href)
            out.append(child)
            continue
        if child.type != "text":
            out.append(child)
            continue
        text = child.content
        if meter and _BAR.match(text):
            share = round(100 * text.count("█") / len(text))
            out.append(
                _html(
                    f'<span class="bar" aria-hidden="true">{text}</span>'
                    f'<span class="sr">about {share}%</span>'
                )
            )
            continue
        position = 0
        for match in re.finditer(f"{_SYMBOL.pattern}|{_CITATION.pattern}|({_DATE.pattern})", text):
            symbol, cited, day = match.group(1), match.group(2), match.group(3)
            if cited is not None and cited not in evidence_ids:
                continue
            if day is not None and not cell:  # a date breaks only in a narrow table cell
                continue
            if match.start() > position:
                out.append(Token("text", "", 0, content=text[position : match.start()]))
            if day is not None:  # never "2026-10-" above "04"
                out.append(_html(f'<span class="nw">{day}</span>'))
            elif symbol is not None:
                out.append(
                    _html(
                        f'<span class="st st-{SYMBOL_CLASSES[symbol]}" aria-hidden="true">'
                        f"{symbol}</span>"
                    )
                )
            else:
                out.append(Token("text", "", 0, content="("))
                out.append(Token("link_open", "a", 1, attrs={"href": f"#ev-{cited}"}))
                out.append(Token("text", "", 0, content=f"#{cited}"))
                out.append(Token("link_close", "a", -1))
                out.append(Token("text", "", 0, content=")"))
            position = match.end()
        if position < len(text):
            out.append(Token("text", "", 0, content=text[position:]) if position else child)
    return out


def _quote_texts(tokens: list[Token]) -> list[str]:
    """The text of each paragraph of the first block quote."""
    quote: list[str] = []
    inside = False
    for tok in tokens:
        if tok.type == "blockquote_open":
            inside = True
        elif tok.type == "blockquote_close" and quote:
            break
        elif inside and tok.type == "inline":
            quote.append(_text_of(tok))
    return quote


def _description(tokens: list[Token], title: str) -> str:
    """The page's title and the first quoted block (the legal caveat), at most 300 characters."""
    text = " ".join(" ".join([title + ".", *_quote_texts(tokens)]).split())
    if len(text) > 300:
        text = text[:299].rsplit(" ", 1)[0] + "…"
    return text


_DECORATIONS = re.compile(f"{_SYMBOL.pattern}|{_CITATION.pattern}|({_DATE.pattern})")


_MAY_DECORATE = re.compile(r"[" + "".join(SYMBOL_CLASSES) + r"]|\(#|\d-\d")


def decorate_text(text: str, evidence_ids: set[str], cell: bool) -> str:
    """One run of text as HTML, decorated as :func:`_decorate_inline` decorates a text token
    (status symbols, citations of evidence on the page, dates kept whole in table cells):
    what the page model writes where markdown-it would render those tokens."""
    if not _MAY_DECORATE.search(text):
        return escapeHtml(text)
    out: list[str] = []
    position = 0
    for match in _DECORATIONS.finditer(text):
        symbol, cited, day = match.group(1), match.group(2), match.group(3)
        if cited is not None and cited not in evidence_ids:
            continue
        if day is not None and not cell:
            continue
        if match.start() > position:
            out.append(escapeHtml(text[position : match.start()]))
        if day is not None:
            out.append(f'<span class="nw">{day}</span>')
        elif symbol is not None:
            out.append(
                f'<span class="st st-{SYMBOL_CLASSES[symbol]}" aria-hidden="true">{symbol}</span>'
            )
        else:
            out.append(f'(<a href="#ev-{cited}">#{cited}</a>)')
        position = match.end()
    if position < len(text):
        out.append(escapeHtml(text[position:]))
    return "".join(out)
