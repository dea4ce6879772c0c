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
- a search that matches every word (AND), each in ref, title, summary, theme, owners or
  evidence titles, with the owner match resolved against the small party table first.

Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from mou_tracker.domain import queries as q
from mou_tracker.domain.models import Commitment, Evidence, Memorandum, Owner, Party
from mou_tracker.domain.queries import CommitmentRow, ListFilter, MemorandumView
from mou_tracker.domain.vocab import STATUSES, STRENGTHS

PAGE_SIZE = 100
MAX_SEARCH_WORDS = 6

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


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _match(
    session: Session, column: ColumnElement[str] | object, pattern: str
) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores ASCII case (and lower() there is ASCII-only as well);
    # elsewhere compare lower-cased text, as the domain does.
    if session.get_bind().dialect.name == "sqlite":
        return column.like(pattern, escape="\\")  # type: ignore[attr-defined,no-any-return]
    return func.lower(column).like(pattern.lower(), escape="\\")


def search_words(text: str) -> list[str]:
    words = [w for w in text.strip().split() if w]
    return words[:MAX_SEARCH_WORDS]


def _search_conditions(
    session: Session, text: str, *, first_rows: bool = False
) -> list[ColumnElement[bool]]:
    """One condition per word. ``first_rows``: written as correlated EXISTS, so a page of the
    list stops after its first matches instead of first listing every matching evidence title
    (milliseconds instead of a scan of every title at 1,000,000 evidence records); a count
    needs every match anyway, and the IN form reads each title once."""
    conds: list[ColumnElement[bool]] = []
    for word in search_words(text):
        pattern = _like(word.lower())
        party_ids = list(
            session.scalars(
                select(Party.id).where(
                    or_(_match(session, Party.code, pattern), _match(session, Party.name, pattern))
                )
            )
        )
        titled = _match(session, Evidence.title, pattern)
        evidence = (
            exists().where(Evidence.commitment_id == Commitment.id, titled)
            if first_rows
            else Commitment.id.in_(select(Evidence.commitment_id).where(titled))  # type: ignore[union-attr]
        )
        options: list[ColumnElement[bool]] = [
            _match(session, Commitment.ref, pattern),
            _match(session, Commitment.title, pattern),
            _match(session, Commitment.summary, pattern),
            _match(session, Commitment.theme, pattern),
            evidence,
        ]
        if party_ids:
            owned = Owner.party_id.in_(party_ids)  # type: ignore[attr-defined]
            options.append(
                exists().where(Owner.commitment_id == Commitment.id, owned)
                if first_rows
                else Commitment.id.in_(select(Owner.commitment_id).where(owned))  # type: ignore[union-attr]
            )
        conds.append(or_(*options))
    return conds


def conditions(
    session: Session, vq: ViewQuery, today: date, *, first_rows: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE clause of the list: the domain's structured filters plus the word search."""
    conds = list(q._conditions(vq.list_filter(today)))  # the domain's own filter semantics
    conds.extend(_search_conditions(session, vq.search, first_rows=first_rows))
    return conds


def _ordinal(column: object, values: Sequence[str]) -> ColumnElement[int]:
    return case({value: rank for rank, value in enumerate(values)}, value=column, else_=len(values))  # type: ignore[arg-type]


def _evidence_count() -> ColumnElement[int]:
    return (
        select(func.count(Evidence.id))
        .where(Evidence.commitment_id == Commitment.id)
        .correlate(Commitment)
        .scalar_subquery()
    )


def _latest_evidence() -> ColumnElement[date]:
    return (
        select(func.max(Evidence.published))
        .where(Evidence.commitment_id == Commitment.id)
        .correlate(Commitment)
        .scalar_subquery()
    )


def _lead_owner() -> ColumnElement[str]:
    return (
        select(func.min(Party.code))
        .join(Owner, Owner.party_id == Party.id)
        .where(Owner.commitment_id == Commitment.id)
        .correlate(Commitment)
        .scalar_subquery()
    )


def _order(vq: ViewQuery) -> list[ColumnElement[object]]:
    key = vq.sort if vq.sort in SORTS else "position"
    columns: dict[str, list[object]] = {
        "position": [Commitment.memorandum_id, Commitment.position],
        "ref": [Commitment.ref],
        "title": [func.lower(Commitment.title)],
        "owners": [_lead_owner()],
        "strength": [_ordinal(Commitment.strength, STRENGTHS)],
        "status": [_ordinal(Commitment.status, STATUSES)],
        "evidence": [_evidence_count()],
        "latest": [_latest_evidence()],
        "next_review": [Commitment.next_review],
    }
    order: list[ColumnElement[object]] = []
    for col in columns[key]:
        expr = col.desc() if vq.descending else col.asc()  # type: ignore[attr-defined]
        if key in ("latest", "next_review", "owners"):
            expr = expr.nulls_last()
        order.append(expr)
    if key != "position":
        order += [Commitment.memorandum_id.asc(), Commitment.position.asc()]  # type: ignore[attr-defined]
    order.append(
        Commitment.id.desc() if vq.descending and key == "position" else Commitment.id.asc()
    )  # type: ignore[union-attr]
    return order


# --- queries -----------------------------------------------------------------------------------


def fetch_page(
    session: Session, vq: ViewQuery, today: date, offset: int, limit: int = PAGE_SIZE
) -> Page:
    """One page of the list in two queries (rows with evidence aggregates, then owners)."""
    query = (
        select(
            Commitment,
            Memorandum.slug,
            _evidence_count().label("n"),
            _latest_evidence().label("latest"),
        )
        .join(Memorandum, Memorandum.id == Commitment.memorandum_id)
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
            Commitment.ref.label("ref"),
            func.row_number().over(order_by=_order(vq)).label("n"),
        )
        .where(*conditions(session, vq, today))
        .subquery()
    )
    found = session.scalar(select(numbered.c.n).where(numbered.c.ref == ref))
    return None if found is None else int(found) - 1


def summary(session: Session, today: date) -> Summary:
    counts = q.status_counts(session)
    overdue = q.count_commitments(session, ListFilter(overdue_on=today))
    scored = int(
        session.scalar(
            select(func.count()).select_from(Commitment).where(Commitment.strength != "vision")
        )
        or 0
    )
    return Summary(
        total=sum(counts.values()),
        counts=counts,
        overdue=overdue,
        scored=scored,
        memoranda=tuple(q.memoranda(session)),
        token=q.change_token(session),
    )


def choices(session: Session) -> Choices:
    owners = tuple(
        (code, name)
        for code, name in session.execute(select(Party.code, Party.name).order_by(Party.code))
    )
    themes = tuple(
        t
        for t in session.scalars(select(Commitment.theme).distinct().order_by(Commitment.theme))
        if t
    )
    return Choices(owners=owners, themes=themes)


def find(session: Session, text: str, limit: int = 20) -> list[tuple[str, str]]:
    """Commitments whose ref or title contains ``text`` (for the command palette): refs that
    start with it first."""
    words = search_words(text)
    if not words:
        return []
    conds = [
        or_(
            _match(session, Commitment.ref, _like(w.lower())),
            _match(session, Commitment.title, _like(w.lower())),
        )
        for w in words
    ]
    starts = _match(session, Commitment.ref, _like(words[0].lower())[1:])
    query = (
        select(Commitment.ref, Commitment.title)
        .where(and_(*conds))
        .order_by(
            case((starts, literal(0)), else_=literal(1)),
            Commitment.memorandum_id,
            Commitment.position,
        )
        .limit(limit)
    )
    return [(ref, title) for ref, title in session.execute(query)]


def token(session: Session) -> tuple[object, ...]:
    return q.change_token(session)
