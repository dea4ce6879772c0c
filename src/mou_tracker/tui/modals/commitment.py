"""Correct how a commitment is recorded: its title, summary, strength, origin, text basis,
section, source, theme and owners, every field filled in, and a reason. Only the fields changed
are sent, to ``service.correct_commitment`` (as ``mou-tracker commitment correct``), which keeps
the old and new values in the commitment's public corrections log; a correction made meanwhile by
someone else is refused with who and when."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, TextArea

from mou_tracker.domain import validate as v
from mou_tracker.domain.errors import InvalidInput
from mou_tracker.domain.queries import CommitmentDetail
from mou_tracker.domain.vocab import ORIGINS, STRENGTH_WORDS, STRENGTHS, TEXT_BASES
from mou_tracker.tui.modals.base import FormScreen, Hint, field_row, run_in_write
from mou_tracker.tui.modals.evidence import _options

ORIGIN_WORDS = {
    "clause": "clause: a clause of the memorandum",
    "press_release": "press release: stated in the announcement, not the text",
}
TEXT_BASIS_WORDS = {
    "verified": "verified: checked against the official text",
    "excerpt_only": "excerpt only: from a quoted excerpt",
    "reconstructed": "reconstructed: pieced together, wording not checked",
}


def owners_value(detail: CommitmentDetail) -> str:
    """The owners as the form (and ``--owners``) writes them: ``DSIT:lead,OPENAI:support``,
    leads first."""
    ordered = sorted(detail.owners, key=lambda o: (o.role, o.code))
    return ",".join(f"{o.code}:{o.role}" for o in ordered)


class CorrectCommitmentForm(FormScreen[str]):
    """Every correctable field starts with its current value; the reason is required."""

    TITLE = "Correct commitment"
    SAVE_LABEL = "Save correction"
    TEXT_FIELDS = ("title", "summary", "section", "source_url", "theme", "owners")
    CHOICES = ("strength", "origin", "text_basis")

    def __init__(self, detail: CommitmentDetail) -> None:
        super().__init__()
        self.detail = detail

    def heading(self) -> Text:
        text = Text("Correct ")
        text.append(self.detail.ref, style="bold reverse")
        text.append(
            f" · as loaded: version {self.detail.version}"
            + (f", last saved by {self.detail.updated_by}" if self.detail.updated_by else "")
            + ". The old and new values are published in its corrections log.",
            style="grey62",
        )
        return text

    def current(self) -> dict[str, str]:
        d = self.detail
        return {
            "title": d.title,
            "summary": d.summary,
            "section": d.section,
            "source_url": d.source_url,
            "theme": d.theme,
            "owners": owners_value(d),
            "strength": d.strength,
            "origin": d.origin,
            "text_basis": d.text_basis,
        }

    def fields(self) -> ComposeResult:
        yield from field_row("Title", Input(id="title", compact=True))
        yield from field_row(
            "Strength",
            Select(
                _options(STRENGTHS, {k: f"{k}: {w}" for k, w in STRENGTH_WORDS.items()}),
                value=self.detail.strength,
                allow_blank=False,
                id="strength",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row("Theme", Input(id="theme", compact=True))
        yield from field_row(
            "Owners", Input(placeholder="DSIT:lead,OPENAI:support", id="owners", compact=True)
        )
        yield from field_row(
            "Text basis",
            Select(
                _options(TEXT_BASES, TEXT_BASIS_WORDS),
                value=self.detail.text_basis,
                allow_blank=False,
                id="text_basis",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row(
            "Origin",
            Select(
                _options(ORIGINS, ORIGIN_WORDS),
                value=self.detail.origin,
                allow_blank=False,
                id="origin",
                compact=True,
            ),
            hint=False,
        )
        yield from field_row("Section", Input(id="section", compact=True))
        yield from field_row(
            "Source", Input(placeholder="https://…", id="source_url", compact=True)
        )
        yield Label("Summary (Enter starts a new line, ctrl+s saves)", classes="section-label")
        yield TextArea(id="summary", compact=True, soft_wrap=True, show_line_numbers=False)
        yield Hint(Text(""), id="summary-hint")
        yield from field_row(
            "Reason", Input(placeholder="why: what was wrong", id="reason", compact=True)
        )

    def on_mount(self) -> None:
        for name, value in self.current().items():
            widget = self.query_one(f"#{name}")
            if isinstance(widget, Input | Select):
                widget.value = value
            elif isinstance(widget, TextArea):
                widget.text = value
        super().on_mount()

    def first_focus(self) -> Any:
        return self.query_one("#title", Input)

    def check_names(self) -> tuple[str, ...]:
        return ("title", "theme", "owners", "section", "source_url", "summary", "reason")

    def check(self, name: str) -> tuple[str | Text, str]:
        raw = self.value(name)
        try:
            if name == "title":
                v.required_text(raw, "title", limit="commitment_title")
            elif name == "summary":
                v.required_text(raw, "summary", limit="summary", multiline=True)
            elif name in ("section", "theme"):
                v.required_text(raw, name, limit=name)
            elif name == "source_url":
                v.url(raw, "source_url")
            elif name == "owners":
                from mou_tracker.domain.service import parse_owners

                parse_owners(raw)
            elif name == "reason":
                if not raw.strip():
                    return "required: what was wrong, in a sentence", ""
                v.required_text(raw, "reason", limit="reason")
                changed = self.changes()
                if not changed:
                    return "nothing changed yet", ""
                return "changes " + ", ".join(sorted(changed)), "ok"
        except InvalidInput as exc:
            return str(exc), "error"
        return "", ""

    def depends_on(self, name: str) -> tuple[str, ...]:
        return ("reason",) if name != "reason" else ()

    def changes(self) -> dict[str, str]:
        """The fields whose value differs from what was loaded (owners compared as a list, so
        ``OPENAI:support, DSIT:lead`` is no change)."""
        before = self.current()
        result: dict[str, str] = {}
        for name in (*self.TEXT_FIELDS, *self.CHOICES):
            now = self.value(name)
            if now.strip() == before[name].strip():
                continue
            if name == "owners" and self._same_owners(now):
                continue
            result[name] = now
        return result

    def _same_owners(self, raw: str) -> bool:
        from mou_tracker.domain.service import owners_text, parse_owners

        try:
            return owners_text(parse_owners(raw)) == owners_text(
                (o.code, o.role) for o in self.detail.owners
            )
        except InvalidInput:
            return False  # sent as it is: the domain refuses it, naming the field

    def values(self) -> dict[str, Any]:
        return {"changes": self.changes(), "reason": self.value("reason")}

    def perform(self, values: dict[str, Any]) -> str:
        from mou_tracker.domain import service

        ref, version, actor = self.detail.ref, self.detail.version, self.tracker.actor

        def correct(session: Any) -> str:
            revision = service.correct_commitment(
                session,
                ref,
                values["changes"],
                actor=actor,
                reason=values["reason"],
                expected_version=version,
            )
            fields = ", ".join(change["field"] for change in revision.changes)
            return (
                f"{ref}: corrected {fields}; the old values are kept in its public corrections log."
            )

        return run_in_write(self.tracker, correct)
