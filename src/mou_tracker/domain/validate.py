"""Input checks shared by every way in (CLI, terminal UI, CSV import, TOML sync).

Each function returns the clean value or raises :class:`InvalidInput` naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from mou_tracker.domain.errors import InvalidInput

MAX_URL = 2000
LIMITS = {
    "title": 300,
    "commitment_title": 200,
    "publisher": 200,
    "summary": 2000,
    "evidence_summary": 500,
    "reason": 2000,
    "note": 10000,
    "actor": 100,
    "name": 200,
    "section": 200,
    "theme": 100,
    "legal_status": 2000,
}

_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_HOST_RE = re.compile(r"^(?:[^\s/?#@:\[\]]+|\[[0-9A-Fa-f:.]+\])$")


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def text(
    value: object,
    field: str,
    *,
    limit: int | str,
    multiline: bool = False,
    required: bool = True,
) -> str | None:
    """A trimmed string with no control characters and at most ``limit`` characters.

    ``multiline`` admits newlines and tabs (Markdown notes, reasons); one-line fields refuse
    them. An empty value is an error when ``required``, else ``None``.
    """
    max_len = LIMITS[limit] if isinstance(limit, str) else limit
    if value is None:
        if required:
            raise InvalidInput(field, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be text, got {type(value).__name__}")
    cleaned = value.replace("\r\n", "\n").strip()
    if not cleaned:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    if cleaned.isascii() and cleaned.isprintable():
        pass  # the common case, checked in C: no control characters, no line breaks
    else:
        _check_characters(cleaned, field, multiline)
    if len(cleaned) > max_len:
        raise InvalidInput(field, f"is {len(cleaned)} characters long; the limit is {max_len}")
    return cleaned


def _check_characters(cleaned: str, field: str, multiline: bool) -> None:
    # Every control and format character is unprintable: text that is printable once the
    # line breaks and tabs a multi-line field admits are taken out holds none (checked in C).
    if (cleaned.replace("\n", "").replace("\t", "") if multiline else cleaned).isprintable():
        return
    for ch in cleaned:
        if ch in "\n\t" and multiline:
            continue
        if ch == "\n":
            raise InvalidInput(field, "must be one line (no line breaks)")
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            raise InvalidInput(field, f"contains a control character (U+{ord(ch):04X})")


def required_text(value: object, field: str, *, limit: int | str, multiline: bool = False) -> str:
    result = text(value, field, limit=limit, multiline=multiline, required=True)
    assert result is not None
    return result


def choice(value: object, field: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip() not in allowed:
        shown = value if isinstance(value, str) else type(value).__name__
        raise InvalidInput(field, f"{_shorten(str(shown))!r} is not one of {', '.join(allowed)}")
    return value.strip()


def ref(value: object, field: str = "ref") -> str:
    if not isinstance(value, str) or not _REF_RE.match(value.strip()):
        raise InvalidInput(
            field,
            f"{_shorten(str(value))!r} is not a valid reference "
            "(letters, digits, '.', '-', '_'; at most 40 characters)",
        )
    return value.strip()


def party_code(value: object, field: str = "party") -> str:
    if not isinstance(value, str) or not _CODE_RE.match(value.strip()):
        raise InvalidInput(
            field, f"{_shorten(str(value))!r} is not a party code (A-Z, 0-9, '-'; at most 20)"
        )
    return value.strip()


def slug(value: object, field: str = "memorandum") -> str:
    if not isinstance(value, str) or not _SLUG_RE.match(value.strip()):
        raise InvalidInput(field, f"{_shorten(str(value))!r} is not a slug (a-z, 0-9, '-')")
    return value.strip()


# The common shape of a URL, decided without urlsplit: http or https in lower case, a host of
# lower-case labels with at least one dot, no port, no user, and printable ASCII after it. A URL
# of this shape passes every check of :func:`url` and :func:`same_page` reads it the same way;
# anything else takes the general path (tests/core/test_fast_checks.py holds them to agree).
_PLAIN_URL = re.compile(r"(https?)://((?:[a-z0-9_-]+\.)+[a-z0-9_-]+)([/?#][!-~]*)?")


def url(value: object, field: str = "url", *, required: bool = True) -> str | None:
    """An absolute http(s) URL with a host, no spaces and no control characters (rule 4)."""
    if type(value) is str and len(value) <= MAX_URL and _PLAIN_URL.fullmatch(value):
        return value  # the common case (see _PLAIN_URL): already stripped and valid
    return _url(value, field, required=required)


def _url(value: object, field: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(field, "is required (an absolute http or https URL)")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be text, got {type(value).__name__}")
    candidate = value.strip()
    if len(candidate) > MAX_URL:
        raise InvalidInput(field, f"is {len(candidate)} characters long; the limit is {MAX_URL}")
    if not (candidate.isascii() and candidate.isprintable() and " " not in candidate):
        for ch in candidate:
            if ch.isspace():
                raise InvalidInput(field, "must not contain spaces (encode them as %20)")
            if unicodedata.category(ch) in ("Cc", "Cf"):
                raise InvalidInput(field, f"contains a control character (U+{ord(ch):04X})")
    try:
        parts = urlsplit(candidate)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidInput(field, f"{_shorten(candidate)!r} is not a valid URL ({exc})") from None
    del port
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise InvalidInput(
            field, f"must be an absolute http or https URL ({shown} in {_shorten(candidate)!r})"
        )
    host = parts.hostname or ""
    if not host or not _HOST_RE.match(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0] or "x"):
        raise InvalidInput(field, f"{_shorten(candidate)!r} has no valid host")
    if "." not in host and host != "localhost" and not host.startswith("["):
        raise InvalidInput(field, f"{_shorten(candidate)!r} has no valid host (no domain)")
    if "@" in parts.netloc:  # the URL itself is not echoed: it would repeat the password
        raise InvalidInput(
            field,
            "must not carry a user name or password before the host ('user:password@'); "
            "evidence links are published",
        )
    return candidate


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_page(address: str) -> str:
    """The form two addresses of one page share, for duplicate checks: scheme and host in lower
    case, the default port (80 for http, 443 for https) left out, no fragment, no trailing
    slash on the path; the query kept as it is. ``HTTPS://Example.org:443/a/#top`` and
    ``https://example.org/a`` give the same result. Only for comparing: stored URLs keep the
    form they were given in."""
    plain = _PLAIN_URL.fullmatch(address)
    if plain is not None:
        return plain_page(plain)
    return _same_page(address)


def plain_page(plain: re.Match[str]) -> str:
    """:func:`same_page` of an address ``_PLAIN_URL`` matched (``plain`` is the match): lower
    case already, no port, no user, so only the rest is trimmed."""
    rest = (plain.group(3) or "").partition("#")[0]
    path, _, query = rest.partition("?")
    query = f"?{query}" if query else ""
    return f"{plain.group(1)}://{plain.group(2)}{path.rstrip('/')}{query}"


def _same_page(address: str) -> str:
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        return address  # not a URL this tracker accepts: compared as it is
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    netloc = parts.netloc
    if "@" in netloc:
        host = netloc.rsplit("@", 1)[0] + "@" + host
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{parts.path.rstrip('/')}{query}"


# --- dates -------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_BASIC_DATE = re.compile(r"^\d{8}$")  # 20260409: ISO 8601 basic format, YYYYMMDD
_DIGITS = re.compile(r"\d+")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2004, 2, 2)


def parse_date(value: object, field: str) -> date:
    """Parse a date strictly with python-dateutil (see :func:`_parse_date`); the same text is
    read once however many rows of an import repeat it."""
    if isinstance(value, str):
        parsed, problem = _parse_date_text(value)
        if problem is not None:
            raise InvalidInput(field, problem)
        assert parsed is not None
        return parsed
    return _parse_date(value, field)


@lru_cache(maxsize=4096)
def _parse_date_text(value: str) -> tuple[date | None, str | None]:
    try:
        return _parse_date(value, "date"), None
    except InvalidInput as exc:
        return None, exc.problem


def _parse_date(value: object, field: str) -> date:
    """Parse a date strictly with python-dateutil.

    Full dates only (day, month and year); no times; no fuzzy matching ("Clause 12" is not a
    date); an order that reads differently day-first and month-first ("03/04/2026") is refused
    as ambiguous. The caller shows the parsed date back to the person.
    """
    if isinstance(value, datetime):
        raise InvalidInput(field, "must be a date without a time")
    if isinstance(value, date):
        return in_year_range(value, field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required (a date such as 2026-02-20 or '20 Feb 2026')")
    raw = value.strip()
    if len(raw) > 40 or any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise InvalidInput(field, f"{_shorten(raw)!r} is not a date")
    if _ISO_DATE.match(raw) or _ISO_BASIC_DATE.match(raw):
        digits = raw.replace("-", "")
        try:
            iso = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError as exc:
            raise InvalidInput(field, f"no such date {raw!r} ({exc})") from None
        return in_year_range(iso, field)
    from dateutil import parser as du

    try:
        first = du.parse(raw, default=_DEFAULT_A, dayfirst=True)
        second = du.parse(raw, default=_DEFAULT_B, dayfirst=True)
        other_order = du.parse(raw, default=_DEFAULT_A, dayfirst=False)
    except (ValueError, OverflowError) as exc:
        reason = str(exc).split(":")[0]
        if "out of range" in reason or "must be in" in reason:
            raise InvalidInput(field, f"no such date {raw!r} ({reason})") from None
        raise InvalidInput(
            field, f"cannot read {_shorten(raw)!r} as a date; write it as YYYY-MM-DD"
        ) from None
    if first != second:
        raise InvalidInput(field, f"{_shorten(raw)!r} is not a full date; give day, month and year")
    if first.tzinfo is not None or first.time() != datetime.min.time():
        raise InvalidInput(field, f"{_shorten(raw)!r} has a time; give a date only")
    _check_year_digits(raw, first.year, field)
    if other_order != first:
        raise InvalidInput(
            field,
            f"{raw!r} is ambiguous ({first.date().isoformat()} or "
            f"{other_order.date().isoformat()}); write it as YYYY-MM-DD",
        )
    return in_year_range(first.date(), field)


def _check_year_digits(raw: str, year: int, field: str) -> None:
    """The year must be written in full. python-dateutil reads a short year as one near today
    ("26-4-9" is 2009-04-26, "9 Apr 26" and even "9 Apr 0026" are 2026): refuse, never guess."""
    runs = _DIGITS.findall(raw)
    if any(len(run) == 4 and int(run) == year for run in runs):
        return
    written = next((run for run in runs if len(run) == 4 and int(run) < FIRST_YEAR), None)
    if written is not None:
        raise InvalidInput(field, f"{_shorten(raw)!r}: the year {written} is before {FIRST_YEAR}")
    raise InvalidInput(
        field, f"{_shorten(raw)!r} has no four-digit year; write the year in full, as YYYY-MM-DD"
    )


FIRST_YEAR, LAST_YEAR = 1900, 2200


def in_year_range(value: date, field: str) -> date:
    """The one range every date and timestamp must fall in, whichever way it arrives (a typed
    date, a CSV cell, a TOML value): it keeps date arithmetic such as "last reviewed plus a
    cadence" far from the year 9999 limit, and catches slips like 0202 for 2026."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(
            field, f"{value.isoformat()} is outside the years {FIRST_YEAR}-{LAST_YEAR}"
        )
    return value


def aware_utc(value: object, field: str) -> datetime:
    """A timezone-aware timestamp, converted to UTC. Naive times are refused, not guessed."""
    if isinstance(value, str):
        raw = value
        try:
            value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                field, f"{_shorten(raw)!r} is not a timestamp like 2026-04-09T17:00:00Z"
            ) from None
    if not isinstance(value, datetime):
        raise InvalidInput(
            field, "must be a date-time with a UTC offset, e.g. 2026-04-09T17:00:00Z"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            field, "must carry a UTC offset (e.g. ...T17:00:00Z); naive times are ambiguous"
        )
    # Checked before the conversion: moving 0001-01-01T00:00+01:00 to UTC overflows.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(
            field,
            f"{value.isoformat().replace('+00:00', 'Z')} is outside the years "
            f"{FIRST_YEAR}-{LAST_YEAR}",
        )
    return value.astimezone(UTC)


# --- nothing dated in the future --------------------------------------------------------------

CLOCK_SKEW = timedelta(minutes=5)
SKEW_WORDS = "5 minutes"
# UTC+14 (Kiribati's Line Islands) is the first time zone to begin each day.
EARLIEST_ZONE = timedelta(hours=14)


def clock() -> datetime:
    """Now, aware UTC: what "the future" is judged against when the caller gives no ``now``."""
    from mou_tracker.domain import clock as tracker_clock

    return tracker_clock.now()


def latest_time(now: datetime | None = None) -> datetime:
    """The latest moment a change may take effect: now, plus the clock skew allowed."""
    return (now or clock()).astimezone(UTC) + CLOCK_SKEW


def latest_day(now: datetime | None = None) -> date:
    """The latest date that is not in the future: today in UTC+14, where each day begins first
    (a date that has begun somewhere on Earth is not in the future for the person who wrote
    it), with the same clock skew as :func:`latest_time`. The one rule for every date: a
    publication date, a review date, a date read from a file."""
    return (latest_time(now) + EARLIEST_ZONE).date()


def day_not_in_future(value: date, field: str, *, now: datetime | None = None) -> date:
    """``value`` if that day has begun somewhere on Earth; else refused naming ``field``."""
    current = now or clock()
    if value > latest_day(current):
        raise InvalidInput(
            field,
            f"{value.isoformat()} is in the future (today is "
            f"{current.astimezone(UTC).date().isoformat()} in UTC, and no time zone has reached "
            f"{value.isoformat()} yet)",
        )
    return value


def publication_date(value: object, field: str, *, now: datetime | None = None) -> date:
    """A publication date typed by a person (CLI, form, CSV cell): read by :func:`parse_date`
    and not in the future (:func:`day_not_in_future`)."""
    return day_not_in_future(parse_date(value, field), field, now=now)


def utc_z(value: datetime) -> str:
    """``value`` in UTC to the second, ending in ``Z`` (a naive value is taken as UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="seconds").replace("+00:00", "Z")


def time_not_in_future(value: datetime, field: str, *, now: datetime | None = None) -> datetime:
    """An aware time no later than now (plus :data:`CLOCK_SKEW`); else refused naming ``field``."""
    current = now or clock()
    if value > latest_time(current):
        raise InvalidInput(
            field,
            f"{utc_z(value)} is in the future (it is {utc_z(current)} now; clocks may differ "
            f"by {SKEW_WORDS}, no more)",
        )
    return value


def effective_time(value: object, field: str, *, now: datetime) -> datetime:
    """When a change takes effect: ``now`` if ``value`` is ``None``, else ``value`` as an aware
    UTC time that is not in the future (it may be earlier than now, never later)."""
    if value is None:
        return now
    return time_not_in_future(aware_utc(value, field), field, now=now)


# --- review cadence ----------------------------------------------------------------------------

_CADENCE_RE = re.compile(r"^(?:every\s+)?(\d{1,3})\s+(day|week|month|year)s?$")
_CADENCE_WORDS = {
    "weekly": (1, "week"),
    "fortnightly": (2, "week"),
    "monthly": (1, "month"),
    "quarterly": (3, "month"),
    "half-yearly": (6, "month"),
    "yearly": (1, "year"),
    "annually": (1, "year"),
}


def cadence(value: object, field: str = "review_cadence") -> str:
    """Normalise a review cadence ("3 months", "quarterly", "every 6 weeks") to "N unit(s)"."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required, e.g. '3 months'")
    raw = value.strip().lower()
    if raw in _CADENCE_WORDS:
        count, unit = _CADENCE_WORDS[raw]
    else:
        match = _CADENCE_RE.match(raw)
        if not match:
            raise InvalidInput(
                field, f"{_shorten(value)!r} is not a cadence like '3 months', '6 weeks', 'yearly'"
            )
        count, unit = int(match.group(1)), match.group(2)
    if count < 1:
        raise InvalidInput(field, "must be at least one day")
    return f"{count} {unit}{'s' if count != 1 else ''}"


def add_cadence(start: date, cadence_text: str) -> date:
    """``start`` plus one cadence, with month ends handled by relativedelta (31 Jan + 1 month = 28/29 Feb)."""
    from dateutil.relativedelta import relativedelta

    count_text, unit = cadence_text.split()
    count = int(count_text)
    unit = unit.rstrip("s")
    delta = {
        "day": relativedelta(days=count),
        "week": relativedelta(weeks=count),
        "month": relativedelta(months=count),
        "year": relativedelta(years=count),
    }[unit]
    return start + delta
