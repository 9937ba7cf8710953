"""`fengqiao db generate`: realistic case volumes for the centre's desk and its bench."""

from __future__ import annotations

import argparse
import json
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the generator's options to `fengqiao db`."""
    parser.add_argument("--cases", type=int, default=10000, help="how many cases (generate)")
    parser.add_argument("--region", default="330681", help="division code the cases are spread over (generate)")
    parser.add_argument("--months", type=int, default=12, help="filing dates over this many months (generate)")
    parser.add_argument("--hotspots", type=int, default=5, help="planted hotspots (generate)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (generate)")


def run(url: str, args: argparse.Namespace) -> int:
    """Generate the cases and print what was written."""
    from routing.cases.service import utc_today
    from routing.centre.generate import Plan, generate
    from routing.persistence.db import make_engine, make_session_factory

    engine = make_engine(url)
    started = time.perf_counter()
    try:
        plan = Plan(cases=args.cases, region=args.region, months=args.months, today=utc_today(),
                    hotspots=args.hotspots, seed=args.seed)

        def progress(n: int) -> None:
            if n % 50000 < plan.batch:
                print(f"… {n} cases ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

        result = generate(make_session_factory(engine), plan, progress)
    finally:
        engine.dispose()
    print(json.dumps({"cases": result.cases, "events": result.events, "planted_hotspots": result.planted,
                      "seconds": round(time.perf_counter() - started, 1)}, ensure_ascii=False))
    return 0
