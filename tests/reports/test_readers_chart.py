"""Status over time (issue 13, item 3): ``data/status-by-date.csv`` and the SVG chart, counted
by the day each change was recorded, and beside them ``data/status-by-effective-date.csv`` and
its chart, counted by the day each change took effect; the same bytes from the same database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

from tests.conftest import SHIPPED, frozen_clock, sync_file

from mou_tracker.domain import service
from mou_tracker.reports import chart
from mou_tracker.reports.export import export
from mou_tracker.reports.model import snapshot, status_by_date
from mou_tracker.storage.engine import read, run_write

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _export(engine, out: Path, **kw) -> None:
    with read(engine) as s:
        export(s, out, **kw)


def _rows(out: Path, name: str = "data/status-by-date.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / name).read_text("utf-8"))))


def _stall_t2(engine, recorded: datetime, effective: datetime | None = None) -> None:
    with frozen_clock(recorded):
        ev = run_write(
            engine,
            lambda s: service.add_evidence(
                s,
                "T-2",
                service.EvidenceInput.build(
                    url="https://news.example.org/paused", title="Paused", published="2026-01-20"
                ),
                actor="staff",
            ),
        )
        run_write(
            engine,
            lambda s: service.change_status(
                s, "T-2", "stalled", actor="pm", reason="Paused.", evidence=[ev.id], at=effective
            ),
        )


def test_counts_change_on_the_day_a_change_was_recorded(mini, tmp_path):
    # Recorded on 1 March, though it takes effect on 25 January: it counts from 1 March.
    _stall_t2(mini, T0, effective=T0 - timedelta(days=35))
    with read(mini) as s:
        snap = snapshot(s)
        series = status_by_date(s, snap)
    by_day = {day: counts for day, counts in series}
    assert by_day[date(2025, 1, 15)] == {"not_assessed": 2}  # signed: T-1 and T-2 (T-0 is vision)
    assert by_day[T0.date()] == {"in_progress": 1, "stalled": 1}
    assert date(2026, 1, 25) not in by_day
    # the last counts are the index's counts
    final = series[-1][1]
    assert final == {r.status: 1 for r in snap.rows if r.counted}
    days = [day for day, _ in series]
    assert days == sorted(days) and len(days) == len(set(days))
    assert all(a[1] != b[1] for a, b in zip(series, series[1:], strict=False))


def test_the_csv_has_every_status_on_each_day_a_count_changed(mini, tmp_path):
    _stall_t2(mini, T0)
    out = tmp_path / "exports"
    _export(mini, out)
    rows = _rows(out)
    assert list(rows[0]) == ["date", "status", "count"]
    days = sorted({r["date"] for r in rows})
    for day in days:
        statuses = [r["status"] for r in rows if r["date"] == day]
        assert statuses == list(chart.ORDER)
    last = {r["status"]: int(r["count"]) for r in rows if r["date"] == days[-1]}
    assert last["stalled"] == 1 and last["in_progress"] == 1 and sum(last.values()) == 2


def test_the_chart_is_plain_svg_and_byte_identical_across_exports(mini, tmp_path):
    _stall_t2(mini, T0)
    one, two = tmp_path / "one", tmp_path / "two"
    _export(mini, one)
    _export(mini, two)
    for name in (
        "status-over-time.svg",
        "data/status-by-date.csv",
        "status-by-effective-date.svg",
        "data/status-by-effective-date.csv",
    ):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    svg = (one / "status-over-time.svg").read_text("utf-8")
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "desc", "rect", "path", "text"}, tags  # no script
    assert root.find(f"{SVG}title") is not None
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "1 in progress" in str(desc.text) and "1 stalled" in str(desc.text)
    # The index shows it, and the HTML index draws it as an image beside the link.
    assert "](status-over-time.svg)" in (one / "README.md").read_text("utf-8")
    assert '<img src="../status-over-time.svg"' in (one / "html/index.html").read_text("utf-8")


def test_an_empty_tracker_still_gets_a_chart(engine, tmp_path):
    svg = chart.status_svg([], date(2026, 1, 1), "Status over time")
    assert "No commitment is scored yet." in svg
    ElementTree.fromstring(svg)
    assert chart.status_csv([]) == "date,status,count\n"


# --- by the day each change took effect ------------------------------------------------------------

DAY_10 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY_20 = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _counts(rows: list[dict[str, str]], day: date) -> dict[str, int]:
    return {
        r["status"]: int(r["count"])
        for r in rows
        if r["date"] == day.isoformat() and r["count"] != "0"
    }


def test_a_back_dated_change_lands_on_different_days_in_the_two_series(mini, tmp_path):
    # Recorded on day 20, taking effect on day 10.
    _stall_t2(mini, DAY_20, effective=DAY_10)
    out = tmp_path / "exports"
    _export(mini, out, report_date=date(2026, 3, 31))
    by_recorded = _rows(out)
    by_effective = _rows(out, chart.EFFECTIVE_CSV_FILE)
    recorded_days = {r["date"] for r in by_recorded}
    effective_days = {r["date"] for r in by_effective}
    assert (
        DAY_20.date().isoformat() in recorded_days
        and DAY_10.date().isoformat() not in recorded_days
    )
    assert (
        DAY_10.date().isoformat() in effective_days
        and DAY_20.date().isoformat() not in effective_days
    )
    assert _counts(by_effective, DAY_10.date()) == {"in_progress": 1, "stalled": 1}
    assert _counts(by_recorded, DAY_20.date()) == {"in_progress": 1, "stalled": 1}
    # Both end at the index's counts; the effective CSV has every status on every date too.
    with read(mini) as s:
        snap = snapshot(s, date(2026, 3, 31))
        effective = chart.status_by_effective_date(s, snap)
        recorded = status_by_date(s, snap)
    assert effective[-1][1] == recorded[-1][1] == {r.status: 1 for r in snap.rows if r.counted}
    assert list(by_effective[0]) == ["date", "status", "count"]
    for day in sorted(effective_days):
        assert [r["status"] for r in by_effective if r["date"] == day] == list(chart.ORDER)
    # A report dated between the two days shows neither: the change was not yet on record.
    with read(mini) as s:
        early = snapshot(s, date(2026, 3, 15))
        assert chart.status_by_effective_date(s, early)[-1][1] == {
            "in_progress": 1,
            "not_assessed": 1,
        }


def test_the_effective_chart_comes_first_in_the_index_and_says_what_it_counts(mini, tmp_path):
    _stall_t2(mini, DAY_20, effective=DAY_10)
    out = tmp_path / "exports"
    _export(mini, out, report_date=date(2026, 3, 31))
    svg = (out / chart.EFFECTIVE_CHART_FILE).read_text("utf-8")
    root = ElementTree.fromstring(svg)
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "desc", "rect", "path", "text"}, tags
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    desc = str(root.findtext(f"{SVG}desc"))
    assert "took effect" in desc and chart.EFFECTIVE_CSV_FILE in desc and "1 stalled" in desc
    recorded_desc = str(
        ElementTree.fromstring((out / "status-over-time.svg").read_text("utf-8")).findtext(
            f"{SVG}desc"
        )
    )
    assert "recorded" in recorded_desc and "data/status-by-date.csv" in recorded_desc
    index = (out / "README.md").read_text("utf-8")
    section = index[index.index("### Status over time") :]
    assert section.index("](status-by-effective-date.svg)") < section.index(
        "](status-over-time.svg)"
    )
    assert (
        "](data/status-by-effective-date.csv)" in section
        and "](data/status-by-date.csv)" in section
    )
    assert (
        "correction" in section.split("](status-over-time.svg)")[0]
    )  # said beside the first chart
    about = index[index.index("## About these files") :]
    assert "status-by-effective-date.csv" in about and "status-by-effective-date.svg" in about


def test_without_csv_the_effective_chart_still_comes_and_names_its_figures(mini, tmp_path):
    _stall_t2(mini, DAY_20, effective=DAY_10)
    out = tmp_path / "exports"
    _export(mini, out, formats=("md",))
    assert (out / chart.EFFECTIVE_CHART_FILE).is_file()
    assert not (out / chart.EFFECTIVE_CSV_FILE).exists()
    index = (out / "README.md").read_text("utf-8")
    assert "`data/status-by-effective-date.csv` (exported with the csv format)" in index


def test_the_shipped_data_moves_on_more_than_two_days_by_effect(engine, tmp_path):
    sync_file(engine, SHIPPED)
    out = tmp_path / "exports"
    _export(engine, out, report_date=date(2026, 11, 27))
    effective_days = sorted({r["date"] for r in _rows(out, chart.EFFECTIVE_CSV_FILE)})
    recorded_days = sorted({r["date"] for r in _rows(out)})
    assert len(effective_days) > 2, effective_days
    assert len(effective_days) > len(recorded_days)
    last = _counts(_rows(out, chart.EFFECTIVE_CSV_FILE), date.fromisoformat(effective_days[-1]))
    assert last == _counts(_rows(out), date.fromisoformat(recorded_days[-1]))


def test_an_empty_tracker_still_gets_an_effective_chart():
    svg = chart.status_svg([], date(2026, 1, 1), "Status over time", basis="effective")
    assert "No commitment is scored yet." in svg
    ElementTree.fromstring(svg)
