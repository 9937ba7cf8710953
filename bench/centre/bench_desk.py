"""Bench the centre's desk views on PostgreSQL against a plain ``SELECT count(*) FROM cases``.

    .venv/bin/python bench/centre/bench_desk.py --url postgresql://postgres@127.0.0.1/fq_centre_bench \
        --base 50000 --cases 1000000 --region 330681 --region 330600 --region 330000

1. ``--base`` cases (with their events) come from the generator (``fengqiao db generate``,
   spread over the province, 12 months, planted hotspots) when the table holds fewer;
2. the table is then filled up to ``--cases`` by copying the generated rows inside PostgreSQL
   (new numbers and keys, the same places, statuses, dates and risks), so the mix of open and
   closed cases stays the generator's;
3. each view runs ``--runs`` times per region; p50/p95 in ms and the ratio to ``count(*)``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select, text  # noqa: E402

from routing.centre import board as desk  # noqa: E402
from routing.centre.feed import feed  # noqa: E402
from routing.centre.hotspots import detect  # noqa: E402
from routing.centre.places import covered  # noqa: E402
from routing.centre.watch import on_filed  # noqa: E402
from routing.persistence.case_tables import Case  # noqa: E402
from routing.persistence.centre_tables import Supervision  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402

SKIP = {"id", "case_number", "idempotency_key"}


def fill(engine, target: int) -> int:  # type: ignore[no-untyped-def]
    """Copy generated rows inside PostgreSQL until the table holds ``target`` cases."""
    cols = [c.name for c in Case.__table__.columns if c.name not in SKIP]
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM cases")).scalar()
        base = conn.execute(text("SELECT count(*) FROM cases WHERE idempotency_key LIKE 'gen:%'")).scalar()
        if have >= target or not base:
            return int(have)
        rounds = -(-(target - have) // base)
        for g in range(1, rounds + 1):
            need = target - conn.execute(text("SELECT count(*) FROM cases")).scalar()
            if need <= 0:
                break
            names = ", ".join(cols)
            conn.execute(text(
                f"INSERT INTO cases (case_number, idempotency_key, {names}) "
                f"SELECT 'R{g}-' || id, 'rep:{g}:' || id, {names} FROM cases "
                f"WHERE idempotency_key LIKE 'gen:%' ORDER BY id LIMIT {need}"))
        total = int(conn.execute(text("SELECT count(*) FROM cases")).scalar())
    vacuum(engine)
    return total


def vacuum(engine) -> None:  # type: ignore[no-untyped-def]
    """VACUUM ANALYZE (what autovacuum does in service): sets the visibility map for index-only scans."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))


def timed(fn, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        took = result if isinstance(result, float) else time.perf_counter() - start  # a view may time itself
        samples.append(took * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1)}


def views(sessions, region: str, today: date) -> dict:  # type: ignore[no-untyped-def]
    flt = desk.DeskFilter(region=region)
    codes = covered(region)

    def run(work):  # type: ignore[no-untyped-def]
        def call():  # type: ignore[no-untyped-def]
            with sessions() as s:
                return work(s)
        return call

    def newest(s):  # type: ignore[no-untyped-def]
        return s.execute(select(Case).where(desk.region_condition(region)).order_by(Case.id.desc()).limit(1)).scalar()

    def copy_of(s, src, **change):  # type: ignore[no-untyped-def]
        values = {c.name: getattr(src, c.key) for c in Case.__table__.columns if c.name != "id"}
        values.update(case_number=f"B-{time.monotonic_ns() % 10**12}", idempotency_key=f"bench:{time.monotonic_ns()}",
                      **change)
        case = Case(**values)
        s.add(case)
        s.flush()
        return case

    def raise_path(s):  # type: ignore[no-untyped-def]
        # three new filings of a problem nobody reported before: the third raises a hotspot (rolled back)
        src, token = newest(s), f"bench{time.monotonic_ns() % 10**9}"
        src = copy_of(s, src, category_l2=token, narrative_normalised="饭店噪音扰民")  # no group signal
        on_filed(s, src)
        on_filed(s, copy_of(s, src))
        third = copy_of(s, src)
        start = time.perf_counter()
        on_filed(s, third)
        s.flush()
        took = time.perf_counter() - start
        s.rollback()
        return took

    made = []

    def join_path(s):  # type: ignore[no-untyped-def]
        if not made:  # the cluster exists from the first (warm-up) call on, kept in the bench database
            with sessions.begin() as s2:
                detect(s2, newest(s2))  # idempotent: raises the cluster once, joins nothing twice
            made.append(1)
        # a new filing like the newest case joins the open hotspot (the case row is inserted, rolled back)
        case = copy_of(s, newest(s))
        start = time.perf_counter()
        on_filed(s, case)
        s.flush()
        took = time.perf_counter() - start
        s.rollback()
        return took

    return {
        "on_filing_raise_hotspot": run(raise_path),
        "on_filing_join_hotspot": run(join_path),
        "board": run(lambda s: desk.build(s, flt, today)),
        "board_filtered(labour,red)": run(lambda s: desk.build(
            s, desk.DeskFilter(region=region, dispute_type="labour_wage", risk="red"), today)),
        "list_overdue_page1": run(lambda s: desk.list_cases(s, flt, today, "overdue")),
        "list_open_page1": run(lambda s: desk.list_cases(s, flt, today, "open")),
        "workload": run(lambda s: desk.workload(s, flt)),
        "alert_feed": run(lambda s: feed(s, codes)),
        "supervision_list": run(lambda s: list(s.execute(select(Supervision).where(
            Supervision.county_code.in_(sorted(codes))).limit(200)).scalars())),
    }


def main() -> int:
    """Fill, then time every view per region; print one JSON document."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--base", type=int, default=50000)
    ap.add_argument("--cases", type=int, default=1000000)
    ap.add_argument("--region", action="append")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    engine = make_engine(args.url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        have = s.execute(select(func.count()).select_from(Case)).scalar()
    if have < args.base:
        from routing.centre.generate import Plan, generate

        generate(sessions, Plan(cases=args.base - have, region="330000", months=12,
                                today=datetime.now(UTC).date()))
    total = fill(engine, args.cases)
    today = datetime.now(UTC).date()

    def count_all() -> None:
        with sessions() as s:
            s.execute(select(func.count()).select_from(Case)).scalar()

    reference = timed(count_all, args.runs)
    with sessions() as s:
        open_total = s.execute(select(func.count()).where(Case.status.in_(desk.DESK_STATUSES))).scalar()
    out = {"cases": total, "open_or_waiting": open_total, "runs": args.runs,
           "reference_select_count": reference, "regions": {}}
    for region in args.region or ["330681"]:
        with sessions() as s:
            n = s.execute(select(func.count()).where(desk.region_condition(region))).scalar()
        res = {"cases_in_region": n}
        for name, fn in views(sessions, region, today).items():
            t = timed(fn, args.runs)
            t["p95_vs_count"] = round(t["p95_ms"] / reference["p95_ms"], 3) if reference["p95_ms"] else None
            res[name] = t
        out["regions"][region] = res
    print(json.dumps(out, ensure_ascii=False, indent=1))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
