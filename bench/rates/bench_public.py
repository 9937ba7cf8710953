"""Bench the public page and the report's rate table at a million cases, beside a reference query.

    .venv/bin/python bench/rates/bench_public.py --url postgresql+psycopg://postgres@127.0.0.1/fq_rates_bench \
        --base 50000 --cases 1000000 --region 330681

1. ``--base`` cases with their events come from the generator (``fengqiao db generate`` over the
   province, 12 months) when the store holds fewer;
2. the store is filled up to ``--cases`` by copying generated cases *and their events* inside
   PostgreSQL (new ids, numbers and keys; the same places, histories and dates);
3. the monthly tallies of the last 13 months are refreshed from the event log (timed);
4. side by side, ``--runs`` times each: the public page's figures (``routing.rates.public.figures``,
   no cache), the whole ``GET /public`` through aiohttp's test client with its cache, and a reference
   query that computes one rate (化解率 of the region for 12 months) straight from ``case_events``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text  # noqa: E402

from routing.persistence.case_tables import Case, CaseEvent  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402

SKIP = {"id", "case_number", "idempotency_key"}


def fill(engine, target: int) -> int:  # type: ignore[no-untyped-def]
    """Copy generated cases and their events until the store holds ``target`` cases."""
    cols = [c.name for c in Case.__table__.columns if c.name not in SKIP]
    ecols = [c.name for c in CaseEvent.__table__.columns if c.name not in ("id", "case_id")]
    with engine.begin() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM cases")).scalar())
        base = int(conn.execute(text("SELECT count(*) FROM cases WHERE idempotency_key LIKE 'gen:%'")).scalar())
        top = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM cases")).scalar())
    if have >= target or not base:
        return have
    g = 0
    while have < target:
        g += 1
        need = min(base, target - have)
        offset = top * g + 1000
        names, enames = ", ".join(cols), ", ".join(ecols)
        with engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO cases (id, case_number, idempotency_key, {names}) "
                f"SELECT id + {offset}, 'R{g}-' || id, 'rep:{g}:' || id, {names} FROM cases "
                f"WHERE idempotency_key LIKE 'gen:%' ORDER BY id LIMIT {need}"))
            conn.execute(text(
                f"INSERT INTO case_events (case_id, {enames}) SELECT e.case_id + {offset}, {', '.join('e.' + c for c in ecols)} "
                f"FROM case_events e JOIN cases c ON c.id = e.case_id + {offset} WHERE c.idempotency_key LIKE 'rep:{g}:%'"))
        have += need
        print(f"… {have} cases", file=sys.stderr, flush=True)
    with engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('case_events', 'id'), (SELECT max(id) FROM case_events))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
        conn.execute(text("VACUUM ANALYZE case_events"))
    return have


def timed(fn, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1)}


def reference(sessions, region: str, months: list[str]):  # type: ignore[no-untyped-def]
    """化解率 of the region over the months straight from the event log (no tallies)."""
    from routing.centre.board import region_condition
    from routing.rates.store import utc_bounds

    lo, hi = utc_bounds(months)
    cond = region_condition(region).compile(compile_kwargs={"literal_binds": True})
    sql = text(f"""
        SELECT count(*) FILTER (WHERE e.payload->>'action' = 'resolve'), count(*)
        FROM case_events e JOIN cases ON cases.id = e.case_id
        WHERE {cond} AND e.kind = 'status_changed' AND e.created_at >= :lo AND e.created_at < :hi
          AND e.payload->>'from' = 'mediating'
          AND (e.payload->>'action' IN ('resolve', 'fail_mediation')
               OR (e.payload->>'action' = 'escalate' AND e.payload->>'why' = 'mediation_failed'))""")

    def call():  # type: ignore[no-untyped-def]
        with sessions() as s:
            return s.execute(sql, {"lo": lo, "hi": hi}).one()
    return call


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--base", type=int, default=50000)
    p.add_argument("--cases", type=int, default=1000000)
    p.add_argument("--region", default="330681")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--no-refresh", action="store_true")
    p.add_argument("--out", help="write the figures as JSON here")
    a = p.parse_args()
    from routing.rates import monthly
    from routing.rates import public as pub
    from routing.rates.report import shift

    engine = make_engine(a.url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        have = int(s.execute(text("SELECT count(*) FROM cases")).scalar())
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    if have < a.base:
        from routing.centre.generate import Plan, generate

        generate(sessions, Plan(cases=a.base - have, region="330000", months=12, today=today, hotspots=5, seed=11))
    total = fill(engine, a.cases)
    this = f"{today.year:04d}-{today.month:02d}"
    months = [shift(this, -k) for k in range(12, -1, -1)]
    out: dict = {"cases": total, "region": a.region, "runs": a.runs}
    if not a.no_refresh:
        start = time.perf_counter()
        out["refresh_cases_read"] = monthly.refresh(sessions, months, "330000")
        out["refresh_s"] = round(time.perf_counter() - start, 1)
    with sessions() as s:
        out["events"] = int(s.execute(text("SELECT count(*) FROM case_events")).scalar())
        out["tally_rows"] = int(s.execute(text("SELECT count(*) FROM rate_monthly")).scalar())

    def figures():  # type: ignore[no-untyped-def]
        with sessions() as s:
            return pub.figures(s, a.region, today)

    out["public_figures_uncached"] = timed(figures, a.runs)
    out["reference_one_rate_from_events"] = timed(reference(sessions, a.region, months[1:]), max(5, a.runs // 4))
    out["public_page_http"] = asyncio.run(_http(a.url, a.region, a.runs))
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


async def _http(url: str, region: str, runs: int) -> dict[str, float]:
    """``GET /public`` through the real app (its one-minute cache on), server time per request."""
    import os

    from aiohttp.test_utils import TestClient, TestServer

    from fengqiao.settings import Settings
    from gateway.app import init_app

    os.environ["DATABASE_URL"] = url
    app = init_app(Settings.from_env())
    async with TestClient(TestServer(app)) as client:
        samples = []
        for k in range(runs + 1):
            start = time.perf_counter()
            r = await client.get(f"/public?region={region}")
            await r.read()
            assert r.status == 200, r.status
            if k:
                samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        return {"p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1)}


if __name__ == "__main__":
    sys.exit(main())
