"""Who is connected, and what each tracker role may do, enforced by PostgreSQL (issue 19).

Four group roles (NOLOGIN), each holding the one before it:

* ``mou_viewer``: SELECT on every table of the tracker's schema; internal notes are hidden from
  it by row-level security on ``note`` (``visibility = 'public'`` unless the current role has
  the privileges of ``mou_staff``). Exports run as this role (``SET LOCAL ROLE``).
* ``mou_staff``: + INSERT on evidence, evidence_revision, note and link_check, UPDATE on
  evidence (corrections), and the id sequences.
* ``mou_manager``: + INSERT on history, history_evidence, target_change, commitment_revision,
  sync_run, commitment, memorandum, party, owner and tracker_meta; UPDATE on commitment,
  memorandum, party and tracker_meta; DELETE on owner (a corrected owner list); UPDATE on the
  id sequences (a sync that keeps the ids a dump names moves the sequence past them).
* ``mou_admin``: + owner of the schema's tables (migrations, DDL) and CREATE on the schema.

No tracker role has UPDATE, DELETE or TRUNCATE on an append-only table: the grant is never
given, and it is revoked from the owner too. The roles are cluster-wide; ``setup`` grants on
the schema the connection's ``search_path`` resolves to (``current_schema()``).

What a superuser (or the owner, who may grant itself the privilege back and disable triggers)
can still do: rewrite history rows. ``mou-tracker verify`` recomputes the hash chain of every
commitment's history and reports rows changed, removed or added that way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from mou_tracker.domain.errors import InvalidInput, NotFound, TrackerError

VIEWER, STAFF, MANAGER, ADMIN = "mou_viewer", "mou_staff", "mou_manager", "mou_admin"
GROUPS = (VIEWER, STAFF, MANAGER, ADMIN)
APPEND_ONLY_TABLES = (
    "history",
    "history_evidence",
    "evidence_revision",
    "commitment_revision",
    "note",
    "target_change",
    "link_check",
    "sync_run",
)
STAFF_INSERT = ("evidence", "evidence_revision", "note", "link_check")
STAFF_UPDATE = ("evidence",)
MANAGER_INSERT = (
    "history",
    "history_evidence",
    "target_change",
    "commitment_revision",
    "sync_run",
    "commitment",
    "memorandum",
    "party",
    "owner",
    "tracker_meta",
)
MANAGER_UPDATE = ("commitment", "memorandum", "party", "tracker_meta")
MANAGER_DELETE = ("owner",)
NOTE_COUNT_VIEW = "mou_internal_note_count"

# What each command needs, for the one-line refusal when the database says no.
NEEDS: dict[str, str] = {
    "info": VIEWER,
    "list": VIEWER,
    "show": VIEWER,
    "history": VIEWER,
    "verify": VIEWER,
    "export": VIEWER,
    "evidence list": VIEWER,
    "evidence show": VIEWER,
    "dump": STAFF,
    "evidence add": STAFF,
    "evidence import": STAFF,
    "evidence edit": STAFF,
    "note add": STAFF,
    "check-links": STAFF,
    "status": MANAGER,
    "review": MANAGER,
    "target": MANAGER,
    "commitment correct": MANAGER,
    "sync": MANAGER,
    "init": MANAGER,
    "migrate": ADMIN,
    "roles": ADMIN,
    "users": ADMIN,
}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Identity:
    """The authenticated role of a PostgreSQL connection and what the tracker knows of it."""

    role: str
    superuser: bool
    display_name: str | None
    roles_set_up: bool  # the group roles exist and hold grants on this schema
    groups: tuple[str, ...]  # the tracker roles whose privileges it has

    @property
    def shown(self) -> str:
        return self.display_name or self.role

    def actor_for(self, claimed: str, *, explicit: bool) -> str:
        """The actor to record for a change. Where roles are set up, ``--as`` must name the
        connected role or its display name, for a superuser too (who could bypass the checks
        with plain SQL, but not through the tracker, and the database stamps the real role in
        ``db_user`` either way); the display name is recorded. A database without roles keeps
        the old behaviour: the claimed name is recorded beside the stamped role."""
        if not self.roles_set_up:
            return claimed
        if not explicit or claimed in (self.role, self.display_name):
            return self.shown
        also = f" or as {self.display_name!r}" if self.display_name else ""
        raise InvalidInput(
            "--as",
            f"you are connected as {self.role}; changes are recorded as {self.role}{also}, "
            f"not {claimed!r} (leave out --as, or map a display name: mou-tracker users set "
            f"{self.role} NAME)",
        )


def identity(engine: Engine) -> Identity:
    with engine.connect() as conn:
        return identity_on(conn)


def identity_on(conn: Connection) -> Identity:
    row = conn.execute(
        text(
            "SELECT session_user::text AS role, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS superuser, "
            "CASE WHEN to_regrole(:viewer) IS NULL THEN false "
            "ELSE has_table_privilege(:viewer, 'commitment', 'SELECT') END AS set_up"
        ),
        {"viewer": VIEWER},
    ).one()
    display = conn.execute(
        text("SELECT display_name FROM tracker_user WHERE role_name = session_user")
    ).scalar()
    groups = tuple(
        conn.execute(
            text(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(:groups) "
                "AND pg_has_role(session_user, oid, 'USAGE') ORDER BY rolname"
            ),
            {"groups": list(GROUPS)},
        ).scalars()
    )
    return Identity(row.role, bool(row.superuser), display, bool(row.set_up), groups)


def _lock(conn: Connection) -> None:
    # Role DDL is cluster-wide: two setups at once would race on CREATE ROLE and GRANT.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('mou-tracker roles'))"))


def _relations(conn: Connection, schema: str, kinds: Iterable[str]) -> list[tuple[str, str]]:
    return [
        (r.relname, r.relkind)
        for r in conn.execute(
            text(
                "SELECT c.relname, c.relkind FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relkind = ANY(:kinds) ORDER BY c.relname"
            ),
            {"schema": schema, "kinds": list(kinds)},
        )
    ]


def setup(engine: Engine) -> list[str]:
    """Create the group roles (if missing), grant them on this schema, turn on row-level
    security for notes. Idempotent. Returns what was done, one line each."""
    if engine.dialect.name != "postgresql":
        raise TrackerError(
            "roles: SQLite does not authenticate users; roles need a PostgreSQL database"
        )
    done: list[str] = []
    with engine.begin() as conn:
        _lock(conn)
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        if schema is None:
            raise TrackerError("roles: the connection has no schema (check search_path)")
        for group in GROUPS:
            exists = conn.execute(text("SELECT to_regrole(:g) IS NOT NULL"), {"g": group}).scalar()
            if not exists:
                conn.execute(text(f"CREATE ROLE {q(group)} NOLOGIN"))
                done.append(f"created group role {group}")
        for lower, higher in zip(GROUPS, GROUPS[1:], strict=False):
            conn.execute(text(f"GRANT {q(lower)} TO {q(higher)}"))
        # mou_admin's members put people in the other roles (roles grant / revoke).
        conn.execute(
            text(f"GRANT {q(VIEWER)}, {q(STAFF)}, {q(MANAGER)} TO {q(ADMIN)} WITH ADMIN OPTION")
        )
        member = conn.execute(text("SELECT pg_has_role(current_user, :a, 'MEMBER')"), {"a": ADMIN})
        if not member.scalar():  # the one running setup must be able to hand tables to mou_admin
            conn.execute(text(f"GRANT {q(ADMIN)} TO current_user"))
        apply_grants(conn, schema)
        done.append(
            f"granted {', '.join(GROUPS)} on schema {schema}; tables owned by {ADMIN}; "
            "internal notes readable by mou_staff and above only (row-level security)"
        )
    return done


def set_up_here(conn: Connection) -> bool:
    """True when the tracker's roles hold their grants on the connection's schema."""
    return bool(
        conn.execute(
            text(
                "SELECT CASE WHEN to_regrole(:viewer) IS NULL THEN false "
                "ELSE has_table_privilege(:viewer, 'commitment', 'SELECT') END"
            ),
            {"viewer": VIEWER},
        ).scalar()
    )


def after_migration(conn: Connection) -> bool:
    """Run by the migration environment after every upgrade, in the same transaction: where
    the roles are set up on this schema, give the tables, views and sequences a migration
    added the same owner, grants and policies as the rest (a new table would otherwise be
    owned by whoever migrated and invisible to the viewers). A schema without roles is left
    alone. True if the grants were applied."""
    if conn.dialect.name != "postgresql" or not set_up_here(conn):
        return False
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    if schema is None:
        return False
    _lock(conn)
    apply_grants(conn, str(schema))
    return True


def apply_grants(conn: Connection, schema: str) -> None:
    """Owner, grants and row-level security for every table of ``schema`` (idempotent). The
    group roles must exist and the connected role must be able to act as ``mou_admin``."""
    s = q(schema)
    conn.execute(
        text(
            f"CREATE OR REPLACE VIEW {q(NOTE_COUNT_VIEW)} AS SELECT commitment_id, "
            "count(*) AS n FROM note WHERE visibility = 'internal' GROUP BY commitment_id"
        )
    )
    for name, kind in _relations(conn, schema, ("r", "v")):
        what = "VIEW" if kind == "v" else "TABLE"  # a table's sequences follow it
        conn.execute(text(f"ALTER {what} {q(name)} OWNER TO {q(ADMIN)}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {s} TO {q(VIEWER)}"))
    conn.execute(text(f"GRANT CREATE ON SCHEMA {s} TO {q(ADMIN)}"))
    conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {q(VIEWER)}"))
    conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {q(STAFF)}"))
    # A sync keeps the ids a dump names and moves the id sequence past them (setval), which
    # needs UPDATE on the sequence; a manager may sync.
    conn.execute(text(f"GRANT UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {q(MANAGER)}"))
    for privilege, role, tables in (
        ("INSERT", STAFF, STAFF_INSERT),
        ("UPDATE", STAFF, STAFF_UPDATE),
        ("INSERT", MANAGER, MANAGER_INSERT),
        ("UPDATE", MANAGER, MANAGER_UPDATE),
        ("DELETE", MANAGER, MANAGER_DELETE),
    ):
        names = ", ".join(q(t) for t in tables)
        conn.execute(text(f"GRANT {privilege} ON {names} TO {q(role)}"))
    # Nobody gets to rewrite history through a grant: not the roles, not the owner.
    names = ", ".join(q(t) for t in APPEND_ONLY_TABLES)
    for role in (*GROUPS, "PUBLIC"):
        conn.execute(
            text(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {names} FROM "
                f"{role if role == 'PUBLIC' else q(role)}"
            )
        )
    conn.execute(text("ALTER TABLE note ENABLE ROW LEVEL SECURITY"))
    conn.execute(text("DROP POLICY IF EXISTS note_read ON note"))
    conn.execute(
        text(
            "CREATE POLICY note_read ON note FOR SELECT USING (visibility = 'public' "
            f"OR pg_has_role('{STAFF}', 'USAGE'))"
        )
    )
    conn.execute(text("DROP POLICY IF EXISTS note_add ON note"))
    conn.execute(text("CREATE POLICY note_add ON note FOR INSERT WITH CHECK (true)"))


def _group(name: str) -> str:
    clean = name.strip().lower()
    full = clean if clean.startswith("mou_") else f"mou_{clean}"
    if full not in GROUPS:
        raise InvalidInput("GROUP", f"{name!r} is not one of {', '.join(GROUPS)}")
    return full


def _login(conn: Connection, name: str) -> str:
    found = conn.execute(
        text("SELECT rolname FROM pg_roles WHERE rolname = :n"), {"n": name}
    ).scalar()
    if found is None:
        raise NotFound("LOGIN", name, "database role")
    if found in GROUPS:
        raise InvalidInput("LOGIN", f"{name} is a tracker group role, not a login")
    return str(found)


def _needs_postgresql(engine: Engine, what: str) -> None:
    if engine.dialect.name != "postgresql":
        raise TrackerError(f"{what}: SQLite does not authenticate users; this needs PostgreSQL")


def grant(engine: Engine, login: str, group: str) -> str:
    _needs_postgresql(engine, "roles grant")
    role = _group(group)
    with engine.begin() as conn:
        _lock(conn)
        if conn.execute(text("SELECT to_regrole(:g) IS NULL"), {"g": role}).scalar():
            raise TrackerError("roles: not set up yet; run mou-tracker roles setup first")
        name = _login(conn, login)
        conn.execute(text(f"GRANT {q(role)} TO {q(name)}"))
    return f"{name} is now in {role}"


def revoke(engine: Engine, login: str, group: str) -> str:
    _needs_postgresql(engine, "roles revoke")
    role = _group(group)
    with engine.begin() as conn:
        _lock(conn)
        name = _login(conn, login)
        member = conn.execute(
            text(
                "SELECT 1 FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = :g AND m.rolname = :m"
            ),
            {"g": role, "m": name},
        ).scalar()
        if member is None:
            raise InvalidInput("LOGIN", f"{name} is not a member of {role}")
        conn.execute(text(f"REVOKE {q(role)} FROM {q(name)}"))
    return f"{name} is no longer in {role}"


def members(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(group, login role, display name) for every direct member of a tracker group role."""
    _needs_postgresql(engine, "roles list")
    with engine.connect() as conn:
        return [
            (r.grp, r.member, r.display_name)
            for r in conn.execute(
                text(
                    "SELECT g.rolname AS grp, m.rolname AS member, u.display_name "
                    "FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                    "JOIN pg_roles m ON m.oid = a.member "
                    "LEFT JOIN tracker_user u ON u.role_name = m.rolname "
                    "WHERE g.rolname = ANY(:groups) AND NOT m.rolname = ANY(:groups) "
                    "ORDER BY array_position(:groups, g.rolname::text), m.rolname"
                ),
                {"groups": list(GROUPS)},
            )
        ]


def set_display_name(engine: Engine, role: str, name: str) -> str:
    """Map a login role to the display name recorded and shown for its changes."""
    from mou_tracker.domain import validate as v

    _needs_postgresql(engine, "users set")
    display = v.required_text(name, "NAME", limit="actor")
    with engine.begin() as conn:
        login = _login(conn, role)
        taken = conn.execute(
            text("SELECT role_name FROM tracker_user WHERE display_name = :d AND role_name <> :r"),
            {"d": display, "r": login},
        ).scalar()
        if taken is not None:
            raise InvalidInput("NAME", f"{display!r} is already the display name of {taken}")
        conn.execute(
            text(
                "INSERT INTO tracker_user (role_name, display_name, set_at, set_by) "
                "VALUES (:r, :d, :at, session_user) ON CONFLICT (role_name) DO UPDATE "
                "SET display_name = EXCLUDED.display_name, set_at = EXCLUDED.set_at, "
                "set_by = EXCLUDED.set_by"
            ),
            {"r": login, "d": display, "at": datetime.now(UTC)},
        )
    return f"{login} is shown as {display!r}"


def as_viewer(session: Any) -> bool:
    """Inside a read transaction on PostgreSQL: drop to ``mou_viewer``'s rights for the rest of
    it when that role exists, holds its grants on this schema (roles are set up here, not only
    in another database of the cluster) and the connected role may take it. True if it did."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    may = session.execute(
        text(
            "SELECT CASE WHEN to_regrole(:v) IS NULL THEN false "
            "ELSE pg_has_role(session_user, :v, 'MEMBER') "
            "AND has_schema_privilege(:v, current_schema(), 'USAGE') "
            "AND has_table_privilege(:v, 'commitment', 'SELECT') END"
        ),
        {"v": VIEWER},
    ).scalar()
    if may:
        session.execute(text(f"SET LOCAL ROLE {q(VIEWER)}"))
    return bool(may)
