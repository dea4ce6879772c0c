"""commitments.toml: read it (errors name the line), sync it into a database, dump it back.

``sync`` is one transaction and idempotent. Rows it created remember a hash of the values they
were synced from (``source_hash``), which gives a three-way comparison for every record:

* file == database: nothing to do;
* database unchanged since the last sync, file changed: the file is newer, update the row;
* file unchanged since the last sync, database changed: the database is newer, keep it;
* both changed: a conflict, reported, database kept.

History and notes are append-only: entries missing from the database are appended when the
file's history extends the database's; a history that diverges is reported, never rewritten.
Nothing is ever deleted.

What makes ``dump`` a backup (sync of a dump into an empty database gives the same exports):

* an evidence record's ``id`` is a key used only when the record is created, and only if no
  record in the database has that id already (otherwise the database gives it a new one, and
  the sync says so); records are always matched by commitment and URL, never by id;
* every target change is written, including the first setting (a ``retarget`` without
  ``from``);
* the link-check log, each snapshot as base64 of the stored compressed bytes;
* the log of syncs (``sync_run``), except the run that filled an empty database: a restore
  records its own, and dump -> sync -> dump stays byte-identical.

Nothing in a file may be dated later than now (5 minutes of clock skew allowed): an entry from
the future would sit at the end of an append-only history for good.

Modules, by what they do:

* ``checks``, ``read``, ``records``, ``read_logs``: TOML text to a checked :class:`Document` of
  plain records (the evidence columns checked by the same checks as a CSV import,
  :func:`mou_tracker.domain.service.evidence_checks`, built once per file);
* ``plan``, ``compare``, ``plan_logs``: the document against the database, read only: what is
  new, what changed where, what conflicts (:class:`SyncPlan`); ``sync --dry-run`` prints it.
  Records are compared by their values first, so an unchanged one is never hashed;
* ``apply``: the plan written in the caller's transaction, every update version-checked
  (:func:`mou_tracker.domain.versioned.versioned_update`), new commitments and evidence
  written by :func:`mou_tracker.domain.bulk.insert_rows` (executemany, or COPY on PostgreSQL);
  into an empty SQLite tracker the search index is filled once at the end of the transaction
  instead of row by row (:func:`mou_tracker.storage.search_index.filled_after`);
* ``bulk_load``: into an empty tracker, the secondary indexes of the large tables built once
  after the load (SQLite; PostgreSQL when the tables' owner syncs), and on PostgreSQL the
  search index filled once after the load by the owner;
* ``report``: what a sync did; ``dump``: the database back to TOML; ``common``: what they share.
"""

from mou_tracker.storage.sync.apply import apply_plan, sync_document
from mou_tracker.storage.sync.common import (
    COMMITMENT_FIELDS,
    EVIDENCE_FIELDS,
    MEMO_FIELDS,
    PARTY_FIELDS,
    SCHEMA_VERSION,
)
from mou_tracker.storage.sync.dump import dump_document
from mou_tracker.storage.sync.plan import SyncPlan, plan_sync
from mou_tracker.storage.sync.read import Document, parse_document, read_document
from mou_tracker.storage.sync.report import (
    SYNC_FINGERPRINT,
    SyncReport,
    conflict_message,
    describe_syncs,
    sync_fingerprint,
)

__all__ = [
    "COMMITMENT_FIELDS",
    "EVIDENCE_FIELDS",
    "MEMO_FIELDS",
    "PARTY_FIELDS",
    "SCHEMA_VERSION",
    "SYNC_FINGERPRINT",
    "Document",
    "SyncPlan",
    "apply_plan",
    "conflict_message",
    "plan_sync",
    "SyncReport",
    "describe_syncs",
    "dump_document",
    "parse_document",
    "read_document",
    "sync_document",
    "sync_fingerprint",
]
