"""`dump` is a backup: after heavy use, dump -> sync into an empty database gives the same
exports byte for byte (evidence ids, the first target setting, link checks and snapshots
included), and dump -> sync -> dump gives the same file. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.conftest import MINI, SHIPPED, sync_file

from mou_tracker import links
from mou_tracker.domain import service
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.models import (
    Evidence,
    LinkCheck,
    Memorandum,
    SyncRun,
    TargetChange,
    utcnow,
)
from mou_tracker.domain.queries import commitment_detail
from mou_tracker.reports.export import export
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.tomlio import (
    describe_syncs,
    dump_document,
    parse_document,
    sync_document,
)

MINI_TEXT = MINI.read_text(encoding="utf-8")


def _dump(engine) -> str:
    with read(engine) as s:
        return dump_document(s)


def _export(engine, out: Path, day: date) -> dict[str, bytes]:
    with read(engine) as s:
        export(s, out, report_date=day)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _add(engine, ref: str, url: str, published: str | None = "2026-05-01", **extra) -> int:
    item = service.EvidenceInput.build(
        url=url, title=f"Evidence at {url}", published=published, **extra
    )
    return run_write(engine, lambda s: service.add_evidence(s, ref, item, actor="staff-1")).id


def _exercise(engine) -> int:
    """Everything a team does to a tracker, through the same calls the CLI and the UI make."""
    # Evidence added after seeding, to commitments out of their order, so ids interleave.
    late = _add(engine, "OAI-P6", "https://news.example.org/late-p6", kind="news_report")
    first = _add(
        engine,
        "OAI-2.3",
        "https://gov.example.org/trial",
        published="2026-04-09",
        publisher="Gov — 政府",
        direction="progress",
        confidence="primary",
        summary="Departments trial the tools; ünïcode kept",
        archived_url="https://archive.example.org/trial",
    )
    _add(engine, "OAI-2.1", "https://news.example.org/2-1", published=None)
    delay = _add(engine, "OAI-3.1", "https://news.example.org/delay", published="2026-06-01")
    _add(engine, "OAI-P6", "https://news.example.org/late-p6-2")
    run_write(
        engine,
        lambda s: service.change_status(
            s,
            "OAI-2.3",
            "in_progress",
            actor="manager-1",
            reason="Trials\nstarted",
            evidence=[first],
        ),
    )
    run_write(
        engine, lambda s: service.record_review(s, "OAI-P5", actor="manager-2", note="Nothing new")
    )
    run_write(
        engine,
        lambda s: service.record_review(
            s, "OAI-P4", actor="manager-2", note="On the day", reviewed_on=utcnow().date()
        ),
    )
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s, first, {"title": "Departments trial AI tools"}, actor="editor", reason="typo"
        ),
    )
    run_write(
        engine,
        lambda s: service.edit_evidence(
            s, late, {"published": "2026-04-30"}, actor="editor", reason="wrong day"
        ),
    )
    run_write(
        engine,
        lambda s: service.set_target(
            s, "OAI-3.1", "2026-12-31", actor="manager-1", reason="Stated in the plan: first target"
        ),
    )
    run_write(
        engine,
        lambda s: service.set_target(
            s,
            "OAI-3.1",
            "2027-06-30",
            actor="manager-1",
            reason="Delay announced",
            evidence=[delay],
        ),
    )
    run_write(engine, lambda s: service.add_note(s, "OAI-2.3", "Public *note*", actor="staff-2"))
    run_write(
        engine,
        lambda s: service.add_note(
            s, "OAI-2.3", "Internal: ask DSIT", actor="staff-2", visibility="internal"
        ),
    )
    run_write(
        engine,
        lambda s: service.change_status(
            s, "OAI-P6", "in_progress", actor="manager-3", reason="Resumed", evidence=[late]
        ),
    )
    # Link checks, with snapshots, a move, a change, a broken and an unreachable page.
    with read(engine) as s:
        memo_urls = {m.slug: m.source_url for m in s.scalars(select(Memorandum))}
    memo_url = next(iter(memo_urls.values()))
    checked = utcnow() - timedelta(minutes=3)
    first_round = [
        links.Fetch(
            "https://gov.example.org/trial",
            "ok",
            200,
            "https://gov.example.org/trial",
            "Trial page text",
            "Trial",
        ),
        links.Fetch(
            "https://news.example.org/delay",
            "ok",
            200,
            "https://news.example.org/moved/delay",
            "Delay story",
            "Delay — 遅延",
        ),
        links.Fetch(
            "https://news.example.org/2-1",
            "broken",
            404,
            "https://news.example.org/2-1",
            error="HTTP 404 Not Found",
        ),
        links.Fetch("https://news.example.org/late-p6", "unreachable", error="DNS lookup failed"),
        links.Fetch(memo_url, "ok", 200, memo_url, "The memorandum text", "MoU"),
    ]
    run_write(engine, lambda s: links.record(s, first_round, memo_urls=memo_urls, at=checked))
    second_round = [
        links.Fetch(
            "https://gov.example.org/trial",
            "ok",
            200,
            "https://gov.example.org/trial",
            "Trial page text, edited",
            "Trial",
        ),
    ]
    run_write(
        engine,
        lambda s: links.record(
            s, second_round, memo_urls=memo_urls, at=checked + timedelta(minutes=1)
        ),
    )
    return delay


def _snapshot_rows(engine, model, order) -> list[tuple]:
    with read(engine) as s:
        rows = s.execute(select(model.__table__).order_by(*order)).all()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


def test_a_restored_dump_gives_the_same_exports_byte_for_byte(engine, other_url, tmp_path):
    sync_file(engine, SHIPPED, actor="seeder")
    delay_id = _exercise(engine)
    # A later sync into the non-empty database: recorded, and carried by the dump.
    update = _dump(engine)
    extra = (
        '[[commitment.evidence]]\nurl = "https://news.example.org/from-a-file"\ntitle = "From a file"\n'
        'kind = "news_report"\ndirection = "context"\nconfidence = "secondary"\n'
        'added_by = "file-author"\nadded_at = 2026-08-01T09:00:00Z\n\n'
    )
    marker = 'ref = "OAI-P5"'
    head, tail = update.split(marker)
    after_owners = tail.index("\n\n") + 2
    update = head + marker + tail[:after_owners] + extra + tail[after_owners:]
    report = run_write(
        engine, lambda s: sync_document(s, parse_document(update, "update.toml"), actor="syncer")
    )
    assert dict(report.added) == {"evidence": 1}

    day = utcnow().date()  # one report date for both exports, even across midnight
    before = _export(engine, tmp_path / "before", day)
    first = _dump(engine)
    assert "[[link_check]]" in first and "snapshot = " in first and "[[sync_run]]" in first
    assert 'reason = "Stated in the plan: first target"' in first
    ids_in_dump = [int(line[5:]) for line in first.splitlines() if line.startswith("id = ")]
    assert ids_in_dump != sorted(ids_in_dump)  # the dump's order is not the ids' order
    page = before["commitments/oai-3.1.md"].decode()
    assert f"(#{delay_id})" in page and "first target" in page and "moved" in page.lower()

    restored = make_engine(other_url)
    create_schema(restored)
    try:
        run_write(
            restored,
            lambda s: sync_document(s, parse_document(first, "backup.toml"), actor="restorer"),
        )
        after = _export(restored, tmp_path / "after", day)
        assert sorted(after) == sorted(before)
        differing = [name for name in before if before[name] != after[name]]
        assert differing == []
        assert _dump(restored) == first

        # Table by table: the same evidence ids, target changes, link checks and snapshots.
        for model, order in (
            (Evidence, (Evidence.id,)),
            (TargetChange, (TargetChange.id,)),
            (LinkCheck, (LinkCheck.id,)),
        ):
            ours = _snapshot_rows(engine, model, order)
            theirs = _snapshot_rows(restored, model, order)
            if model is Evidence:  # bookkeeping (version, updated_*, source_hash) may differ
                keep = slice(0, 13)
                ours, theirs = [r[keep] for r in ours], [r[keep] for r in theirs]
            assert theirs == ours, model.__tablename__

        # The log of syncs: the update came along; the restore recorded itself.
        with read(restored) as s:
            runs = list(s.scalars(select(SyncRun).order_by(SyncRun.id)))
            line = describe_syncs(s)
        assert [(r.actor, r.file_name, r.into_empty) for r in runs] == [
            ("syncer", "update.toml", False),
            ("restorer", "backup.toml", True),
        ]
        assert "by restorer from backup.toml" in line

        # New evidence after a restore gets a fresh id (on PostgreSQL: the sequence moved on).
        with read(restored) as s:
            top = s.scalar(select(Evidence.id).order_by(Evidence.id.desc()).limit(1))
        assert _add(restored, "OAI-2.1", "https://news.example.org/after-restore") == top + 1

        # And a second sync of the same dump changes nothing.
        again = run_write(
            restored,
            lambda s: sync_document(s, parse_document(first, "backup.toml"), actor="restorer"),
        )
        assert not again.changed and not again.conflicts and not again.kept
    finally:
        restored.dispose()


def test_evidence_ids_in_the_file_are_kept_only_when_free(mini, other_url):
    """A file's id is used when its record is created and no record has that id; otherwise
    the database gives a new id and the sync says so. Records match by URL, never by id."""
    theirs = _add(mini, "T-2", "https://news.example.org/only-here")
    other = make_engine(other_url)
    create_schema(other)
    try:
        sync_file(other, MINI)
        taken = _add(other, "T-1", "https://news.example.org/elsewhere")
        assert taken == theirs  # both databases gave the next id to different records
        # mini's dump, with one more record that asks for a free id, 500.
        free_id = 500
        extra = (
            f'[[commitment.evidence]]\nid = {free_id}\nurl = "https://news.example.org/free-id"\n'
            'title = "Free id"\nkind = "data"\ndirection = "context"\nconfidence = "primary"\n'
            'added_by = "x"\nadded_at = 2026-01-01T00:00:00Z\n\n'
        )
        text_with_free_id = _dump(mini)
        marker = "[[commitment.evidence]]\nid = " + str(theirs)
        assert marker in text_with_free_id
        text_with_free_id = text_with_free_id.replace(marker, extra + marker, 1)
        report = run_write(
            other,
            lambda s: sync_document(s, parse_document(text_with_free_id), actor="merger"),
        )
        assert report.renumbered == 1 and "got new ids" in report.summary()
        with read(other) as s:
            ids = {url: eid for eid, url in s.execute(select(Evidence.id, Evidence.url))}
        assert ids["https://news.example.org/free-id"] == free_id
        assert ids["https://news.example.org/elsewhere"] == taken  # untouched
        # The record whose id was taken is numbered after the ids the file gave.
        assert ids["https://news.example.org/only-here"] == free_id + 1
        # Ids given explicitly never collide with the next record added.
        assert _add(other, "T-1", "https://news.example.org/next") == free_id + 2
    finally:
        other.dispose()


def test_the_shipped_file_loads_with_the_ids_it_always_had(engine):
    sync_file(engine, SHIPPED)
    doc = parse_document(SHIPPED.read_text(encoding="utf-8"))
    urls = [(c["ref"], e["url"]) for c in doc.commitments for e in c["evidence"]]
    # The shipped file names its evidence ids (#1-#96 as first published, later ones after)
    with read(engine) as s:
        got = {
            (ref, url): eid
            for eid, ref, url in s.execute(
                text(
                    "SELECT e.id, c.ref, e.url FROM evidence e JOIN commitment c "
                    "ON c.id = e.commitment_id"
                )
            )
        }
    wanted = [e["id"] for c in doc.commitments for e in c["evidence"]]
    assert None not in wanted and [got[key] for key in urls] == wanted
    assert set(range(1, 97)) <= set(wanted)  # the 96 records first published keep their numbers


def test_the_first_target_setting_round_trips_with_who_when_and_why(mini, other_url):
    run_write(
        mini,
        lambda s: service.set_target(s, "T-2", "2026-12-31", actor="pm", reason="In the plan"),
    )
    dumped = _dump(mini)
    block = dumped.split("[[commitment.retarget]]\n", 1)[1].split("\n\n", 1)[0]
    assert "from =" not in block and 'by = "pm"' in block and "to = 2026-12-31" in block
    other = make_engine(other_url)
    create_schema(other)
    try:
        run_write(other, lambda s: sync_document(s, parse_document(dumped), actor="r"))
        with read(other) as s:
            d = commitment_detail(s, "T-2")
        assert [(t.old_target, t.new_target, t.by, t.reason) for t in d.targets] == [
            (None, date(2026, 12, 31), "pm", "In the plan")
        ]
        assert d.original_target == d.target == date(2026, 12, 31)
    finally:
        other.dispose()


def test_a_sync_that_changes_nothing_records_no_run(mini):
    with read(mini) as s:
        assert describe_syncs(s).startswith("1 recorded")
    report = sync_file(mini)
    assert not report.changed
    with read(mini) as s:
        (run,) = s.scalars(select(SyncRun))
    assert (run.actor, run.file_name, run.into_empty) == ("tester", "mini.toml", True)
    assert run.file_sha256 == hashlib.sha256(MINI.read_bytes()).hexdigest()
    assert run.added["commitments"] == 3
    assert "[[sync_run]]" not in _dump(mini)  # the run that filled the database is not dumped


def test_info_names_who_ran_the_last_sync(cli_main):
    assert cli_main("sync", str(MINI)).code == 0
    result = cli_main("info")
    assert result.code == 0, result.err
    line = next(x for x in result.out.splitlines() if x.startswith("syncs:"))
    assert (
        "1 recorded" in line
        and "by tester from mini.toml" in line
        and "added 3 commitments" in line
    )


def _link_check_text(**fields: str) -> str:
    base = {
        "url": '"https://news.example.org/pilot"',
        "checked_at": "2026-01-01T00:00:00Z",
        "state": '"ok"',
    }
    base.update(fields)
    return MINI_TEXT + "\n[[link_check]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items())


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"snapshot": '"not base64!"', "snapshot_chars": "3"}, "not valid base64"),
        ({"snapshot": '"eJxLTEoGAAJNASc="'}, "go together"),
        ({"snapshot": '"eJxLTEoGAAJNASc="', "snapshot_chars": "5"}, "holds 3 characters, not 5"),
        ({"state": '"fine"'}, "not one of"),
        ({"content_hash": '"abc"'}, "SHA-256"),
        ({"checked_at": "2100-01-01T00:00:00Z"}, "in the future"),
    ],
)
def test_bad_link_checks_are_refused_with_their_line(fields, problem):
    text_ = _link_check_text(**fields)
    with pytest.raises(InvalidInput, match=problem) as info:
        parse_document(text_)
    message = str(info.value)
    assert "link_check[1]" in message and "\n" not in message
    header = text_[: text_.index("[[link_check]]")].count("\n") + 1
    line = int(message.split(":", 2)[1])
    assert header <= line <= text_.count("\n")


def test_a_planted_snapshot_cannot_inflate_on_sync():
    bomb = base64.b64encode(zlib.compress(b"a" * 5_000_000, 9)).decode()
    with pytest.raises(InvalidInput, match="does not hold the 10 characters"):
        parse_document(_link_check_text(snapshot=f'"{bomb}"', snapshot_chars="10"))


def test_the_log_of_syncs_is_append_only(mini, db_url):
    from sqlalchemy.exc import DBAPIError

    from mou_tracker.domain.models import AppendOnlyError
    from mou_tracker.storage.migrate import upgrade

    def orm_edit(s):
        run = s.scalars(select(SyncRun)).one()
        run.actor = "someone else"
        s.flush()

    with pytest.raises(AppendOnlyError):
        run_write(mini, orm_edit)
    for statement in ("UPDATE sync_run SET actor = 'someone else'", "DELETE FROM sync_run"):
        with pytest.raises(DBAPIError, match="append-only"):
            run_write(mini, lambda s, sql=statement: s.execute(text(sql)))
    # A database built by the migrations has the same guard.
    mini.dispose()
    if db_url.startswith("sqlite"):
        migrated = make_engine(db_url.replace("tracker.db", "migrated.db"))
        upgrade(migrated)
        with pytest.raises(DBAPIError, match="append-only"):
            with migrated.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO sync_run (at, actor, file_name, file_sha256, added, updated, "
                        "kept, conflicts, into_empty) VALUES ('2026-01-01 00:00:00', 'a', 'f', "
                        "'x', '{}', '{}', 0, 0, 0)"
                    )
                )
                conn.execute(text("DELETE FROM sync_run"))
        migrated.dispose()
