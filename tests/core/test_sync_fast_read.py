"""The one-pass read of a plain evidence record agrees with the general path.

``storage/sync/plain.py`` checks an evidence record of the common shape in one function and
leaves anything else to the column checks of ``_EvidenceReader``. For any list of records,
the fast read must give what the general path gives: the same records, or the same refusal
(file, line, field and words).
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import rtoml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.storage.sync import plain as plain_module
from mou_tracker.storage.sync import records
from mou_tracker.storage.sync.checks import _Checker
from mou_tracker.storage.sync.common import (
    EVIDENCE_FIELDS,
    EVIDENCE_HASH_KEYS,
    _fields_hash,
    _hash,
    collector_paused,
)

NOW = datetime(2026, 4, 9, 12, 0, tzinfo=UTC)
AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TEXT = 'schema = 1\n\n[[commitment]]\nref = "A"\n\n[[commitment.evidence]]\nurl = "x"\n'

BASE: dict[str, Any] = {
    "url": "https://news.example.org/a/1",
    "title": "A title",
    "publisher": "Example News",
    "published": date(2026, 1, 2),
    "kind": "news_report",
    "direction": "progress",
    "confidence": "secondary",
    "summary": "Shows it.",
    "archived_url": "https://web.archive.example.org/a/1",
    "added_by": "a.khan",
    "added_at": AT,
}
ABSENT = object()
LONG = "x" * 2001
# For each key, values of the common shape and values that are not (each must end the same
# way on both paths); ABSENT leaves the key out.
CHOICES: dict[str, list[Any]] = {
    "url": [
        "https://news.example.org/a/2",
        "https://news.example.org/a/2/",  # the same page as .../a/2
        "https://news.example.org/a/2#top",
        "HTTPS://News.example.org/a/3",
        "https://news.example.org:443/a/4",
        " https://news.example.org/a/5 ",
        "ftp://news.example.org/a",
        "https://" + LONG,
        "",
        5,
        ABSENT,
    ],
    "title": ["Another", "  padded  ", "", " ", "two\nlines", "caf\u00e9", "t\tab", "x" * 301, 3],
    "publisher": [ABSENT, "", "  ", "P\u00e9", "x" * 201, "x" * 200, ["P"]],
    "published": [
        ABSENT,
        date(2026, 4, 10),  # begun in UTC+14
        date(2026, 4, 11),  # not yet begun anywhere
        date(1899, 12, 31),
        datetime(2026, 1, 2, tzinfo=UTC),
        "2026-01-02",
    ],
    "kind": ["announcement", "", "News_report", " news_report ", "rumour", 1, ABSENT],
    "direction": ["against", "context", "", " context", None, ABSENT],
    "confidence": ["primary", "unverified", "withdrawn", "", "PRIMARY", ABSENT],
    "summary": [ABSENT, "", "multi\nline", "x" * 501, "\u200dzwj"],
    "archived_url": [ABSENT, "", "https://Example.org/x", "not a url", "https://u@e.org/x"],
    "added_by": ["b.jones", "", " padded ", "x" * 101, None, ABSENT],
    "added_at": [
        AT.astimezone(timezone(timedelta(hours=1))),
        rtoml.loads("at = 2026-01-05T09:30:00Z")["at"],  # UTC in rtoml's own zone class
        rtoml.loads("at = 2026-01-05T09:30:00+02:00")["at"],
        datetime(2026, 1, 5, 9, 30),  # naive
        NOW + timedelta(minutes=6),
        NOW + timedelta(minutes=4),
        datetime(1899, 12, 31, tzinfo=UTC),
        date(2026, 1, 5),
        "2026-01-05T09:30:00Z",
    ],
    "id": [1, 2, 0, 2**31, True, "3"],
    "recorded_at": [AT, AT + timedelta(days=1), AT - timedelta(days=1), "x"],
    "revision": [
        [],
        [{"at": AT, "by": "a.khan", "reason": "typo", "changes": []}],
        [{"at": AT, "by": "", "reason": "typo", "changes": []}],
        "x",
    ],
    "bogus": ["x"],
}


@st.composite
def evidence(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([[], "x", 3, None]))
    item = dict(BASE)
    for key in draw(st.lists(st.sampled_from(sorted(CHOICES)), max_size=3, unique=True)):
        value = draw(st.sampled_from(CHOICES[key]))
        if value is ABSENT:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def read(items: list[Any], fast: bool) -> Any:
    """What ``_EvidenceReader.read`` gives for one commitment's ``items``: the records, or the
    refusal's text; ``fast=False`` turns the one-pass read off."""
    reader = records._EvidenceReader(_Checker(TEXT, "commitments.toml", NOW))
    original = records.plain_evidence
    if not fast:
        records.plain_evidence = lambda *_args: None
    try:
        return reader.read({"evidence": items}, ("commitment", 0), "commitment[A]")
    except InvalidInput as exc:
        return str(exc)
    finally:
        records.plain_evidence = original


@settings(max_examples=600, deadline=None)
@given(st.lists(evidence(), max_size=3))
def test_fast_read_agrees_with_the_general_path(items: list[Any]) -> None:
    # repr, not ==: equal date-times in different zone classes compare equal, and the records
    # must carry the same (stdlib UTC) zone either way.
    assert repr(read(items, fast=True)) == repr(read(items, fast=False))


def test_fast_read_is_taken_for_a_plain_record() -> None:
    """A plain record really takes the one pass (else it is dead code), and one that is not
    plain does not."""
    args = (records.EVIDENCE_KEYS, records.EVIDENCE_REQUIRED, date(2026, 4, 10), NOW)
    record, page = plain_module.plain_evidence(dict(BASE), *args) or ({}, "")
    assert record["url"] == BASE["url"] and page == v.same_page(BASE["url"])
    assert list(record) == [*records.EVIDENCE_COLUMNS, "added_by", "added_at", "recorded_at",
                            "revisions", "id"]  # fmt: skip
    assert plain_module.plain_evidence({**BASE, "title": "two\nlines"}, *args) is None
    assert read([BASE], fast=True) == read([BASE], fast=False)


SPECIAL = st.sampled_from("a \u00e9\n\t\r\x00\x7f\u200d\u200b\u00a0\u2028\ufeff")


@given(st.text(SPECIAL | st.characters(codec="utf-8"), max_size=12), st.booleans())
@example("two\nlines", False)
@example("tab\tbed", False)
@example("tab\tbed\n", True)
@example("nul\x00", True)
@example("zwj\u200d", False)
def test_text_shortcut_agrees_with_the_character_loop(text: str, multiline: bool) -> None:
    """``validate._check_characters`` answers printable text at once; any other text is
    refused (or not) as the loop over its characters decides."""

    def loop() -> str | None:
        for ch in text:
            if ch in "\n\t" and multiline:
                continue
            if ch == "\n":
                return "line"
            if v.unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
                return "control"
        return None

    try:
        v._check_characters(text, "f", multiline)
        got = None
    except InvalidInput as exc:
        got = "line" if "one line" in exc.problem else "control"
    assert got == loop()


def test_collector_paused_restores_the_collector() -> None:
    seen = []

    @collector_paused
    def work(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("x")

    assert gc.isenabled()
    work(False)
    with pytest.raises(ValueError):
        work(True)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        work(False)
        assert not gc.isenabled()  # left as the caller set it
    finally:
        gc.enable()


VALUE = (
    st.none() | st.text(max_size=12) | st.dates() | st.integers() | st.lists(st.text(), max_size=2)
)


@given(st.fixed_dictionaries({k: VALUE for k in EVIDENCE_FIELDS}, optional={"url": st.text()}))
def test_fields_hash_is_the_hash(record: dict[str, object]) -> None:
    """``_fields_hash`` of a record's evidence fields gives the bytes of ``_hash`` of those
    fields alone (a changed hash would make every synced row look changed)."""
    expected = _hash({k: record[k] for k in EVIDENCE_FIELDS})
    assert _fields_hash(record, EVIDENCE_HASH_KEYS) == expected
