"""dump -> sync into an empty database -> dump gives identical TOML, for generated trackers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import MINI

from mou_tracker.domain import service
from mou_tracker.domain.errors import TrackerError
from mou_tracker.domain.vocab import CONFIDENCES, DIRECTIONS, EVIDENCE_KINDS, STATUSES
from mou_tracker.storage.engine import create_schema, make_engine, read, run_write
from mou_tracker.storage.tomlio import dump_document, parse_document, sync_document

_chars = st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))
line = st.text(_chars, min_size=1, max_size=40).filter(lambda s: s.strip())
para = st.lists(line, min_size=1, max_size=3).map("\n".join)
day = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 30))

evidence_op = st.tuples(
    st.just("evidence"),
    st.sampled_from(["T-1", "T-2"]),
    st.integers(0, 10_000),
    line,
    st.none() | line,
    day,
    st.sampled_from(EVIDENCE_KINDS),
    st.sampled_from(DIRECTIONS),
    st.sampled_from(CONFIDENCES),
    st.none() | line,
)
status_op = st.tuples(
    st.just("status"), st.sampled_from(["T-1", "T-2"]), st.sampled_from(STATUSES), para
)
note_op = st.tuples(
    st.just("note"),
    st.sampled_from(["T-0", "T-1", "T-2"]),
    para,
    st.sampled_from(["public", "internal"]),
)
review_op = st.tuples(st.just("review"), st.sampled_from(["T-1", "T-2"]), para)
edit_op = st.tuples(st.just("edit"), line, para)
ops = st.lists(st.one_of(evidence_op, status_op, note_op, review_op, edit_op), max_size=12)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops)
def test_generated_tracker_round_trips(tmp_path_factory, operations):
    folder = tmp_path_factory.mktemp("rt")
    engine = make_engine(f"sqlite:///{folder / 'a.db'}")
    create_schema(engine)
    doc = parse_document(MINI.read_text(encoding="utf-8"))
    run_write(engine, lambda s: sync_document(s, doc, actor="seed"))
    clock = datetime(2026, 7, 1, tzinfo=UTC)
    evidence_ids: list[int] = []
    for op in operations:
        clock += timedelta(minutes=7)
        try:
            if op[0] == "evidence":
                _, ref, n, title, publisher, published, kind, direction, confidence, summary = op
                item = service.EvidenceInput.build(
                    url=f"https://e{n}.example.org/p?q={n}",
                    title=title,
                    publisher=publisher,
                    published=published,
                    kind=kind,
                    direction=direction,
                    confidence=confidence,
                    summary=summary,
                )
                row = run_write(
                    engine, lambda s: service.add_evidence(s, ref, item, actor="gen", at=clock)
                )
                evidence_ids.append(row.id)
            elif op[0] == "status":
                _, ref, status, reason = op

                def change(s, ref=ref, status=status, reason=reason):
                    from mou_tracker.domain.queries import commitment_detail

                    cited = [e.id for e in commitment_detail(s, ref).evidence if e.published][:2]
                    return service.change_status(
                        s, ref, status, actor="gen", reason=reason, evidence=cited, at=clock
                    )

                run_write(engine, change)
            elif op[0] == "note":
                _, ref, body, visibility = op
                run_write(
                    engine,
                    lambda s: service.add_note(
                        s, ref, body, actor="gen", visibility=visibility, at=clock
                    ),
                )
            elif op[0] == "review":
                _, ref, note = op
                run_write(
                    engine,
                    lambda s: service.record_review(s, ref, actor="gen", note=note, at=clock),
                )
            elif op[0] == "edit" and evidence_ids:
                _, title, reason = op
                run_write(
                    engine,
                    lambda s: service.edit_evidence(
                        s, evidence_ids[-1], {"title": title}, actor="gen", reason=reason, at=clock
                    ),
                )
        except TrackerError:
            pass  # refused operations leave the database unchanged; the round trip must still hold
    with read(engine) as s:
        first = dump_document(s)
    other = make_engine(f"sqlite:///{folder / 'b.db'}")
    create_schema(other)
    restored = parse_document(first)
    run_write(other, lambda s: sync_document(s, restored, actor="restore"))
    with read(other) as s:
        second = dump_document(s)
    assert second == first
    # and a second sync of the same dump is a no-op
    report = run_write(other, lambda s: sync_document(s, restored, actor="restore"))
    assert not report.changed and not report.conflicts
    engine.dispose()
    other.dispose()
