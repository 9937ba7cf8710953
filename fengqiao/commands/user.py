"""`fengqiao user add|passwd|disable|enable|list|totp`: console accounts.

    fengqiao user add chen.gh --role mediator --region 330681104000 --name 陈国华 --person p-fq-010

The password is read from the terminal (or ``--password-env VAR`` for scripts); supervisors and
administrators get a TOTP secret, printed once as an otpauth:// URI for their authenticator app.
"""

from __future__ import annotations

import argparse
import getpass
import os

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `user` verb."""
    parser = subparsers.add_parser("user", help="manage console accounts (mediators, directors, ...)")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    sub = parser.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True,
                     choices=["grid_worker", "mediator", "director", "reception", "centre", "admin"])
    add.add_argument("--region", action="append", required=True, metavar="CODE",
                     help="division code the user works in (repeatable; covers its descendants)")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--person", help="person id cases are assigned to (routing/data/orgs/people.csv)")
    add.add_argument("--permission", action="append", default=[], help="extra permission (repeatable)")
    add.add_argument("--password-env", help="read the password from this environment variable")
    for verb, text in (("passwd", "set a new password (ends the user's sessions)"),
                       ("disable", "disable an account (ends its sessions)"), ("enable", "enable an account")):
        p = sub.add_parser(verb, help=text)
        p.add_argument("username")
        if verb == "passwd":
            p.add_argument("--password-env")
    sub.add_parser("list", help="list accounts")
    parser.set_defaults(func=run)


def _password(args: argparse.Namespace) -> str:
    if getattr(args, "password_env", None):
        value = os.environ.get(args.password_env, "")
        if not value:
            raise SystemExit(f"environment variable {args.password_env} is empty")
        return value
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    """Carry out one account action."""
    from sqlalchemy import select

    from gateway.console.accounts.access import ROLE_LABELS
    from gateway.console.accounts.store import (
        AccountError,
        create_user,
        set_active,
        set_password,
        totp_uri,
    )
    from routing.persistence.console_tables import ConsoleUser, ConsoleUserRegion
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(args.url or get_settings().database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            if args.user_action == "add":
                user = create_user(session, args.username, _password(args), args.role, args.region,
                                   display_name=args.name, person_id=args.person, permissions=args.permission)
                print(f"created {user.username} ({ROLE_LABELS[user.role]}), regions {', '.join(args.region)}")
                if user.totp_secret:
                    print("two-factor secret (scan into an authenticator app, shown once):")
                    print(totp_uri(user.totp_secret, user.username))
            elif args.user_action == "passwd":
                set_password(session, args.username, _password(args))
                print(f"password changed for {args.username}; their sessions ended")
            elif args.user_action in ("disable", "enable"):
                set_active(session, args.username, args.user_action == "enable")
                print(f"{args.username} {args.user_action}d")
            else:
                for user in session.execute(select(ConsoleUser).order_by(ConsoleUser.username)).scalars():
                    codes = session.execute(
                        select(ConsoleUserRegion.division_code).where(ConsoleUserRegion.user_id == user.id)
                    ).scalars().all()
                    state = "" if user.active else " (disabled)"
                    print(f"{user.username}\t{ROLE_LABELS[user.role]}\t{user.display_name}\t{','.join(codes)}{state}")
    except AccountError as exc:
        print(f"error: {exc}")
        return 1
    finally:
        engine.dispose()
    return 0
