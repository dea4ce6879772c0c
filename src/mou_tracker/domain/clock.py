"""The tracker's one clock. Every "now" in the domain (when a change is recorded, what counts
as the future) comes from :func:`now`, so a test replaces this one function to tell a story
across several days without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)
