"""Map a position in a parsed TOML document back to a line of its text.

``tomllib`` reports line numbers only for syntax errors. For errors in well-formed TOML (a bad
URL, an unknown status) we find the line by scanning the text for table headers and keys, so
every error in commitments.toml names its line.
"""

from __future__ import annotations

import re
from collections import defaultdict

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-\s]+?)\s*\]\]\s*(?:#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\s]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

Path = tuple[str | int, ...]


class Locator:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        counters: dict[Path, int] = defaultdict(int)
        current: Path = ()
        # The latest element of every array of tables, by its dotted name.
        latest: dict[str, Path] = {}
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            array = _ARRAY_HEADER.match(line)
            header = array or _TABLE_HEADER.match(line)
            if header:
                name = header.group(1).replace(" ", "")
                parts = name.split(".")
                parent: Path = ()
                if len(parts) > 1:
                    parent = latest.get(".".join(parts[:-1]), tuple(parts[:-1]))
                if array:
                    key = parent + (parts[-1],)
                    index = counters[key]
                    counters[key] += 1
                    current = key + (index,)
                    latest[name] = current
                else:
                    current = parent + (parts[-1],)
                self._lines.setdefault(current, number)
                continue
            match = _KEY.match(line)
            if match:
                self._lines.setdefault(current + (match.group(1),), number)
                rest = line[match.end() :]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_multiline = quote

    def line(self, path: Path) -> int:
        """The line of ``path`` or, failing that, of its nearest enclosing table."""
        probe = tuple(path)
        while probe:
            if probe in self._lines:
                return self._lines[probe]
            probe = probe[:-1]
        return 1
