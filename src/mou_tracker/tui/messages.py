"""Messages that workers post. They carry plain frozen values only (no ORM rows, no sessions)."""

from __future__ import annotations

from textual.message import Message

from mou_tracker.domain.queries import CommitmentDetail, CommitmentRow
from mou_tracker.tui.data import Choices, Summary, ViewQuery


class ListLoaded(Message):
    def __init__(
        self,
        generation: int,
        query: ViewQuery,
        page: int,
        rows: tuple[CommitmentRow, ...],
        total: int,
        exact: bool,
        keep_position: bool,
        locate: int | None = None,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.query = query
        self.page = page
        self.rows = rows
        self.total = total
        self.exact = exact
        self.keep_position = keep_position
        self.locate = locate


class ListCounted(Message):
    def __init__(self, generation: int, total: int) -> None:
        super().__init__()
        self.generation = generation
        self.total = total


class PageLoaded(Message):
    def __init__(self, generation: int, page: int, rows: tuple[CommitmentRow, ...]) -> None:
        super().__init__()
        self.generation = generation
        self.page = page
        self.rows = rows


class DetailLoaded(Message):
    def __init__(self, ref: str, detail: CommitmentDetail | None, error: str | None = None) -> None:
        super().__init__()
        self.ref = ref
        self.detail = detail
        self.error = error


class SummaryLoaded(Message):
    def __init__(self, summary: Summary) -> None:
        super().__init__()
        self.summary = summary


class ChoicesLoaded(Message):
    def __init__(self, choices: Choices) -> None:
        super().__init__()
        self.choices = choices


class TokenChecked(Message):
    def __init__(self, token: tuple[object, ...], started: float = 0.0) -> None:
        super().__init__()
        self.token = token
        self.started = started  # time.monotonic() when the check began reading


class LoadFailed(Message):
    """A read failed (database gone, locked for too long...): say so, keep what is shown."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error
