"""`fengqiao audit reconcile`: recount the centre's desk from the event log and report differences."""

from __future__ import annotations

import argparse
import json
from datetime import date

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `audit` verb."""
    parser = subparsers.add_parser("audit", help="recount the desk's figures from the case events")
    parser.add_argument("action", choices=["reconcile"])
    parser.add_argument("--region", action="append",
                        help="division code (repeatable; default: every county-level division with cases)")
    parser.add_argument("--as-of", type=date.fromisoformat, help="day YYYY-MM-DD (default: today, UTC+8)")
    parser.add_argument("--rebuild", action="store_true",
                        help="first refill the board's summary table (desk_counts) from the case rows")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one JSON report per region; exit 1 when any figure differs."""
    from sqlalchemy import select

    from routing.cases.service import utc_today
    from routing.centre.reconcile import rebuild_summary, reconcile
    from routing.persistence.case_tables import Case
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(args.url or get_settings().database_url)
    sessions = make_session_factory(engine)
    as_of = args.as_of or utc_today()
    failed = False
    try:
        if args.rebuild:
            with sessions.begin() as s:
                print(json.dumps({"desk_counts_rows": rebuild_summary(s)}))
        with sessions() as s:
            regions = args.region or sorted(c for c in s.execute(select(Case.county_code).distinct()).scalars() if c)
            for region in regions:
                report = reconcile(s, region, as_of)
                failed |= bool(report.differences)
                print(json.dumps(report.to_dict(), ensure_ascii=False))
    finally:
        engine.dispose()
    return 1 if failed else 0
