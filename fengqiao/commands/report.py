"""`fengqiao report`: the situation report (平安形势分析) of a region for a month, or the monthly run.

    fengqiao report --region 330681 --period 2026-11 --format xlsx --out 诸暨-2026-11.xlsx
    fengqiao report --schedule monthly [--region 33]     # cron: 10 1 * * *  (idempotent)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` verb."""
    p = subparsers.add_parser("report", help="the monthly situation report (html, pdf, xlsx, csv) or the monthly run")
    p.add_argument("--region", default="", help="division code (county, city, township; 33 = the province)")
    p.add_argument("--period", default="", help="month YYYY-MM (default: last month)")
    p.add_argument("--format", choices=["html", "pdf", "xlsx", "csv"], default="html")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument("--stored", action="store_true", help="the stored report of that month, as it was")
    p.add_argument("--no-refresh", action="store_true", help="use the monthly tallies as they are")
    p.add_argument("--schedule", choices=["monthly"], help="refresh tallies and store last month's reports")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build, render and write the report (or do the monthly run)."""
    from fengqiao.settings import get_settings
    from routing.cases.service import utc_today
    from routing.centre import places
    from routing.persistence.db import make_engine, make_session_factory
    from routing.rates import archive, monthly, render, report

    engine = make_engine(args.url or get_settings().database_url)
    sessions = make_session_factory(engine)
    today = utc_today()
    try:
        if args.schedule:
            summary = archive.monthly_run(sessions, today, args.region or "33")
            print(json.dumps(summary or {"skipped": "another monthly run holds the lock"}, ensure_ascii=False))
            return 0
        if not args.region or places.division(args.region) is None:
            print(f"unknown region {args.region!r}", file=sys.stderr)
            return 2
        period = args.period or report.shift(archive.month_of(today), -1)
        if not PERIOD.match(period):
            print("period must be YYYY-MM", file=sys.stderr)
            return 2
        if args.stored:
            with sessions() as s:
                row = archive.latest(s, args.region, period)
                if row is None:
                    print(f"no stored report for {args.region} {period}", file=sys.stderr)
                    return 1
                data = dict(row.data)
        else:
            if not args.no_refresh:
                monthly.refresh(sessions, [report.shift(period, -1), period], args.region)
            with sessions() as s:
                data = report.build(s, args.region, period)
        body = render.render(data, args.format, **({"standalone": True} if args.format == "html" else {}))
    except render.RenderError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if args.out:
        Path(args.out).write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
    return 0
