"""The former home of TOML sync and dump, kept so that existing imports go on working.

The code lives in :mod:`mou_tracker.storage.sync`, one module per job (reading, planning,
applying, dumping).
"""

from mou_tracker.storage.sync import (
    COMMITMENT_FIELDS,
    EVIDENCE_FIELDS,
    MEMO_FIELDS,
    PARTY_FIELDS,
    SCHEMA_VERSION,
    SYNC_FINGERPRINT,
    Document,
    SyncReport,
    describe_syncs,
    dump_document,
    parse_document,
    read_document,
    sync_document,
    sync_fingerprint,
)
from mou_tracker.storage.sync.checks import CLOCK_SKEW
from mou_tracker.storage.sync.common import _hash

__all__ = [
    "CLOCK_SKEW",
    "COMMITMENT_FIELDS",
    "EVIDENCE_FIELDS",
    "MEMO_FIELDS",
    "PARTY_FIELDS",
    "SCHEMA_VERSION",
    "SYNC_FINGERPRINT",
    "Document",
    "SyncReport",
    "_hash",
    "describe_syncs",
    "dump_document",
    "parse_document",
    "read_document",
    "sync_document",
    "sync_fingerprint",
]
