"""What every form shares: fields that explain what is wrong as you type, ctrl+s to save through
the domain in a worker, refusals shown in the form with your input kept, and Escape asking
before it throws typed input away."""

from __future__ import annotations

import re
import threading
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
from mou_tracker.domain.vocab import STATUS_LABELS
from mou_tracker.tui.text import describe_error

if TYPE_CHECKING:
    from mou_tracker.tui.app import TrackerApp

T = TypeVar("T")


class SaveCancelled(Exception):
    """The person cancelled a save before it reached the database; it was rolled back."""


class SaveGuard:
    """Decides, once, whether a save that has been sent is stored or cancelled.

    The worker calls :meth:`commit_point` inside the transaction, after the domain call and
    just before the commit; the form calls :meth:`cancel` when someone discards it. Whichever
    comes first wins, under a lock: a cancelled save raises at the commit point and rolls back,
    and once the commit point is passed a cancel is refused (the form then waits and says
    "saved"). So a form is never shown as discarded while its save is stored underneath.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False
        self.committing = False

    def cancel(self) -> bool:
        """True if the save will never be stored; False if it is already being committed."""
        with self._lock:
            if self.committing:
                return False
            self.cancelled = True
            return True

    def check(self) -> None:
        with self._lock:
            if self.cancelled:
                raise SaveCancelled

    def commit_point(self) -> None:
        with self._lock:
            if self.cancelled:
                raise SaveCancelled
            self.committing = True


_CURRENT = threading.local()  # the guard of the save running in this worker thread


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
        # Priority, so focus moves the moment Tab is read. Screen's own tab binding is only
        # looked up after the key has bubbled through the focused field's and the form's message
        # queues, while the keys typed after it go straight to the (still) focused field: under
        # load they landed in the previous field (issue 18, item 2).
        Binding("tab", "next_field", "Next field", show=False, priority=True, id="form.next"),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            show=False,
            priority=True,
            id="form.previous",
        ),
    ]

    TITLE = "Form"
    SAVE_LABEL = "Save"
    KEYS_HINT = "ctrl+s save · esc cancel · tab next field"
    FIELD_IDS: dict[str, str] = {}  # the domain's field name -> the widget id, where they differ
    REFUSED = "Not saved"
    WRITES = True  # saving changes the database (the export form only reads it)
    # Reload what the form was opened on after "changed by someone else", keep the input, and
    # let the next ctrl+s save on top (subclasses implement load_fresh and show_fresh).
    RELOADS_ON_CONFLICT = False

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
        self.guard: SaveGuard | None = None
        self.conflict: str | None = None
        self._slow_timer: Any = None
        # What this save wrote, for "undo the last action" (modals/undo.py): set by perform
        # inside the transaction, kept by the app only once the save is stored.
        self.undoable: Any = None

    @property
    def tracker(self) -> TrackerApp:
        return self.app  # type: ignore[return-value]  # Textual types Screen.app as App[Any]; forms run only in TrackerApp

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.full_heading(), id="form-heading")
            with VerticalScroll(id="form-fields"):
                yield from self.fields()
            yield Static(Text(""), id="form-error")
            with Horizontal(id="form-buttons"):
                yield Static(
                    Text(self.KEYS_HINT, style="grey58"),
                    id="form-keys",
                )
                yield Button(self.SAVE_LABEL, variant="primary", id="form-save", compact=True)
                yield Button("Cancel", id="form-cancel", compact=True)

    def heading(self) -> Text:
        return Text(self.TITLE, style="bold")

    def full_heading(self) -> Text:
        text = self.heading()
        if self.conflict:
            text.append("\n")
            text.append(self.conflict, style="bold red1")
        return text

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

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Keep the buttons and the message on screen however small the terminal (80×24):
        the fields scroll in whatever height is left."""
        try:
            heading = self.query_one("#form-heading", Static)
            error = self.query_one("#form-error", Static)
            fields = self.query_one("#form-fields", VerticalScroll)
        except Exception:  # noqa: BLE001 - not composed yet
            return
        spare = self.size.height - 2 - heading.outer_size.height - error.outer_size.height - 2
        wanted = max(3, spare)
        if fields.styles.max_height is None or fields.styles.max_height.value != wanted:
            fields.styles.max_height = wanted

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
        self.guard = SaveGuard()
        self.query_one("#form-save", Button).disabled = True
        self.show_error(Text("Saving…", style="grey62"))
        self._slow_timer = self.set_timer(1.0, self._still_saving)
        self._save(self.values(), self.guard)

    def _still_saving(self) -> None:
        if self.saving:
            self.show_error(
                Text(
                    "Saving… waiting for the database (another program may be writing to it); "
                    "esc cancels the save"
                    if self.WRITES
                    else "Working… this can take a while",
                    style="grey62",
                )
            )

    def _saving_ended(self) -> None:
        self.saving = False
        if self._slow_timer is not None:
            self._slow_timer.stop()
            self._slow_timer = None

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def _save(self, values: dict[str, Any], guard: SaveGuard) -> None:
        _CURRENT.guard = guard
        try:
            result = self.perform(values)
        except Exception as exc:  # noqa: BLE001 - every refusal is shown, none crashes
            self.post_message(self.Refused(exc))
            return
        finally:
            _CURRENT.guard = None
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
        self._saving_ended()
        if self.undoable is not None:
            self.tracker.undo_stack.append(self.undoable)
        if not self.is_active:  # e.g. "cancel the save?" still open: it is saved, so say so
            self.pop_until_active()
        if self.WRITES:
            self.tracker.refresh_tracker(message.token)
        self.dismiss(message.result)

    def on_form_screen_refused(self, message: FormScreen.Refused) -> None:
        self._saving_ended()
        error = message.error
        if isinstance(error, SaveCancelled):
            return  # the form was already closed when the person cancelled
        self.query_one("#form-save", Button).disabled = False
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
        if not self.RELOADS_ON_CONFLICT:
            self.show_error(Text("Not saved: " + text))
            self.notify(text, title="Changed by someone else", severity="error", markup=False)
            self.tracker.refresh_tracker(None)
            return
        first = text.split(";")[0]
        self.conflict = (
            f"Not saved: {first}. The form now shows the current state and keeps your input; "
            "check it, then ctrl+s saves on top."
        )
        self.notify(
            f"{first}. Nothing was saved; the form now shows the current state and keeps your "
            "input: check it, then ctrl+s saves on top.",
            title="Changed by someone else",
            severity="error",
            markup=False,
        )
        self.tracker.refresh_tracker(None)
        self._reload_fresh()

    def load_fresh(self, session: Any) -> Any:
        """Runs in a worker: read again what the form was opened on."""
        raise NotImplementedError

    def show_fresh(self, fresh: Any) -> None:
        """Take ``fresh`` as what the form was opened on (its version too), keeping the input."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="reload", exit_on_error=False)
    def _reload_fresh(self) -> None:
        from mou_tracker.storage.engine import read

        try:
            with read(self.tracker.engine) as session:
                fresh = self.load_fresh(session)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.app.call_from_thread(
                self.notify, describe_error(exc), severity="error", markup=False
            )
            return
        self.app.call_from_thread(self._apply_fresh, fresh)

    def _apply_fresh(self, fresh: Any) -> None:
        self.show_fresh(fresh)
        self.query_one("#form-heading", Static).update(self.full_heading())
        self.check_all()
        self.call_after_refresh(self._fit)

    def focus_field(self, field: str) -> None:
        name = field.split(".")[-1].strip().lstrip("-")
        name = self.FIELD_IDS.get(name, name)
        for widget in self.query(f"#{name}") if name.isidentifier() else []:
            widget.focus()
            return

    def show_error(self, text: Text) -> None:
        error = self.query_one("#form-error", Static)
        error.set_class(
            bool(text.plain) and not text.plain.startswith(("Saving", "Working")), "-error"
        )
        error.update(text)
        self.call_after_refresh(self._fit)

    # --- leaving ------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.saving:
            self._cancel_while_saving()
            return
        if not self.dirty:
            self.dismiss(None)
            return
        from mou_tracker.tui.modals.confirm import ConfirmScreen

        def decided(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard what you typed in this form?",
                yes="Discard",
                no="Keep editing",
                deliberate=True,
            ),
            decided,
        )

    def _cancel_while_saving(self) -> None:
        """Esc while a save is on its way: cancel it for certain, or say it is too late."""
        from mou_tracker.tui.modals.confirm import ConfirmScreen

        if not self.WRITES:
            self.notify("Still working; wait for it to finish.", severity="warning")
            return

        def decided(cancel: bool | None) -> None:
            if not cancel or not self.saving:
                return  # kept waiting, or the save finished while the question was open
            guard = self.guard
            if guard is not None and guard.cancel():
                self._saving_ended()
                self.dismiss(None)
                self.notify(
                    "Save cancelled before it reached the database: nothing was stored.",
                    title="Not saved",
                    severity="warning",
                )
                return
            self.show_error(
                Text("Too late to cancel: the save is being written. Wait for it.", style="bold")
            )

        self.app.push_screen(
            ConfirmScreen(
                "A save is on its way to the database. Cancel it? Nothing will be stored.",
                yes="Cancel the save",
                no="Keep waiting",
            ),
            decided,
        )

    def cancel_save_for_quit(self) -> None:
        """The app is quitting: a save not yet being committed is cancelled."""
        if self.saving and self.guard is not None:
            self.guard.cancel()


_CLI_HINT = re.compile(r"\s*\((?:--|mou-tracker )[^)]*\)")


_STATUS_NAME = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in STATUS_LABELS if "_" in k) + r")\b"
)


def without_cli_hints(message: str) -> str:
    """Domain messages end with the CLI flag to use, e.g. "(--evidence URL_OR_ID)"; in a form
    that hint points nowhere, so it is dropped. Statuses are named as the UI shows them
    ("in progress", not the stored ``in_progress``)."""
    message = _CLI_HINT.sub("", message)
    return _STATUS_NAME.sub(lambda m: STATUS_LABELS[m.group(1)], message)


def run_in_write(app: TrackerApp, action: Callable[[Any], T]) -> T:
    """Run a domain write in one transaction (call only from a worker thread).

    In a form's save worker, the form's :class:`SaveGuard` is asked just before the commit:
    a save cancelled by then raises :class:`SaveCancelled` and is rolled back."""
    from mou_tracker.storage.engine import run_write

    guard: SaveGuard | None = getattr(_CURRENT, "guard", None)
    if guard is None:
        return run_write(app.engine, action)

    def guarded(session: Any) -> T:
        guard.check()  # cancelled while waiting to start: do nothing at all
        result = action(session)
        session.flush()  # every statement has run (and waited for any lock) before the point
        guard.commit_point()
        return result

    return run_write(app.engine, guarded)
