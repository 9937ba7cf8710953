"""`fengqiao db upgrade|seed`: create and migrate the case database, load demo data."""

from __future__ import annotations

import argparse

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `db` verb."""
    from fengqiao.commands.generate import add_arguments

    parser = subparsers.add_parser("db", help="migrate the database, load demo data or generate volumes")
    parser.add_argument("action", choices=["upgrade", "seed", "generate"])
    add_arguments(parser)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Migrate, load the demo data idempotently, or generate case volumes."""
    url = args.url or get_settings().database_url
    if args.action == "upgrade":
        from fengqiao.migrate import upgrade

        upgrade(url)
        print(f"database migrated: {url.split('@')[-1]}")
        return 0
    if args.action == "generate":
        from fengqiao.commands.generate import run as generate

        return generate(url, args)
    from fengqiao.seed import seed_demo, seed_reception_days

    created = seed_demo(url)
    days = seed_reception_days(url)
    print(f"demo data: {created} new case(s), {days} new reception day(s)")
    return 0
