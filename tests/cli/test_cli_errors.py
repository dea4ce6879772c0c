"""Bad input through the real command line: exit 1, one line on stderr naming the field,
no traceback, and the database exactly as it was (a dump before and after compares equal).

The table runs in-process through ``main(argv)`` (the command line's own entry point, with the
process's environment, working directory and streams); a sample of it, and the usage errors,
also run as real processes, so the exit status a shell sees is checked too."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import MINI

from mou_tracker.storage.engine import make_engine, read
from mou_tracker.storage.tomlio import dump_document

MINI_TEXT = MINI.read_text(encoding="utf-8")


def _dump(url: str) -> str:
    engine = make_engine(url)
    try:
        with read(engine) as s:
            return dump_document(s)
    finally:
        engine.dispose()


def _toml(tmp: Path, name: str, text: str | bytes) -> str:
    path = tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def _csv(tmp: Path, text: str) -> str:
    path = tmp / "evidence.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD_ROW = "T-2,https://ok.example.org/1,Fine,Pub,2026-01-02,news_report,progress,secondary,ok,\n"
HEADER = "ref,url,title,publisher,published,kind,direction,confidence,summary,archived_url\n"
EV = ["evidence", "add", "T-2"]

# (id, argv builder taking the home dir, field that the message must name)
CASES = [
    (
        "toml-syntax",
        lambda h: [
            "sync",
            _toml(h, "bad.toml", MINI_TEXT.replace('kind = "company"', 'kind = "company')),
        ],
        "bad.toml:",
    ),
    (
        "toml-wrong-type",
        lambda h: [
            "sync",
            _toml(h, "c.toml", MINI_TEXT.replace('title = "Shared intent"', "title = 42")),
        ],
        ".title",
    ),
    (
        "toml-duplicate-ref",
        lambda h: ["sync", _toml(h, "c.toml", MINI_TEXT.replace('ref = "T-2"', 'ref = "T-1"'))],
        ".ref",
    ),
    (
        "toml-unknown-status",
        lambda h: [
            "sync",
            _toml(h, "c.toml", MINI_TEXT.replace('to = "in_progress"', 'to = "done"')),
        ],
        "history[1].to",
    ),
    (
        "toml-unknown-owner",
        lambda h: [
            "sync",
            _toml(
                h,
                "c.toml",
                MINI_TEXT.replace(
                    '{ party = "ACME", role = "support" }', '{ party = "ZED", role = "support" }'
                ),
            ),
        ],
        "owners[2].party",
    ),
    (
        "toml-bad-url",
        lambda h: [
            "sync",
            _toml(h, "c.toml", MINI_TEXT.replace("https://example.org/press", "example.org/press")),
        ],
        "source_url",
    ),
    ("toml-not-utf8", lambda h: ["sync", _toml(h, "c.toml", b"schema = 1\n# \xff\xfe\n")], "FILE"),
    ("toml-missing-file", lambda h: ["sync", str(h / "nope.toml")], "FILE"),
    ("status-unknown-ref", lambda h: ["status", "NOPE-9", "not_started", "--reason", "r"], "ref"),
    (
        "status-bad-ref-syntax",
        lambda h: ["status", "OAI 2.1", "not_started", "--reason", "r"],
        "ref",
    ),
    ("status-unknown-status", lambda h: ["status", "T-2", "done", "--reason", "r"], "status"),
    (
        "status-empty-reason",
        lambda h: ["status", "T-2", "not_started", "--reason", "   "],
        "reason",
    ),
    ("status-no-evidence", lambda h: ["status", "T-2", "met", "--reason", "r"], "evidence"),
    (
        "status-foreign-evidence",
        lambda h: [
            "status",
            "T-2",
            "met",
            "--reason",
            "r",
            "--evidence",
            "https://news.example.org/pilot",
        ],
        "evidence",
    ),
    ("status-vision", lambda h: ["status", "T-0", "not_started", "--reason", "r"], "status"),
    (
        "status-long-reason",
        lambda h: ["status", "T-2", "not_started", "--reason", "x" * 3000],
        "reason",
    ),
    (
        "status-control-char",
        lambda h: ["status", "T-2", "not_started", "--reason", "bad \x1b[31m escape"],
        "reason",
    ),
    (
        "status-stale-version",
        lambda h: ["status", "T-1", "not_started", "--reason", "r", "--expect-version", "1"],
        "commitment T-1",
    ),
    ("url-javascript", lambda h: EV + ["javascript:alert(1)", "--title", "t"], "url"),
    ("url-ftp", lambda h: EV + ["ftp://x", "--title", "t"], "url"),
    ("url-no-scheme", lambda h: EV + ["example.org", "--title", "t"], "url"),
    ("url-space", lambda h: EV + ["https://exa mple.org/a", "--title", "t"], "url"),
    ("url-no-host", lambda h: EV + ["https:///path", "--title", "t"], "url"),
    (
        "url-duplicate",
        lambda h: ["evidence", "add", "T-1", "https://news.example.org/pilot", "--title", "t"],
        "url",
    ),
    (
        "archived-url-bad",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--archived", "javascript:x"],
        "archived_url",
    ),
    (
        "date-31-feb",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "31 Feb 2026"],
        "published",
    ),
    (
        "date-clause-12",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "Clause 12"],
        "published",
    ),
    (
        "date-ambiguous",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "03/04/2026"],
        "published",
    ),
    (
        "date-partial",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "March 2026"],
        "published",
    ),
    ("title-empty", lambda h: EV + ["https://ok.example.org/", "--title", ""], "title"),
    ("title-too-long", lambda h: EV + ["https://ok.example.org/", "--title", "t" * 301], "title"),
    ("title-newline", lambda h: EV + ["https://ok.example.org/", "--title", "two\nlines"], "title"),
    (
        "kind-unknown",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--kind", "blog"],
        "kind",
    ),
    (
        "direction-unknown",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--direction", "up"],
        "direction",
    ),
    (
        "confidence-unknown",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--confidence", "high"],
        "confidence",
    ),
    (
        "evidence-unknown-ref",
        lambda h: ["evidence", "add", "ZZ-1", "https://ok.example.org/", "--title", "t"],
        "ref",
    ),
    (
        "import-bad-row",
        lambda h: [
            "evidence",
            "import",
            _csv(h, HEADER + GOOD_ROW + "T-2,javascript:alert(1),Bad,,,,,,,\n"),
        ],
        "row 3",
    ),
    (
        "import-unknown-column",
        lambda h: [
            "evidence",
            "import",
            _csv(h, "ref,url,title,colour\nT-2,https://a.example.org/,t,red\n"),
        ],
        "header",
    ),
    (
        "import-unknown-ref",
        lambda h: [
            "evidence",
            "import",
            _csv(h, HEADER + "NOPE,https://a.example.org/,t,,,,,,,\n"),
        ],
        "row 2",
    ),
    (
        "import-duplicate-rows",
        lambda h: ["evidence", "import", _csv(h, HEADER + GOOD_ROW + GOOD_ROW)],
        "row 3",
    ),
    ("import-missing-file", lambda h: ["evidence", "import", str(h / "none.csv")], "FILE"),
    (
        "edit-unknown-id",
        lambda h: ["evidence", "edit", "999", "--title", "x", "--reason", "r"],
        "id",
    ),
    (
        "edit-non-numeric-id",
        lambda h: ["evidence", "edit", "abc", "--title", "x", "--reason", "r"],
        "id",
    ),
    (
        "edit-bad-date",
        lambda h: ["evidence", "edit", "1", "--published", "2026-13-01", "--reason", "r"],
        "published",
    ),
    ("note-empty", lambda h: ["note", "add", "T-1", " "], "text"),
    ("note-unknown-ref", lambda h: ["note", "add", "Q-1", "hello"], "ref"),
    ("list-bad-status", lambda h: ["list", "--status", "finished"], "--status"),
    ("list-unknown-owner", lambda h: ["list", "--owner", "NOBODY"], "--owner"),
    ("actor-empty", lambda h: ["--as", "", "note", "add", "T-1", "hello"], "actor"),
    ("actor-control", lambda h: ["--as", "bob\x07", "note", "add", "T-1", "hello"], "actor"),
    ("db-unsupported", lambda h: ["--db", "mysql://x/y", "list"], "--db"),
    ("dump-into-a-directory", lambda h: ["dump", str(h)], "FILE"),
    ("evidence-id-too-large", lambda h: ["evidence", "show", "1" + "0" * 30], "id"),
    # an unset shell variable (--db "$DB") must not fall through to the personal default
    ("db-empty", lambda h: ["--db", "", "note", "add", "T-1", "hello"], "--db"),
    (
        "csv-repeated-column",
        lambda h: [
            "evidence",
            "import",
            _csv(h, "ref,url,title,url\nT-2,https://a.example.org/1,t,https://b.example.org/2\n"),
        ],
        "'url' appears more than once",
    ),
    ("review-bad-date", lambda h: ["review", "T-1", "--note", "n", "--on", "yesterday"], "--on"),
    # issue 12: what cannot be true (a date not yet begun anywhere, a short year, out of order)
    (
        "date-future",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "2100-01-01"],
        "published: 2100-01-01 is in the future",
    ),
    (
        "date-short-year",
        lambda h: EV + ["https://ok.example.org/", "--title", "t", "--published", "26-4-9"],
        "published: '26-4-9' has no four-digit year",
    ),
    (
        "edit-date-future",
        lambda h: ["evidence", "edit", "2", "--published", "20991231", "--reason", "r"],
        "published: 2099-12-31 is in the future",
    ),
    (
        "import-date-future",
        lambda h: [
            "evidence",
            "import",
            _csv(h, HEADER + GOOD_ROW + "T-2,https://ok.example.org/2,Later,,2100-01-01,,,,,\n"),
        ],
        "row 3: published: 2100-01-01 is in the future",
    ),
    (
        "review-on-future",
        lambda h: ["review", "T-1", "--note", "n", "--on", "2100-01-01"],
        "--on): 2100-01-01 is in the future",
    ),
    (
        "review-before-last",
        lambda h: ["review", "T-1", "--note", "n", "--on", "2025-05-31"],
        "--on): 2025-05-31 is before the last review of T-1 (2025-06-01)",
    ),
    (
        "export-bad-since",
        lambda h: ["export", "--out", str(h / "out"), "--since", "Clause 12"],
        "--since",
    ),
    (
        "export-as-of-future",
        lambda h: ["export", "--out", str(h / "out"), "--as-of", "2999-01-01"],
        "--as-of",
    ),
    (
        "export-since-after-report-date",
        lambda h: [
            "export",
            "--out",
            str(h / "out"),
            "--since",
            "2026-06-02",
            "--as-of",
            "2026-06-01",
        ],
        "--since",
    ),
    (
        "export-bad-format",
        lambda h: ["export", "--out", str(h / "out"), "--format", "md,pdf"],
        "--format",
    ),
]


def _refused_cleanly(cli, argv, field):  # type: ignore[no-untyped-def]
    before = _dump(cli.db)
    args = argv(cli.home)
    db = not (args and args[0] == "--db")
    result = cli(*args, db=db)
    assert result.code == 1, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("mou-tracker: error: "), lines[0]
    assert field in lines[0], lines[0]
    assert "Traceback" not in result.err + result.out
    assert _dump(cli.db) == before


@pytest.mark.parametrize(("argv", "field"), [pytest.param(b, f, id=i) for i, b, f in CASES])
def test_bad_input_is_refused_cleanly(mini_cli_main, argv, field):
    _refused_cleanly(mini_cli_main, argv, field)


# One of each kind (file, flag, rule, date, import, global option): the same table, through a
# real process, so the exit status and the stream a shell sees are the ones checked above.
IN_A_PROCESS = (
    "toml-syntax",
    "status-no-evidence",
    "url-javascript",
    "date-ambiguous",
    "import-bad-row",
    "db-unsupported",
)


@pytest.mark.parametrize(
    ("argv", "field"),
    [pytest.param(b, f, id=i) for i, b, f in CASES if i in IN_A_PROCESS],
)
def test_bad_input_is_refused_cleanly_by_the_process(mini_cli, argv, field):
    _refused_cleanly(mini_cli, argv, field)


def test_there_are_at_least_thirty_distinct_bad_inputs():
    assert len({i for i, _, _ in CASES}) >= 30
    assert set(IN_A_PROCESS) <= {i for i, _, _ in CASES}


USAGE_ERRORS = [
    ["status", "T-1"],  # missing NEW_STATUS and --reason
    ["frobnicate"],
    ["list", "--limit", "0"],
    ["list", "--format", "xml"],
    ["evidence"],
    ["evidence", "add", "T-1", "https://a.example.org/"],  # --title is required
]


def _usage_error(result) -> None:  # type: ignore[no-untyped-def]
    assert result.code == 2, (result.code, result.err)
    assert len(result.err.strip().splitlines()) == 1 and "usage error" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("argv", USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_line(mini_cli_main, argv):
    _usage_error(mini_cli_main(*argv))


def test_a_usage_error_is_exit_status_2_of_the_process(mini_cli):
    _usage_error(mini_cli(*USAGE_ERRORS[0]))
