"""Saved views (issue 18, item 11): the current search, filters and sort under a name, kept per
user in the user's config directory and recalled from the command palette ("View: NAME").

The file is ``$MOU_TRACKER_CONFIG_DIR/views.json`` if that is set, else
``$XDG_CONFIG_HOME/mou-tracker/views.json`` (``~/.config/mou-tracker/views.json``). It holds one
map of views per user name (``--as``), is written atomically, and a file that cannot be read
is reported and left alone rather than overwritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from mou_tracker.tui.data import ViewQuery

NAME_LIMIT = 40


class ViewsError(Exception):
    """The views file cannot be read or written; the message names it and the problem."""


def views_path() -> Path:
    explicit = os.environ.get("MOU_TRACKER_CONFIG_DIR")
    if explicit:
        return Path(explicit) / "views.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mou-tracker" / "views.json"


def check_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise ViewsError("name: must not be empty")
    if len(clean) > NAME_LIMIT:
        raise ViewsError(f"name: {len(clean)} characters; the limit is {NAME_LIMIT}")
    return clean


def _to_query(raw: Any) -> ViewQuery | None:
    if not isinstance(raw, dict):
        return None
    known = {f.name for f in fields(ViewQuery)}
    values = {k: v for k, v in raw.items() if k in known}
    for name in ("status", "strength"):
        if name in values:
            values[name] = tuple(str(x) for x in values[name] or ())
    try:
        return ViewQuery(**values)
    except TypeError:
        return None


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": 1, "users": {}}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ViewsError(f"{path}: cannot be read ({exc}); it was left as it is") from None
    if not isinstance(document, dict) or not isinstance(document.get("users"), dict):
        raise ViewsError(f"{path}: not a views file; it was left as it is")
    return document


def load_views(user: str, path: Path | None = None) -> dict[str, ViewQuery]:
    document = _read(path or views_path())
    mine = document["users"].get(user, {})
    views = {}
    for name, raw in mine.items() if isinstance(mine, dict) else []:
        query = _to_query(raw)
        if query is not None:
            views[str(name)] = query
    return dict(sorted(views.items(), key=lambda item: item[0].lower()))


def save_view(user: str, name: str, query: ViewQuery, path: Path | None = None) -> str:
    """Save ``query`` as ``name`` for ``user`` (replacing a view of that name); the clean name."""
    path = path or views_path()
    clean = check_name(name)
    document = _read(path)
    document["users"].setdefault(user, {})[clean] = asdict(query)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".views-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ViewsError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return clean
