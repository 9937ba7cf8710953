"""`fengqiao sweep`: report near-due and overdue statutory clocks, escalate overdue tiers, send reminders."""

from __future__ import annotations

import argparse
import json
from datetime import date

from fengqiao.settings import Settings, get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` verb."""
    parser = subparsers.add_parser("sweep", help="find near-due and overdue case clocks (idempotent per day)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="sweep day YYYY-MM-DD (default: today, UTC+8)")
    parser.add_argument("--near-days", type=int, default=3, help="days before due that count as near due")
    parser.add_argument("--no-escalate", action="store_true", help="report overdue tiers without escalating")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run one sweep (under the database lock) and print its JSON summary."""
    from routing.persistence.db import make_engine, make_session_factory

    settings = get_settings()
    engine = make_engine(args.url or settings.database_url)
    try:
        summary = sweep_once(make_session_factory(engine), settings, args.as_of, args.near_days,
                             escalate=not args.no_escalate)
    finally:
        engine.dispose()
    if summary is None:
        print(json.dumps({"skipped": "another sweep holds the lock"}, ensure_ascii=False))
        return 0
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def sweep_once(sessions, settings: Settings, as_of: date | None = None, near_days: int = 3, *,  # type: ignore[no-untyped-def]
               escalate: bool = True) -> dict | None:
    """Clocks, then the centre's warnings, under the sweep lock (None: another run holds it)."""
    from fengqiao.bootstrap import build_services
    from fengqiao.commands.retention import purge_now
    from routing.cases.service import utc_today
    from routing.centre.sweep import run_locked
    from routing.centre.warnings import utcnow

    life = build_services(settings, sessions).life
    day = as_of or utc_today()

    def cases_then_retention(d: date) -> _Summary:
        summary = life.sweep(d, near_days, escalate=escalate).to_dict()
        summary["retention"] = purge_now(sessions).to_dict()  # idempotent: a second run finds nothing new
        return _Summary(summary)

    return run_locked(sessions, cases_then_retention, day, utcnow())


class _Summary(dict):  # type: ignore[type-arg]
    """The case sweep's summary with the purge's counts, as ``run_locked`` reads it."""

    def to_dict(self) -> dict:  # type: ignore[type-arg]
        return dict(self)
