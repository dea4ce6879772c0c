"""Administration: ``migrate``, and on PostgreSQL ``roles`` and ``users``."""

from __future__ import annotations

import argparse

from mou_tracker.cli.common import (
    identity_of,
    open_engine,
)


def cmd_migrate(args: argparse.Namespace) -> int:
    from mou_tracker.storage.migrate import SCHEMA_HEAD, migrate

    engine = open_engine(args, seed_if_new=False)
    message = migrate(engine)
    print(message or f"the database schema is up to date ({SCHEMA_HEAD})")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    from mou_tracker.storage import roles

    engine = open_engine(args, seed_if_new=False)
    if args.roles_command == "setup":
        for line in roles.setup(engine):
            print(line)
    elif args.roles_command == "grant":
        print(roles.grant(engine, args.login, args.group))
    elif args.roles_command == "revoke":
        print(roles.revoke(engine, args.login, args.group))
    else:
        found = roles.members(engine)
        ident = identity_of(args)
        state = "set up" if ident.roles_set_up else "not set up (mou-tracker roles setup)"
        print(f"tracker roles on this schema: {state}")
        for group in roles.GROUPS:
            names = [m + (f" ({shown!r})" if shown else "") for g, m, shown in found if g == group]
            print(f"{group}: {', '.join(names) if names else '-'}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from mou_tracker.storage import roles

    engine = open_engine(args, seed_if_new=False)
    print(roles.set_display_name(engine, args.role, args.name))
    return 0
