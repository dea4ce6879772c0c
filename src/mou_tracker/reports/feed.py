"""``feed.xml``: an Atom feed (RFC 4287) of the changes recorded in the tracker, newest first.

Entries are the changes a reader can see on the pages (status changes and reviews, evidence
added or corrected, targets set or moved, corrections of a commitment, public notes), ordered
and dated by when the tracker *recorded* them, so a back-dated change is news on the day it
was entered; its effective date is said in the entry. Each entry's id is built from what the
change is (memorandum, commitment, kind, both times and a hash of its content), never from a
database id, so it stays the same across a dump and restore. Links are relative to the feed,
which sits at the top of the export. User text is escaped twice over: as HTML inside the entry
content, and as XML around it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from sqlmodel import Session

from mou_tracker.domain.serialize import iso
from mou_tracker.domain.vocab import STATUS_LABELS
from mou_tracker.reports import model
from mou_tracker.reports.html import html_path, timeline_id
from mou_tracker.reports.legend import badge, first_sentence
from mou_tracker.reports.markdown import is_web_url, page_path

FEED_ENTRIES = 100
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str | None) -> str:
    return _XML_UNSAFE.sub("", text or "")


def _x(text: str | None) -> str:
    return escape(_clean(text))


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _label(status: str | None) -> str:
    return badge(status) if status in STATUS_LABELS else (status or "")


def _title(e: model.Event) -> str:
    if e.kind == "status":
        return f"{e.ref}: {_label(e.from_status)} → {_label(e.to_status)}"
    if e.kind == "review":
        return f"{e.ref}: reviewed, still {_label(e.to_status)}"
    if e.kind == "evidence":
        return f"{e.ref}: evidence added: {e.text or ''}"
    if e.kind == "correction":
        return f"{e.ref}: evidence corrected"
    if e.kind == "target":
        new = e.new_target.isoformat() if e.new_target else "—"
        if e.old_target is None:
            return f"{e.ref}: target set to {new}"
        return f"{e.ref}: target moved from {e.old_target.isoformat()} to {new}"
    if e.kind == "commitment correction":
        return f"{e.ref}: how it is recorded was corrected"
    return f"{e.ref}: public note"


def _link(url: str | None, text: str | None) -> str:
    label = html.escape(_clean(text) or _clean(url) or "link")
    if url and is_web_url(url):
        return f'<a href="{html.escape(url)}">{label}</a>'
    return label


def _content(e: model.Event) -> str:
    """The entry's body as HTML (every piece of user text escaped)."""
    parts = [f"<p><strong>{html.escape(e.ref)}</strong> {html.escape(_clean(e.title))}</p>"]
    if e.kind in ("status", "review"):
        parts.append(f"<p>Why: {html.escape(_clean(e.text))}</p>")
        if e.cited:
            items = "".join(
                f"<li>{_link(url, title)} (evidence #{eid})</li>" for eid, title, url in e.cited
            )
            parts.append(f"<p>Evidence cited:</p><ul>{items}</ul>")
    elif e.kind == "evidence":
        published = f", published {e.published.isoformat()}" if e.published else ", undated"
        parts.append(f"<p>Evidence: {_link(e.url, e.text)}{published}.</p>")
    elif e.kind == "commitment correction":
        changes = "".join(
            f"<li>{html.escape(_clean(f))}: “{html.escape(_clean(o))}” → “{html.escape(_clean(n))}”</li>"
            for f, o, n in e.changes
        )
        parts.append(f"<ul>{changes}</ul><p>Why: {html.escape(_clean(e.text))}</p>")
    elif e.kind == "correction":
        parts.append(f"<p>{_link(e.url, e.text)}</p>")
    else:
        parts.append(f"<p>{html.escape(_clean(e.text))}</p>")
    when = f"Recorded {_stamp(e.at)}"
    if e.effective is not None:
        when += f"; takes effect {_stamp(e.effective)}"
    by = f" by {html.escape(_clean(e.actor))}" if e.actor else ""
    parts.append(f"<p>{when}{by}.</p>")
    return "".join(parts)


def _entry_id(e: model.Event, memo: str, signed: str) -> str:
    content = "\x1f".join(
        [
            e.text or "",
            e.url or "",
            e.from_status or "",
            e.to_status or "",
            str(e.old_target or ""),
            str(e.new_target or ""),
            repr(e.changes),
        ]
    )
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]
    effective = iso(e.effective or e.at) or ""
    parts = [memo, e.ref, e.kind.replace(" ", "-"), effective, iso(e.at) or "", digest]
    return f"tag:mou-tracker,{signed}:" + "/".join(quote(p, safe="") for p in parts)


def atom_feed(session: Session, snap: model.Snapshot, formats: Sequence[str]) -> str:
    """The feed's text: the newest ``FEED_ENTRIES`` changes recorded up to the report date."""
    end = datetime.combine(snap.report_date + timedelta(days=1), time(0), UTC) - timedelta(
        microseconds=1
    )
    found = model.events(session, None, end, limit=FEED_ENTRIES)
    memo_of = {r.ref: r.memorandum for r in snap.rows}
    signed = {m.slug: m.signed.isoformat() for m in snap.memoranda}
    first = snap.memoranda[0] if snap.memoranda else None
    feed_signed = first.signed.isoformat() if first else "1970-01-01"
    title = (
        f"{first.title}: recorded changes"
        if first and len(snap.memoranda) == 1
        else "Tracked memoranda: recorded changes"
    )
    updated = snap.as_of or datetime.combine(
        first.signed if first else snap.report_date, time(0), UTC
    )
    html_pages = "html" in formats
    index = "html/index.html" if html_pages else "README.md"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"  <title>{_x(title)}</title>",
    ]
    if first is not None:
        out.append(f"  <subtitle>{_x(first_sentence(first.legal_status))}</subtitle>")
    out += [
        f"  <id>tag:mou-tracker,{feed_signed}:{quote(first.slug if first else 'tracker', safe='')}/feed</id>",
        f"  <updated>{iso(updated)}</updated>",
        '  <link rel="self" type="application/atom+xml" href="feed.xml"/>',
        f'  <link rel="alternate" type="text/html" href="{index}"/>',
        "  <author><name>mou-tracker</name></author>",
        "  <generator>mou-tracker</generator>",
    ]
    for e in found:
        memo = memo_of.get(e.ref, first.slug if first else "")
        page = page_path(e.ref)
        href = "html/" + html_path(page) if html_pages else page
        if html_pages and e.kind in ("status", "review"):
            href += "#" + timeline_id(_stamp(e.effective or e.at))
        out += [
            "  <entry>",
            f"    <id>{_x(_entry_id(e, memo, signed.get(memo, feed_signed)))}</id>",
            f"    <title>{_x(_title(e))}</title>",
            f"    <updated>{iso(e.at)}</updated>",
            f"    <published>{iso(e.at)}</published>",
            f'    <link rel="alternate" type="text/html" href={quoteattr(href)}/>',
            f"    <author><name>{_x(e.actor) or 'mou-tracker'}</name></author>",
            f"    <category term={quoteattr(e.kind)}/>",
            f'    <content type="html">{escape(_content(e))}</content>',
            "  </entry>",
        ]
    out.append("</feed>")
    return "\n".join(out) + "\n"
