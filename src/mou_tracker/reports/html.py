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

RENDERER = "markdown-it-commonmark-table/1"

STYLE = """
:root { color-scheme: light dark; --fg: #1b1f23; --bg: #fff; --muted: #57606a; --line: #d0d7de;
  --link: #0a58ca; --band: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3;
  --line: #30363d; --link: #6cb6ff; --band: #161b22; } }
html { background: var(--bg); color: var(--fg); }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .6rem; }
a { color: var(--link); overflow-wrap: anywhere; }
blockquote { margin: 1rem 0; padding: .6rem 1rem; border-left: 4px solid #bf8700; background: var(--band); }
blockquote p { margin: .3rem 0; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .93rem; display: block;
  overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; vertical-align: top; text-align: left; }
th { background: var(--band); }
td:first-child { white-space: nowrap; }
td[style*="right"], th[style*="right"] { text-align: right; font-variant-numeric: tabular-nums; }
ul { padding-left: 1.3rem; }
li { margin: .35rem 0; }
li p { margin: .25rem 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
hr { border: 0; border-top: 1px solid var(--line); margin: 2rem 0 1rem; }
footer, .muted { color: var(--muted); font-size: .9rem; }
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
    """A complete HTML document for one exported Markdown page."""
    md = _renderer()
    tokens = md.parse(markdown_text)
    title = "mou-tracker report"
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1":
            title = "".join(
                child.content
                for child in (tokens[i + 1].children or [])
                if child.type in ("text", "code_inline")
            )
            break
    for tok in tokens:
        for child in tok.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if _PAGE_LINK.match(href):
                    child.attrSet("href", html_path(href))
    body = md.renderer.render(tokens, md.options, {})
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="mou-tracker">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
