"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
``MOU_TRACKER_TEST_PG`` holds a server URL (e.g. postgresql://postgres@127.0.0.1:5432/test).

Each PostgreSQL test gets a schema of its own (via ``search_path`` in the URL), so tests stay
independent and the CLI subprocesses see exactly the same database as the test.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

# --- markers and hypothesis profiles ------------------------------------------------------------

MARKERS = {
    "slow": "minutes of work (the 100,000-commitment UI test); left out unless `-m` names it: "
    "`pytest -m slow` runs these alone, `pytest -m 'slow or not slow'` runs everything",
    "process": "starts the command line as a separate process (exit status, signals, crash "
    "points, the terminal check, README commands as typed)",
}
# Tests that use one of these fixtures get the marker: the fixture is what makes them so.
MARKED_BY_FIXTURE = {"big_url": "slow", "cli": "process"}

# Hypothesis: short runs by default and in CI, longer on demand (HYPOTHESIS_PROFILE=long).
# No deadline in either: a loaded CI machine must not turn a slow example into a failure.
HYPOTHESIS_PROFILES = {
    "ci": {"max_examples": 50, "deadline": None},
    "long": {"max_examples": 1000, "deadline": None},
}
LONG_FACTOR = 10  # a test that sets its own max_examples runs this many times more under "long"


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    from hypothesis import settings

    for name, values in HYPOTHESIS_PROFILES.items():
        settings.register_profile(name, **values)  # type: ignore[arg-type]
    profile = os.environ.get("HYPOTHESIS_PROFILE", "").strip() or "ci"
    settings.load_profile(profile)  # an unknown name is refused by hypothesis itself
    # Exports keep a page cache in the user's cache directory: the tests' caches go to a
    # directory of this run (each worker its own), never to the real ~/.cache.
    cache = tempfile.mkdtemp(prefix="mou-tracker-test-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    atexit.register(shutil.rmtree, cache, True)


@pytest.hookimpl(tryfirst=True)  # before `-m` is applied, so `-m slow` sees the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
        _lengthen_hypothesis(item)
    if "slow" in (config.getoption("markexpr") or ""):
        return  # the -m expression decides
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)


def _lengthen_hypothesis(item: pytest.Item) -> None:
    """Under HYPOTHESIS_PROFILE=long, a test whose own @settings fixes max_examples (the
    short budget it runs with in CI) gets LONG_FACTOR times as many."""
    if os.environ.get("HYPOTHESIS_PROFILE", "").strip() != "long":
        return
    test = getattr(item, "obj", None)
    own = getattr(test, "_hypothesis_internal_use_settings", None)  # where @settings keeps them
    if own is None or not getattr(test, "is_hypothesis_test", False):
        return
    from hypothesis import settings

    longer = max(own.max_examples * LONG_FACTOR, settings.get_profile("long").max_examples)
    test._hypothesis_internal_use_settings = settings(own, max_examples=longer)  # type: ignore[union-attr]


ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
MINI = DATA / "mini.toml"
SHIPPED = ROOT / "commitments.toml"
PG_ENV = "MOU_TRACKER_TEST_PG"


@contextmanager
def frozen_clock(when: datetime) -> Iterator[None]:
    """Run the block with the tracker's clock (``mou_tracker.domain.clock.now``) at ``when``:
    changes made inside are recorded then, and "the future" is judged from then."""
    from mou_tracker.domain import clock

    real = clock.now
    clock.now = lambda: when
    try:
        yield
    finally:
        clock.now = real


def _pg_base() -> str | None:
    value = os.environ.get(PG_ENV, "").strip()
    return value or None


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            _pg_base() is None,
            reason=f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db",
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    from sqlalchemy import create_engine, text

    base = _pg_base()
    assert base is not None
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def other_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh, empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    from sqlalchemy import create_engine, text

    base = _pg_base()
    assert base is not None
    base = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str, request: pytest.FixtureRequest):
    """An engine on ``db_url`` with the tracker's tables: ``create_schema`` on SQLite (a few
    milliseconds), a copy of the session's template schema on PostgreSQL (see
    :class:`PgTemplate`)."""
    from mou_tracker.storage.engine import create_schema, make_engine

    eng = make_engine(db_url)
    if db_url.startswith("postgresql"):
        request.getfixturevalue("pg_empty_template").restore(db_url)
    else:
        create_schema(eng)
    yield eng
    eng.dispose()


# --- PostgreSQL template schemas -----------------------------------------------------------------


def _schema_of(url: str) -> str:
    """The schema a test URL's ``search_path`` option names."""
    return unquote(url).rsplit("-csearch_path=", 1)[1].split("&", 1)[0]


def _libpq_url(base: str) -> str:
    return "postgresql://" + base.split("://", 1)[1]


class PgTemplate:
    """A schema built once per session (per xdist worker), kept as the SQL that ``pg_dump``
    writes for it, and copied into each test's schema in one round trip.

    Creating the tracker's tables on PostgreSQL takes some 150 DDL statements, one round trip
    each: half a second or more per test on a busy machine. The copy is checked once: restored
    into a probe schema and dumped again, it must give the same SQL as the original, or the
    session stops. Without ``pg_dump`` every test builds its own schema."""

    MARK = "mou_tracker_template_schema"

    def __init__(self, base: str, build: Callable[[str], None]) -> None:
        from sqlalchemy import create_engine, text

        self.base = base
        name = f"tpl_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        try:
            build(self._url(name))
            self.sql = self._dump(name).replace(name, self.MARK)
            probe = f"tpl_{uuid.uuid4().hex[:12]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{probe}"'))
            try:
                self.restore(self._url(probe))
                again = self._dump(probe).replace(probe, self.MARK)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{probe}" CASCADE'))
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            admin.dispose()
        # the same lines (rows may come back in another physical order)
        same = sorted(again.splitlines()) == sorted(self.sql.splitlines())
        assert same, "a restored template schema differs from the original"

    def _url(self, schema: str) -> str:
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options={quote(f'-csearch_path={schema}')}"

    def _dump(self, schema: str) -> str:
        dump = subprocess.run(
            [PG_DUMP or "pg_dump", "--schema", schema, "--inserts", _libpq_url(self.base)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        # psql meta-commands (\restrict with a random key) are not SQL; the schema itself
        # exists already (the test's db_url made it)
        return "\n".join(
            line
            for line in dump.splitlines()
            if not line.startswith("\\")
            and not line.startswith(f"CREATE SCHEMA {schema};")
            and not line.startswith(f"ALTER SCHEMA {schema} OWNER")
        )

    def restore(self, url: str) -> None:
        import psycopg

        schema = _schema_of(url)
        with psycopg.connect(_libpq_url(self.base)) as conn:  # commits on a clean exit
            # bytes, no parameters: sent as it is, every statement in one round trip
            conn.execute(self.sql.replace(self.MARK, schema).encode())


PG_DUMP = shutil.which("pg_dump")


def _pg_driver_base() -> str:
    base = _pg_base()
    assert base is not None
    return "postgresql+psycopg://" + base.split("://", 1)[1]


class _BuildPerTest:
    """The fallback without ``pg_dump``: every test builds its own schema."""

    def __init__(self, build: Callable[[str], None]) -> None:
        self.build = build

    def restore(self, url: str) -> None:
        self.build(url)


def _create_schema_at(url: str) -> None:
    from mou_tracker.storage.engine import create_schema, make_engine

    eng = make_engine(url)
    try:
        create_schema(eng)
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def pg_empty_template() -> PgTemplate | _BuildPerTest:
    """The tracker's tables as ``create_schema`` makes them, no rows but alembic's."""
    if PG_DUMP is None:
        return _BuildPerTest(_create_schema_at)
    return PgTemplate(_pg_driver_base(), _create_schema_at)


def sync_file(engine, path: Path = MINI, actor: str = "tester"):
    from mou_tracker.storage.engine import run_write
    from mou_tracker.storage.tomlio import read_document, sync_document

    doc = read_document(path)
    return run_write(engine, lambda s: sync_document(s, doc, actor=actor))


@pytest.fixture
def mini(engine):
    """An engine on a database synced from tests/data/mini.toml."""
    sync_file(engine, MINI)
    return engine


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs ``python -m mou_tracker`` as a subprocess against one database, as a person would."""

    db: str
    home: Path
    actor: str = "tester"

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        db: bool = True,
        env: dict[str, str] | None = None,
    ) -> Result:
        cmd = [sys.executable, "-m", "mou_tracker"]
        if db:
            cmd += ["--db", self.db]
        cmd += list(args)
        full_env = _environment(self, env)
        proc = subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=self.home,
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


def _environment(cli: Cli, env: dict[str, str] | None) -> dict[str, str]:
    """What a person's shell would hand the command: the test's environment with the actor, a
    private home and data directory, and no default database from outside."""
    full_env = {
        **os.environ,
        "MOU_TRACKER_USER": cli.actor,
        "XDG_DATA_HOME": str(cli.home / "data"),
        "HOME": str(cli.home),
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
    }
    full_env.pop("MOU_TRACKER_DB", None)
    full_env.update(env or {})
    return full_env


@dataclass
class InProcessCli(Cli):
    """The same command line as :class:`Cli`, called as ``mou_tracker.cli.main.main(argv)`` in
    this interpreter: same environment, same working directory, captured streams, and the exit
    code that the process would have had (argparse's ``SystemExit`` included). No interpreter
    starts, so a call costs milliseconds rather than a second or more.

    What only a real process can show (a signal, the crash points, a terminal check, the
    README's commands as typed) stays with :class:`Cli`."""

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        db: bool = True,
        env: dict[str, str] | None = None,
    ) -> Result:
        from mou_tracker.cli.main import main

        argv = (["--db", self.db] if db else []) + list(args)
        full_env = _environment(self, env)
        if full_env.get("MOU_TRACKER_CRASH_AT"):
            raise ValueError("crash points kill the process: use the subprocess `cli` fixture")
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_stdin = sys.stdin
        out, err = io.StringIO(), io.StringIO()
        os.environ.clear()
        os.environ.update(full_env)
        os.chdir(self.home)
        sys.stdin = io.StringIO(input or "")
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse: --help, --version, usage errors
                    code = _exit_code(exc, err)
        finally:
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return Result(code, out.getvalue(), err.getvalue())


def _exit_code(exc: SystemExit, err: io.StringIO) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=err)  # what the interpreter does with a non-integer exit value
    return 1


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    """The CLI as a separate process (``python -m mou_tracker``) on a fresh database."""
    return Cli(db_url, _home(tmp_path))


@pytest.fixture(scope="session")
def mini_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file synced from tests/data/mini.toml by the CLI's own ``sync``, once per
    session; tests that start from mini get a copy of it instead of syncing again."""
    where = tmp_path_factory.mktemp("mini-template")
    path = where / "tracker.db"
    result = InProcessCli(f"sqlite:///{path}", _home(where))("sync", str(MINI))
    assert result.code == 0, result.err
    # every connection is closed, so SQLite has folded its write-ahead log into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _sync_mini(cli: Cli, request: pytest.FixtureRequest) -> None:
    """Bring ``cli``'s fresh database to the state ``sync tests/data/mini.toml`` leaves: a copy
    of the session's template (a file on SQLite, a schema on PostgreSQL)."""
    prefix = "sqlite:///"
    if cli.db.startswith(prefix):
        target = Path(cli.db[len(prefix) :])
        assert not target.exists(), "mini needs a fresh database"
        shutil.copyfile(request.getfixturevalue("mini_sqlite_template"), target)
        return
    request.getfixturevalue("pg_mini_template").restore(cli.db)


def _cli_sync_mini_at(url: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="mini-home-"))
    try:
        result = InProcessCli(url, home)("sync", str(MINI))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert result.code == 0, result.err


@pytest.fixture(scope="session")
def pg_mini_template() -> PgTemplate | _BuildPerTest:
    """PostgreSQL's counterpart of :func:`mini_sqlite_template`: a schema synced from
    tests/data/mini.toml by the CLI's own ``sync``, copied into each test's schema."""
    if PG_DUMP is None:
        return _BuildPerTest(_cli_sync_mini_at)
    return PgTemplate(_pg_driver_base(), _cli_sync_mini_at)


@pytest.fixture
def mini_cli(cli: Cli, request: pytest.FixtureRequest) -> Cli:
    """:func:`cli` on a database synced from tests/data/mini.toml (set up without starting a
    process: the database is the same)."""
    _sync_mini(cli, request)
    return cli


@pytest.fixture
def cli_main(db_url: str, tmp_path: Path) -> InProcessCli:
    """The CLI called in-process through ``main(argv)`` on a fresh database."""
    return InProcessCli(db_url, _home(tmp_path))


@pytest.fixture
def mini_cli_main(cli_main: InProcessCli, request: pytest.FixtureRequest) -> InProcessCli:
    """:func:`cli_main` on a database synced from tests/data/mini.toml."""
    _sync_mini(cli_main, request)
    return cli_main


@pytest.fixture
def mini_engine_for():
    """Open an engine on a URL the test already has (disposed by the caller)."""
    from mou_tracker.storage.engine import make_engine

    return make_engine
