"""The layout stays honest: the core never imports Textual, and the CLI's help imports neither
SQLModel nor Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "mou_tracker.domain.service",
    "mou_tracker.domain.queries",
    "mou_tracker.storage.tomlio",
    "mou_tracker.storage.migrate",
    "mou_tracker.links",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_core_never_imports_textual():
    imports = "\n".join(f"import {m}" for m in CORE)
    import importlib.util

    if importlib.util.find_spec("mou_tracker.reports.export") is not None:
        imports += "\nimport mou_tracker.reports.export"
    loaded = _modules_after(imports)
    assert "textual" not in loaded and not any(m.startswith("textual.") for m in loaded)


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_stay_light(flag):
    loaded = _modules_after(
        f"import sys, contextlib, io\nsys.argv=['mou-tracker', '{flag}']\n"
        "from mou_tracker.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit:\n        pass"
    )
    assert "sqlmodel" not in loaded and "sqlalchemy" not in loaded and "textual" not in loaded


def test_the_quick_parser_shows_the_same_help_and_knows_every_command():
    from mou_tracker.cli.main import COMMANDS, build_parser, command_in

    def commands(parser):  # type: ignore[no-untyped-def]
        return next(a for a in parser._actions if a.dest == "command").choices

    full = build_parser()
    assert build_parser(only="").format_help() == full.format_help()
    assert set(commands(full)) == set(COMMANDS)
    for name in COMMANDS:  # each command alone is built exactly as in the full parser
        alone = commands(build_parser(only=name))[name]
        assert alone.format_help() == commands(full)[name].format_help()
    assert command_in(["--db", "x.db", "--as", "list", "status", "OAI-1"]) == "status"
    assert command_in(["--db=x.db", "list"]) == "list"
    assert command_in(["--help"]) == "" and command_in([]) == ""
    assert command_in(["--d", "x", "list"]) is None  # an abbreviation: build everything
    assert command_in(["bogus"]) is None
