"""Authenticated actors and tracker roles on PostgreSQL (issue 19), with real login roles.

Each test gets a schema of its own and login roles with unique names (trust authentication on
the test server), runs ``mou-tracker roles setup`` as the superuser, and then acts through the
CLI as each login role. The group roles (mou_viewer...) are cluster-wide and left in place; the
login roles are dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.conftest import MINI, InProcessCli, _pg_base

pytestmark = pytest.mark.skipif(
    _pg_base() is None,
    reason="roles need PostgreSQL: set MOU_TRACKER_TEST_PG=postgresql://user@host:port/db",
)


def _driver_url(raw: str) -> str:
    return "postgresql+psycopg://" + raw.split("://", 1)[1]


@dataclass
class Team:
    schema: str
    base: str  # superuser URL without options
    logins: dict[str, str]  # viewer/staff/manager/admin -> login role name
    home: Path

    def url(self, user: str | None = None) -> str:
        url = make_url(self.base)
        if user is not None:
            url = url.set(username=user)
        rendered = url.render_as_string(hide_password=False)
        sep = "&" if "?" in rendered else "?"
        return f"{rendered}{sep}options={quote(f'-csearch_path={self.schema}')}"

    def cli(self, who: str | None = None) -> InProcessCli:
        """The CLI as the superuser (``None``) or as one of the login roles, claiming to be
        that role (``MOU_TRACKER_USER``). In-process: who is connected is the URL's login role,
        not the process, and a child interpreter per call made this file minutes long."""
        if who is None:
            return InProcessCli(self.url(), self.home)
        login = self.logins[who]
        return InProcessCli(self.url(login), self.home, actor=login)

    def sql(self, statement: str, who: str | None = None, **params: object) -> list:
        engine = create_engine(self.url(self.logins[who] if who else None))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    base = _pg_base()
    assert base is not None
    base = _driver_url(base)
    tag = uuid.uuid4().hex[:8]
    schema = f"roles_{tag}"
    logins = {kind: f"t{tag}_{kind}" for kind in ("viewer", "staff", "manager", "admin")}
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        for login in logins.values():
            conn.execute(text(f'CREATE ROLE "{login}" LOGIN'))
    home = tmp_path / "home"
    home.mkdir()
    try:
        yield Team(schema, base, logins, home)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            for login in logins.values():
                conn.execute(text(f'REASSIGN OWNED BY "{login}" TO CURRENT_USER'))
                conn.execute(text(f'DROP OWNED BY "{login}"'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        admin.dispose()


@pytest.fixture
def staffed(team: Team) -> Team:
    """The mini data, tracker roles set up, one login role in each."""
    su = team.cli()
    assert su("sync", str(MINI)).code == 0
    result = su("roles", "setup")
    assert result.code == 0, result.err
    for kind, login in team.logins.items():
        granted = su("roles", "grant", login, kind)
        assert granted.code == 0, granted.err
    return team


def _counts(team: Team) -> tuple[int, ...]:
    (row,) = team.sql(
        "SELECT (SELECT count(*) FROM history), (SELECT count(*) FROM evidence), "
        "(SELECT count(*) FROM note), (SELECT count(*) FROM target_change), "
        "(SELECT count(*) FROM evidence_revision), (SELECT count(*) FROM commitment_revision), "
        "(SELECT count(*) FROM tracker_user), (SELECT count(*) FROM sync_run)"
    )
    return tuple(row)


# action -> (argv, the least role allowed). The matrix in the closing note is this.
ACTIONS = {
    "list": (["list"], "viewer"),
    "export": (["export", "--out", "{out}", "--format", "md,json"], "viewer"),
    "evidence add": (
        ["evidence", "add", "T-1", "https://example.org/{who}", "--title", "Seen by {who}"],
        "staff",
    ),
    "note add --internal": (["note", "add", "T-1", "Ask {who}", "--internal"], "staff"),
    "note add": (["note", "add", "T-1", "Seen by {who}"], "staff"),
    "evidence edit": (
        ["evidence", "edit", "1", "--title", "Retitled by {who}", "--reason", "Typo ({who})"],
        "staff",
    ),
    "evidence import": (["evidence", "import", "{out}.csv"], "staff"),
    "review": (["review", "T-1", "--note", "Looked again ({who})"], "manager"),
    "commitment correct": (
        ["commitment", "correct", "T-1", "--title", "Title fixed by {who}", "--reason", "Typo"],
        "manager",
    ),
    "sync": (["sync", "{mini}"], "manager"),
    "status": (
        ["status", "T-2", "not_started", "--reason", "Checked by {who}: nothing yet"],
        "manager",
    ),
    "target": (["target", "T-1", "2027-01-31", "--reason", "Plan by {who}"], "manager"),
    "dump": (["dump", "{out}.toml"], "staff"),  # a viewer's dump would lack internal notes
    "roles setup": (["roles", "setup"], "admin"),
    "users set": (["users", "set", "{login}", "Person {who}"], "admin"),
}
ORDER = ("viewer", "staff", "manager", "admin")


@pytest.mark.parametrize("who", ORDER)
def test_each_role_may_do_what_its_role_allows_and_nothing_else(staffed: Team, who: str):
    cli = staffed.cli(who)
    out = str(staffed.home / f"exports-{who}")
    Path(f"{out}.csv").write_text(
        f"ref,url,title,published\nT-1,https://example.org/import-{who},Imported by {who},"
        "2025-08-01\n",
        encoding="utf-8",
    )
    # A changed file, so that sync has something to write (a sync_run row at least).
    mini = staffed.home / f"mini-{who}.toml"
    mini.write_text(
        MINI.read_text(encoding="utf-8")
        + f'\n[[party]]\ncode = "P{who.upper()}"\nname = "Party added by {who}"\n'
        'kind = "company"\n',
        encoding="utf-8",
    )
    for action, (argv, least) in ACTIONS.items():
        login = staffed.logins[who]
        args = [a.format(who=who, out=out, mini=mini, login=login) for a in argv]
        before = _counts(staffed)
        result = cli(*args)
        if ORDER.index(who) >= ORDER.index(least):
            assert result.code == 0, (action, who, result.err)
        else:
            assert result.code == 1, (action, who, result.out)
            (error,) = [x for x in result.err.splitlines() if x.startswith("mou-tracker:")]
            assert f"needs the mou_{least} role" in error, result.err
            assert f"connected as {staffed.logins[who]}" in result.err
            assert _counts(staffed) == before, (action, who)


def test_every_write_is_stamped_with_the_connected_role(staffed: Team):
    manager = staffed.logins["manager"]
    result = staffed.cli("manager")("status", "T-2", "not_started", "--reason", "Checked")
    assert result.code == 0, result.err
    rows = staffed.sql("SELECT actor, db_user FROM history WHERE to_status = 'not_started'")
    assert rows == [(manager, manager)]
    # rows the superuser synced are stamped with the superuser
    assert {r[0] for r in staffed.sql("SELECT db_user FROM evidence")} == {"postgres"}


def test_a_forged_as_is_refused_and_a_mapped_display_name_is_recorded(staffed: Team):
    staff = staffed.logins["staff"]
    cli = staffed.cli("staff")
    before = _counts(staffed)
    forged = cli(
        "--as",
        "Programme Manager",
        "evidence",
        "add",
        "T-1",
        "https://example.org/f",
        "--title",
        "F",
    )
    assert forged.code == 1
    assert forged.err.startswith(f"mou-tracker: error: --as: you are connected as {staff};")
    assert forged.err.count("\n") == 1
    env_forged = cli("note", "add", "T-1", "x", env={"MOU_TRACKER_USER": "The Prime Minister"})
    assert env_forged.code == 1 and "you are connected as" in env_forged.err
    # A superuser goes through the same check in the tracker (plain SQL is another matter:
    # the database stamps db_user, and verify sees a changed history row).
    su_forged = staffed.cli()("--as", "Jo Staff", "note", "add", "T-1", "as someone else")
    assert su_forged.code == 1 and "you are connected as postgres" in su_forged.err
    assert _counts(staffed) == before

    assert staffed.cli()("users", "set", staff, "Jo Staff").code == 0
    ok = cli("--as", "Jo Staff", "evidence", "add", "T-1", "https://example.org/jo", "--title", "J")
    assert ok.code == 0, ok.err
    unnamed = cli("note", "add", "T-1", "no --as", env={"MOU_TRACKER_USER": ""})
    assert unnamed.code == 0, unnamed.err
    assert staffed.sql("SELECT added_by, db_user FROM evidence WHERE url LIKE '%/jo'") == [
        ("Jo Staff", staff)
    ]
    assert staffed.sql("SELECT author, db_user FROM note WHERE body = 'no --as'") == [
        ("Jo Staff", staff)
    ]
    shown = staffed.cli("viewer")("show", "T-1")
    assert "Jo Staff" in shown.out


def test_raw_sql_insert_is_attributed_to_the_session_user(staffed: Team):
    staff = staffed.logins["staff"]
    rows = staffed.sql(
        "INSERT INTO note (commitment_id, visibility, body, author, at, db_user) "
        "VALUES ((SELECT id FROM commitment WHERE ref = 'T-1'), 'public', 'raw', "
        "'Somebody Else', now(), 'postgres') RETURNING author, db_user",
        who="staff",
    )
    assert rows == [("Somebody Else", staff)]


def test_a_viewer_cannot_read_internal_notes_and_exports_never_can(staffed: Team):
    internal = "SELECT count(*) FROM note WHERE visibility = 'internal'"
    assert staffed.sql(internal, who="staff") == [(1,)]
    assert staffed.sql(internal, who="viewer") == [(0,)]
    assert staffed.sql("SELECT count(*) FROM note", who="viewer") == [(1,)]  # the public one
    # An export drops to mou_viewer even when run by someone who can read internal notes.
    from mou_tracker.storage.engine import make_engine, read
    from mou_tracker.storage.roles import as_viewer

    engine = make_engine(staffed.url())
    try:
        with read(engine) as session:
            assert as_viewer(session)
            assert session.execute(text(internal)).scalar() == 0
    finally:
        engine.dispose()
    out = staffed.home / "exports"
    result = staffed.cli("manager")("export", "--out", str(out), "--format", "md,json")
    assert result.code == 0, result.err
    body = staffed.sql("SELECT body FROM note WHERE visibility = 'internal'")[0][0]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()]
    assert not any(body in t for t in texts)
    assert '"internal_notes_withheld": 1' in (out / "data" / "tracker.json").read_text()


def test_no_role_may_rewrite_history(staffed: Team):
    privileges = staffed.sql(
        "SELECT r, t, p FROM unnest(CAST(:roles AS text[])) r, "
        "unnest(ARRAY['history', 'note', 'evidence_revision', 'commitment_revision']) t, "
        "unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p WHERE has_table_privilege(r, t, p)",
        roles=["mou_viewer", "mou_staff", "mou_manager", "mou_admin", *staffed.logins.values()],
    )
    assert privileges == []


def test_verify_reports_a_history_row_a_superuser_changed_behind_the_triggers(staffed: Team):
    assert staffed.cli("viewer")("verify").code == 0
    staffed.sql(
        "ALTER TABLE history DISABLE TRIGGER history_append_only; "
        "UPDATE history SET actor = 'Somebody Else'; "
        "ALTER TABLE history ENABLE TRIGGER history_append_only"
    )
    result = staffed.cli("viewer")("verify")
    assert result.code == 1
    assert "changed" in result.out


def test_info_says_whether_roles_are_set_up(team: Team):
    su = team.cli()
    assert su("sync", str(MINI)).code == 0
    before = su("info")
    assert "roles:        not set up" in before.out
    assert "connected as: postgres" in before.out
    assert su("roles", "setup").code == 0
    assert su("roles", "grant", team.logins["staff"], "staff").code == 0
    after = team.cli("staff")("info")
    assert "roles:        set up" in after.out and "mou_staff" in after.out
    listed = su("roles", "list")
    (line,) = [x for x in listed.out.splitlines() if x.startswith("mou_staff:")]
    assert team.logins["staff"] in line  # the roles are cluster-wide: others may be listed too
    assert su("roles", "revoke", team.logins["staff"], "staff").code == 0
    gone = team.cli("staff")("list")
    assert gone.code == 1 and "needs at least mou_viewer" in gone.err, gone.err


def test_the_chain_holds_the_connected_role_so_verify_sees_it_changed(staffed: Team):
    manager = staffed.logins["manager"]
    result = staffed.cli("manager")("status", "T-2", "not_started", "--reason", "Checked")
    assert result.code == 0, result.err
    assert staffed.cli("viewer")("verify").code == 0
    staffed.sql(
        "ALTER TABLE history DISABLE TRIGGER history_append_only; "
        f"UPDATE history SET db_user = 'postgres' WHERE db_user = '{manager}'; "
        "ALTER TABLE history ENABLE TRIGGER history_append_only"
    )
    result = staffed.cli("viewer")("verify")
    assert result.code == 1, result.out
    assert "T-2 history #" in result.out and "changed since it was recorded" in result.out


def test_a_migration_gives_new_tables_the_roles_grants(staffed: Team):
    """Where the roles are set up, a table a later migration creates is owned by mou_admin and
    readable by the viewers without running ``roles setup`` again (here: 0009's table, dropped
    by a downgrade and made again by the upgrade)."""
    from mou_tracker.storage import migrate
    from mou_tracker.storage.engine import make_engine

    engine = make_engine(staffed.url())
    try:
        from alembic import command

        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0008")
        assert staffed.sql("SELECT to_regclass('tracker_user')") == [(None,)]
        result = staffed.cli()("migrate")
        assert result.code == 0, result.err
    finally:
        engine.dispose()
    owner = staffed.sql(
        "SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = 'tracker_user'",
        s=staffed.schema,
    )
    assert owner == [("mou_admin",)]
    assert staffed.sql("SELECT count(*) FROM tracker_user", who="viewer") == [(0,)]
    listed = staffed.cli("viewer")("list")
    assert listed.code == 0, listed.err


def test_a_manager_may_sync_a_file_that_names_evidence_ids(staffed: Team):
    """A file written by ``dump`` names each evidence record's id, and sync keeps an id that
    is free. Keeping one means moving the id sequence past it (``setval``), which needs UPDATE
    on the sequence: a manager, who may sync, must have it, or the sync fails part-way."""
    mini = staffed.home / "mini-with-id.toml"
    text = MINI.read_text(encoding="utf-8")
    marker = '[[commitment.evidence]]\nurl = "https://news.example.org/pilot"'
    assert marker in text
    extra = (
        '[[commitment.evidence]]\nid = 900\nurl = "https://news.example.org/kept-id"\n'
        'title = "Kept its id"\nkind = "news_report"\ndirection = "context"\n'
        'confidence = "secondary"\nadded_by = "seed"\nadded_at = 2025-03-02T09:00:00Z\n\n'
    )
    mini.write_text(text.replace(marker, extra + marker, 1), encoding="utf-8")
    result = staffed.cli("manager")("sync", str(mini))
    assert result.code == 0, result.err
    ((kept,),) = staffed.sql("SELECT id FROM evidence WHERE url LIKE '%kept-id'")
    assert kept == 900
    added = staffed.cli("staff")(
        "evidence", "add", "T-1", "https://example.org/after", "--title", "After"
    )
    assert added.code == 0, added.err
    ((after,),) = staffed.sql("SELECT id FROM evidence WHERE url = 'https://example.org/after'")
    assert after > 900  # the sequence moved past the kept id


def test_a_refusal_to_a_member_of_the_needed_role_blames_the_grants_not_the_role(staffed: Team):
    """A grant the database lacks (here taken away by hand, as an older ``roles setup`` would
    have left it) must not be reported as "it needs the mou_staff role" to someone who is in
    mou_staff: the message says the grants are behind, and ``roles setup`` mends them."""
    staffed.sql("REVOKE INSERT ON evidence FROM mou_staff")
    before = _counts(staffed)
    staff = staffed.cli("staff")
    add = ["evidence", "add", "T-1", "https://example.org/regrant", "--title", "After regrant"]
    result = staff(*add)
    assert result.code == 1, result.out
    (error,) = [x for x in result.err.splitlines() if x.startswith("mou-tracker:")]
    assert "needs the mou_staff role" not in error
    assert f"{staffed.logins['staff']} is in mou_staff" in error
    assert "mou-tracker roles setup" in error and "nothing was saved" in error
    assert _counts(staffed) == before
    # A viewer, who is not in mou_staff, is still told the role it needs.
    viewer = staffed.cli("viewer")(*add)
    assert "needs the mou_staff role" in viewer.err, viewer.err
    assert staffed.cli()("roles", "setup").code == 0
    assert staff(*add).code == 0
