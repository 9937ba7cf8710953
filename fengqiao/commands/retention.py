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
    parser.add_argument("action", choices=["purge"])
    parser.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")
    parser.add_argument("--now", type=datetime.fromisoformat, help="pretend it is this time (ISO, UTC)")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    parser.set_defaults(func=run)


def tracker_engine():  # type: ignore[no-untyped-def]
    """Rasa's SQL tracker store: ``RASA_TRACKER_URL``, else ``var/tracker.db`` when it exists (None: none)."""
    from routing.db import REPO_ROOT, make_engine

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
    from routing.db import make_engine, make_session_factory

    engine = make_engine(args.url or get_settings().database_url)
    try:
        now = args.now.replace(tzinfo=args.now.tzinfo or UTC) if args.now else None
        report = purge_now(make_session_factory(engine), now, dry_run=args.dry_run)
    finally:
        engine.dispose()
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    return 0
