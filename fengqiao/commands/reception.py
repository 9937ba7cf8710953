"""`fengqiao reception days|remind|baoan`: list reception days, send reminders, list overdue 包案."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `reception` verb."""
    parser = subparsers.add_parser("reception", help="Pujiang reception days: list, remind, overdue 包案")
    parser.add_argument("action", choices=["days", "remind", "baoan"])
    parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (default: today)")
    parser.add_argument("--days", type=int, default=60, help="how many days to list")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Do the admin action and print JSON."""
    from fengqiao.bootstrap import build_services
    from routing.cases.reception_days import remaining
    from routing.cases.service import utc_today
    from routing.persistence.db import make_engine, make_session_factory
    from routing.persistence.reception import SqlReceptionRepository

    settings = get_settings()
    engine = make_engine(args.url or settings.database_url)
    sessions = make_session_factory(engine)
    life = build_services(settings, sessions).life
    try:
        if args.action == "remind":
            out: object = {"reminders": life.send_reminders()}
        elif args.action == "baoan":
            out = [{"case": b.case_id, "leader": b.leader, "target_date": b.target_date.isoformat()}
                   for b in life.overdue_baoan()]
        else:
            start = args.start or utc_today()
            with sessions() as session:
                repo = SqlReceptionRepository(session)
                out = [{"id": d.id, "date": d.date.isoformat(), "start": d.start, "leader": d.leader,
                        "place": d.place, "topics": list(d.topics), "status": d.status,
                        "remaining": remaining(d, repo.bookings_for_day(d.id))}
                       for d in repo.days_between(start, start + timedelta(days=args.days))]
    finally:
        engine.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0
