"""The layout stays honest. Two kinds of check:

- the layer rule as a contract over the static import graph of ``src/mou_tracker`` (every
  ``import`` statement, at module level or inside a function): the core (domain, storage,
  reports, and the helpers they share) never reaches Textual, the UI or the CLI; the domain
  imports none of storage, reports, CLI or UI; the CLI reaches the UI only from inside the one
  function that opens it;
- what a fresh interpreter actually loads: the core without Textual, and the CLI's help
  without SQLModel or Textual.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "mou_tracker"
CORE_PACKAGES = ("mou_tracker.domain", "mou_tracker.storage", "mou_tracker.reports")
CORE_HELPERS = ("mou_tracker.links", "mou_tracker.faults")
UI = ("mou_tracker.tui", "textual")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # a mou_tracker module, or the top-level name of another package
    function: str | None  # the enclosing function, None at module level
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> tuple[set[str], list[Import]]:
    files = sorted((SRC / PACKAGE).rglob("*.py"))
    modules = {_module_name(f): f for f in files}
    edges: list[Import] = []

    def resolve(name: str) -> list[str]:
        if not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            return [name.split(".")[0]]
        # importing a.b.c runs a/__init__, a/b/__init__ and a/b/c: each is an edge
        parts = name.split(".")
        return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in modules]

    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]

        def visit(node: ast.AST, function: str | None) -> None:
            for child in ast.iter_child_nodes(node):
                inner = function
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    inner = child.name if function is None else f"{function}.{child.name}"
                names: list[str] = []
                if isinstance(child, ast.Import):
                    names = [alias.name for alias in child.names]
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                        base = ".".join(anchor + ([base] if base else []))
                    # `from pkg import name`: a submodule if there is one, else pkg itself
                    names = [
                        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                        for alias in child.names
                    ]
                for name in names:
                    for target in resolve(name):
                        if target != module:
                            edges.append(Import(module, target, function, child.lineno))
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), None)
    return set(modules), edges


MODULES, EDGES = _import_graph()


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _chains(start: str, *, module_level_only: bool = False) -> dict[str, list[Import]]:
    """Every module or package reachable from ``start``, with one import chain that gets there."""
    reached: dict[str, list[Import]] = {start: []}
    todo = [start]
    while todo:
        here = todo.pop()
        for edge in EDGES:
            if edge.source != here or edge.target in reached:
                continue
            if module_level_only and edge.function is not None:
                continue
            reached[edge.target] = reached[here] + [edge]
            if edge.target in MODULES:
                todo.append(edge.target)
    return reached


def _show(chain: list[Import]) -> str:
    return " -> ".join(
        [chain[0].source] + [f"{e.target} (line {e.line} of {e.source})" for e in chain]
    )


def _core_modules() -> list[str]:
    return sorted(m for m in MODULES if _within(m, CORE_PACKAGES + CORE_HELPERS))


def test_the_import_graph_was_read():
    assert len(MODULES) > 30 and len(EDGES) > 100
    assert "mou_tracker.domain.service" in MODULES and "mou_tracker.cli.main" in MODULES
    assert any(e.target == "textual" for e in EDGES)  # the UI does import it: the graph sees it
    assert len(_core_modules()) > 15


@pytest.mark.parametrize("module", _core_modules())
def test_contract_the_core_never_reaches_the_ui_or_the_cli(module):
    for target, chain in _chains(module).items():
        assert not _within(target, UI + ("mou_tracker.cli",)), _show(chain)


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if _within(m, ("mou_tracker.domain",)))
)
def test_contract_the_domain_is_the_innermost_layer(module):
    outer = ("mou_tracker.storage", "mou_tracker.reports", "mou_tracker.cli", "mou_tracker.tui")
    for target, chain in _chains(module).items():
        assert not _within(target, outer), _show(chain)


def test_contract_the_cli_opens_the_ui_from_one_function_only():
    cli = sorted(m for m in MODULES if _within(m, ("mou_tracker.cli",)))
    for module in cli:  # nothing the CLI loads to run any command reaches the UI
        for target, chain in _chains(module, module_level_only=True).items():
            assert not _within(target, UI), _show(chain)
    openers = {
        (e.source, e.function)
        for e in EDGES
        if _within(e.source, ("mou_tracker.cli",)) and _within(e.target, UI)
    }
    assert len(openers) == 1, sorted(openers, key=str)  # the command that opens the UI
    ((source, function),) = openers
    assert function is not None, source


def test_the_contracts_can_fail():
    """The same walks over a planted domain module that imports the UI, and a domain module
    that imports the planted one: both contracts name the chain."""
    saved_edges, saved_modules = list(EDGES), set(MODULES)
    planted = "mou_tracker.domain.planted"
    MODULES.add(planted)
    EDGES.append(Import(planted, "mou_tracker.tui.app", "helper", 3))
    EDGES.append(Import("mou_tracker.domain.service", planted, None, 1))
    try:
        with pytest.raises(AssertionError, match="planted"):
            test_contract_the_core_never_reaches_the_ui_or_the_cli(planted)
        with pytest.raises(AssertionError, match=r"domain\.service -> .*planted.*tui"):
            test_contract_the_domain_is_the_innermost_layer("mou_tracker.domain.service")
    finally:
        EDGES[:] = saved_edges
        MODULES.clear()
        MODULES.update(saved_modules)


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
