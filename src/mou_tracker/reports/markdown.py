"""The only ways user text and links reach an exported Markdown page.

- :func:`escape` turns any text into Markdown that renders as exactly that text: a backslash
  before every ASCII punctuation character that Markdown (CommonMark, or GitHub's flavour) could
  read as syntax, and leading whitespace dropped so nothing becomes a code block.
- :func:`inline` is :func:`escape` for one line: newlines are folded into spaces (table cells,
  headings, list items).
- :func:`link` is the only way to write an external link, and admits only absolute ``http`` and
  ``https`` URLs; anything else is written as plain text with a warning.
- :func:`page_link` is the only way to link one exported page to another; it admits only the
  relative paths this package generates (:func:`page_path`).
- :func:`note_markdown` renders a note body (Markdown by design) through a filter that keeps
  paragraphs, lists, emphasis, code and http(s) links, and turns everything else into text.
- :func:`table` builds a table whose every row has the header's column count.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

# The ASCII punctuation that means something anywhere in a line (emphasis, code, links, raw HTML,
# entities, table cells, strikethrough, GitHub's maths). Every other punctuation character is
# inert in running text and escaped only at the start of a line, where it could open a block
# (headings, lists, quotes, rules, fences): see _escape_line. Escaping less keeps the raw
# Markdown readable and its diffs small.
_ALWAYS = frozenset("\\`*_[]<>|&~$")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAFE_PAGE = re.compile(r"^(?:\.\./)?(?:commitments/)?(?:README|[a-z0-9][a-z0-9._-]{0,80})\.md$")
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)


# str.translate does the escaping in C: tens of thousands of pages depend on it being fast.
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in _ALWAYS} | {"\t": " "})
_CONTROL_DELETE = dict.fromkeys([*range(0x00, 0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F])
_WHITESPACE = re.compile(r"\s")


def _escape_line(line: str) -> str:
    line = line.translate(_CONTROL_DELETE).strip()
    if not line:
        return ""
    first = line[0]
    if first in _ASCII_PUNCT and first not in _ALWAYS:
        text = "\\" + first + line[1:].translate(_ESCAPES)
    else:
        text = line.translate(_ESCAPES)
    if first.isdigit():
        match = _ORDERED.match(line)
        if match:  # "1. x" or "1) x" would open an ordered list
            digits = match.group(1)
            text = digits + "\\" + text[len(digits) :]
    return text


def escape(text: str | None) -> str:
    """Literal text as Markdown, line breaks kept as hard breaks (``\\`` at the end of a line)."""
    if not text:
        return ""
    lines = [
        _escape_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    # Blank lines would end the paragraph: keep them as one hard break.
    kept = [line for line in lines if line]
    return "\\\n".join(kept)


def inline(text: str | None) -> str:
    """One line of literal text (newlines folded into spaces): for table cells and headings."""
    if not text:
        return ""
    return _escape_line(" ".join(text.split()))


def is_web_url(url: str | None) -> bool:
    """An absolute http(s) URL with a host, no whitespace and no control characters."""
    if not url or _WHITESPACE.search(url) or _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


_DESTINATION = str.maketrans({ch: "\\" + ch for ch in "()<>\\`"})


def _destination(url: str) -> str:
    # Backslash escapes are allowed in a link destination; these would end or confuse it.
    return url.translate(_DESTINATION)


def link(text: str | None, url: str | None) -> str:
    """``[text](url)`` for an http(s) URL; for anything else, the text alone, flagged."""
    label = inline(text) or inline(url) or "link"
    if url is None or not is_web_url(url):
        return f"{label} (link withheld: not an http or https URL)"
    return f"[{label}]({_destination(url)})"


def bare_link(url: str | None) -> str:
    """A URL shown as itself, linked."""
    return link(url, url)


def page_name(ref: str) -> str:
    """A stable, safe file name stem for a commitment page, whatever the ref contains.

    Lower case; characters outside ``a-z 0-9 . _ -`` become ``-``; no leading dot or dash; at
    most 60 characters. When that loses information (anything but case changed, or the result
    is a name Windows reserves), a short hash of the ref is appended, so two refs never share a
    file and a ref's file never changes. Refs that differ only in case are refused by the
    export (see :func:`mou_tracker.reports.export.export`).
    """
    lowered = ref.lower()
    cleaned = re.sub(r"[^a-z0-9._-]", "-", lowered).lstrip(".-")[:60].rstrip(".")
    lossy = cleaned != lowered or not cleaned
    if not cleaned or cleaned.split(".")[0] in _WINDOWS_RESERVED:
        lossy = True
    if lossy:
        digest = hashlib.sha256(ref.encode("utf-8")).hexdigest()[:8]
        cleaned = f"{cleaned or 'commitment'}-{digest}".lstrip(".-")
    return cleaned


def page_path(ref: str, *, from_index: bool = True) -> str:
    """The relative link to a commitment's page from the index (or from another page)."""
    name = f"{page_name(ref)}.md"
    return f"commitments/{name}" if from_index else name


def page_link(text: str, path: str) -> str:
    """A link to another exported page (only the relative paths this package generates)."""
    if not _SAFE_PAGE.match(path):
        raise ValueError(f"not an exported page path: {path!r}")
    return f"[{inline(text)}]({path})"


_SAFE_FILE = re.compile(
    r"^(?:\.\./)?(?:data/[a-z0-9][a-z0-9_-]{0,40}\.(?:json|csv)|feed\.xml"
    r"|status-over-time\.svg|status-by-effective-date\.svg)$"
)


def file_link(text: str, path: str) -> str:
    """A link to a data file of the export (``data/*.json``, ``data/*.csv``, the feed, the
    chart): only the relative paths this package writes."""
    if not _SAFE_FILE.match(path):
        raise ValueError(f"not an exported data file: {path!r}")
    return f"[{inline(text)}]({path})"


def quoted(markdown_text: str) -> str:
    """Markdown inside a block quote, every line marked, so nothing in it leaves the quote."""
    return "\n".join(("> " + line).rstrip() for line in markdown_text.split("\n"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A GFM table. Cells are Markdown already (made with :func:`inline`, :func:`link`...).

    ``align`` is one letter per column (``l``, ``r``, ``c``); default left.
    """
    return table_of_cells(headers, [[cell(c) for c in row] for row in rows], align)


def table_of_cells(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """:func:`table` of cells already written as :func:`cell` writes them."""
    width = len(headers)
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    spec = (align or "l" * width).ljust(width, "l")
    lines = [
        "| " + " | ".join(h.replace("|", "\\|") for h in headers) + " |",
        "| " + " | ".join(marks[a] for a in spec) + " |",
    ]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a table row has {len(row)} cells; the header has {width}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def cell(markdown: str) -> str:
    """A table cell's Markdown on one line, with every pipe escaped (one space if empty)."""
    text = " ".join(markdown.split())
    if not text:
        return " "
    # A pipe that is not already escaped would end the cell; escaped text never has one.
    return _UNESCAPED_PIPE.sub("\\|", text) if "|" in text else text


def bar(share: float, width: int = 20) -> str:
    """A text bar that reads well in plain Markdown: ``█████░░░░░``."""
    filled = round(max(0.0, min(1.0, share)) * width)
    return "█" * filled + "░" * (width - filled)


# --- note bodies ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _note_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def note_markdown(body: str) -> str:
    """A note body (Markdown) made safe: structure and http(s) links kept, nothing else trusted.

    The body is parsed with markdown-it (CommonMark, raw HTML off) and written back from its
    tokens: paragraphs, bullet and numbered lists, block quotes, emphasis, strong, inline code
    and links (http/https only) survive; headings become plain paragraphs; images become links;
    code blocks become literal text; every piece of text is escaped as in :func:`escape`.
    """
    tokens = _note_parser().parse(body or "")
    blocks: list[tuple[tuple[int, ...], tuple[str, ...], str]] = []  # containers, prefixes, text
    prefix: list[str] = []  # per open container: "> " for a quote, spaces for a list item
    opened: list[int] = []  # an id per open container, to tell which blocks share one
    counters: list[int | None] = []
    pending: tuple[int, str] | None = (
        None  # (container index, list marker) for an item's first block
    )
    next_id = 0

    def open_container(text: str) -> None:
        nonlocal next_id
        prefix.append(text)
        opened.append(next_id)
        next_id += 1

    def close_container() -> None:
        prefix.pop()
        opened.pop()

    def emit(text: str) -> None:
        nonlocal pending
        if not text.strip():
            return
        first = list(prefix)
        if pending is not None:
            first[pending[0]] = pending[1]
            pending = None
        lines = text.split("\n")
        rest = "".join(prefix)
        body = "\n".join(["".join(first) + lines[0]] + [rest + line for line in lines[1:]])
        blocks.append((tuple(opened), tuple(prefix), body))

    for tok in tokens:
        kind = tok.type
        if kind == "bullet_list_open":
            counters.append(None)
        elif kind == "ordered_list_open":
            counters.append(int(tok.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
        elif kind == "list_item_open":
            number = counters[-1] if counters else None
            marker = "- " if number is None else f"{number}. "
            if number is not None:
                counters[-1] = number + 1
            open_container(" " * len(marker))
            pending = (len(prefix) - 1, marker)
        elif kind == "list_item_close":
            if pending is not None and pending[0] == len(prefix) - 1:
                emit("\u2014")  # an empty item keeps its place: "- —"
            close_container()
        elif kind == "blockquote_open":
            open_container("> ")
        elif kind == "blockquote_close":
            close_container()
        elif kind == "inline":
            # A heading in a note is demoted to a plain paragraph: a note cannot set a
            # heading or a bold line of its own that could pass for the page's.
            emit(_inline_tokens(tok.children or []))
        elif kind in ("code_block", "fence"):
            emit(escape(tok.content))
        elif kind == "hr":
            emit("\\* \\* \\*")
    # Blocks are kept apart by a blank line that still carries the markers of the quotes both
    # blocks are in, so a quote does not end between its paragraphs.
    lines: list[str] = []
    previous: tuple[int, ...] = ()
    for containers, prefixes, body in blocks:
        if lines:
            shared = 0
            while (
                shared < min(len(previous), len(containers))
                and previous[shared] == containers[shared]
            ):
                shared += 1
            lines.append("".join(prefixes[:shared]).rstrip())
        lines.append(body)
        previous = containers
    return "\n".join(lines)


def _inline_tokens(children: list[Any]) -> str:
    out: list[str] = []
    link_hrefs: list[str | None] = []
    link_text: list[list[str]] = []
    for child in children:
        kind = child.type
        target = link_text[-1] if link_text else out
        if kind == "text":
            target.append(_inline_text(child.content))
        elif kind == "softbreak":
            target.append("\n")
        elif kind == "hardbreak":
            target.append("\\\n")
        elif kind == "code_inline":
            target.append(_code_span(child.content))
        elif kind in ("strong_open", "strong_close"):
            target.append("**")
        elif kind in ("em_open", "em_close"):
            target.append("*")
        elif kind == "link_open":
            link_hrefs.append(child.attrGet("href"))
            link_text.append([])
        elif kind == "link_close" and link_hrefs:
            href = link_hrefs.pop()
            inner = "".join(link_text.pop()).replace("\n", " ") or "link"
            rendered = (
                f"[{inner}]({_destination(str(href))})"
                if href and is_web_url(str(href))
                else f"{inner} (link withheld: not an http or https URL)"
            )
            (link_text[-1] if link_text else out).append(rendered)
        elif kind == "image":
            src = child.attrGet("src")
            alt = _inline_text(child.content) or "image"
            target.append(
                f"[{alt}]({_destination(str(src))})" if src and is_web_url(str(src)) else alt
            )
        # html_inline cannot occur (html is off); anything else is dropped.
    text = "".join(out)
    # Inside a paragraph, a line must not start with something that opens a block.
    return "\n".join(_guard_line_start(line) for line in text.split("\n"))


def _inline_text(text: str) -> str:
    """Escape text inside a line (line starts are guarded separately)."""
    return text.translate(_CONTROL_DELETE).translate(_ESCAPES)


def _guard_line_start(line: str) -> str:
    stripped = line.lstrip()
    if not stripped:
        return ""
    # Our own syntax may start a line: an escape, emphasis, a code span, a link.
    if stripped[0] in _ASCII_PUNCT and stripped[0] not in "\\*`[":
        stripped = "\\" + stripped
    match = _ORDERED.match(stripped)
    if match:
        digits = match.group(1)
        stripped = digits + "\\" + stripped[len(digits) :]
    return stripped


def _code_span(content: str) -> str:
    content = _CONTROL.sub("", content.replace("\n", " "))
    if "``" in content:
        # A fence of three backticks at the start of a line would open a code block.
        return _inline_text(content)
    fence = "``" if "`" in content else "`"
    pad = " " if content.startswith("`") or content.endswith("`") or not content.strip() else ""
    return f"{fence}{pad}{content}{pad}{fence}"
