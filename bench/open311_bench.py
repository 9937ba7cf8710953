"""Benchmark: `GET /open311/v2/requests.json` answering 1,000 requests over a large case table.

Creates a throw-away PostgreSQL database, migrates it, loads ``--cases`` cases filed evenly over
the last 700 days in id order (as a live table grows) (20 services, 8 % open, every tenth filed by API with lat/long) with server-side
INSERT … SELECT generate_series, ANALYZEs, then times the whole HTTP round trip through the
aiohttp app (key check, query, scope rules, JSON) for four queries, ``--runs`` times each:
the default (last 90 days), ``status=open``, one ``service_code``, and a key with the geo and
personal scopes (which also writes the audit entry). Every answer must hold 1,000 records.
The database is dropped afterwards. Target: ≤ 50 ms p95 with 1,000,000 cases.

Side by side in the same loop: after every API call, a plain ``SELECT *`` of the same 1,000
newest rows of the window (psycopg, no processing) as the reference; medians, p95 and the p95
ratio are reported for each query.

Run: .venv/bin/python bench/open311_bench.py [--cases 1000000] [--runs 60] [--keep | --database NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from fengqiao.migrate import upgrade  # noqa: E402
from gateway.open311 import PREFIX, build  # noqa: E402
from routing.open311.keys import create_key  # noqa: E402
from routing.open311.services import catalogue  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402

ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

CASES_SQL = """
INSERT INTO cases (case_number, idempotency_key, status, category, category_l2, category_l3, dispute_type, subject,
                   narrative_original, narrative_normalised, script, location_code, county_code, channel,
                   channel_user_id, conversation_id, risk_level, human_requested, confidential, hidden_from, body_id,
                   tier, handling_body, due_date, created_at, updated_at)
SELECT 'FQ-B-' || lpad(i::text, 8, '0'), md5(i::text),
       CASE WHEN i % 100 < 8 THEN (ARRAY['assigned','handling','mediating'])[1 + i % 3] ELSE 'archived' END,
       (CAST(:l1 AS text[]))[1 + i % 20], (CAST(:l2 AS text[]))[1 + i % 20], (CAST(:l3 AS text[]))[1 + i % 20],
       'neighbour', '邻里纠纷' || i, '邻居半夜装修噪音扰民事项' || i, '邻居半夜装修噪音扰民事项' || i, 'simplified',
       '330681104201', '330681', 'web', 'web:bench' || (i % 200000), 'web:bench' || (i % 200000),
       'blue', false, false, '[]', 'zhuji-fengqiao-fengyuan', '村（社区）调委会', '枫源村人民调解委员会',
       DATE '2026-12-31', now() - (CAST(:n AS integer) - i) * CAST(:step AS double precision) * interval '1 second',
       now() - (CAST(:n AS integer) - i) * CAST(:step AS double precision) * interval '1 second'
FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS s(i)
"""

META_SQL = """
INSERT INTO api_case_meta (case_id, api_key_id, service_code, lat, long, address_string, media_url, contact, attributes)
SELECT id, :key_id, 'fq60b6614a', 29.7 + (id % 100) / 1000.0, 120.2 + (id % 100) / 1000.0, '诸暨市枫桥镇', NULL,
       '{}', '{}'
FROM cases WHERE id % 10 = 0 AND id BETWEEN CAST(:lo AS integer) AND CAST(:hi AS integer)
"""


def _paths() -> list[tuple[str, str, str]]:
    services = list(catalogue().values())
    return [services[i * 25].path for i in range(20)]


def _load(url: str, n: int, key_id: int, batch: int = 200_000) -> float:
    paths = _paths()
    arrays = {f"l{k + 1}": "{" + ",".join(p[k] for p in paths) + "}" for k in range(3)}
    engine = make_engine(url)
    t0 = time.perf_counter()
    try:
        for lo in range(1, n + 1, batch):
            hi = min(lo + batch - 1, n)
            with engine.begin() as conn:
                conn.execute(text(CASES_SQL), {"lo": lo, "hi": hi, "n": n, "step": 700 * 86400 / n, **arrays})
        with engine.begin() as conn:
            conn.execute(text(META_SQL), {"lo": 1, "hi": n + 1, "key_id": key_id})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE cases"))
            conn.execute(text("VACUUM ANALYZE api_case_meta"))
    finally:
        engine.dispose()
    return time.perf_counter() - t0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


REFERENCE_SQL = "SELECT * FROM cases WHERE created_at >= now() - interval '90 days' ORDER BY created_at DESC, id DESC LIMIT 1000"


async def _measure(url: str, keys: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    """Each API call is followed by the plain reference query (psycopg, one connection, the same
    1,000 newest rows of the window, every column, no processing): both series share the machine's
    load, and the ratio of their p95 is reported with them."""
    import psycopg

    app = web.Application()
    app.add_subapp(PREFIX, build(url, "stricter", sender=False))
    code = catalogue()[next(iter(catalogue()))].code
    queries = {
        "default (last 90 days)": {"api_key": keys["reader"]},
        "no key": {},
        "status=open": {"api_key": keys["reader"], "status": "open"},
        f"service_code={code}": {"api_key": keys["reader"], "service_code": code},
        "geo+personal key (audited)": {"api_key": keys["full"]},
    }
    out: dict[str, dict[str, float]] = {}
    plain = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    async with TestClient(TestServer(app)) as client:
        for name, params in queries.items():
            times, cpu, ref = [], [], []
            for i in range(runs + 3):
                t0, c0 = time.perf_counter(), time.process_time()
                resp = await client.get(f"{PREFIX}/requests.json", params=params)
                body = await resp.read()
                elapsed, used = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
                assert resp.status == 200, body[:200]
                count = len(json.loads(body))
                t1 = time.perf_counter()
                assert len(plain.execute(REFERENCE_SQL).fetchall()) == 1000
                reference = (time.perf_counter() - t1) * 1000
                if i >= 3:  # the first calls warm the pool and the caches
                    times.append(elapsed)
                    cpu.append(used)
                    ref.append(reference)
            # CPU time of this process (server and test client, all threads): what the request
            # costs, whatever else the shared machine runs; the database server's time is not in it.
            p95, ref95 = _pct(times, 0.95), _pct(ref, 0.95)
            out[name] = {"results": count, "bytes": len(body), "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(p95, 1), "max_ms": round(max(times), 1),
                         "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": round(_pct(cpu, 0.95), 1),
                         "plain_query_p50_ms": round(statistics.median(ref), 1), "plain_query_p95_ms": round(ref95, 1),
                         "p95_vs_plain_query": round(p95 / ref95, 2) if ref95 else None}
    plain.close()
    out["in-process breakdown, default query"] = _breakdown(url, runs)
    return out


def _breakdown(url: str, runs: int) -> dict[str, float]:
    """Time the query + records and the JSON encoding without HTTP (p50 of `runs`)."""
    from routing.open311.requests import Open311

    engine = make_engine(url)
    api = Open311(make_session_factory(engine), None)  # type: ignore[arg-type]
    search, encode = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        found = api.search(None)
        t1 = time.perf_counter()
        orjson.dumps(found)  # as gateway/open311/render.py
        t2 = time.perf_counter()
        search.append((t1 - t0) * 1000)
        encode.append((t2 - t1) * 1000)
    engine.dispose()
    return {"query_and_records_p50_ms": round(statistics.median(search), 1),
            "json_p50_ms": round(statistics.median(encode), 1)}


def main() -> None:
    """Create, load, measure, drop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (prints its name)")
    parser.add_argument("--database", help="measure a database kept by --keep instead of loading one")
    args = parser.parse_args()
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = args.database or f"fq_bench_{uuid.uuid4().hex[:8]}"
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    if not args.database:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions.begin() as s:
            tag = uuid.uuid4().hex[:6]
            keys = {"reader": create_key(s, f"reader-{tag}", ["read"], 100_000),
                    "full": create_key(s, f"full-{tag}", ["read", "geo", "personal"], 100_000)}
            key_id = s.execute(text("SELECT id FROM api_keys WHERE name = :n"), {"n": f"reader-{tag}"}).scalar_one()
            cases = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
        engine.dispose()
        load_s = 0.0 if args.database else _load(url, args.cases, key_id)
        figures = asyncio.run(_measure(url, keys, args.runs))
        print(json.dumps({"database": name, "cases": cases or args.cases, "load_s": round(load_s, 1),
                          "runs": args.runs, "load_avg": os.getloadavg()[0], "queries": figures},
                         ensure_ascii=False, indent=2))
    finally:
        if not (args.keep or args.database):
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                             {"n": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
