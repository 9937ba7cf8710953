"""`fengqiao sweep`: report near-due and overdue statutory clocks, escalate overdue tiers, send reminders."""

from __future__ import annotations

import argparse
import json
from datetime import date

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` verb."""
    parser = subparsers.add_parser("sweep", help="find near-due and overdue case clocks (idempotent per day)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="sweep day YYYY-MM-DD (default: today, UTC+8)")
    parser.add_argument("--near-days", type=int, default=3, help="days before due that count as near due")
    parser.add_argument("--no-escalate", action="store_true", help="report overdue tiers without escalating")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one sweep and print its JSON summary."""
    from fengqiao.bootstrap import build_services
    from routing.db import make_engine, make_session_factory

    settings = get_settings()
    engine = make_engine(args.url or settings.database_url)
    try:
        life = build_services(settings, make_session_factory(engine)).life
        report = life.sweep(args.as_of, args.near_days, escalate=not args.no_escalate)
    finally:
        engine.dispose()
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    return 0
