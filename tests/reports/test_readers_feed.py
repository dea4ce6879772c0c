"""``feed.xml`` (issue 13, item 4): an Atom feed of recorded changes, read back with a real feed
parser (feedparser), newest first, each entry with a stable id, the page link, the reason and
the evidence; every HTML page links it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
from tests.conftest import frozen_clock

from mou_tracker.domain import service
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_REASON = 'Paused <script>alert(1)</script> ]]> & "quoted" | pipe'


def _export(engine, out: Path, **kw) -> None:
    with read(engine) as s:
        export(s, out, **kw)


def _changes(engine) -> int:
    """Evidence and a status change recorded at T0 + 1 day, and a back-dated change recorded
    at T0 + 2 days that takes effect earlier."""
    with frozen_clock(T0 + timedelta(days=1)):
        ev = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url="https://news.example.org/paused?a=1&b=2",
                    title="Plan <b>paused</b>",
                    publisher="Example News",
                    published="2026-02-20",
                    direction="against",
                ),
                actor="staff",
            ),
        )
        run_write(
            engine,
            lambda s: service.change_status(
                s, "T-2", "stalled", actor="pm", reason=HOSTILE_REASON, evidence=[ev.id]
            ),
        )
    with frozen_clock(T0 + timedelta(days=2)):
        old = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                "T-1",
                service.EvidenceInput.build(
                    url="https://news.example.org/dropped",
                    title="Pilot dropped",
                    published="2026-02-01",
                    direction="against",
                ),
                actor="staff",
            ),
        )
        run_write(
            engine,
            lambda s: service.change_status(
                s,
                "T-1",
                "not_met",
                actor="pm",
                reason="Dropped, as the February report said.",
                evidence=[old.id],
                at=T0 - timedelta(days=5),
            ),
        )
    return ev.id


def test_the_feed_parses_as_atom_with_every_required_element(mini, tmp_path):
    ev = _changes(mini)
    out = tmp_path / "exports"
    _export(mini, out)
    raw = (out / "feed.xml").read_text("utf-8")
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title.startswith("Memorandum of Understanding between Examples and Acme")
    assert parsed.feed.id.startswith("tag:mou-tracker,2025-01-15:")
    assert parsed.feed.updated and parsed.feed.author == "mou-tracker"
    entries = parsed.entries
    assert entries
    for entry in entries:
        assert entry.id.startswith("tag:mou-tracker,") and entry.title and entry.updated
        assert entry.link and (out / entry.link.split("#")[0]).is_file(), entry.link
        assert entry.author
    assert len({e.id for e in entries}) == len(entries)
    # newest first, by the time each change was recorded
    stamps = [e.updated_parsed for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    stalled = next(e for e in entries if "→ ⊘ stalled" in e.title)
    newest = next(e for e in entries if e.title == "T-1: ◔ in progress → ✗ not met")
    # recorded later, though it takes effect earlier: it comes first
    assert entries.index(newest) < entries.index(stalled)
    assert newest.updated == "2026-03-03T12:00:00Z"
    assert "takes effect 2026-02-24 12:00 UTC" in newest.content[0].value  # back-dated: said
    # the reason (escaped, never markup) and the evidence, linked
    body = stalled.content[0].value
    assert "&lt;script&gt;" in body and "<script" not in body
    assert 'href="https://news.example.org/paused?a=1&amp;b=2"' in body
    assert f"evidence #{ev}" in body
    assert stalled.link.startswith("html/commitments/t-2.html#t-")
    # the entry's anchor is a row of that page's timeline
    anchor = stalled.link.split("#")[1]
    assert f'id="{anchor}"' in (out / "html/commitments/t-2.html").read_text("utf-8")
    ElementTree.fromstring(raw.encode("utf-8"))  # well-formed XML as it stands


def test_entry_ids_and_bytes_are_stable(mini, tmp_path):
    _changes(mini)
    first, second = tmp_path / "one", tmp_path / "two"
    _export(mini, first)
    ids = [e.id for e in feedparser.parse((first / "feed.xml").read_text("utf-8")).entries]
    # A later change adds an entry; the ids of the earlier ones stay as they were.
    run_write(mini, lambda s: service.add_note(s, "T-1", "A later note.", actor="pm"))
    _export(mini, second)
    again = [e.id for e in feedparser.parse((second / "feed.xml").read_text("utf-8")).entries]
    assert again[1:] == ids and again[0] not in ids
    third = tmp_path / "three"
    _export(mini, third)
    assert (third / "feed.xml").read_bytes() == (second / "feed.xml").read_bytes()


def test_internal_notes_never_reach_the_feed(mini, tmp_path):
    run_write(
        mini,
        lambda s: service.add_note(
            s, "T-1", "CANARY-feed-41 internal", actor="pm", visibility="internal"
        ),
    )
    out = tmp_path / "exports"
    _export(mini, out)
    assert b"CANARY-feed-41" not in (out / "feed.xml").read_bytes()


def test_the_cli_export_writes_the_feed_linked_from_every_page(mini_cli_main, tmp_path):
    out = tmp_path / "cli-out"
    result = mini_cli_main("export", "--out", str(out))
    assert result.code == 0, result.err
    assert feedparser.parse((out / "feed.xml").read_text("utf-8")).version == "atom10"
    for page in sorted((out / "html").rglob("*.html")):
        text = page.read_text("utf-8")
        assert 'rel="alternate" type="application/atom+xml"' in text, page
