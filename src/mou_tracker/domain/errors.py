"""Errors the domain raises. Each renders as one line that names the field and the problem."""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every refusal. ``str(err)`` is the one-line message shown to a person."""

    exit_code = 1


class InvalidInput(TrackerError):
    """A value is malformed: names the field and what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotFound(TrackerError):
    def __init__(self, field: str, value: object, what: str = "") -> None:
        self.field = field
        self.value = value
        what = what or field
        super().__init__(f"{field}: no {what} {value!r}")


class RuleViolation(TrackerError):
    """Well-formed input that a rule of the tracker refuses."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class ConflictError(TrackerError):
    """Someone else saved the same row since it was loaded (optimistic locking)."""

    def __init__(self, what: str, by: str | None, at: object | None) -> None:
        self.what = what
        self.by = by
        self.at = at
        when = (
            at.strftime("%Y-%m-%d %H:%M:%S UTC") if hasattr(at, "strftime") else "an unknown time"
        )
        super().__init__(
            f"{what}: changed by {by or 'someone'} at {when} since you loaded it; "
            "nothing was saved, reload and try again"
        )
