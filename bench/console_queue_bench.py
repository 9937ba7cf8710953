"""Queue page render time of a mediator with 10,000 cases in their region, on PostgreSQL.

Creates a throw-away database on the local PostgreSQL (dropped afterwards), migrates it,
bulk-inserts 10,000 cases across 枫桥镇 (2,000 assigned to the mediator, 5,000 unassigned,
3,000 with colleagues), signs in through the login form and times full HTTP round trips of the
queue page (query + Jinja2 render) through the real aiohttp app.

    .venv/bin/python bench/console_queue_bench.py [--requests 200] [--admin-url URL]

Target (issue 5): p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from fengqiao.migrate import upgrade  # noqa: E402
from fengqiao.settings import Settings  # noqa: E402
from gateway.console.accounts.access import covered_codes  # noqa: E402
from gateway.console.accounts.store import create_user  # noqa: E402
from routing.persistence.case_tables import Case  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402

PASSWORD = "bench-password-123"
REGION = "330681104000"  # 枫桥镇
CATEGORIES = ["城乡建设", "劳动和社会保障", "国土资源", "环境保护", "农村农业", "民政"]
STATUSES = ["accepted", "assigned", "handling", "mediating"]
RISKS = ["blue"] * 6 + ["yellow"] * 2 + ["orange", "red"]


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        create_user(s, "bench.med", PASSWORD, "mediator", [REGION], display_name="压测调解员")
    codes = sorted(covered_codes([REGION]))
    rng = random.Random(7)
    today = date(2026, 4, 27)
    rows = []
    for i in range(n):
        if i < n * 0.2:
            person, name = "u:bench.med", "压测调解员"
        elif i < n * 0.7:
            person, name = None, None
        else:
            person, name = f"p-other-{i % 7}", "其他调解员"
        status = "accepted" if person is None else rng.choice(STATUSES[1:])
        rows.append({
            "case_number": f"FQ-2026-{i + 1:06d}", "idempotency_key": uuid.uuid4().hex, "status": status,
            "category": rng.choice(CATEGORIES), "subject": f"第{i}号：邻里之间因通道和排水发生纠纷，电话13800001234",
            "narrative_original": "压测案件正文" * 20, "narrative_normalised": "压测案件正文" * 20, "script": "simplified",
            "location_text": "浙江省绍兴市诸暨市枫桥镇", "location_code": rng.choice(codes), "county_code": "330681",
            "channel": "web", "channel_user_id": f"web:bench{i}", "conversation_id": f"web:bench{i}",
            "risk_level": rng.choice(RISKS), "human_requested": i % 50 == 0, "handling_body": "枫桥镇人民调解委员会",
            "assigned_person_id": person, "assigned_person_name": name, "confidential": False, "hidden_from": [],
            "tier": "镇（街道）", "due_date": today + timedelta(days=rng.randint(-10, 60)),
            "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC),
        })
    with engine.begin() as conn:
        for start in range(0, n, 2000):
            conn.execute(insert(Case), rows[start:start + 2000])
        conn.execute(text("ANALYZE cases"))
    engine.dispose()


async def measure(url: str, requests: int) -> dict[str, list[float]]:
    from aiohttp import ClientSession, CookieJar
    from aiohttp.test_utils import TestServer

    from gateway.app import init_app

    settings = Settings(database_url=url, rasa_url="http://127.0.0.1:9", rasa_token="", action_port=0,
                        web_host="127.0.0.1", web_port=0, deadline_rules="stricter", allowed_origins=(),
                        console_cookie_secure=False)
    server = TestServer(init_app(settings))
    await server.start_server()
    results: dict[str, list[float]] = {}
    try:
        async with ClientSession(base_url=str(server.make_url("/")), cookie_jar=CookieJar(unsafe=True)) as http:
            page = await http.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
            login = await http.post("/console/login", data={"csrf_token": token, "username": "bench.med",
                                                            "password": PASSWORD}, allow_redirects=False)
            assert login.status == 302, login.status
            for view in ("mine", "unassigned", "unassigned&risk=red", "unassigned&due=7d&page=3"):
                times = []
                for i in range(requests + 10):
                    t0 = time.perf_counter()
                    response = await http.get(f"/console/?view={view}")
                    body = await response.text()
                    elapsed = (time.perf_counter() - t0) * 1000
                    assert response.status == 200 and "FQ-2026-" in body
                    if i >= 10:  # warm-up
                        times.append(elapsed)
                results[view] = times
    finally:
        await server.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"fq_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{args.admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(url)
        t0 = time.perf_counter()
        seed(url, args.cases)
        print(f"seeded {args.cases} cases in {time.perf_counter() - t0:.1f} s")
        results = asyncio.run(measure(url, args.requests))
        worst = 0.0
        for view, times in results.items():
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            worst = max(worst, p95)
            print(f"queue view={view:<28} n={len(times)} p50={statistics.median(times):6.1f} ms "
                  f"p95={p95:6.1f} ms max={times[-1]:6.1f} ms")
        print(f"worst p95 {worst:.1f} ms (target <= 150 ms): {'OK' if worst <= 150 else 'OVER'}")
        return 0 if worst <= 150 else 1
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
