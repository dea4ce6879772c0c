"""The command line pauses the cyclic garbage collector while a command loads its code (and,
for a quick command, until it ends), turns it back on for the long commands once their code is
loaded, and always leaves it as it found it: a caller of ``main()`` in-process sees no change."""

from __future__ import annotations

import argparse
import gc

import pytest

from mou_tracker.cli import common


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "--format", "json"],
        ["status", "T-2", "not_started", "--reason", "checked"],
        ["show", "no-such-ref"],  # refused: exit 1
        ["export", "--out", "out", "--format", "md"],
    ],
)
def test_main_leaves_the_collector_as_it_found_it(mini_cli_main, collector_on, argv):
    result = mini_cli_main(*argv)
    assert result.code in (0, 1), result.err
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        assert mini_cli_main("list").code == 0
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def _namespace(db: str, command: str, **extra: str) -> argparse.Namespace:
    return argparse.Namespace(db=db, actor=None, command=command, **extra)


@pytest.mark.parametrize(
    ("command", "extra", "collecting"),
    [
        ("list", {}, False),
        ("status", {}, False),
        ("evidence", {"evidence_command": "add"}, False),
        ("export", {}, True),
        ("evidence", {"evidence_command": "import"}, True),
        ("sync", {}, True),
    ],
)
def test_long_commands_collect_again_once_their_code_is_loaded(
    tmp_path, collector_on, command, extra, collecting
):
    args = _namespace(f"sqlite:///{tmp_path / 't.db'}", command, **extra)
    common.pause_collector(args)
    try:
        assert not gc.isenabled()
        common.open_engine(args, seed_if_new=False)
        assert gc.isenabled() is collecting
        assert (gc.get_freeze_count() > 0) is collecting
    finally:
        for engine in args.__dict__.pop("_engines", []):
            engine.dispose()
        common.restore_collector(args)
    assert gc.isenabled() and gc.get_freeze_count() == 0
