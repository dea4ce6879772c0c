"""Checks of single TOML values; every error carries ``file:line: path.field``."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import date, datetime
from typing import Any

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput, TrackerError
from mou_tracker.storage.locate import Locator
from mou_tracker.storage.sync.common import _scalar


class _Checker:
    """Validates the parsed document; every error carries ``file:line: path.field``."""

    def __init__(self, text: str, filename: str, now: datetime | None = None) -> None:
        self.text = text
        self.filename = filename
        self._locator: Locator | None = None
        # What "the future" is judged against, by the same rules as every other way in
        # (validate.time_not_in_future, validate.day_not_in_future).
        self.now = now or v.clock()
        # The bounds of "not in the future", worked out once for the whole file.
        self.latest_time = v.latest_time(self.now)
        self.latest_day = v.latest_day(self.now)

    def when(self, value: Any, name: str) -> datetime:
        """A TOML offset date-time that is not later than now (plus the clock skew allowed)."""
        at = _toml_ts(value, name)
        if at > self.latest_time:  # the rule's own words for the refusal
            return v.time_not_in_future(at, name, now=self.now)
        return at

    def recorded(
        self, item: dict[str, Any], path: tuple[Any, ...], label: str, after: datetime
    ) -> datetime | None:
        """The optional ``recorded_at`` of a record of change: kept only when a dump is restored
        into an empty database; never before the time the record takes effect."""
        if item.get("recorded_at") is None:
            return None
        recorded: datetime = self.field(item, "recorded_at", path, label, self.when)
        if recorded < after:
            raise self.fail(
                path + ("recorded_at",),
                f"{label}.recorded_at",
                f"is before the time the record takes effect ({_scalar(after)})",
            )
        return recorded

    def day(self, value: Any, name: str) -> date | None:
        """An optional TOML date that is not later than today (a day begun somewhere on Earth)."""
        day = _optional_date(value, name)
        if day is not None and day > self.latest_day:
            return v.day_not_in_future(day, name, now=self.now)
        return day

    @property
    def locator(self) -> Locator:
        # Built only when an error needs a line number: indexing a large file costs seconds.
        if self._locator is None:
            self._locator = Locator(self.text)
        return self._locator

    def fail(self, path: tuple[Any, ...], label: str, problem: str) -> TrackerError:
        return InvalidInput(f"{self.filename}:{self.locator.line(path)}: {label}", problem)

    def wrap(self, path: tuple[Any, ...], label: str, exc: InvalidInput) -> TrackerError:
        return self.fail(path, label, exc.problem)

    def table(
        self,
        value: Any,
        path: tuple[Any, ...],
        label: str,
        allowed: AbstractSet[str],
        required: AbstractSet[str],
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, label, f"must be a table, got {type(value).__name__}")
        keys = value.keys()
        if keys <= allowed and keys >= required:
            return value  # the common case, as two set comparisons
        for key in value:
            if key not in allowed:
                raise self.fail(
                    path + (key,),
                    f"{label}.{key}",
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required):
            if key not in value:
                raise self.fail(path, f"{label}.{key}", "is required")
        return value

    def field(
        self, table: dict[str, Any], key: str, path: tuple[Any, ...], label: str, check: Any
    ) -> Any:
        try:
            return check(table.get(key), f"{label}.{key}")
        except InvalidInput as exc:
            raise self.fail(path + (key,), f"{label}.{key}", exc.problem) from None


def _str(limit: str, multiline: bool = False, required: bool = True) -> Any:
    def check(value: Any, name: str) -> Any:
        return v.text(value, name, limit=limit, multiline=multiline, required=required)

    return check


def _toml_date(required: bool = True) -> Any:
    def check(value: Any, name: str) -> date | None:
        if value is None and not required:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidInput(name, "must be a TOML date like 2026-04-09 (no quotes, no time)")
        return v.in_year_range(value, name)

    return check


_optional_date = _toml_date(required=False)


def _toml_ts(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(
            name, "must be a TOML date-time with an offset, like 2026-04-09T17:00:00Z"
        )
    return v.aware_utc(value, name)


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(name, f"must be an array, got {type(value).__name__}")
    return value


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(name, f"must be a whole number, 0 or more, got {value!r}")
    return value


def _raw_str(limit: int, required: bool = False) -> Any:
    """Text recorded from elsewhere (a fetched page's title, an error message): kept as it
    was, whatever characters it holds, but bounded."""

    def check(value: Any, name: str) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise InvalidInput(name, f"must be text, got {type(value).__name__}")
        if len(value) > limit:
            raise InvalidInput(name, f"is {len(value)} characters long; the limit is {limit}")
        return value

    return check


CLOCK_SKEW = v.CLOCK_SKEW  # one rule for "not in the future": see mou_tracker.domain.validate


def _top(data: dict[str, Any], key: str, ck: _Checker) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ck.fail((key,), key, f"must be an array of tables ([[{key}]])")
    return value
