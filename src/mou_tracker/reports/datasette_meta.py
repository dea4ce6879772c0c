"""``data/datasette.yaml``: Datasette metadata for ``data/tracker.sqlite``.

Title, a description that states the memoranda's legal status, source and licence, a
description of every table and column (taken from :mod:`mou_tracker.reports.public_db`, so the
two agree), facets, full-text search, and named queries a journalist would start from. Read it
with ``datasette data/tracker.sqlite -m data/datasette.yaml``.

The YAML is written here, by a small emitter for the few shapes the metadata uses (mappings,
lists, strings, integers, booleans), so the core needs no YAML library; the tests read it back
with PyYAML and compare it with :func:`metadata`. Its output is a pure function of the snapshot.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mou_tracker.reports import model
from mou_tracker.reports.public_db import SQLITE_FILE, TABLES

METADATA_FILE = "data/datasette.yaml"
DATABASE = "tracker"  # Datasette names a database after its file
LICENSE = "MIT"
LICENSE_URL = "https://opensource.org/license/mit"

QUERIES: dict[str, dict[str, str]] = {
    "stalled_with_latest_evidence": {
        "title": "Stalled commitments with their latest evidence",
        "description": "Every commitment now assessed as stalled, why, and the newest dated "
        "evidence on it.",
        "sql": """select
  c.ref,
  c.title,
  c.strength,
  c.owners,
  c.status_since,
  c.status_reason,
  e.published as latest_published,
  e.title as latest_evidence,
  e.publisher as latest_publisher,
  e.direction as latest_direction,
  e.url as latest_url
from commitments c
left join evidence e on e.id = (
  select e2.id from evidence e2
  where e2.ref = c.ref and e2.published is not null
  order by e2.published desc, e2.id desc
  limit 1
)
where c.status = 'stalled'
order by c.report_order""",
    },
    "status_changes_with_evidence": {
        "title": "Every status change with the evidence it cites",
        "description": "One row per status change and cited evidence record, newest first; "
        "at is when the change takes effect, recorded_at when the tracker recorded it.",
        "sql": """select
  h.at,
  h.recorded_at,
  h.ref,
  c.title as commitment,
  h.from_status,
  h.to_status,
  h.actor,
  h.reason,
  e.id as evidence_id,
  e.published as evidence_published,
  e.title as evidence_title,
  e.publisher as evidence_publisher,
  e.confidence as evidence_confidence,
  e.url as evidence_url
from history h
join commitments c on c.ref = h.ref
left join history_evidence he on he.history_id = h.id
left join evidence e on e.id = he.evidence_id
where h.kind = 'status'
order by h.at desc, h.id desc, e.id""",
    },
    "evidence_by_publisher": {
        "title": "Evidence by publisher",
        "description": "How much of the evidence each publisher supplies: records, distinct "
        "URLs (sources) and commitments, split by direction and confidence.",
        "sql": """select
  coalesce(publisher, '(no publisher)') as publisher,
  count(*) as evidence_records,
  count(distinct url) as distinct_urls,
  count(distinct ref) as commitments,
  sum(direction = 'progress') as progress,
  sum(direction = 'against') as against,
  sum(direction = 'context') as context,
  sum(confidence = 'primary') as primary_sources,
  min(published) as first_published,
  max(published) as latest_published
from evidence
group by coalesce(publisher, '(no publisher)')
order by evidence_records desc, publisher""",
    },
    "status_by_month": {
        "title": "Status of every counted commitment at the end of each month",
        "description": "How many counted commitments stood at each status at each month end, "
        "rebuilt from the history by the date each change takes effect (so a back-dated "
        "assessment counts from the date it names).",
        "sql": """with recursive months(month_end) as (
  select date(min(signed), 'start of month', '+1 month', '-1 day') from memoranda
  union all
  select date(month_end, '+1 day', '+1 month', '-1 day') from months
  where month_end < (select value from export_info where key = 'report_date')
),
state as (
  select m.month_end, c.ref,
    coalesce((
      select h.to_status from history h
      where h.ref = c.ref and substr(h.at, 1, 10) <= m.month_end
      order by h.at desc, h.id desc limit 1
    ), 'not_assessed') as status
  from months m join commitments c on c.counted = 1
)
select substr(month_end, 1, 7) as month, status, count(*) as commitments
from state
group by month_end, status
order by month_end, status""",
    },
}


def metadata(snap: model.Snapshot) -> dict[str, Any]:
    """The Datasette metadata as a plain dict."""
    memos = snap.memoranda
    if len(memos) == 1:
        title = f"mou-tracker: {memos[0].title}"
        source, source_url = memos[0].title, memos[0].source_url
    else:
        title = f"mou-tracker: {len(memos)} memoranda of understanding"
        source, source_url = "the memoranda listed in the memoranda table", None
    status = " ".join(f"{m.title} (signed {m.signed.isoformat()}): {m.legal_status}" for m in memos)
    description = (
        "The public record of mou-tracker: every commitment in the memoranda below, its owners, "
        "the dated public evidence on it, every status change with the evidence it cites, "
        "corrections and public notes. Legal status: "
        + (status or "no memorandum recorded.")
        + " The statuses are the tracker's assessment, not either party's. The data is "
        + f"published under the project's {LICENSE} licence; the sources it cites belong to "
        + "their publishers. Report date "
        + f"{snap.report_date.isoformat()}; latest recorded change "
        + (f"{snap.as_of.strftime('%Y-%m-%dT%H:%M:%SZ')}." if snap.as_of else "none.")
    )
    tables: dict[str, Any] = {}
    for table in TABLES:
        entry: dict[str, Any] = {
            "description": table.description,
            "columns": {c.name: c.description for c in table.columns},
        }
        if table.facets:
            entry["facets"] = list(table.facets)
        if table.label_column:
            entry["label_column"] = table.label_column
        if table.fts:
            entry["fts_table"] = table.fts
            entry["fts_pk"] = "rowid"
        if table.sort_desc:
            entry["sort_desc"] = table.sort_desc
        tables[table.name] = entry
    result: dict[str, Any] = {
        "title": title,
        "description": description,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "source": source,
    }
    if source_url:
        result["source_url"] = source_url
    result["databases"] = {
        DATABASE: {
            "description": f"{SQLITE_FILE} of a mou-tracker export: the public record only.",
            "tables": tables,
            "queries": {name: dict(q) for name, q in QUERIES.items()},
        }
    }
    return result


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(value: str) -> str:
    return value if _PLAIN_KEY.match(value) else json.dumps(value, ensure_ascii=False)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A double-quoted YAML scalar takes JSON's escapes; keep it on one line. Characters
        # YAML will not take raw (C1 controls, NEL, line separators, BOM) are escaped too.
        text = json.dumps(value, ensure_ascii=False)
        if text.isprintable():
            return text
        return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _block_ok(text: str) -> bool:
    """A multi-line string that a literal block (``|-``) keeps exactly."""
    lines = text.split("\n")
    return (
        len(lines) > 1
        and not text.endswith("\n")
        and not lines[0].startswith(" ")
        and all(line == line.rstrip() and "\t" not in line for line in lines)
        and all(line.isprintable() for line in lines)
    )


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            _entry(f"{pad}{_key(str(k))}:", v, indent, out)
    elif isinstance(value, list):
        for item in value:
            _entry(f"{pad}-", item, indent, out)
    else:  # pragma: no cover - only containers reach here
        out.append(pad + _scalar(value))


def _entry(head: str, value: Any, indent: int, out: list[str]) -> None:
    if isinstance(value, dict) and value:
        if head.endswith("-"):  # a mapping inside a list: its first key on the dash's line
            items = list(value.items())
            first, rest = items[0], dict(items[1:])
            _entry(f"{head} {_key(str(first[0]))}:", first[1], indent + 1, out)
            _emit(rest, indent + 1, out)
        else:
            out.append(head)
            _emit(value, indent + 1, out)
    elif isinstance(value, list) and value:
        out.append(head)
        _emit(value, indent + 1, out)
    elif isinstance(value, (dict, list)):
        out.append(f"{head} {'{}' if isinstance(value, dict) else '[]'}")
    elif isinstance(value, str) and _block_ok(value):
        out.append(f"{head} |-")
        pad = "  " * (indent + 1)
        out.extend(pad + line if line else "" for line in value.split("\n"))
    else:
        out.append(f"{head} {_scalar(value)}")


def to_yaml(value: dict[str, Any]) -> str:
    """``value`` as YAML, deterministically (keys in the order given)."""
    out: list[str] = []
    _emit(value, 0, out)
    return "\n".join(out) + "\n"


def metadata_yaml(snap: model.Snapshot) -> str:
    return (
        "# Datasette metadata for tracker.sqlite, written by mou-tracker export.\n"
        "# datasette tracker.sqlite -m datasette.yaml\n" + to_yaml(metadata(snap))
    )
