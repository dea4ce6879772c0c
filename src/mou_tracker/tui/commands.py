"""Tracker commands in the command palette (ctrl+p): every action by name, sorting and filtering,
and "go to" any commitment by ref or title (looked up in SQL by a worker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from mou_tracker.domain.vocab import STATUSES, STRENGTHS
from mou_tracker.tui.data import SORT_LABELS
from mou_tracker.tui.text import status_label

if TYPE_CHECKING:
    from mou_tracker.tui.screens.main import MainScreen

Command = tuple[str, str, Callable[[], object]]


def safe_highlight(matcher: Matcher, candidate: str) -> Content:
    """Like ``Matcher.highlight`` but the candidate is plain text, never markup: owner names and
    themes come from the database."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def tracker_commands(screen: MainScreen) -> list[Command]:
    q = screen.view_query
    commands: list[Command] = [
        (
            "Change status",
            "Change the selected commitment's status, with a reason and evidence",
            screen.action_change_status,
        ),
        (
            "Add evidence",
            "Add an evidence link to the selected commitment",
            screen.action_add_evidence,
        ),
        (
            "Set target date",
            "Set or re-baseline the selected commitment's target date (re-baselining cites evidence)",
            screen.action_set_target,
        ),
        (
            "Correct evidence",
            "Correct the highlighted evidence record; the old values are kept",
            screen.action_correct_evidence,
        ),
        (
            "Correct commitment",
            "Correct the selected commitment's wording, strength, theme or owners, with a reason",
            screen.action_correct_commitment,
        ),
        (
            "Add note",
            "Add a public or internal note to the selected commitment",
            screen.action_add_note,
        ),
        (
            "Record review",
            "The status stands: record the review and move the next review date",
            screen.action_record_review,
        ),
        (
            "Undo my last action",
            "Take back this session's last note, evidence or status change, as a new entry",
            screen.action_undo,
        ),
        ("Export now", "Write the reports (Markdown, HTML, JSON, CSV)", screen.action_export),
        (
            "Open evidence link",
            "Open the highlighted evidence in the browser",
            screen.action_open_evidence,
        ),
        (
            "Open clause source",
            "Open the selected commitment's source text",
            screen.action_open_source,
        ),
        ("Copy ref", "Copy the selected commitment's ref to the clipboard", screen.action_copy_ref),
        ("Search", "Focus the live search box", screen.action_focus_search),
        (
            "Filter…",
            "Filter by status, strength, owner, theme, overdue review",
            screen.action_filters,
        ),
        ("Clear filters", "Show every commitment", screen.action_clear_filters),
        (
            "Toggle review overdue filter",
            "Only the commitments whose review is overdue",
            screen.action_toggle_overdue,
        ),
        (
            "Toggle full-screen detail",
            "The selected commitment on the whole screen",
            screen.action_toggle_detail,
        ),
        (
            "Show memorandum",
            "Signatories, legal status and source of the memorandum",
            screen.action_memorandum,
        ),
        ("Refresh", "Reload everything from the database", screen.action_refresh),
        # Textual types a provider's app as App[Any]; the palette runs only in TrackerApp
        ("Keys and help", "Every key binding", screen.app.action_help),  # type: ignore[attr-defined]
    ]
    for key in (
        "position",
        "ref",
        "title",
        "owners",
        "strength",
        "status",
        "evidence",
        "latest",
        "next_review",
    ):
        commands.append(
            (
                f"Sort by {SORT_LABELS[key]}",
                "Choose again to reverse",
                partial(screen.action_sort, key),
            )
        )
    for status in STATUSES:
        commands.append(
            (
                f"Filter: status {status_label(status)}",
                "Only this status",
                partial(screen.set_query, replace(q, status=(status,))),
            )
        )
    for strength in STRENGTHS:
        commands.append(
            (
                f"Filter: strength {strength}",
                "Only this strength",
                partial(screen.set_query, replace(q, strength=(strength,))),
            )
        )
    for code, name in screen.choices.owners:
        commands.append(
            (
                f"Filter: owner {code} ({name})",
                "Only commitments this party owns",
                partial(screen.set_query, replace(q, owner=code)),
            )
        )
    commands.append(
        (
            "Save view as…",
            "Name the current search, filters and sort; recall them later as 'View: NAME'",
            screen.action_save_view,
        )
    )
    for name, saved in screen.saved_views.items():
        commands.append(
            (
                f"View: {name}",
                "Your saved search, filters and sort",
                partial(screen.set_query, saved),
            )
        )
    for theme in screen.choices.themes:
        commands.append(
            (
                f"Filter: theme {theme}",
                "Only this theme",
                partial(screen.set_query, replace(q, theme=theme)),
            )
        )
    return commands


class TrackerCommands(Provider):
    def _main(self) -> MainScreen | None:
        from mou_tracker.tui.screens.main import MainScreen

        return self.screen if isinstance(self.screen, MainScreen) else None

    async def discover(self) -> Hits:
        screen = self._main()
        if screen is None:
            return
        for name, help_text, callback in tracker_commands(screen)[:16]:
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._main()
        if screen is None:
            return
        matcher = self.matcher(query)
        for name, help_text, callback in tracker_commands(screen):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, safe_highlight(matcher, name), callback, text=name, help=help_text)
        if len(query.strip()) < 2:
            return
        for ref, title in await self._find(query):
            display = Content.assemble(("Go to ", "dim"), (ref, "bold"), "  ", title)
            yield Hit(
                0.5,
                display,
                partial(screen.go_to, ref),
                text=f"Go to {ref} {title}",
                help="Select this commitment (clears the filters)",
            )

    async def _find(self, text: str) -> list[tuple[str, str]]:
        from mou_tracker.storage.engine import read
        from mou_tracker.tui import data

        app = self.app

        def find() -> list[tuple[str, str]]:
            with read(app.engine) as session:  # type: ignore[attr-defined]  # App[Any], see above
                return data.find(session, text, limit=15)

        worker = app.run_worker(
            find, thread=True, group="palette", exclusive=True, exit_on_error=False
        )
        try:
            return await worker.wait()
        except Exception:  # noqa: BLE001 - a failed lookup just finds nothing
            return []
