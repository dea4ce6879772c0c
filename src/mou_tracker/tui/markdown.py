"""Notes are Markdown; the detail pane shows them rendered, not raw (issue 18, item 8: the walk's
D14). Parsed by markdown-it-py as the exports parse them (CommonMark, raw HTML off, so HTML is
shown as the text it is), and turned into a ``rich.text.Text``: never into console markup, so
whatever a note holds is shown as written. Links show their text and, after it, the address
(http and https only are marked as links; anything else is plain text)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.style import Style
from rich.text import Text

_PARSER = MarkdownIt("commonmark", {"html": False})

STYLES = {
    "strong": Style(bold=True),
    "em": Style(italic=True),
    "s": Style(strike=True),
    "code": Style(reverse=True),
    "link": Style(underline=True),
    "url": Style(color="grey58"),
    "quote": Style(italic=True),
}


def _inline(text: Text, tokens: list[Token], base: Style) -> None:
    styles: list[Style] = [base]
    hrefs: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "text":
            text.append(token.content, style=styles[-1])
        elif kind == "code_inline":
            text.append(token.content, style=styles[-1] + STYLES["code"])
        elif kind in ("softbreak", "hardbreak"):
            text.append("\n" if kind == "hardbreak" else " ", style=styles[-1])
        elif kind.endswith("_open") and kind[:-5] in ("strong", "em", "s", "link"):
            styles.append(styles[-1] + STYLES[kind[:-5]])
            if kind == "link_open":
                hrefs.append(str(token.attrs.get("href", "")))
        elif kind.endswith("_close") and kind[:-6] in ("strong", "em", "s", "link"):
            if len(styles) > 1:
                styles.pop()
            if kind == "link_close" and hrefs:
                href = hrefs.pop()
                if href and not text.plain.endswith(href):
                    text.append(f" ({href})", style=base + STYLES["url"])
        elif kind == "image":
            text.append(f"[image: {token.content}]", style=styles[-1])
        elif token.content:
            text.append(token.content, style=styles[-1])


def markdown_text(body: str, *, indent: str = "") -> Text:
    """``body`` (Markdown) as styled text, paragraph by paragraph."""
    text = Text()
    lists: list[list[int]] = []  # per open list: [next number] or [-1] for bullets
    quote = 0
    heading = False
    prefix_next = ""
    started = False

    def begin_block() -> None:
        nonlocal started, prefix_next
        if started:
            text.append("\n")
        started = True
        lead = indent + "│ " * quote
        if prefix_next:
            lead += prefix_next
            prefix_next = ""
        elif lists:
            lead += "  " * len(lists)
        text.append(lead, style=STYLES["quote"] if quote else "")

    for token in _PARSER.parse(body):
        kind = token.type
        if kind == "bullet_list_open":
            lists.append([-1])
        elif kind == "ordered_list_open":
            lists.append([int(token.attrs.get("start", 1) or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            if lists:
                lists.pop()
        elif kind == "list_item_open" and lists:
            depth = "  " * (len(lists) - 1)
            counter = lists[-1]
            if counter[0] < 0:
                prefix_next = f"{depth}• "
            else:
                prefix_next = f"{depth}{counter[0]}. "
                counter[0] += 1
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote = max(0, quote - 1)
        elif kind == "inline":
            begin_block()
            base = Style(bold=True) if heading else Style()
            if quote:
                base += STYLES["quote"]
            _inline(text, token.children or [], base)
        elif kind in ("fence", "code_block"):
            for n, line in enumerate(token.content.rstrip("\n").split("\n")):
                begin_block() if n == 0 else text.append("\n" + indent)
                text.append("  " + line, style=STYLES["code"])
        elif kind == "hr":
            begin_block()
            text.append("────────", style="grey50")
        elif kind == "html_block" and token.content.strip():
            begin_block()
            text.append(token.content.rstrip("\n"))
    return text
