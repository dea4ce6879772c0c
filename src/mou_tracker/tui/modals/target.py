"""Set a commitment's target date, or re-baseline it (issue 18, item 5). Saved by
``service.set_target`` with the version you opened: the first target becomes the original, a
later one is a re-baselining that must cite one evidence record, and every change stays in the
target history (shown in the detail's timeline)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Select

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail
from mou_tracker.tui.modals.base import FormScreen, field_row, run_in_write
from mou_tracker.tui.text import day, long_day
from mou_tracker.tui.widgets.detail import evidence_sorted


class TargetForm(FormScreen[str]):
    TITLE = "Set target date"
    SAVE_LABEL = "Save target"
    RELOADS_ON_CONFLICT = True
    FIELD_IDS = {"target": "target", "reason": "target_reason", "evidence": "target_evidence"}

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail

    @property
    def rebaseline(self) -> bool:
        return self.detail.original_target is not None

    def heading(self) -> Text:
        d = self.detail
        text = Text()
        text.append(d.ref, style="bold reverse")
        text.append(" ")
        text.append(d.title, style="bold")
        text.append("\n")
        if d.target is None:
            text.append("No target yet: the date you set becomes the original target.")
        else:
            text.append(f"Target now {day(d.target)}")
            if d.original_target and d.original_target != d.target:
                text.append(f" (originally {day(d.original_target)})")
            text.append(". Moving it is a re-baselining: cite the evidence for it.")
        text.append(
            f"\nas loaded: version {d.version}, last saved by {d.updated_by}", style="grey58"
        )
        return text

    def fields(self) -> ComposeResult:
        yield from field_row(
            "Target",
            Input(placeholder="2027-03-31 or 31 March 2027", id="target", compact=True),
        )
        yield from field_row(
            "Reason",
            Input(
                placeholder="why this date: who announced it, where",
                id="target_reason",
                compact=True,
            ),
        )
        today = self.tracker.today()
        options = [
            (f"#{e.id} {day(e.published)} {e.title}", str(e.id))
            for e in evidence_sorted(self.detail)
            if e.published is not None and e.published <= today
        ]
        yield from field_row(
            "Evidence",
            Select(
                options,
                prompt="required to re-baseline" if self.rebaseline else "optional",
                id="target_evidence",
                compact=True,
            ),
        )

    def check_names(self) -> tuple[str, ...]:
        return ("target", "target_reason", "target_evidence")

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value(name)
        try:
            if name == "target":
                if not raw.strip():
                    return "required: the date the commitment should be met by", ""
                parsed = v.parse_date(raw, "target")
                if parsed == self.detail.target:
                    return f"target: {self.detail.ref} already has the target {parsed}", "error"
                return Text(f"read as {parsed.isoformat()}, {long_day(parsed)}"), "ok"
            if name == "target_reason":
                if not raw.strip():
                    return "required: why this date, in a sentence", ""
                v.required_text(raw, "reason", limit="reason", multiline=True)
                return "✓", "ok"
            if name == "target_evidence":
                if self.rebaseline and not raw:
                    return "a re-baselining must cite the evidence for it", ""
                return ("✓", "ok") if raw else ("", "")
        except InvalidInput as exc:
            return str(exc), "error"
        return "", ""

    def values(self) -> dict[str, Any]:
        return {
            "target": self.value("target"),
            "reason": self.value("target_reason"),
            "evidence": [self.value("target_evidence")] if self.value("target_evidence") else [],
            "version": self.detail.version,
        }

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import service

        ref, actor = self.detail.ref, self.tracker.actor
        if not values["target"].strip():
            raise InvalidInput("target", "is required (a date such as 2027-03-31)")

        def change(session: Any) -> str:
            entry = service.set_target(
                session,
                ref,
                values["target"],
                actor=actor,
                reason=values["reason"],
                evidence=values["evidence"],
                expected_version=values["version"],
            )
            if entry.old_target is None:
                return f"{ref}: target set to {entry.new_target.isoformat()}"
            return (
                f"{ref}: target moved {entry.old_target.isoformat()} → "
                f"{entry.new_target.isoformat()}"
            )

        return run_in_write(self.tracker, change)

    def load_fresh(self, session: Any) -> CommitmentDetail:
        from mou_tracker.domain.queries import commitment_detail

        return commitment_detail(session, self.detail.ref)

    def show_fresh(self, fresh: CommitmentDetail) -> None:
        self.detail = fresh
