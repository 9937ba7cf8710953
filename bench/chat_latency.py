"""Web-chat turn latency against a bare Rasa REST turn, measured side by side in one run.

Starts the real processes (Rasa, action server, web app) on a scratch SQLite database, then
alternates: one turn over the web chat WebSocket, one bare POST to Rasa's REST webhook, with
the same kind of message, so both see the same machine load. Also reports Rasa's start time.

    .venv/bin/python bench/chat_latency.py [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fengqiao.migrate import upgrade  # noqa: E402
from fengqiao.processes import action_service, rasa_service, web_service  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402

MESSAGES = ["你好", "你们能处理什么事情", "你是机器人吗", "谢谢", "今天天气怎么样"]


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of `values` in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def web_turn(ws: aiohttp.ClientWebSocketResponse, n: int, text: str) -> float:
    start = time.perf_counter()
    await ws.send_json({"type": "message", "id": f"b{n}", "text": text})
    while True:
        data = json.loads((await ws.receive(timeout=60)).data)
        if data["type"] == "bot" and data["reply_to"] == f"b{n}":
            break
    elapsed = time.perf_counter() - start
    # drain any further replies of the same turn
    try:
        while True:
            await ws.receive(timeout=0.05)
    except TimeoutError:
        pass
    return elapsed


async def rest_turn(http: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    start = time.perf_counter()
    async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
        await r.json()
    return time.perf_counter() - start


async def measure(rasa_port: int, web_port: int, turns: int) -> dict[str, list[float]]:
    web_times, rest_times = [], []
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"http://127.0.0.1:{web_port}/ws?conversation={uuid.uuid4().hex[:16]}")
        rest_sender = f"bench:{uuid.uuid4().hex[:12]}"
        for n in range(turns):
            text = MESSAGES[n % len(MESSAGES)]
            web_times.append(await web_turn(ws, n, text))
            rest_times.append(await rest_turn(http, f"http://127.0.0.1:{rasa_port}", rest_sender, text))
        await ws.close()
    return {"web": web_times[5:], "rest": rest_times[5:]}  # first turns warm caches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fq-bench-"))
    url = f"sqlite:///{work / 'cases.db'}"
    upgrade(url)
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    services = [
        action_service(action_port, work, url),
        rasa_service(rasa_port, action_port, work, work / "tracker.db"),
        web_service(web_port, rasa_port, work, url),
    ]
    try:
        for s in services:
            s.start()
        started = time.perf_counter()
        services[1].wait_ready(300)
        rasa_start = time.perf_counter() - started
        for s in services:
            s.wait_ready(120)
        times = asyncio.run(measure(rasa_port, web_port, args.turns))
    finally:
        for s in reversed(services):
            s.stop()
    web, rest = times["web"], times["rest"]
    result = {
        "rasa_start_s": round(rasa_start, 1),
        "turns": len(web),
        "web_p50_ms": round(pct(web, 0.5), 1),
        "web_p95_ms": round(pct(web, 0.95), 1),
        "rest_p50_ms": round(pct(rest, 0.5), 1),
        "rest_p95_ms": round(pct(rest, 0.95), 1),
        "p50_ratio": round(statistics.median(web) / statistics.median(rest), 3),
        "p95_ratio": round(pct(web, 0.95) / pct(rest, 0.95), 3),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
