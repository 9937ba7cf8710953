"""Benchmark: the sweep query over 1,000,000 cases with clocks in PostgreSQL (target ≤ 2 s).

Creates a throw-away database on the machine's PostgreSQL, migrates it, loads the cases and
their clocks with server-side multi-row INSERT … SELECT generate_series, ANALYZEs, then times
``routing.persistence.clocks.due_clocks`` (the query ``fengqiao sweep`` runs) 5 times and prints the
median. The database is dropped afterwards.

Data shape: every case has a register clock and a handling clock. ``--open-share`` of the cases
are open, with their handling clock ``running`` and due from 3 days ago to 57 days ahead of the
sweep day (as if the sweep had not run for three days); closed cases have stopped clocks.

Run: .venv/bin/python bench/sweep_bench.py [--cases 1000000] [--open-share 0.08]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from fengqiao.migrate import upgrade  # noqa: E402
from routing.persistence.clocks import due_clocks, sweep_query  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402

ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AS_OF = date(2026, 6, 1)

CASES_SQL = """
INSERT INTO cases (case_number, idempotency_key, status, category, dispute_type, subject, narrative_original,
                   narrative_normalised, script, location_code, county_code, channel, channel_user_id,
                   conversation_id, risk_level, human_requested, confidential, hidden_from, body_id, tier,
                   handling_body, due_date, created_at, updated_at)
SELECT 'FQ-B-' || lpad(i::text, 8, '0'), md5(i::text),
       CASE WHEN (i % 10000) < CAST(:open_bp AS integer) THEN (ARRAY['assigned','handling','mediating'])[1 + i % 3]
            ELSE 'archived' END,
       '城乡建设', 'neighbour', '邻里纠纷' || i, '邻居纠纷事项' || i, '邻居纠纷事项' || i, 'simplified',
       '330681104201', '330681', 'web', 'web:bench' || (i % 200000), 'web:bench' || (i % 200000),
       'blue', false, false, '[]', 'zhuji-fengqiao-fengyuan', '村（社区）调委会', '枫源村人民调解委员会',
       CAST(:as_of AS date) + ((i % 61) - 3), now() - ((i % 700) || ' days')::interval, now()
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS s(i)
"""

CLOCKS_SQL = """
INSERT INTO case_clocks (case_id, clock, rule_set, article, start, due, pauses, paused_days, extended_days,
                         extensions, stopped_at, state, body_id, created_at)
SELECT c.id, k.clock, 'national', k.article, c.created_at::date,
       CASE WHEN k.clock = 'mediation' AND c.status <> 'archived' THEN c.due_date
            ELSE c.created_at::date + 15 END,
       '[]', 0, 0, '[]',
       CASE WHEN k.clock = 'mediation' AND c.status <> 'archived' THEN NULL ELSE c.created_at::date + 5 END,
       CASE WHEN k.clock = 'mediation' AND c.status <> 'archived' THEN 'running' ELSE 'stopped' END,
       c.body_id, now()
FROM cases c CROSS JOIN (VALUES ('petition_register', '信访工作条例 第二十二条'),
                                ('mediation', '宁波市人民调解条例 第二十七条')) AS k(clock, article)
WHERE c.id BETWEEN CAST(:lo AS integer) AND CAST(:hi AS integer)
"""


def _load(url: str, n: int, open_share: float, batch: int = 200_000) -> float:
    engine = make_engine(url)
    t0 = time.perf_counter()
    try:
        for lo in range(1, n + 1, batch):
            hi = min(lo + batch - 1, n)
            with engine.begin() as conn:
                conn.execute(text(CASES_SQL), {"lo": lo, "hi": hi, "open_bp": int(open_share * 10000),
                                               "as_of": AS_OF.isoformat()})
        with engine.begin() as conn:
            lo_id, hi_id = conn.execute(text("SELECT min(id), max(id) FROM cases")).one()
        for lo in range(lo_id, hi_id + 1, batch):
            with engine.begin() as conn:
                conn.execute(text(CLOCKS_SQL), {"lo": lo, "hi": min(lo + batch - 1, hi_id)})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE cases"))
            conn.execute(text("VACUUM ANALYZE case_clocks"))
    finally:
        engine.dispose()
    return time.perf_counter() - t0


def _time_sweep(url: str, runs: int, near_days: int) -> tuple[list[float], int, str]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    times, found = [], 0
    try:
        for _ in range(runs):
            with sessions() as session:
                t0 = time.perf_counter()
                found = len(due_clocks(session, AS_OF, near_days))
                times.append(time.perf_counter() - t0)
        with engine.connect() as conn:
            compiled = sweep_query(AS_OF, near_days).compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN ANALYZE {compiled}")))
    finally:
        engine.dispose()
    return times, found, plan


def main() -> int:
    """Create, load, time, drop; print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.08)
    parser.add_argument("--near-days", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plan", action="store_true", help="print the EXPLAIN ANALYZE plan")
    args = parser.parse_args()
    name = f"fq_sweep_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(url)
        load_s = _load(url, args.cases, args.open_share)
        times, found, plan = _time_sweep(url, args.runs, args.near_days)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    if args.plan:
        print(plan)
    median = statistics.median(times)
    print(json.dumps({"cases": args.cases, "clocks": 2 * args.cases, "open_share": args.open_share,
                      "as_of": AS_OF.isoformat(), "near_days": args.near_days, "found": found,
                      "load_seconds": round(load_s, 1), "runs_ms": [round(t * 1000, 1) for t in times],
                      "median_ms": round(median * 1000, 1), "target_ms": 2000, "ok": median <= 2.0}, indent=2))
    return 0 if median <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
