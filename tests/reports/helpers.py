"""Reading exported Markdown back as a reader's renderer would (markdown-it-py, CommonMark with
the table rule), and the checks every exported page must pass; and the export tests' cache
directory (``cache_home``)."""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

MD = MarkdownIt("commonmark", {"html": True}).enable("table")  # html on: raw HTML would show


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache directory (where the export cache lives) in the test's own directory,
    for every test of a module that imports this fixture."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def tokens(text: str) -> list[Token]:
    return MD.parse(text)


def walk(toks: list[Token]):  # type: ignore[no-untyped-def]
    for tok in toks:
        yield tok
        if tok.children:
            yield from walk(tok.children)


def plain_text(text: str) -> str:
    """Every text fragment of the page, joined: what a reader sees, without markup."""
    parts = []
    for tok in walk(tokens(text)):
        if tok.type in ("text", "code_inline"):
            parts.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif tok.type in ("paragraph_close", "th_close", "td_close", "heading_close"):
            parts.append("\n")
    return "".join(parts)


def check_page(path: Path, root: Path) -> list[str]:
    """Problems with one exported Markdown page (an empty list when it is sound)."""
    text = path.read_text(encoding="utf-8")
    problems = []
    toks = tokens(text)
    for tok in walk(toks):
        if tok.type in ("html_inline", "html_block"):
            problems.append(f"raw HTML {tok.content!r}")
        if tok.type == "link_open":
            href = str(tok.attrGet("href"))
            parts = urlsplit(href)
            if parts.scheme:
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    problems.append(f"link to {href!r}")
            else:
                target = Path(posixpath.normpath(posixpath.join(str(path.parent), href)))
                if not target.is_file() or root not in target.parents:
                    problems.append(f"relative link {href!r} to no exported page")
        if tok.type == "image":
            problems.append("image")
    # Every table row has as many cells as its header. The parser pads short rows and drops
    # extra cells, so count the cells in the raw lines of each table.
    lines = text.split("\n")
    for tok in toks:
        if tok.type == "table_open" and tok.map:
            start, end = tok.map
            widths = [raw_cells(line) for line in lines[start:end] if line.strip()]
            header = widths[0]
            for n, width in enumerate(widths[1:], start=start + 2):
                if width != header:
                    problems.append(f"line {n}: {width} cells under a {header}-column header")
    return problems


def raw_cells(line: str) -> int:
    """Cells in one raw table line: unescaped pipes, minus the outer ones."""
    pipes = 0
    escaped = False
    for ch in line.strip():
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            pipes += 1
    return pipes - 1
