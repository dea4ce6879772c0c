"""rtoml reads commitments.toml fast; tomli stays the reference.

``storage/sync/read.py`` parses with rtoml and turns to tomli for a text rtoml refuses, a text
with a byte-order mark or a carriage return (where the two parsers differ), and for the wording
of any error. Whatever the parser, a sync must see the same values and refuse with the same
words: these tests hold the two paths to that.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from mou_tracker.domain.errors import InvalidInput
from mou_tracker.storage.sync import read

SHIPPED = Path(__file__).resolve().parents[2] / "commitments.toml"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rtoml refuse every text, so the reader takes tomli's path."""

    def refuse(_text: str) -> Any:
        raise ValueError("refused for the test")

    monkeypatch.setattr(read.rtoml, "loads", refuse)


def parse(text: str) -> str:
    """The parsed document's repr (zone classes included), or the refusal's words."""
    try:
        return repr(read.parse_document(text, now=NOW))
    except InvalidInput as exc:
        return f"refused: {exc}"


def test_the_shipped_file_reads_the_same_through_both_parsers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    taken: list[str] = []
    real = read.rtoml.loads
    monkeypatch.setattr(read.rtoml, "loads", lambda t: taken.append("rtoml") or real(t))
    fast = parse(text)
    # rtoml really read it, one commitment at a time (a call for the part before them)
    assert len(taken) == 1 + text.count("\n[[commitment]]\n")
    reference_only(monkeypatch)
    assert fast == parse(text)
    assert "TzInfo" not in fast  # every date-time carries the stdlib's UTC


VALID = [
    'a = """x\r\ny"""',  # CRLF inside a multi-line string: tomli makes it LF, rtoml keeps it
    "a = 1\r\nb = '''\r\nz'''\r\n",
    'a = """\nx\ny"""',
    'a = """x\\\n   y"""',
    "a = 1979-05-27T07:32:00.123+05:30",
    "a = 1979-05-27T07:32:00-00:00",
    "a = 1979-05-27T07:32Z",
    "a = 12:13",
    "a = 1e400",  # rtoml refuses what tomli reads as inf: tomli decides
    "a = 99999999999999999999999999",
    'a = "\\e\\x41\\u00e9"',
    "a = {b = 1,\n c = [1, 'x'],}",
    'a."b.c".d = 1\n[[t]]\nx = 1\n[[t]]\nx = 2',
    # Cut one commitment at a time: the pieces must mean what the whole means.
    '[[commitment]]\nref = "A"\n[[commitment]]\nref = "B"\n[[link_check]]\nurl = "u"\n',
    'schema = 1\n[[commitment]]\nref = "A"\n[[commitment.evidence]]\nurl = "u"\n'
    '[[commitment]]\nref = "B"\n[[ commitment ]]\nref = "C"\n',
    # a line [[commitment]] inside a multi-line string is text, not a table
    '[[commitment]]\nref = "A"\ns = """\n[[commitment]]\nref = "X"\n"""\n[[commitment]]\nref = "B"',
    "[[commitment]]\nref = 'A'\ns = '''\n[[commitment]]\n'''\n",
    # a table a later commitment's piece extends
    '[[commitment]]\nref = "A"\n[x]\na = 1\n[[commitment]]\nref = "B"\n[x.y]\nb = 2\n',
    '[[memorandum]]\nslug = "m"\n[[commitment]]\nref = "A"\n[[memorandum]]\nslug = "n"\n',
]
INVALID = [
    "\ufeffa = 1",  # a byte-order mark: rtoml reads it, tomli refuses it
    "a = 1\na = 2",
    "[a]\n[a]",
    'a = "\\q"',
    "a = 01",
    "a = 1979-02-30",
    "a = 1979-05-27T07:32:00+25:00",
    'a = "x\x01"',
    "a = [1,]2",
    "a = 1 b = 2",
    "a = 1\r",
    "commitment = []\n[[commitment]]\nref = 'A'\n",  # a static array may not be extended
    "[commitment]\n[[commitment]]\nref = 'A'\n",
    "[[commitment]]\n[x]\na = 1\n[[commitment]]\n[x]\nb = 1\n",  # a table defined twice
    '[[commitment]]\nref = "A"\ns = """\n[[commitment]]\nref = "B"\n',
]


def words(text: str) -> tuple[Any, ...]:
    """What ``read._load`` gives: the values' repr (zones aside), or the refusal's words."""
    try:
        data, _ = read._load(text, "f.toml")
    except InvalidInput as exc:
        return ("refused", str(exc))
    return ("read", data)


def tomli_words(text: str) -> tuple[Any, ...]:
    try:
        return ("read", tomli.loads(text))
    except tomli.TOMLDecodeError:
        return ("refused",)


@pytest.mark.parametrize("text", VALID)
def test_valid_toml_gives_tomli_values(text: str) -> None:
    expected = tomli.loads(text)
    assert words(text) == ("read", expected)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_toml_is_refused_with_tomli_words(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = words(text)
    assert fast[0] == "refused" and fast[1].startswith("f.toml")
    reference_only(monkeypatch)
    assert words(text) == fast


def test_an_error_quoting_a_date_time_is_worded_as_tomli_words_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A value of the wrong type is quoted in the error (``got ...``): a date-time in place of
    a count must be quoted with the stdlib's zone, as it was before rtoml read files."""
    text = SHIPPED.read_text(encoding="utf-8") + (
        '\n[[link_check]]\nurl = "https://www.gov.uk/"\nchecked_at = 2026-01-01T00:00:00Z\n'
        'state = "ok"\nsnapshot = "x"\nsnapshot_chars = 2026-01-01T00:00:00Z\n'
    )
    fast = parse(text)
    assert "snapshot_chars: must be a whole number" in fast
    assert "tzinfo=datetime.timezone.utc)" in fast
    reference_only(monkeypatch)
    assert parse(text) == fast


KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
SCALARS = (
    st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.dates(min_value=date(1, 1, 1))
    | st.times()
    | st.datetimes(timezones=st.none() | st.just(UTC))
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=4).flatmap(
    lambda top: (
        st.fixed_dictionaries(
            {"commitment": st.lists(st.dictionaries(KEYS, VALUES, max_size=3), max_size=3)}
        ).map(lambda commitments: {**top, **commitments})
        | st.just(top)
    )
)


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, st.booleans())
def test_any_document_tomli_w_writes_reads_the_same(doc: dict[str, Any], multiline: bool) -> None:
    text = tomli_w.dumps(doc, multiline_strings=multiline)
    expected = tomli.loads(text)
    assert words(text) == ("read", expected)


def test_zones_are_the_stdlibs_after_the_checks() -> None:
    """A Z time read by rtoml is stored with ``datetime.UTC`` (the fast evidence check and
    the database layer compare the zone by identity)."""
    doc = read.parse_document(SHIPPED.read_text(encoding="utf-8"), now=NOW)
    for commitment in doc.commitments:
        for record in commitment.get("evidence", []):
            assert record["added_at"].tzinfo is UTC
