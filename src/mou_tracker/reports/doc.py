"""One page model, two outputs: the Markdown of a page and its HTML, built together.

Parsing a generated page back with markdown-it to get its HTML costs far more than writing the
page (tens of seconds at 10,000 commitments), and it learns nothing: the generator already knows
every heading, table cell and link it wrote. A :class:`Doc` records each block twice over, as
the Markdown line(s) the page has always had and as the structure behind them; :meth:`Doc.html`
then writes the same HTML that :func:`mou_tracker.reports.html.render_page` gives for that
Markdown, with the same decorations (ids, citation links, status symbols, cell labels). What
users write as Markdown (note bodies) is still parsed and rendered by markdown-it, through the
same decoration code. ``tests/reports/test_page_model.py`` checks the two paths agree on every
page of generated and hostile corpora.

Inline content is a list of pieces: ``(TEXT, markdown, text)`` for text (``text`` is what
markdown-it reads back from ``markdown``) and ``(TAG, markdown, html)`` for markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.token import Token

from mou_tracker.reports import html as html_report
from mou_tracker.reports import markdown as md

TEXT = 0
TAG = 1
Piece = tuple[int, str, str]
Pieces = list[Piece]

_CONTROL_DELETE = md._CONTROL_DELETE
_SYMBOL = html_report._SYMBOL
_WITHHELD = " (link withheld: not an http or https URL)"


# --- pieces -----------------------------------------------------------------------------------


def lit(text: str) -> Piece:
    """Text the generator wrote, with nothing in it that Markdown reads as syntax."""
    return (TEXT, text, text)


def t(text: str | None) -> Piece:
    """User text on one line, as :func:`markdown.inline` writes it."""
    if not text:
        return (TEXT, "", "")
    return (TEXT, md.inline(text), " ".join(text.split()).translate(_CONTROL_DELETE).strip())


def lines(text: str | None) -> Pieces:
    """User text over several lines, as :func:`markdown.escape` writes it (hard breaks)."""
    if not text:
        return []
    out: Pieces = []
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in raw:
        mark = md._escape_line(line)
        if not mark:
            continue
        if out:
            out.append((TAG, "\\\n", "<br />\n"))
        out.append((TEXT, mark, line.translate(_CONTROL_DELETE).strip().replace("\t", " ")))
    return out


def strong(*inner: Piece) -> Pieces:
    return [(TAG, "**", "<strong>"), *inner, (TAG, "**", "</strong>")]


def br() -> Piece:
    """A hard line break (a backslash at the end of the line)."""
    return (TAG, "\\\n", "<br />\n")


_HREFS: dict[str, str] = {}


# A URL markdown-it leaves as it is: ASCII, a lower-case host, nothing to unescape, decode or
# percent-encode (tests/reports/test_page_model.py checks the shortcut against markdown-it).
_PLAIN_URL = re.compile(
    r"^https?://[a-z0-9.-]+(?::[0-9]+)?(?:[/?#][A-Za-z0-9/?#=+,;:@!$'*._~-]*)?$"
)


def _href(destination: str) -> str:
    """The href markdown-it writes for a link destination (unescaped, then normalised)."""
    if _PLAIN_URL.match(destination):
        return destination
    found = _HREFS.get(destination)
    if found is None:
        found = escapeHtml(html_report._renderer().normalizeLink(unescapeAll(destination)))
        if len(_HREFS) < 100_000:
            _HREFS[destination] = found
    return found


def link(text: str | None, url: str | None) -> Pieces:
    """:func:`markdown.link` as pieces: the label linked for an http(s) URL, else withheld."""
    label = t(text) if text and md.inline(text) else t(url) if url and md.inline(url) else None
    if label is None:
        label = lit("link")
    if url is None or not md.is_web_url(url):
        return [(TEXT, label[1] + _WITHHELD, label[2] + _WITHHELD)]
    dest = md._destination(url)
    return [(TAG, "[", f'<a href="{_href(dest)}">'), label, (TAG, f"]({dest})", "</a>")]


def page_link(text: str, path: str) -> Pieces:
    """:func:`markdown.page_link` as pieces; the HTML points at the page's ``.html`` twin."""
    tail = md.page_link("", path)[1:]  # checks the path; "](path)"
    try:
        href = escapeHtml(html_report.html_path(path))
    except ValueError:  # not a page markdown-it's pass would rewrite
        href = _href(path)
    return [(TAG, "[", f'<a href="{href}">'), t(text), (TAG, tail, "</a>")]


def markdown_of(pieces: Iterable[Piece]) -> str:
    return "".join(p[1] for p in pieces)


# --- the document -----------------------------------------------------------------------------


class Doc:
    """A page being built: its Markdown lines (joined with newlines, exactly as the page's
    generator always wrote them) and its blocks, for the HTML."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.blocks: list[tuple[Any, ...]] = []
        self.title = "mou-tracker report"
        self.exact = True  # False: something only markdown-it can be trusted to render

    def blank(self) -> None:
        self.out.append("")

    def heading(self, level: int, pieces: Pieces) -> None:
        self.out.append("#" * level + " " + markdown_of(pieces))
        self.blocks.append(("h", level, pieces))
        if level == 1 and self.title == "mou-tracker report":
            self.title = _raw_text(pieces).strip()

    def para(self, pieces: Pieces) -> None:
        self.out.append(markdown_of(pieces))
        self.blocks.append(("p", pieces))

    def caveat(self, pieces: Pieces) -> None:
        """A one-paragraph block quote the generator wrote."""
        self.out.append("> " + markdown_of(pieces))
        self.blocks.append(("q", pieces))

    def bullets(self, items: Sequence[Pieces]) -> None:
        """A tight list of one-line items."""
        self.out.extend("- " + markdown_of(item) for item in items)
        self.blocks.append(("ul", [[item] for item in items], "tight"))

    def loose_item(self, paragraphs: Sequence[Pieces]) -> None:
        """One item of a loose list (its paragraphs apart, a blank line after it); items in a
        row make one list."""
        for k, pieces in enumerate(paragraphs):
            if k:
                self.out.append("")
            text = markdown_of(pieces).replace("\n", "\n  ")
            self.out.append(("- " if k == 0 else "  ") + text)
        self.out.append("")
        last = self.blocks[-1] if self.blocks else None
        if last is not None and last[0] == "ul" and last[2] == "open":
            last[1].append(list(paragraphs))
        else:
            self.blocks.append(("ul", [list(paragraphs)], "open"))

    def end_list(self) -> None:
        """Close a list of loose items, so the next items start a new list."""
        if self.blocks and self.blocks[-1][0] == "ul" and self.blocks[-1][2] == "open":
            self.blocks[-1] = (*self.blocks[-1][:2], "closed")

    def table(
        self, headers: Sequence[str], rows: Sequence[Sequence[Pieces]], align: str = ""
    ) -> None:
        """A table; ``align`` as for :func:`markdown.table` (one letter per column)."""
        if len(align) > len(headers):
            raise ValueError(f"{len(align)} alignments for {len(headers)} columns")
        # Index tables repeat most cells (dates, statuses, owners, counts): each distinct
        # cell is written once.
        written: dict[tuple[Piece, ...], str] = {}
        lines: list[list[str]] = []
        for row in rows:
            line: list[str] = []
            for c in row:
                key = tuple(c)
                text = written.get(key)
                if text is None:
                    text = written[key] = md.cell("".join([p[1] for p in c]))
                line.append(text)
            lines.append(line)
        self.out.append(md.table_of_cells(headers, lines, align))
        self.blocks.append(("table", headers, rows, align))

    def markdown_lines(self, lines: Sequence[str]) -> None:
        """Lines of generated Markdown that markdown-it renders, decorated as part of this page
        (its ids, evidence numbers and sections). They must end, as they start, where no block
        of the page continues (at a blank line or the page's end), so parsing them apart gives
        what parsing the whole page would."""
        if lines:
            self.out.extend(lines)
            self.blocks.append(("lines", "\n".join(lines)))

    def quoted_markdown(self, text: str) -> None:
        """A block quote of Markdown (a note body, already made safe): markdown-it renders it."""
        quoted = md.quoted(text)
        self.out.append(quoted)
        self.blocks.append(("md", html_report._renderer().parse(quoted)))

    def rule(self) -> None:
        self.out.append("---")
        self.blocks.append(("hr",))

    def markdown(self) -> str:
        return "\n".join(self.out)

    def html(self, root: str) -> str:
        """The complete HTML document, as :func:`html.render_page` writes it for
        :meth:`markdown`."""
        ids = html_report._Ids()
        renderer = html_report._renderer()
        parsed = {
            k: renderer.parse(block[1])
            for k, block in enumerate(self.blocks)
            if block[0] == "lines"
        }
        evidence_ids = self._evidence_ids(parsed)
        body: list[str] = []
        section = ""
        description: list[str] | None = None
        for k, block in enumerate(self.blocks):
            kind = block[0]
            if kind == "h":
                _, level, pieces = block
                pieces = _trim(pieces)
                if level in (2, 3):
                    text = _raw_text(pieces)
                    body.append(
                        f'<h{level} id="{escapeHtml(ids.unique(html_report._slug(text)))}">'
                    )
                    if level == 2:
                        section = text
                else:
                    body.append(f"<h{level}>")
                body.append(_inline(pieces, evidence_ids, root, False))
                body.append(f"</h{level}>\n")
            elif kind == "p":
                if _empty(block[1]):  # a blank line, not a paragraph
                    continue
                body.append("<p>")
                body.append(_inline(_trim(block[1]), evidence_ids, root, False))
                body.append("</p>\n")
            elif kind == "q":
                pieces = _trim(block[1])
                cls = "note" if section == "Notes" else "caveat"
                body.append(f'<blockquote class="{cls}">\n<p>')
                body.append(_inline(pieces, evidence_ids, root, False))
                body.append("</p>\n</blockquote>\n")
                if description is None:  # decorated symbols are not part of the text
                    description = ["".join(_SYMBOL.sub("", run) for run in _runs(pieces))]
            elif kind == "ul":
                items = [[p for p in paragraphs if not _empty(p)] for paragraphs in block[1]]
                # Loose (paragraphs in <p>) when items or an item's paragraphs stand apart.
                loose = block[2] != "tight" and (
                    len(items) > 1 or any(len(paragraphs) > 1 for paragraphs in items)
                )
                body.append("<ul>\n")
                for paragraphs in items:
                    attr = ""
                    if section.startswith("Evidence"):
                        for pieces in paragraphs:
                            found = html_report._EVIDENCE_LABEL.search(_raw_text(_trim(pieces)))
                            if found:
                                attr = f' id="{escapeHtml(ids.unique("ev-" + found.group(1)))}"'
                                break
                    if loose:
                        body.append(f"<li{attr}>\n")
                        for pieces in paragraphs:
                            body.append("<p>")
                            body.append(_inline(_trim(pieces), evidence_ids, root, False))
                            body.append("</p>\n")
                        body.append("</li>\n")
                    else:
                        body.append(f"<li{attr}>")
                        body.append(_inline(_trim(paragraphs[0]), evidence_ids, root, False))
                        body.append("</li>\n")
                body.append("</ul>\n")
            elif kind == "table":
                _table_html(block, body, ids, evidence_ids, root, section == "Status timeline")
            elif kind == "md":
                tokens = html_report._decorate(
                    block[1], root, evidence_ids=evidence_ids, ids=ids, section=section
                )
                body.append(renderer.renderer.render(tokens, renderer.options, {}))
                if description is None:
                    description = html_report._quote_texts(tokens)
            elif kind == "lines":
                tokens = html_report._decorate(
                    parsed[k], root, evidence_ids=evidence_ids, ids=ids, section=section
                )
                body.append(renderer.renderer.render(tokens, renderer.options, {}))
                section = _last_section(tokens, section)
                if description is None and any(t.type == "blockquote_open" for t in tokens):
                    description = html_report._quote_texts(tokens)
            elif kind == "hr":
                body.append("<hr />\n")
        text = " ".join(" ".join([self.title + ".", *(description or [])]).split())
        if len(text) > 300:
            text = text[:299].rsplit(" ", 1)[0] + "…"
        return html_report.document(self.title, text, root, "".join(body))

    def _evidence_ids(self, parsed: dict[int, list[Token]]) -> set[str]:
        """The numbers the page names as "evidence #N", searched run by run as markdown-it's
        text tokens are (a NUL, which no page text holds, stands between two runs); in
        ``parsed``, the tokens of the blocks of Markdown lines, by block number."""
        texts: list[str] = []
        found: set[str] = set()
        for tokens in parsed.values():
            found |= html_report._evidence_labels(tokens)
        for block in self.blocks:
            kind = block[0]
            if kind in ("h", "p", "q"):
                _join_runs(block[-1], texts)
            elif kind == "ul":
                for paragraphs in block[1]:
                    for pieces in paragraphs:
                        _join_runs(pieces, texts)
            elif kind == "table":
                # Every cell starts a run, so no label spans two cells: each distinct
                # cell is searched once.
                seen: set[tuple[Piece, ...]] = set()
                for row in block[2]:
                    for cell in row:
                        key = tuple(cell)
                        if key not in seen:
                            seen.add(key)
                            _join_runs(cell, texts)
            elif kind == "md":
                found |= html_report._evidence_labels(block[1])
        joined = "".join(texts)
        if "evidence #" in joined:
            found.update(m.group(1) for m in html_report._EVIDENCE_LABEL.finditer(joined))
        return found


def _table_html(
    block: tuple[Any, ...],
    body: list[str],
    ids: html_report._Ids,
    evidence_ids: set[str],
    root: str,
    timeline: bool,
) -> None:
    """A table block's HTML, as markdown-it writes a GFM table and ``_decorate`` labels its
    cells (and, in the status timeline, gives each row an id)."""
    _, headers, rows, align = block
    styles = [
        f' style="text-align:{_ALIGN[a]}"' if a in _ALIGN else ""
        for a in align.ljust(len(headers), "l")
    ]
    body.append("<table>\n<thead>\n<tr>\n")
    for h, style in zip(headers, styles, strict=True):
        body.append(f"<th{style}>{_inline([lit(h)], evidence_ids, root, False)}</th>\n")
    body.append("</tr>\n</thead>\n<tbody>\n")
    labels = [
        f'{style} data-label="{escapeHtml(h)}"' for h, style in zip(headers, styles, strict=True)
    ]
    meters = [h == "Meter" for h in headers]
    # Each distinct cell of a column is made once (a cell's HTML depends only on its pieces,
    # whether it is a Meter cell and the page's evidence numbers).
    made: list[dict[tuple[Piece, ...], str]] = [{} for _ in headers]
    for row in rows:
        if timeline:
            tid = ids.unique(html_report.timeline_id(_raw_text(_trim(row[0]))))
            body.append(f'<tr id="{escapeHtml(tid)}">\n')
        else:
            body.append("<tr>\n")
        for label, meter, column, cell in zip(labels, meters, made, row, strict=True):
            key = tuple(cell)
            html = column.get(key)
            if html is None:
                inner = _inline(_trim(cell), evidence_ids, root, True, meter)
                html = column[key] = f"<td{label}>{inner}</td>\n"
            body.append(html)
        body.append("</tr>\n")
    body.append("</tbody>\n</table>\n")


_ALIGN = {"r": "right", "c": "center"}


def _last_section(tokens: list[Token], section: str) -> str:
    """The section (the last level-2 heading's text) at the end of these tokens."""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h2":
            section = html_report._text_of(tokens[i + 1])
    return section


def _join_runs(pieces: Pieces, texts: list[str]) -> None:
    texts.append("\x00")
    for kind, _mark, value in pieces:
        texts.append(value if kind == TEXT else "\x00")


def _empty(pieces: Pieces) -> bool:
    return all(kind == TEXT and not mark.strip() for kind, mark, _text in pieces)


def _raw_text(pieces: Iterable[Piece]) -> str:
    return "".join(p[2] for p in pieces if p[0] == TEXT)


def _runs(pieces: Pieces) -> list[str]:
    """The text runs markdown-it would see: the text between two pieces of markup."""
    runs: list[str] = []
    buf: list[str] = []
    for kind, _mark, value in pieces:
        if kind == TEXT:
            buf.append(value)
        elif buf:
            runs.append("".join(buf))
            buf = []
    if buf:
        runs.append("".join(buf))
    return [r for r in runs if r]


def _trim(pieces: Pieces) -> Pieces:
    """A paragraph, heading or cell loses the whitespace at its two ends."""
    if not pieces:
        return pieces
    first, last = pieces[0], pieces[-1]
    if first[0] == TEXT and first[2][:1].isspace():
        pieces = [(TEXT, first[1], first[2].lstrip()), *pieces[1:]]
    if last[0] == TEXT and last[2][-1:].isspace():
        pieces = [*pieces[:-1], (TEXT, last[1], last[2].rstrip())]
    return pieces


def _inline(
    pieces: Pieces, evidence_ids: set[str], root: str, cell: bool, meter: bool = False
) -> str:
    """Inline pieces as HTML; ``meter``: in a Meter column, where a run that is only a bar
    is drawn as :func:`html._decorate_inline` draws it."""
    out: list[str] = []
    buf: list[str] = []
    for kind, _mark, value in pieces:
        if kind == TEXT:
            buf.append(value)
            continue
        if buf:
            out.append(_run("".join(buf), evidence_ids, cell, meter))
            buf = []
        out.append(value)
    if buf:
        out.append(_run("".join(buf), evidence_ids, cell, meter))
    return "".join(out)


def _run(text: str, evidence_ids: set[str], cell: bool, meter: bool) -> str:
    if meter and html_report._BAR.match(text):
        share = round(100 * text.count("█") / len(text))
        return (
            f'<span class="bar" aria-hidden="true">{text}</span>'
            f'<span class="sr">about {share}%</span>'
        )
    return html_report.decorate_text(text, evidence_ids, cell)
