"""`fengqiao deadline`: show one statutory clock's due date as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from fengqiao.bootstrap import strict_calendar
from fengqiao.settings import get_settings
from routing.cases.deadlines import CLOCK_NAMES, RULE_CHOICES, DeadlineError, compute_due


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `deadline` verb."""
    parser = subparsers.add_parser(
        "deadline", help="show a statutory clock's due date (JSON)", description="计算法定期限"
    )
    parser.add_argument("--rules", choices=RULE_CHOICES, default="stricter")
    parser.add_argument("--clock", required=True, choices=CLOCK_NAMES)
    parser.add_argument("--start", required=True, help="event date, YYYY-MM-DD (not counted)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the due date as JSON; bad input goes to stderr with exit status 2."""
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        print(f"fengqiao deadline: --start must be YYYY-MM-DD, got {args.start!r}", file=sys.stderr)
        return 2
    try:
        # the official data only (published notices included): a year nobody covers is an error here
        due = compute_due(args.clock, start, args.rules, strict_calendar(get_settings()))
    except DeadlineError as exc:
        print(f"fengqiao deadline: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(due.to_dict(), ensure_ascii=False))
    return 0
