"""Scaling bench: the same web-chat load against 1 and against 2 Rasa processes, side by side.

Starts, once, two action servers and two Rasa processes on Rasa's documented scale-out
(`deploy/endpoints.production.yml`: PostgreSQL tracker store, Redis lock store), then runs
rounds alternating a gateway that knows one Rasa process and a gateway that knows both
(RASA_URLS), so both configurations see the same machine load. Per configuration: turns per
second, p50/p95/p99 turn latency (send → reply on the socket), and CPU seconds per turn of
the Rasa and action processes (from /proc), which tells whether the cores are the limit.

At most two Rasa processes run (≈1.3 GB each). Needs the trained model, PostgreSQL
(TEST_PG_ADMIN_URL) and Redis (REDIS_URL, default redis://127.0.0.1:6379/7).

Usage: .venv/bin/python bench/cluster/scaling.py [--conversations 50] [--per-conversation 4] [--rounds 2]
Results: bench/results/cluster_scaling.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.chat_load import load  # noqa: E402
from fengqiao.cluster import Layout, ensure_tracker_database, production_env, tracker_fallbacks  # noqa: E402
from fengqiao.migrate import upgrade  # noqa: E402
from fengqiao.processes import MODEL, Service, action_service, rasa_service, web_service  # noqa: E402
from routing.persistence.db import REPO_ROOT  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(services: list[Service]) -> float:
    """Return the user+system CPU seconds of the services' processes (children included)."""
    total = 0
    for service in services:
        if service.process is None:
            continue
        for pid in _group(service.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / TICKS


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _database() -> tuple[str, str]:
    name = f"fq_scalebench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop(*names: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def run_config(rasa_count: int, layout: Layout | _Ports, logs: Path, url: str, backends: list[Service],
               conversations: int, per_conversation: int) -> dict[str, float]:
    """Run the load through a fresh gateway that knows the first `rasa_count` Rasa processes."""
    port = free_port()
    urls = layout.rasa_urls()[:rasa_count]
    health = [f"http://127.0.0.1:{layout.action_of(i)}/health" for i in range(rasa_count)]
    gateway = web_service(port, layout.rasa_port, logs, url, None, RASA_URLS=",".join(urls),
                          ACTION_HEALTH_URLS=",".join(health), FENGQIAO_PROCESS_NAME=f"gateway-{rasa_count}rasa")
    gateway.start()
    try:
        gateway.wait_ready(300)
        asyncio.run(load(f"http://127.0.0.1:{port}", 4, 2))  # warm-up
        used = backends[: rasa_count] + backends[2: 2 + rasa_count]
        before = cpu_seconds(used)
        result = asyncio.run(load(f"http://127.0.0.1:{port}", conversations, per_conversation))
        result["cpu_s_per_turn"] = (cpu_seconds(used) - before) / result["turns"]
        result["rasa_processes"] = rasa_count
        return result
    finally:
        gateway.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--per-conversation", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not MODEL.exists():
        print("no trained model (make train)", file=sys.stderr)
        return 2
    name, url = _database()
    upgrade(url)
    work = Path(tempfile.mkdtemp(prefix="cluster_scaling_"))
    logs = work / "logs"
    rasa_ports, action_ports = [free_port(), free_port()], [free_port(), free_port()]
    env = production_env(url, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"))
    ensure_tracker_database(env)
    actions = [action_service(p, logs, url, name=f"actions-{i + 1}") for i, p in enumerate(action_ports)]
    rasas = [rasa_service(p, action_ports[i], logs, None, name=f"rasa-{i + 1}", production=env)
             for i, p in enumerate(rasa_ports)]
    layout = _Ports(rasa_ports, action_ports)
    services = actions + rasas
    results: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(1200)
        for round_ in range(args.rounds):
            for count in ((1, 2) if round_ % 2 == 0 else (2, 1)):
                print(f"round {round_ + 1}: {count} Rasa process(es) …", flush=True)
                got = run_config(count, layout, logs, url, rasas + actions, args.conversations,
                                 args.per_conversation)
                print(json.dumps(got), flush=True)
                results[str(count)].append(got)
    finally:
        for service in reversed(services):
            service.stop()
        _drop(name, env["RASA_TRACKER_PG_DB"])
    summary: dict[str, Any] = {k: {m: statistics.median(r[m] for r in v) for m in v[0]}
                               for k, v in results.items() if v}
    summary["tracker_fallbacks"] = tracker_fallbacks(rasas)  # must be 0: else Rasa ran in memory
    summary["ratio_turns_per_s"] = summary["2"]["turns_per_s"] / summary["1"]["turns_per_s"]
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster_scaling.json").write_text(json.dumps({"rounds": results, "median": summary}, indent=2))
    print(json.dumps(summary, indent=2))
    print(f"logs in {logs}")
    return 0


class _Ports:
    """The bench's ports (free ports are not consecutive, unlike `Layout`'s)."""

    def __init__(self, rasa_ports: list[int], action_ports: list[int]) -> None:
        self.rasa_ports, self.action_ports = rasa_ports, action_ports
        self.rasa_port = rasa_ports[0]

    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    def action_of(self, rasa_index: int) -> int:
        return self.action_ports[rasa_index]


if __name__ == "__main__":
    raise SystemExit(main())
