"""Chaos with the real Rasa: full intakes on the cluster profile while one Rasa process, one
action server and one gateway are killed -9 and the database's connections are cut (issue 15).

Starts `fengqiao run --profile cluster`'s processes (2 action servers, 2 Rasa processes on a
PostgreSQL tracker store and a Redis lock store, 2 gateways, supervised: a killed process is
restarted) on a throw-away PostgreSQL database. N web conversations each run an intake (greeting,
consent, narrative, category if asked, phone, confirmation) through either gateway, moving to
the other one when their socket dies. Checked afterwards: every message answered and done;
each message in Rasa's tracker exactly once and in order (by its `message_key`); one case per
conversation that confirmed, each with its events and clocks.

Memory: two Rasa processes (≈1.3 GB each). Usage:
  .venv/bin/python bench/cluster/chaos_rasa.py [--conversations 40]
Results: bench/results/cluster_chaos_rasa.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fengqiao.cluster import (  # noqa: E402
    Layout,
    Supervisor,
    cluster_services,
    ensure_tracker_database,
    production_env,
    tracker_fallbacks,
)
from fengqiao.migrate import upgrade  # noqa: E402
from fengqiao.processes import MODEL, Service  # noqa: E402
from routing.persistence.db import REPO_ROOT  # noqa: E402
from tests.e2e.test_gateway_chaos import Citizen  # noqa: E402

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NARRATIVES = [
    "我家在诸暨市枫桥镇枫源村，后院的排水沟被隔壁新建的车库堵死了，一下雨院子就积水，找他商量了两回都不肯改。",
    "我在绍兴市越城区一家饭店打工三个月，老板一直拖着工资不发，一共欠我六千八百元，打电话也不接。",
    "我们小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音让整栋楼的人都睡不好觉，跟店主说了好几次都没用。",
]


def free_base(count: int) -> int:
    """Return a port p such that p … p+count-1 are free on loopback."""
    while True:
        base = random.randrange(20000, 60000)
        try:
            socks = []
            for port in range(base, base + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()


async def intake(citizen: Citizen, http: aiohttp.ClientSession, narrative: str) -> bool:
    """Run one intake; return whether it reached the confirmation (and confirmed)."""
    step = 0

    async def say(words: str) -> dict:
        nonlocal step
        step += 1
        key = f"s{step}"
        await citizen.turn(http, key, words)
        return [m for m in citizen.got.values() if m["reply_to"] == key and m["kind"] == "reply"][-1]

    await say("你好")
    await say("/consent")
    last = await say(narrative)
    if last.get("buttons") and "类" in last["text"]:
        last = await say(last["buttons"][0]["payload"])
    last = await say(f"我的手机是139{random.randrange(10**8):08d}")
    if "/affirm" not in json.dumps(last.get("buttons", []), ensure_ascii=False) and "确认" not in last["text"]:
        return False
    await say("/affirm")
    return True


def _kill(service: Service) -> None:
    if service.process is not None:
        os.killpg(service.process.pid, signal.SIGKILL)


async def run(layout: Layout, services: list[Service], conversations: int) -> dict:
    supervisor = Supervisor(services, restart_delay=1.0)
    await asyncio.to_thread(supervisor.start, 1500)
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            await asyncio.to_thread(supervisor.check)
            await asyncio.sleep(0.5)

    web_ports = [layout.web_port + i for i in range(layout.gateways)]
    citizens = [Citizen(f"rasachaos-{uuid.uuid4().hex[:12]}", web_ports, n % 2) for n in range(conversations)]
    confirmed: dict[str, bool] = {}
    faults: list[str] = []
    by_name = {s.name: s for s in services}

    async def chaos() -> None:
        await asyncio.sleep(20)
        _kill(by_name["rasa-1"])
        faults.append("kill -9 rasa-1")
        await asyncio.sleep(10)
        _kill(by_name["actions-2"])
        faults.append("kill -9 actions-2")
        await asyncio.sleep(10)
        _kill(by_name["gateway-1"])
        faults.append("kill -9 gateway-1")

    async def one(citizen: Citizen, http: aiohttp.ClientSession, n: int) -> None:
        await asyncio.sleep(random.uniform(0, 5))
        confirmed[citizen.conversation] = await intake(citizen, http, NARRATIVES[n % len(NARRATIVES)])

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(chaos(), *(one(c, http, n) for n, c in enumerate(citizens)))
    finally:
        stop.set()
        await watcher
        supervisor.stop()
    waits = sorted(w for c in citizens for w in c.waits)
    return {"citizens": citizens, "confirmed": confirmed, "faults": faults, "restarts": supervisor.restarts,
            "elapsed_s": time.monotonic() - started, "turn_s_p50": waits[len(waits) // 2],
            "turn_s_p95": waits[int(len(waits) * 0.95)]}


def check(case_url: str, tracker_url: str, outcome: dict) -> dict:
    """Check the stores; return the figures (raises AssertionError on a loss or a double)."""
    cases = create_engine(case_url)
    tracker = create_engine(tracker_url)
    with cases.connect() as conn:
        inbox: dict[str, int] = dict(conn.execute(text("SELECT status, count(*) FROM inbox_messages GROUP BY status")).all())
        filed = conn.execute(text(
            "SELECT c.conversation_id, count(DISTINCT c.id), count(DISTINCT e.id), count(DISTINCT k.id) "
            "FROM cases c LEFT JOIN case_events e ON e.case_id = c.id LEFT JOIN case_clocks k ON k.case_id = c.id "
            "GROUP BY c.conversation_id")).all()
    with tracker.connect() as conn:
        users = conn.execute(text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")).all()
    cases.dispose()
    tracker.dispose()
    assert set(inbox) == {"done"}, inbox
    keys: dict[str, list[str | None]] = {}
    for sender, data in users:
        key = (json.loads(data).get("metadata") or {}).get("message_key")
        keys.setdefault(sender, []).append(key)
    per_case = {row[0]: row[1:] for row in filed}
    for citizen in outcome["citizens"]:
        sender = f"web:{citizen.conversation}"
        sent = sorted({m["reply_to"] for m in citizen.got.values() if m["kind"] == "reply"},
                      key=lambda k: int(k[1:]))
        assert keys.get(sender) == [f"{sender}:{k}" for k in sent], (sender, keys.get(sender), sent)
        if outcome["confirmed"].get(citizen.conversation):
            count, events, clocks = per_case.get(sender, (0, 0, 0))
            assert count == 1 and events > 0 and clocks > 0, (sender, count, events, clocks)
    return {"messages": sum(inbox.values()), "cases": len(per_case),
            "confirmed": sum(outcome["confirmed"].values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    args = parser.parse_args()
    if not MODEL.exists():
        print("no trained model (make train)", file=sys.stderr)
        return 2
    name = f"fq_rasachaos_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    layout = Layout(2, 2, 2, free_base(2), free_base(2), free_base(2))
    logs = Path(tempfile.mkdtemp(prefix="cluster_chaos_")) / "logs"
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    services = cluster_services(layout, logs, url, redis, INBOX_RETRY_CAP="5", LEASE_TTL_SECONDS="10")
    env = production_env(url, redis)
    ensure_tracker_database(env)
    try:
        outcome = asyncio.run(run(layout, services, args.conversations))
        figures = check(url, PG_ADMIN.rsplit("/", 1)[0] + "/" + env["RASA_TRACKER_PG_DB"], outcome)
    finally:
        with admin.connect() as conn:
            for db in (name, env["RASA_TRACKER_PG_DB"]):
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                             {"n": db})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        admin.dispose()
    result = {**figures, "tracker_fallbacks": tracker_fallbacks(services), "faults": outcome["faults"], "restarts": outcome["restarts"],
              "elapsed_s": round(outcome["elapsed_s"], 1), "turn_s_p50": round(outcome["turn_s_p50"], 2),
              "turn_s_p95": round(outcome["turn_s_p95"], 2)}
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster_chaos_rasa.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"logs in {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
