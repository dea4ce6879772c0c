"""What every form shares: fields that explain what is wrong as you type, ctrl+s to save through
the domain in a worker, refusals shown in the form with your input kept, and Escape asking
before it throws typed input away."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, TextArea

from mou_tracker.domain.errors import ConflictError, TrackerError
from mou_tracker.tui.text import describe_error

if TYPE_CHECKING:
    from mou_tracker.tui.app import TrackerApp

T = TypeVar("T")


class Hint(Static):
    """The line under a field: what is wrong, or what was understood (e.g. a parsed date)."""

    DEFAULT_CSS = """
    Hint { height: auto; padding-left: 13; color: $text-muted; }
    Hint.-error { color: $text-error; }
    Hint.-ok { color: $text-success; }
    """

    def set(self, text: str | Text, kind: str = "") -> None:
        self.set_class(kind == "error", "-error")
        self.set_class(kind == "ok", "-ok")
        self.update(text if isinstance(text, Text) else Text(text))


def field_row(label: str, widget: Widget, *, hint: bool = True) -> ComposeResult:
    """A labelled field and, if it is checked as you type, the hint line under it."""
    with Horizontal(classes="field"):
        yield Label(label, classes="field-label", markup=False)
        yield widget
    if hint:
        yield Hint(Text(""), id=f"{widget.id}-hint")


class FormScreen(ModalScreen[T], Generic[T]):
    """Subclasses compose ``fields()``, implement ``check(name)`` for live hints, ``values()``,
    and ``perform(values)`` (runs in a thread worker: call the domain inside ``run_write``)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    TITLE = "Form"
    SAVE_LABEL = "Save"
    FIELD_IDS: dict[str, str] = {}  # the domain's field name -> the widget id, where they differ
    REFUSED = "Not saved"
    WRITES = True  # saving changes the database (the export form only reads it)

    class Done(Message):
        def __init__(self, result: Any, token: tuple[object, ...] | None) -> None:
            super().__init__()
            self.result = result
            self.token = token

    class Refused(Message):
        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.saving = False
        self._initial: dict[str, object] | None = None

    @property
    def tracker(self) -> TrackerApp:
        return self.app  # type: ignore[return-value]

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.heading(), id="form-heading")
            with VerticalScroll(id="form-fields"):
                yield from self.fields()
            yield Static(Text(""), id="form-error")
            with Horizontal(id="form-buttons"):
                yield Static(
                    Text("ctrl+s save · esc cancel · tab next field", style="grey58"),
                    id="form-keys",
                )
                yield Button(self.SAVE_LABEL, variant="primary", id="form-save", compact=True)
                yield Button("Cancel", id="form-cancel", compact=True)

    def heading(self) -> Text:
        return Text(self.TITLE, style="bold")

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one("#form", Vertical).border_title = self.TITLE
        blink = not self.app.is_headless
        for widget in self.query(Input):
            widget.cursor_blink = blink
        for area in self.query(TextArea):
            area.cursor_blink = blink
        self.call_after_refresh(self._remember_initial)
        self.check_all()
        first = self.first_focus()
        if first is not None:
            first.focus()

    def _remember_initial(self) -> None:
        self._initial = self.snapshot()

    def first_focus(self) -> Widget | None:
        for widget in self.query("#form-fields *"):
            if widget.focusable:
                return widget
        return None

    # --- live checks --------------------------------------------------------------------------

    def check(self, name: str) -> tuple[str | Text, str]:
        """(message, kind) for one field: kind is 'error', 'ok' or ''."""
        return "", ""

    def check_names(self) -> tuple[str, ...]:
        return ()

    def check_all(self) -> bool:
        ok = True
        for name in self.check_names():
            ok = self._check_one(name) and ok
        return ok

    def _check_one(self, name: str) -> bool:
        message, kind = self.check(name)
        hints = self.query(f"#{name}-hint")
        if hints:
            hints.first(Hint).set(message, kind)
        return kind != "error"

    def recheck(self, name: str) -> None:
        if not self.saving:
            self.show_error(Text(""))
        if name in self.check_names():
            self._check_one(name)
        for other in self.depends_on(name):
            self._check_one(other)

    def depends_on(self, name: str) -> tuple[str, ...]:
        return ()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self.recheck(event.input.id)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id:
            self.recheck(event.select.id)

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self, event: SelectionList.SelectedChanged[Any]) -> None:
        if event.selection_list.id:
            self.recheck(event.selection_list.id)

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id:
            self.recheck(event.text_area.id)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    # --- values -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for widget in self.query("#form-fields *"):
            if not widget.id:
                continue
            if isinstance(widget, Input):
                values[widget.id] = widget.value
            elif isinstance(widget, TextArea):
                values[widget.id] = widget.text
            elif isinstance(widget, Select):
                values[widget.id] = widget.value
            elif isinstance(widget, SelectionList):
                values[widget.id] = tuple(widget.selected)
        return values

    @property
    def dirty(self) -> bool:
        return self._initial is not None and self.snapshot() != self._initial

    def value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Input):
            return widget.value
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        raise TypeError(widget_id)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def perform(self, values: dict[str, Any]) -> Any:
        """Runs in a thread worker. Return what ``dismiss`` should hand back."""
        raise NotImplementedError

    # --- saving -------------------------------------------------------------------------------

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        if self.saving:
            return
        self.check_all()
        self.saving = True
        self.query_one("#form-save", Button).disabled = True
        self.show_error(Text("Saving…", style="grey62"))
        self._save(self.values())

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def _save(self, values: dict[str, Any]) -> None:
        try:
            result = self.perform(values)
        except Exception as exc:  # noqa: BLE001 - every refusal is shown, none crashes
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Done(result, self._token_after() if self.WRITES else None))

    def _token_after(self) -> tuple[object, ...] | None:
        from mou_tracker.storage.engine import read
        from mou_tracker.tui import data

        try:
            with read(self.tracker.engine) as session:
                return data.token(session)
        except Exception:  # noqa: BLE001 - the next poll will simply refresh once more
            return None

    def on_form_screen_done(self, message: FormScreen.Done) -> None:
        self.saving = False
        if self.WRITES:
            self.tracker.refresh_tracker(message.token)
        self.dismiss(message.result)

    def on_form_screen_refused(self, message: FormScreen.Refused) -> None:
        self.saving = False
        self.query_one("#form-save", Button).disabled = False
        error = message.error
        text = without_cli_hints(describe_error(error))
        if isinstance(error, ConflictError):
            self.on_conflict(error)
            return
        self.show_error(Text(f"{self.REFUSED}: {text}"))
        self.notify(text, title="Refused", severity="error", markup=False)
        field = getattr(error, "field", None)
        if isinstance(error, TrackerError) and isinstance(field, str):
            self.focus_field(field)

    def on_conflict(self, error: ConflictError) -> None:
        text = describe_error(error)
        self.show_error(Text("Not saved: " + text))
        self.notify(text, title="Changed by someone else", severity="error", markup=False)
        self.tracker.refresh_tracker(None)

    def focus_field(self, field: str) -> None:
        name = field.split(".")[-1].strip().lstrip("-")
        name = self.FIELD_IDS.get(name, name)
        for widget in self.query(f"#{name}") if name.isidentifier() else []:
            widget.focus()
            return

    def show_error(self, text: Text) -> None:
        error = self.query_one("#form-error", Static)
        error.set_class(bool(text.plain) and not text.plain.startswith("Saving"), "-error")
        error.update(text)

    # --- leaving ------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return
        from mou_tracker.tui.modals.confirm import ConfirmScreen

        def decided(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard what you typed in this form?", yes="Discard", no="Keep editing"),
            decided,
        )


_CLI_HINT = re.compile(r"\s*\((?:--|mou-tracker )[^)]*\)")


def without_cli_hints(message: str) -> str:
    """Domain messages end with the CLI flag to use, e.g. "(--evidence URL_OR_ID)"; in a form
    that hint points nowhere, so it is dropped."""
    return _CLI_HINT.sub("", message)


def run_in_write(app: TrackerApp, action: Callable[[Any], T]) -> T:
    """Run a domain write in one transaction (call only from a worker thread)."""
    from mou_tracker.storage.engine import run_write

    return run_write(app.engine, action)
