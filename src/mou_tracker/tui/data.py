"""The terminal UI's read side: a page of commitments, a count, the summary strip, the choices
for the filter form. Plain functions of a session that return frozen dataclasses, called only
from thread workers.

The structured filters (status, owner, theme, strength, review overdue) are the domain's own
(``ListFilter``), so the UI and ``mou-tracker list`` agree on what they select. This module adds
what the list screen needs beyond ``domain.queries``:

- sorting by every column of the table (owners, evidence count, latest evidence too), statuses
  and strengths in their vocabulary order rather than alphabetically, empty dates last;
- evidence aggregates as correlated subqueries, evaluated only for the rows of the page (the
  domain's ``list_commitments`` aggregates the whole evidence table for every page);
- nothing of its own for search: the words and what they match are ``domain.derived``'s,
  answered by the database's search index, exactly as for ``mou-tracker list --search``.

Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from mou_tracker.domain import derived
from mou_tracker.domain import queries as q
from mou_tracker.domain.models import Commitment, Evidence, Memorandum, Owner, Party
from mou_tracker.domain.queries import CommitmentRow, ListFilter, MemorandumView
from mou_tracker.domain.vocab import STATUSES, STRENGTHS

PAGE_SIZE = 100

# Table columns, in display order: (key, heading). Every one of them sorts.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", "Ref"),
    ("title", "Title"),
    ("owners", "Owners"),
    ("strength", "Strength"),
    ("status", "Status"),
    ("evidence", "Ev"),
    ("latest", "Latest ev."),
    ("next_review", "Next review"),
)
SORTS = ("position",) + tuple(key for key, _ in COLUMNS)
SORT_LABELS = {"position": "clause order", **{key: label for key, label in COLUMNS}}
SORT_LABELS.update(evidence="evidence count", latest="latest evidence", next_review="next review")


@dataclass(frozen=True)
class ViewQuery:
    """What the list shows: the filters, the search text and the sort."""

    search: str = ""
    status: tuple[str, ...] = ()
    owner: str | None = None
    theme: str | None = None
    strength: tuple[str, ...] = ()
    overdue: bool = False
    sort: str = "position"
    descending: bool = False

    @property
    def filtered(self) -> bool:
        return bool(
            self.search.strip()
            or self.status
            or self.owner
            or self.theme
            or self.strength
            or self.overdue
        )

    def list_filter(self, today: date) -> ListFilter:
        """The structured part, in the domain's terms (the search is handled here)."""
        return ListFilter(
            status=self.status,
            owner=self.owner,
            theme=self.theme,
            strength=self.strength,
            overdue_on=today if self.overdue else None,
        )

    def normalized(self) -> ViewQuery:
        """The same query with the search as the words it matches ("fund " is "fund")."""
        return replace(self, search=" ".join(search_words(self.search)))

    def cleared(self) -> ViewQuery:
        return ViewQuery(sort=self.sort, descending=self.descending)

    def with_sort(self, key: str) -> ViewQuery:
        """Sort by ``key``; choosing the current sort again reverses it."""
        if key == self.sort:
            return replace(self, descending=not self.descending)
        return replace(self, sort=key, descending=False)

    def describe(self) -> list[str]:
        """The active filters in words, for the filter line."""
        parts: list[str] = []
        if self.search.strip():
            parts.append(f"search {self.search.strip()!r}")
        if self.status:
            parts.append("status " + "/".join(s.replace("_", " ") for s in self.status))
        if self.strength:
            parts.append("strength " + "/".join(self.strength))
        if self.owner:
            parts.append(f"owner {self.owner}")
        if self.theme:
            parts.append(f"theme {self.theme}")
        if self.overdue:
            parts.append("review overdue")
        return parts


@dataclass(frozen=True)
class Summary:
    total: int
    counts: dict[str, int]
    overdue: int
    scored: int
    memoranda: tuple[MemorandumView, ...]
    token: tuple[object, ...] = ()


@dataclass(frozen=True)
class Choices:
    owners: tuple[tuple[str, str], ...]  # (code, name)
    themes: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    offset: int
    rows: tuple[CommitmentRow, ...] = field(default_factory=tuple)


# --- expressions -------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of a search, as the domain defines them (``domain.derived``)."""
    return derived.search_words(text)


def conditions(
    session: Session, vq: ViewQuery, today: date, *, first_rows: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE clause of the list: the domain's filters and its indexed search, the same
    as ``mou-tracker list``. ``first_rows`` (a page, not a count): words that match many
    commitments are checked row by row, so the page stops at its first matches."""
    flt = replace(vq.list_filter(today), search=vq.search)
    searched = derived.page_condition(session, vq.search) if first_rows else None
    return list(q._conditions(flt, session.get_bind().dialect.name, searched=searched))


def _ordinal(column: Any, values: Sequence[str]) -> ColumnElement[int]:
    return case({value: rank for rank, value in enumerate(values)}, value=column, else_=len(values))


def _evidence_count() -> ColumnElement[int]:
    return (
        select(func.count(col(Evidence.id)))
        .where(col(Evidence.commitment_id) == col(Commitment.id), derived.current_evidence())
        .correlate(Commitment)
        .scalar_subquery()
    )


def _latest_evidence() -> ColumnElement[date | None]:
    return (
        select(func.max(col(Evidence.published)))
        .where(col(Evidence.commitment_id) == col(Commitment.id), derived.current_evidence())
        .correlate(Commitment)
        .scalar_subquery()
    )


def _lead_owner() -> ColumnElement[str]:
    return (
        select(func.min(col(Party.code)))
        .join(Owner, col(Owner.party_id) == col(Party.id))
        .where(col(Owner.commitment_id) == col(Commitment.id))
        .correlate(Commitment)
        .scalar_subquery()
    )


def _order(vq: ViewQuery) -> list[ColumnElement[object]]:
    key = vq.sort if vq.sort in SORTS else "position"
    columns: dict[str, list[Any]] = {
        "position": [col(Commitment.memorandum_id), col(Commitment.position)],
        "ref": [col(Commitment.ref)],
        "title": [func.lower(col(Commitment.title))],
        "owners": [_lead_owner()],
        "strength": [_ordinal(Commitment.strength, STRENGTHS)],
        "status": [_ordinal(Commitment.status, STATUSES)],
        "evidence": [_evidence_count()],
        "latest": [_latest_evidence()],
        # vision clauses are never reviewed on a schedule (the list shows "—"): they sort with
        # the undated ones, after every date, in either direction
        "next_review": [
            case(
                (col(Commitment.strength) == "vision", literal(None)),
                else_=col(Commitment.next_review),
            )
        ],
    }
    order: list[ColumnElement[Any]] = []
    for column in columns[key]:
        expr = column.desc() if vq.descending else column.asc()
        if key in ("latest", "next_review", "owners"):
            expr = expr.nulls_last()
        order.append(expr)
    if key != "position":
        order += [col(Commitment.memorandum_id).asc(), col(Commitment.position).asc()]
    ident = col(Commitment.id)
    order.append(ident.desc() if vq.descending and key == "position" else ident.asc())
    return order


# --- queries -----------------------------------------------------------------------------------


def fetch_page(
    session: Session, vq: ViewQuery, today: date, offset: int, limit: int = PAGE_SIZE
) -> Page:
    """One page of the list in two queries (rows with evidence aggregates, then owners)."""
    query = (
        select(
            Commitment,
            col(Memorandum.slug),
            _evidence_count().label("n"),
            _latest_evidence().label("latest"),
        )
        .join(Memorandum, col(Memorandum.id) == col(Commitment.memorandum_id))
        .where(*conditions(session, vq, today, first_rows=True))
        .order_by(*_order(vq))
        .offset(max(0, offset))
        .limit(limit)
    )
    rows = session.execute(query).all()
    owners = q._owners_for(session, [r[0].id for r in rows])
    return Page(
        offset=max(0, offset),
        rows=tuple(
            CommitmentRow(
                ref=c.ref,
                memorandum=slug,
                section=c.section,
                title=c.title,
                theme=c.theme,
                strength=c.strength,
                status=c.status,
                owners=owners.get(c.id, ()),
                evidence_count=int(n or 0),
                latest_evidence=latest,
                last_reviewed=c.last_reviewed,
                next_review=c.next_review,
                version=c.version,
                updated_at=c.updated_at,
                updated_by=c.updated_by,
            )
            for c, slug, n, latest in rows
        ),
    )


def count(session: Session, vq: ViewQuery, today: date) -> int:
    query = select(func.count()).select_from(Commitment).where(*conditions(session, vq, today))
    return int(session.scalar(query) or 0)


def locate(session: Session, vq: ViewQuery, today: date, ref: str) -> int | None:
    """The row index of ``ref`` in the list as filtered and sorted, or None if it is not in it."""
    numbered = (
        select(
            col(Commitment.ref).label("ref"),
            func.row_number().over(order_by=_order(vq)).label("n"),
        )
        .where(*conditions(session, vq, today))
        .subquery()
    )
    found = session.scalar(select(numbered.c.n).where(numbered.c.ref == ref))
    return None if found is None else int(found) - 1


def summary(session: Session, today: date) -> Summary:
    # Counted as the exports count them (each promise once, vision clauses apart), by the
    # domain's one definition: the strip and the reports give the same figures.
    counts = q.headline_status_counts(session)
    overdue = q.count_commitments(session, ListFilter(overdue_on=today))
    scored = int(
        session.scalar(
            select(func.count()).select_from(Commitment).where(col(Commitment.strength) != "vision")
        )
        or 0
    )
    return Summary(
        total=q.count_commitments(session),
        counts=counts,
        overdue=overdue,
        scored=scored,
        memoranda=tuple(q.memoranda(session)),
        token=q.change_token(session),
    )


def choices(session: Session) -> Choices:
    owners = tuple(
        (code, name)
        for code, name in session.execute(
            select(col(Party.code), col(Party.name)).order_by(col(Party.code))
        )
    )
    themes = tuple(
        t
        for t in session.scalars(
            select(col(Commitment.theme)).distinct().order_by(col(Commitment.theme))
        )
        if t
    )
    return Choices(owners=owners, themes=themes)


def find(session: Session, text: str, limit: int = 20) -> list[tuple[str, str]]:
    """Commitments whose ref or title contains ``text`` (for the command palette): refs that
    start with it first."""
    words = search_words(text)
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    conds = [
        or_(
            derived.contains(dialect, Commitment.ref, w),
            derived.contains(dialect, Commitment.title, w),
        )
        for w in words
    ]
    starts = derived.contains(dialect, Commitment.ref, words[0], anchored=True)
    query = (
        select(col(Commitment.ref), col(Commitment.title))
        .where(and_(*conds))
        .order_by(
            case((starts, literal(0)), else_=literal(1)),
            col(Commitment.memorandum_id),
            col(Commitment.position),
        )
        .limit(limit)
    )
    return [(ref, title) for ref, title in session.execute(query)]


def token(session: Session) -> tuple[object, ...]:
    return q.change_token(session)
