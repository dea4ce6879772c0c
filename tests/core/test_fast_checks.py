"""The fast paths of the checks agree with the general ones.

``validate.url`` and ``validate.same_page`` decide the common shape of a URL with one regular
expression (``_PLAIN_URL``) and leave everything else to urlsplit. For any text, the fast
answer must be the general answer: the same clean URL, or the same refusal.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput

LABEL = st.text("abcxyz019-_", min_size=1, max_size=6)
REST = st.text("/?#=&%.:@[]\\~!-_aZ09 \t", max_size=20)
SCHEME = st.sampled_from(["http", "https", "HTTP", "ftp", "", "https:"])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    host = ".".join(draw(st.lists(LABEL, min_size=1, max_size=3)))
    port = draw(st.sampled_from(["", ":443", ":80", ":8080", ":x"]))
    user = draw(st.sampled_from(["", "u@", "u:p@"]))
    return f"{draw(SCHEME)}://{user}{host}{port}{draw(REST)}"


def general_url(text: object) -> str | InvalidInput | None:
    try:
        return v._url(text, "url", required=True)
    except InvalidInput as exc:
        return exc


def fast_url(text: object) -> str | InvalidInput | None:
    try:
        return v.url(text, "url")
    except InvalidInput as exc:
        return exc


def same(a: object, b: object) -> bool:
    if isinstance(a, InvalidInput) and isinstance(b, InvalidInput):
        return str(a) == str(b)
    return a == b


@given(addresses() | st.text(max_size=30))
def test_url_fast_path_agrees(text: str) -> None:
    assert same(fast_url(text), general_url(text))
    assert v.same_page(text) == v._same_page(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org",
        "https://example.org/",
        "https://example.org/a/b/?q=1#top",
        "https://example.org?q",
        "https://example.org#x?y",
        "http://a.b/c//",
        "https://a..b/",
        "https://.a.b/",
        "https://localhost/x",
        "https://example/x",
        "https://Example.org/A",
        " https://example.org/a",
        "https://example.org/a b",
        "https://user@example.org/",
        "https://example.org:443/a/",
        "https://" + "a" * 1990 + ".org/",
    ],
)
def test_url_fast_path_agrees_on_edges(text: str) -> None:
    assert same(fast_url(text), general_url(text))
    assert v.same_page(text) == v._same_page(text)


def test_fast_path_is_taken() -> None:
    """The common shape really skips urlsplit (else the fast path is dead code)."""
    assert v._PLAIN_URL.fullmatch("https://www.gov.uk/government/news/x?y=1#z")
    assert not v._PLAIN_URL.fullmatch("https://Example.org/")
    assert not v._PLAIN_URL.fullmatch("https://example.org:8080/")


TEXT = st.none() | st.text(max_size=12) | st.dates()


@given(st.dictionaries(st.text(max_size=8), TEXT | st.integers() | st.lists(st.text(), max_size=2)))
def test_flat_hash_is_the_hash(values: dict[str, object]) -> None:
    """``_flat_hash`` gives the bytes of ``_hash`` for any record (it falls back to it for
    values that are not text, dates or None); a changed hash would make every synced row look
    changed in the database."""
    from mou_tracker.storage.sync.common import _flat_hash, _hash

    assert _flat_hash(values) == _hash(values)
