"""What a sync did, for the person who ran it and for ``mou-tracker info``."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from mou_tracker.domain.errors import ConflictError
from mou_tracker.domain.models import (
    EvidenceRevision,
    Memorandum,
    Note,
    Party,
    SyncRun,
    TargetChange,
)
from mou_tracker.storage.sync.common import SCHEMA_VERSION, _scalar


@dataclass
class SyncReport:
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Evidence created with a new id because the database already had the file's id.
    renumbered: int = 0

    @property
    def changed(self) -> bool:
        return bool(sum(self.added.values()) or sum(self.updated.values()))

    def summary(self) -> str:
        if not self.changed and not self.conflicts:
            return "already in sync: nothing changed"
        parts = [f"added {n} {what}" for what, n in sorted(self.added.items()) if n]
        parts += [f"updated {n} {what}" for what, n in sorted(self.updated.items()) if n]
        if self.kept:
            parts.append(f"kept {len(self.kept)} newer database record(s)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflict(s), database kept")
        if self.renumbered:
            parts.append(
                f"{self.renumbered} new evidence record(s) got new ids "
                "(their ids in the file were taken)"
            )
        return "; ".join(parts) or "nothing changed"


SYNC_FINGERPRINT = "sync_fingerprint"


def sync_fingerprint(session: Session, file_digest: str) -> str:
    """The file's hash and a fingerprint of the database after a sync. If neither has changed
    since, a sync of that file would change nothing and report nothing: ``sync`` can say so
    without parsing the file (seconds for a large one)."""
    from mou_tracker.domain.queries import change_token

    extra = session.execute(
        select(
            select(func.max(col(Memorandum.updated_at))).scalar_subquery(),
            select(func.count(col(Memorandum.id))).scalar_subquery(),
            select(func.count(col(Party.id))).scalar_subquery(),
            select(func.max(col(TargetChange.id))).scalar_subquery(),
            select(func.max(col(EvidenceRevision.id))).scalar_subquery(),
            select(func.count(col(Note.id))).scalar_subquery(),
        )
    ).one()
    state = repr((SCHEMA_VERSION, tuple(change_token(session)), tuple(extra)))
    return hashlib.sha256(f"{file_digest}|{state}".encode()).hexdigest()


def describe_syncs(session: Session) -> str:
    """One line for ``mou-tracker info``: how many syncs changed this database, and the last."""
    count = session.scalar(select(func.count()).select_from(SyncRun)) or 0
    last = session.scalars(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(1)).first()
    if last is None:
        return "none recorded"
    what = [f"added {n} {k}" for k, n in sorted(last.added.items())]
    what += [f"updated {n} {k}" for k, n in sorted(last.updated.items())]
    name = "".join(c if c.isprintable() else "?" for c in last.file_name)
    when = _scalar(last.at.replace(microsecond=0))
    return (
        f"{count} recorded; the last at {when} by {last.actor} from {name} "
        f"(sha256 {last.file_sha256[:12]}): {', '.join(what)}"
    )


def conflict_message(exc: ConflictError) -> str:
    """A conflict met while applying a sync, for the person who ran it: which record, who
    changed it and when, and that nothing was saved."""
    at = exc.at
    when = at.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(at, datetime) else "an unknown time"
    return (
        f"{exc.what} was changed by {exc.by or 'someone'} at {when} after sync read the "
        "database; nothing was saved, run sync again"
    )
