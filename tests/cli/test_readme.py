"""README.md cannot rot: its two set-up commands are the ones CI runs, and the command-line
examples run, in order, against the shipped data."""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest
from tests.conftest import ROOT, SHIPPED

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str = "sh") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_the_two_set_up_commands_are_there_and_ci_runs_the_test_one():
    commands = [line for block in _blocks() for line in block.splitlines()]
    run = [
        c for c in commands if c.startswith("python3 -m venv .venv") and c.endswith("mou-tracker")
    ]
    test = [
        c for c in commands if c.startswith("python3 -m venv .venv") and " && .venv/bin/pytest" in c
    ]
    assert len(run) == 1 and len(test) == 1
    assert "pip install -q ." in run[0] and "'.[test]'" in test[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r"grep -m1 -E '([^']+)' README.md", ci)
    assert pattern is not None
    assert re.search(pattern.group(1), test[0])
    first = next(line for line in README.splitlines() if re.search(pattern.group(1), line))
    assert first == test[0]  # CI takes the first match: it must be this one


def test_the_test_command_runs_workers_that_the_test_extra_installs():
    """`pytest -n` is pytest-xdist's option: a clone without it would stop at a usage error."""
    (command,) = [
        line
        for line in README.splitlines()
        if line.startswith("python3 -m venv .venv && ") and " && .venv/bin/pytest" in line
    ]
    options = shlex.split(command.split(" && .venv/bin/pytest", 1)[1])
    assert options[:2] == ["-n", "auto"], options
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = [
        re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower()
        for spec in project["optional-dependencies"]["test"]
    ]
    assert "pytest-xdist" in extra and "pytest-cov" in extra


def _examples() -> list[list[str]]:
    block = next(b for b in _blocks() if b.lstrip().startswith("mou-tracker list"))
    joined = block.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line.startswith("mou-tracker "):
            continue
        if any(word in line for word in ("links.csv", "check-links", "[FILE]")):
            continue  # a file the reader supplies; the network; a synopsis
        result.append(shlex.split(line)[1:])
    return result


@pytest.mark.skipif(not SHIPPED.exists(), reason="commitments.toml not written yet")
def test_the_command_line_examples_run_in_order(cli):
    assert cli("sync", str(SHIPPED)).code == 0
    examples = _examples()
    assert len(examples) >= 12
    for args in examples:
        result = cli(*args)
        assert result.code == 0, (args, result.err)
        assert "Traceback" not in result.err
    assert (cli.home / "exports" / "README.md").is_file()
