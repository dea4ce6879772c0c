"""The command line's arguments: one parser, built in the order ``--help`` lists the commands.

Only the standard library is imported here, so ``mou-tracker --help`` and ``--version`` never
load SQLModel or Textual. ``build_parser(only=...)`` builds the top level and one command: each
subcommand's parser costs time to build, and a command should not pay for the others.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from mou_tracker import __version__

# In the order --help lists them (a test checks that this list and the parser agree).
COMMANDS = tuple(
    "info init sync dump list show history verify status review evidence commitment note "
    "export target check-links migrate roles users ui".split()
)
STATUSES = tuple("not_assessed not_started in_progress partially_met met stalled not_met".split())


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), as DESIGN.md asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``only``) the top level and that one command: each
    subcommand's parser costs time to build, and ``--help`` must stay quick."""
    parser = _Parser(
        prog="mou-tracker",
        description=(
            "Track the commitments of non-binding memoranda (ships the UK DSIT-OpenAI MoU of "
            "21 July 2025): statuses with reasons and evidence, append-only history, exports. "
            "With no command, opens the terminal UI."
        ),
    )
    parser.add_argument("--version", action="version", version=f"mou-tracker {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL or SQLite file (env MOU_TRACKER_DB; default: a SQLite file in your "
        "user data directory, seeded from the shipped commitments.toml)",
    )
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="NAME",
        help="who is making the change (env MOU_TRACKER_USER; default: your login name)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add = _command_adder(sub, only)

    add("info", help="where the database is, which file seeded it, what it holds")
    _data_in(add)
    _reading(add)
    _editing(add)
    _evidence(add)
    _corrections_and_notes(add)
    _export(add)
    _target(add)
    _check_links(add)
    _administration(add)
    return parser


def _data_in(add: Adder) -> None:
    """init, sync, dump"""
    p = add("init", help="create the database schema and seed it from the shipped file")
    p.add_argument("--empty", action="store_true", help="create the schema only; do not seed")

    p = add("sync", help="load commitments.toml into the database (idempotent)")
    p.add_argument("file", nargs="?", metavar="FILE", help="default: the shipped commitments.toml")
    p.add_argument(
        "--strict", action="store_true", help="refuse (exit 1, nothing saved) if anything conflicts"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print what the sync would do; change nothing"
    )
    p = add("dump", help="write the whole database as TOML (stdout, or FILE)")
    p.add_argument("file", nargs="?", metavar="FILE")


def _reading(add: Adder) -> None:
    """list, show, history, verify"""
    p = add("list", help="list commitments")
    p.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="S",
        help="filter; repeat or comma-separate",
    )
    p.add_argument("--owner", metavar="CODE", help="filter by owner party code (e.g. DSIT)")
    p.add_argument("--theme", metavar="T", help="filter by theme")
    p.add_argument(
        "--strength", action="append", default=[], metavar="S", help="filter by strength"
    )
    p.add_argument("--memorandum", metavar="SLUG", help="filter by memorandum")
    p.add_argument(
        "--overdue", action="store_true", help="only commitments whose review is overdue"
    )
    p.add_argument(
        "--search", metavar="TEXT", help="text in ref, title, summary, owners or evidence titles"
    )
    p.add_argument(
        "--sort",
        default="position",
        metavar="KEY",
        help="position (default), ref, title, status, strength, theme, next_review, updated",
    )
    p.add_argument("--limit", type=_positive_int, metavar="N")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")

    p = add("show", help="everything about one commitment")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p = add("history", help="the status history of one commitment")
    p.add_argument("ref", metavar="REF")
    add(
        "verify",
        help="check every history's hash chain: report entries changed, removed or added "
        "outside the tracker (exit 1 if any)",
    )


def _editing(add: Adder) -> None:
    """status, review"""
    p = add(
        "status",
        help="change a commitment's status (reason required; evidence unless not_assessed/not_started)",
    )
    p.add_argument("ref", metavar="REF")
    p.add_argument("new_status", metavar="NEW_STATUS", help=", ".join(STATUSES))
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument(
        "--evidence",
        action="append",
        default=[],
        metavar="URL_OR_ID",
        help="cited evidence (repeatable)",
    )
    p.add_argument(
        "--expect-version",
        type=_positive_int,
        metavar="N",
        help="refuse if the commitment is no longer at version N",
    )

    p = add("review", help="record a review that leaves the status unchanged")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--note", required=True, metavar="TEXT")
    p.add_argument("--on", metavar="DATE", help="review date (default today)")


def _evidence(add: Adder) -> None:
    """evidence add|import|list|show|edit"""
    ev = add("evidence", help="add, import, list, show or correct evidence").add_subparsers(
        dest="evidence_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    p = ev.add_parser("add", help="add one evidence link to a commitment")
    p.add_argument("ref", metavar="REF")
    p.add_argument("url", metavar="URL")
    _evidence_fields(p, required_title=True)
    p = ev.add_parser("import", help="add many evidence links from a CSV file (all or nothing)")
    p.add_argument("file", metavar="FILE.csv")
    p = ev.add_parser("list", help="evidence of one commitment")
    p.add_argument("ref", metavar="REF")
    p = ev.add_parser(
        "show", help="one evidence record with its corrections, link health and stored copy"
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--snapshot", action="store_true", help="print the stored text of the page")
    p = ev.add_parser("edit", help="correct an evidence record (the old values are kept)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--url", metavar="URL")
    _evidence_fields(p, required_title=False)
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--expect-version", type=_positive_int, metavar="N")


def _corrections_and_notes(add: Adder) -> None:
    """commitment correct, note add"""
    com = add(
        "commitment", help="correct how a commitment is recorded (publicly logged)"
    ).add_subparsers(
        dest="commitment_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    p = com.add_parser(
        "correct",
        help="correct a commitment's wording, summary, strength, owners, origin, text basis, "
        "section, source or theme (reason required; old and new values go in its public "
        "corrections log)",
    )
    p.add_argument("ref", metavar="REF")
    p.add_argument("--title", metavar="T")
    p.add_argument("--summary", metavar="TEXT")
    p.add_argument("--strength", metavar="S", help="vision, may, explore, intend, will")
    p.add_argument("--origin", metavar="O", help="clause, press_release")
    p.add_argument(
        "--text-basis", dest="text_basis", metavar="B", help="verified, excerpt_only, reconstructed"
    )
    p.add_argument("--section", metavar="S")
    p.add_argument("--source-url", dest="source_url", metavar="URL")
    p.add_argument("--theme", metavar="T")
    p.add_argument(
        "--owners",
        metavar="LIST",
        help='the whole new list of owners with roles, e.g. "DSIT:lead,OPENAI:support"',
    )
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--expect-version", type=_positive_int, metavar="N")

    notes = add("note", help="add a note to a commitment").add_subparsers(
        dest="note_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    p = notes.add_parser("add", help="add a Markdown note (public unless --internal)")
    p.add_argument("ref", metavar="REF")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--internal", action="store_true", help="never exported")


def _export(add: Adder) -> None:
    """export"""
    p = add("export", help="write Markdown, HTML, JSON and CSV reports")
    p.add_argument("--out", default="exports", metavar="DIR")
    p.add_argument(
        "--format",
        default="md,html,json,csv",
        metavar="LIST",
        help="comma-separated: md,html,json,csv",
    )
    p.add_argument("--since", metavar="DATE", help="digest of changes since DATE")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="report date: overdue reviews and stale evidence are judged on it (default today)",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="build every file from the database, reusing nothing from the previous export "
        "(after an edit made outside mou-tracker)",
    )


def _target(add: Adder) -> None:
    """target"""
    p = add("target", help="set or re-baseline a commitment's target date (history kept)")
    p.add_argument("ref", metavar="REF")
    p.add_argument("date", metavar="DATE")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument(
        "--evidence",
        action="append",
        default=[],
        metavar="URL_OR_ID",
        help="required when re-baselining",
    )
    p.add_argument("--expect-version", type=_positive_int, metavar="N")


def _check_links(add: Adder) -> None:
    """check-links"""
    p = add(
        "check-links",
        help="fetch every evidence URL and official text; record broken, moved and changed pages",
    )
    p.add_argument("refs", nargs="*", metavar="REF", help="only these commitments (default: all)")
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="seconds per URL, for everything: connecting, every redirect and the whole page "
        "(default 10)",
    )
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=8,
        metavar="N",
        help="requests at once (default 8)",
    )
    p.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="also fetch loopback, private and link-local addresses (for tests against local "
        "servers; never on a server; or MOU_TRACKER_ALLOW_PRIVATE_URLS=1)",
    )


def _administration(add: Adder) -> None:
    """migrate, roles, users, ui"""
    add("migrate", help="upgrade the database schema (SQLite: after a backup copy)")
    rl = add(
        "roles",
        help="PostgreSQL: set up the tracker's group roles and grants, and who is in them",
    ).add_subparsers(dest="roles_command", metavar="ACTION", parser_class=_Parser, required=True)
    rl.add_parser(
        "setup",
        help="create mou_viewer, mou_staff, mou_manager, mou_admin and grant them on this "
        "schema (idempotent)",
    )
    for action, words in (("grant", "put LOGIN in GROUP"), ("revoke", "take LOGIN out of GROUP")):
        p = rl.add_parser(action, help=words)
        p.add_argument("login", metavar="LOGIN", help="a database login role")
        p.add_argument("group", metavar="GROUP", help="viewer, staff, manager or admin")
    rl.add_parser("list", help="the tracker roles and their members")
    us = add(
        "users", help="PostgreSQL: the display name recorded and shown for a login role"
    ).add_subparsers(dest="users_command", metavar="ACTION", parser_class=_Parser, required=True)
    p = us.add_parser(
        "set", help='map a login role to a display name, e.g. users set jo "Jo Staff"'
    )
    p.add_argument("role", metavar="ROLE")
    p.add_argument("name", metavar="NAME")
    add("ui", help="open the terminal UI (the default with no command)")


Adder = Callable[..., Any]  # add(name, help=...): the command's parser, or a _Skipped


class _Skipped:
    """Stands in for the parser of a command that was not asked for: absorbs its set-up."""

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: self


def _command_adder(sub: argparse._SubParsersAction[_Parser], only: str | None) -> Adder:
    placeholder = None

    def add(name: str, *, help: str) -> Any:
        nonlocal placeholder
        if only is None or name == only:
            return sub.add_parser(name, help=help)
        # Listed in --help and accepted as a choice, without building its parser. (argparse
        # keeps these two registries; tests check the help text equals the full parser's.)
        if placeholder is None:
            placeholder = _Parser(prog=f"mou-tracker {name}", add_help=False)
        sub._name_parser_map[name] = placeholder
        sub._choices_actions.append(sub._ChoicesPseudoAction(name, (), help))
        return _Skipped()

    return add


GLOBAL_WITH_VALUE = ("--db", "--as")


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` ("" if none), or None when unsure (build them all)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in GLOBAL_WITH_VALUE:
            skip = True
            continue
        if token.startswith("-"):
            if (
                token in ("-h", "--help", "--version")
                or token.split("=", 1)[0] in GLOBAL_WITH_VALUE
            ):
                continue
            return None  # an option we do not know here (an abbreviation?): let argparse decide
        return token if token in COMMANDS else None
    return ""


def _evidence_fields(p: argparse.ArgumentParser, *, required_title: bool) -> None:
    p.add_argument("--title", required=required_title, metavar="T")
    p.add_argument("--publisher", metavar="P")
    p.add_argument(
        "--published", metavar="DATE", help="publication date, e.g. 2026-02-20 or '20 Feb 2026'"
    )
    p.add_argument(
        "--kind",
        metavar="K",
        help="official_document, announcement, news_report (default), foi_release, parliamentary_record, data",
    )
    p.add_argument("--direction", metavar="D", help="progress, against, context (default)")
    p.add_argument("--confidence", metavar="C", help="primary, secondary (default), unverified")
    p.add_argument(
        "--note", dest="summary", metavar="N", help="one-line public summary of what it shows"
    )
    p.add_argument("--archived", dest="archived_url", metavar="URL", help="URL of an archived copy")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 and at most 600")
    return value
