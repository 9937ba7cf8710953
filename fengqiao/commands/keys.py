"""`fengqiao keys`: the data keys of personal data at rest (status, rotate)."""

from __future__ import annotations

import argparse
import json

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `keys` verb."""
    parser = subparsers.add_parser("keys", help="data keys: status, or rotate (re-encrypt in batches, no downtime)")
    parser.add_argument("action", choices=["status", "rotate"])
    parser.add_argument("--reencrypt-only", action="store_true",
                        help="do not write a new key (keys come from FENGQIAO_DATA_KEYS): re-encrypt under the active one")
    parser.add_argument("--batch", type=int, default=200, help="rows per transaction")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print a JSON report: the active key id and counts (never a key or a value)."""
    from routing.persistence.db import make_engine
    from routing.privacy.crypto import keyring
    from routing.privacy.rotate import activate_new_key, reencrypt, stale_count

    engine = make_engine(args.url or get_settings().database_url)
    try:
        if args.action == "status":
            material = keyring().material(force=True)
            print(json.dumps({"active": material.active, "keys": sorted(material.keys),
                              "values_not_under_active_key": stale_count(engine)}))
            return 0
        if not args.reencrypt_only:
            try:
                activate_new_key()
            except RuntimeError as exc:
                print(json.dumps({"error": str(exc)}, ensure_ascii=False))
                return 2
        report = reencrypt(engine, size=args.batch)
        print(json.dumps({"active": keyring().material().active, **report.to_dict()}))
        return 0 if report.left == 0 else 1
    finally:
        engine.dispose()
