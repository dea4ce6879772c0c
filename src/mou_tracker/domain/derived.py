"""Facts the tracker derives rather than stores, each defined once.

Every interface (the command line, the terminal UI, the exports) asks this module whether a
commitment's review is overdue, when its next review falls, whether its evidence is stale and
whether it matches a search, so that no two of them can answer differently.

Search
------
A search is split into words on whitespace. A commitment matches when **every** word, in any
order and ignoring case, occurs as a substring of at least one of its searchable texts: its ref,
title and summary, the code or name of any owner, and the title of any of its evidence records.
"fund" finds "Funding"; "sovereign compute" finds a clause whose title says "compute" and whose
summary says "sovereign".

The database keeps those texts in an index that its own triggers keep in step with every
write (``storage/search_index.py``): a row per commitment (ref, title, summary, owners, one to a
line) and a row per evidence title; a commitment matches a word when any of its rows does.

* SQLite: an FTS5 table with the ``trigram`` tokenizer. A word of three or more characters is a
  quoted FTS5 phrase, which the trigram tokenizer matches as a case-insensitive substring; a
  word of one or two characters (too short for a trigram) is ``LIKE '%word%'`` on the same
  rows. Evidence rows written since the last tracker write committed wait in a plain pending
  table, searched with ``LIKE`` (ASCII case folding there, as SQLite's LIKE does).
* PostgreSQL: a table of the same rows, lower-cased, with a ``pg_trgm`` GIN index; each
  word is ``LIKE lower('%word%')``, which the index answers and the heap recheck makes exact.

A word never contains a line break, so it cannot match across two texts of a row: the
indexed search and :func:`scan_conditions` (the same rule written as a scan of the tables)
select the same commitments, which the tests check on both backends. A page in clause order
uses whichever is quicker for its words (:func:`page_condition`); counts use the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Integer, String, and_, column, exists, func, literal_column, or_, select
from sqlalchemy import table as sql_table
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from mou_tracker.domain import validate as v
from mou_tracker.domain.models import Commitment, Evidence, Owner, Party, table_of
from mou_tracker.domain.vocab import WITHDRAWN

if TYPE_CHECKING:
    from mou_tracker.domain.queries import CommitmentDetail

# --- reviews and evidence age -----------------------------------------------------------------

# A scored commitment whose newest evidence is older than this is stale: "no change" may only
# mean that nobody looked.
STALE_AFTER_DAYS = 180


def scored(strength: str) -> bool:
    """Vision clauses are shown but neither scored nor reviewed."""
    return strength != "vision"


def next_review(last_reviewed: date | None, signed: date, cadence: str) -> date:
    """One review cadence after the last review; never reviewed: one cadence after signing."""
    return v.add_cadence(last_reviewed or signed, cadence)


def is_overdue(strength: str, next_review_on: date | None, today: date) -> bool:
    """Scored, and its next review fell before ``today``."""
    return scored(strength) and next_review_on is not None and next_review_on < today


def newest_evidence(published: Iterable[date | None]) -> date | None:
    return max((d for d in published if d is not None), default=None)


def counts_as_evidence(confidence: str) -> bool:
    """Withdrawn evidence (domain/undo.py) stays published but is left out of "latest
    evidence", staleness and the evidence counts."""
    return confidence != WITHDRAWN


class _Withdrawing(Protocol):
    @property
    def withdraws(self) -> int | None: ...


W = TypeVar("W", bound=_Withdrawing)


def withdrawals(notes: Iterable[W]) -> dict[int, W]:
    """For each withdrawn note id, the note that withdraws it (from the ``withdraws`` column,
    written only by ``undo.withdraw_note`` and sync; a note's text never counts)."""
    return {n.withdraws: n for n in notes if n.withdraws is not None}


def withdrawn_note_ids(notes: Iterable[_Withdrawing]) -> set[int]:
    """The ids of the notes that these ``notes`` withdraw."""
    return set(withdrawals(notes))


def current_evidence() -> ColumnElement[bool]:
    """:func:`counts_as_evidence` as a condition on the evidence table (its Core column, so a
    Core query that uses it is compiled without the ORM)."""
    return table_of(Evidence).c.confidence != WITHDRAWN


def newest_current_evidence(evidence: Iterable[Any]) -> date | None:
    """The newest publication date among ``evidence`` (records with ``published`` and
    ``confidence``) that has not been withdrawn."""
    return newest_evidence(e.published for e in evidence if counts_as_evidence(e.confidence))


def is_stale(strength: str, newest: date | None, today: date) -> bool:
    """Scored, and its newest evidence is more than :data:`STALE_AFTER_DAYS` old (or absent)."""
    if not scored(strength):
        return False
    return newest is None or (today - newest).days > STALE_AFTER_DAYS


def overdue_condition(today: date) -> ColumnElement[bool]:
    """:func:`is_overdue` as SQL over the commitment table."""
    return and_(
        col(Commitment.strength) != "vision",
        col(Commitment.next_review).is_not(None),
        col(Commitment.next_review) < today,
    )


# --- search ------------------------------------------------------------------------------------

# The index (``storage/search_index.py`` creates and maintains it): a row per commitment and
# a row per evidence record. SQLite: FTS5, rowid = commitment id << 32 (+ evidence id);
# PostgreSQL: a plain table with the commitment id in a column.
SEARCH_TABLE = "commitment_search"
_SHIFT = 32
_fts = sql_table(SEARCH_TABLE, column("rowid", Integer), column("body", String))
# SQLite: evidence rows written since the last merge into the FTS5 table (same keys).
_pending = sql_table(SEARCH_TABLE + "_pending", column("rowid", Integer), column("body", String))
_pg = sql_table(SEARCH_TABLE, column("commitment_id", Integer), column("body", String))
TRIGRAM = 3  # the shortest word the trigram index can answer by itself


def search_words(text: str | None) -> list[str]:
    """The words of a search, in the order typed ("  fund  AI " is ["fund", "AI"])."""
    return (text or "").split()


def searchable_texts(
    ref: str,
    title: str,
    summary: str | None,
    owners: Iterable[tuple[str, str]],
    evidence_titles: Iterable[str],
) -> list[str]:
    """What a search looks at, for one commitment (owners as (code, name))."""
    texts = [ref, title, summary or ""]
    for code, name in owners:
        texts += [code, name]
    texts += list(evidence_titles)
    return texts


def texts(detail: CommitmentDetail) -> list[str]:
    """:func:`searchable_texts` of a commitment as ``queries.commitment_details`` reads it."""
    return searchable_texts(
        detail.ref,
        detail.title,
        detail.summary,
        ((o.code, o.name) for o in detail.owners),
        (e.title for e in detail.evidence),
    )


def matches(text: str | None, texts: Iterable[str]) -> bool:
    """The rule itself, in Python: every word is a case-insensitive substring of some text."""
    folded = [t.lower() for t in texts]
    return all(any(w.lower() in t for t in folded) for w in search_words(text))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def folds_beyond_ascii(word: str) -> bool:
    """Whether ``word`` has a letter outside ASCII with another case (``é``/``É``), which
    SQLite's LIKE and ``lower()`` compare case-sensitively (they fold ASCII only)."""
    return any(ord(ch) > 127 and ch.lower() != ch.upper() for ch in word)


def _glob(word: str, *, anchored: bool = False) -> str:
    """A SQLite GLOB pattern for "contains ``word`` in any case": each letter with another case
    becomes the set of its one-character forms (``[Éé]``), so the match folds case as
    :func:`matches` does (``str.lower``) for every letter, not only ASCII. ``anchored``: at the
    start of the text."""
    out = [] if anchored else ["*"]
    for ch in word:
        forms = {f for f in (ch, ch.lower(), ch.upper(), ch.title()) if len(f) == 1}
        forms = {f for f in forms if f.lower() == ch.lower()}
        if len(forms) > 1:
            out.append("[" + "".join(sorted(forms)) + "]")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    out.append("*")
    return "".join(out)


def contains(
    dialect: str, column: Any, word: str, *, anchored: bool = False
) -> ColumnElement[bool]:
    """``column`` contains ``word`` (or, ``anchored``, starts with it), ignoring case as
    :func:`matches` does. SQLite folds only ASCII in LIKE and ``lower()``, so a word with a
    letter beyond ASCII is matched there with GLOB; PostgreSQL's ``lower()`` folds them all."""
    if dialect == "sqlite" and folds_beyond_ascii(word):
        globbed: ColumnElement[bool] = column.op("GLOB")(_glob(word, anchored=anchored))
        return globbed
    pattern = _like(word.lower())
    if anchored:
        pattern = pattern[1:]
    if dialect == "sqlite":  # LIKE already ignores ASCII case
        like: ColumnElement[bool] = column.like(pattern, escape="\\")
        return like
    return func.lower(column).like(pattern, escape="\\")


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def search_condition(dialect: str, text: str | None) -> ColumnElement[bool] | None:
    """The commitments matching ``text``, answered by the search index (None: no words): one
    condition per word, each the commitments that own a matching row of the index (the
    commitment's own row or one of its evidence rows)."""
    words = search_words(text)
    if not words:
        return None
    if dialect not in ("sqlite", "postgresql"):
        return and_(*scan_conditions(text, dialect))
    conds: list[ColumnElement[bool]] = []
    for word in words:
        found: ColumnElement[bool]
        if dialect == "sqlite":
            if len(word) >= TRIGRAM:
                found = literal_column(SEARCH_TABLE).op("MATCH")(_fts_phrase(word))
            else:
                found = contains(dialect, _fts.c.body, word)
            waiting = contains(dialect, _pending.c.body, word)
            indexed = select(_fts.c.rowid.op(">>")(_SHIFT)).where(found)
            pending = select(_pending.c.rowid.op(">>")(_SHIFT)).where(waiting)
            conds.append(col(Commitment.id).in_(indexed.union_all(pending)))
        else:
            # The index is stored lower-cased; backslash is PostgreSQL's LIKE escape.
            found = _pg.c.body.like(func.lower(_like(word)))
            conds.append(col(Commitment.id).in_(select(_pg.c.commitment_id).where(found)))
    return and_(*conds)


def matches_many(session: Session, text: str | None, at_least: int = 1000) -> bool:
    """Whether every word of ``text`` is in at least ``at_least`` rows of the index (a rough
    "the words are common"; it only picks a plan). The index stops reading there, so this
    costs little even when a word is in nearly every row."""
    dialect = session.get_bind().dialect.name
    for word in search_words(text):
        if dialect == "sqlite" and len(word) >= TRIGRAM:
            found = literal_column(SEARCH_TABLE).op("MATCH")(_fts_phrase(word))
            rows = select(_fts.c.rowid).where(found).limit(at_least).subquery()
        elif dialect == "postgresql":
            found = _pg.c.body.like(func.lower(_like(word)))
            rows = select(_pg.c.commitment_id).where(found).limit(at_least).subquery()
        else:
            continue  # a one- or two-letter word: common by nature
        if int(session.scalar(select(func.count()).select_from(rows)) or 0) < at_least:
            return False
    return True


def page_condition(session: Session, text: str | None) -> ColumnElement[bool] | None:
    """The search for the first page of a list in clause order. On SQLite, words that match
    many commitments are checked row by row against the tables (:func:`scan_conditions`): the
    page is full after a few hundred rows, sooner than the index could list every match.
    Otherwise the index lists the matches. Both are the same rule and select the same rows."""
    if not search_words(text):
        return None
    dialect = session.get_bind().dialect.name
    # PostgreSQL plans the scan as a join of whole tables (no early stop): the index it is.
    if dialect == "sqlite" and matches_many(session, text):
        return and_(*scan_conditions(text, dialect))
    return search_condition(dialect, text)


def scan_conditions(text: str | None, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    """The same rule as a scan of the tables (no index): one condition per word. Kept as the
    reference the index is tested and benchmarked against."""
    conds: list[ColumnElement[bool]] = []
    for word in search_words(text):

        def has(column: object, word: str = word) -> ColumnElement[bool]:
            return contains(dialect, column, word)

        conds.append(
            or_(
                has(Commitment.ref),
                has(Commitment.title),
                has(Commitment.summary),
                exists(
                    select(col(Owner.commitment_id))
                    .join(Party, col(Party.id) == col(Owner.party_id))
                    .where(
                        col(Owner.commitment_id) == col(Commitment.id),
                        or_(has(Party.code), has(Party.name)),
                    )
                ),
                exists(
                    select(col(Evidence.id)).where(
                        col(Evidence.commitment_id) == col(Commitment.id), has(Evidence.title)
                    )
                ),
            )
        )
    return conds
