"""`fengqiao apikey add|list|revoke`: keys of the Open311 API and webhooks.

    fengqiao apikey add --name zhuji-12345 --scopes read,write,geo --rate-limit 120

The key is printed once; only its SHA-256 is stored. Scopes: read, write (file requests and
post department updates), personal (narratives; every read is audited), geo (lat/long).
"""

from __future__ import annotations

import argparse

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `apikey` verb."""
    parser = subparsers.add_parser("apikey", help="manage Open311 API keys (read, write, personal, geo)")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    sub = parser.add_subparsers(dest="key_action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a key (printed once)")
    add.add_argument("--name", required=True, help="the client's name, e.g. zhuji-12345")
    add.add_argument("--scopes", required=True, help="comma list of read,write,personal,geo")
    add.add_argument("--rate-limit", type=int, default=60, help="requests per minute (default 60)")
    revoke = sub.add_parser("revoke", help="revoke a key")
    revoke.add_argument("--name", required=True)
    sub.add_parser("list", help="list keys (never the keys themselves)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out one key action."""
    from routing.open311.keys import KeyError_, create_key, list_keys, parse_scopes, revoke_key
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(args.url or get_settings().database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            if args.key_action == "add":
                key = create_key(session, args.name, parse_scopes(args.scopes), args.rate_limit)
                print(f"created API key {args.name} (shown once, store it now):")
                print(key)
            elif args.key_action == "revoke":
                revoke_key(session, args.name)
                print(f"revoked {args.name}")
            else:
                for row in list_keys(session):
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
                    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                    print(f"{row.name}\t{row.prefix}…\t{','.join(row.scopes)}\t{row.rate_limit}/min\t"
                          f"last used {used}\t{state}")
    except KeyError_ as exc:
        print(f"error: {exc}")
        return 1
    finally:
        engine.dispose()
    return 0
