"""`fengqiao retention purge [--dry-run]`: remove personal data of cases past their retention."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `retention` verb."""
    parser = subparsers.add_parser("retention", help="purge personal data past retention (routing/privacy/retention.yaml)")
    parser.add_argument("action", choices=["purge", "hold", "release"],
                        help="purge; or place / release a legal hold on --case")
    parser.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")
    parser.add_argument("--now", type=datetime.fromisoformat, help="pretend it is this time (ISO, UTC)")
    parser.add_argument("--case", help="case number (hold, release)")
    parser.add_argument("--reason", default="", help="why the data must be kept (hold)")
    parser.add_argument("--by", default="operator", help="who places or releases the hold")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def tracker_engine():  # type: ignore[no-untyped-def]
    """Rasa's SQL tracker store: ``RASA_TRACKER_URL``, else ``var/tracker.db`` when it exists (None: none)."""
    from routing.persistence.db import REPO_ROOT, make_engine

    url = os.environ.get("RASA_TRACKER_URL", "").strip()
    if url:
        return make_engine(url)
    path = REPO_ROOT / "var" / "tracker.db"
    return make_engine(f"sqlite:///{path}") if path.exists() else None


def purge_now(sessions, now: datetime | None = None, *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    """Run one purge with the tracker store found from the environment; return its report."""
    from routing.privacy.retention import purge

    tracker = tracker_engine()
    try:
        return purge(sessions, now or datetime.now(UTC), dry_run=dry_run, tracker=tracker)
    finally:
        if tracker is not None:
            tracker.dispose()


def run(args: argparse.Namespace) -> int:
    """Print the purge's counts as JSON (never a value)."""
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(args.url or get_settings().database_url)
    if args.action != "purge":
        try:
            return _hold(make_session_factory(engine), args)
        finally:
            engine.dispose()
    try:
        now = args.now.replace(tzinfo=args.now.tzinfo or UTC) if args.now else None
        report = purge_now(make_session_factory(engine), now, dry_run=args.dry_run)
    finally:
        engine.dispose()
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    return 0


def _hold(sessions, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """Place or release a legal hold; print the hold's id and state."""
    from sqlalchemy import select

    from routing.persistence.case_tables import Case
    from routing.persistence.privacy_tables import LegalHold

    if not args.case or (args.action == "hold" and not args.reason.strip()):
        print(json.dumps({"error": "--case is required, and --reason for a hold"}))
        return 2
    with sessions.begin() as s:
        case_id = s.execute(select(Case.id).where(Case.case_number == args.case.strip().upper())).scalar()
        if case_id is None:
            print(json.dumps({"error": f"no case {args.case}"}))
            return 1
        if args.action == "hold":
            hold = LegalHold(case_id=case_id, reason=args.reason.strip(), placed_by=args.by)
            s.add(hold)
            s.flush()
            print(json.dumps({"hold": hold.id, "case": args.case, "state": "held"}))
            return 0
        released = 0
        for hold in s.execute(select(LegalHold).where(LegalHold.case_id == case_id,
                                                      LegalHold.released_at.is_(None))).scalars():
            hold.released_at, hold.released_by = datetime.now(UTC), args.by
            released += 1
        print(json.dumps({"case": args.case, "released": released}))
        return 0
