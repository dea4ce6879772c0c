"""Export now: the reports into a directory, through ``mou_tracker.reports.export.export`` in a
worker (the same function as ``mou-tracker export``), with the viewer's rights like the CLI
(``storage.roles.as_viewer``: on PostgreSQL with roles set up, internal notes are unreadable from
there on; on SQLite it does nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, SelectionList
from textual.widgets.selection_list import Selection

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.tui.modals.base import FormScreen, field_row
from mou_tracker.tui.text import long_day
from mou_tracker.tui.widgets.ticks import TickList


def _earlier_export(path: Path) -> bool:
    """``path`` holds an earlier export (it has the manifest an export writes). A folder of
    other files is not asked about: the export refuses it, saying why."""
    from mou_tracker.reports.export import MANIFEST

    try:
        return path.is_dir() and (path / MANIFEST).is_file()
    except OSError:
        return False  # unreadable: the export itself says why


FORMATS = (("md", "Markdown"), ("html", "HTML"), ("json", "JSON"), ("csv", "CSV"))


class ExportForm(FormScreen[str]):
    TITLE = "Export"
    SAVE_LABEL = "Export now"
    KEYS_HINT = "ctrl+s export · esc cancel · tab next"
    REFUSED = "Not exported"
    WRITES = False
    FIELD_IDS = {"out": "out", "format": "formats", "since": "since"}

    def __init__(self, out_dir: str = "exports") -> None:
        super().__init__()
        self.out_dir = out_dir
        self.replace_ok: Path | None = None  # the folder the person agreed to replace

    def action_save(self) -> None:
        """An existing export folder is replaced only once the person says so (issue 18,
        item 8: from a checkout, the default ``exports`` is the tracked folder)."""
        if self.saving:
            return
        raw = self.value("out").strip()
        path = Path(raw).expanduser() if raw else None
        if path is None or path == self.replace_ok or not _earlier_export(path):
            super().action_save()
            return
        from mou_tracker.tui.modals.confirm import ConfirmScreen

        count = sum(1 for _ in path.rglob("*") if _.is_file())

        def decided(replace: bool | None) -> None:
            if replace:
                self.replace_ok = path
                super(ExportForm, self).action_save()

        self.app.push_screen(
            ConfirmScreen(
                f"{path} holds an earlier export ({count:,} files). Replace it with this one?",
                yes="Replace",
                no="Keep them",
            ),
            decided,
        )

    def heading(self) -> Text:
        return Text(
            "Write the reports (index, one page per commitment, digest, JSON and CSV). "
            "Internal notes are never exported.",
        )

    def fields(self) -> ComposeResult:
        yield from field_row("Directory", Input(self.out_dir, id="out", compact=True))
        yield from field_row(
            "Formats",
            TickList(
                *[Selection(label, key, True) for key, label in FORMATS], id="formats", compact=True
            ),
        )
        yield from field_row(
            "Since",
            Input(placeholder="optional: digest of changes since a date", id="since", compact=True),
        )

    def check_names(self) -> tuple[str, ...]:
        return ("out", "formats", "since")

    def check(self, name: str) -> tuple[str | Text, str]:
        if name == "out":
            raw = self.value("out").strip()
            if not raw:
                return "out: give a directory", "error"
            path = Path(raw).expanduser()
            where = (
                "" if path.is_absolute() else " (under the directory mou-tracker was started in)"
            )
            return f"into {path}{where}", ""
        if name == "formats":
            chosen = self.query_one("#formats", SelectionList).selected
            return ("format: choose at least one format", "error") if not chosen else ("", "")
        if name == "since":
            raw = self.value("since")
            if not raw.strip():
                return "", ""
            try:
                parsed = v.parse_date(raw, "since")
            except InvalidInput as exc:
                return str(exc), "error"
            return f"read as {parsed.isoformat()}, {long_day(parsed)}", "ok"
        return "", ""

    def values(self) -> dict[str, Any]:
        return {
            "out": self.value("out"),
            "formats": tuple(self.query_one("#formats", SelectionList).selected),
            "since": self.value("since"),
        }

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.storage.engine import read

        out = values["out"].strip()
        if not out:
            raise InvalidInput("out", "give a directory")
        formats = tuple(
            v.choice(f, "format", tuple(k for k, _ in FORMATS)) for f in values["formats"]
        )
        if not formats:
            raise InvalidInput("format", "choose at least one format")
        since = v.parse_date(values["since"], "since") if values["since"].strip() else None
        from mou_tracker.reports.export import export
        from mou_tracker.storage.roles import as_viewer

        path = Path(out).expanduser()
        with read(self.tracker.engine) as session:
            as_viewer(session)  # as the CLI: with PostgreSQL roles, internal notes are unreadable
            written = export(session, path, formats=formats, since=since)
        return f"Wrote {written} file(s) to {path}"
