"""Web chat under load: the gateway's turn against a bare Rasa REST turn, then many conversations.

Starts its own Rasa, action server and gateway (SQLite case database in a temporary folder)
and measures, in the same run:

1. turn latency, sequentially and interleaved: a bare REST turn posted to Rasa vs the same
   message through the web chat (WebSocket → durable inbox → worker → Rasa → outbox → socket);
2. N concurrent web conversations (default 200), each sending a few messages one after the
   other: turns per second and p50 / p95 / p99 turn latency — and, as a baseline, the same
   load posted straight to Rasa.

Usage: .venv/bin/python bench/chat_load.py [--turns 60] [--conversations 200] [--per-conversation 2]
Results are printed and written to bench/results/chat_load.json.
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
from routing.persistence.db import REPO_ROOT  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402

MESSAGES = ["你好", "/consent"]


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of values, in milliseconds."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


async def rasa_turn(http: aiohttp.ClientSession, rasa_url: str, sender: str, text: str) -> float:
    start = time.perf_counter()
    async with http.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
        assert r.status == 200, r.status
        replies = await r.json()
        assert replies, "Rasa gave no reply"
    return time.perf_counter() - start


class Page:
    """A web chat client: one socket, turns timed from send to the first reply."""

    def __init__(self, http: aiohttp.ClientSession, web_url: str) -> None:
        self.http = http
        self.web_url = web_url
        self.conversation = uuid.uuid4().hex[:16]
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.count = 0

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(f"{self.web_url}/ws?conversation={self.conversation}")

    async def turn(self, text: str) -> float:
        assert self.ws is not None
        self.count += 1
        client_id = f"b{self.count}"
        start = time.perf_counter()
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        while True:
            msg = await self.ws.receive(timeout=300)
            data = json.loads(msg.data)
            if data["type"] == "bot" and data["reply_to"] == client_id and data.get("kind") == "reply":
                return time.perf_counter() - start
            if data["type"] == "error":
                raise RuntimeError(data["text"])


async def compare(rasa_url: str, web_url: str, turns: int) -> dict[str, float]:
    """Interleave bare Rasa turns and web chat turns of the same messages."""
    bare: list[float] = []
    web: list[float] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(3):  # warm-up both paths
            await rasa_turn(http, rasa_url, f"warm-{uuid.uuid4().hex[:8]}", "你好")
            page = Page(http, web_url)
            await page.open()
            await page.turn("你好")
            await page.ws.close()
        for i in range(turns):
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            page = Page(http, web_url)
            await page.open()
            for text in MESSAGES:
                if i % 2:
                    bare.append(await rasa_turn(http, rasa_url, sender, text))
                    web.append(await page.turn(text))
                else:
                    web.append(await page.turn(text))
                    bare.append(await rasa_turn(http, rasa_url, sender, text))
            await page.ws.close()
    return {
        "turns_each": len(bare),
        "bare_p50_ms": percentile(bare, 50), "bare_p95_ms": percentile(bare, 95),
        "web_p50_ms": percentile(web, 50), "web_p95_ms": percentile(web, 95),
        "web_over_bare_p95": percentile(web, 95) / percentile(bare, 95) - 1,
        "bare_mean_ms": statistics.mean(bare) * 1000, "web_mean_ms": statistics.mean(web) * 1000,
    }


async def load(web_url: str, conversations: int, per_conversation: int) -> dict[str, float]:
    """Run many conversations at once; each sends its messages one after the other."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        pages = [Page(http, web_url) for _ in range(conversations)]
        await asyncio.gather(*(p.open() for p in pages))

        async def talk(page: Page) -> None:
            for text in (MESSAGES * per_conversation)[:per_conversation]:
                latencies.append(await page.turn(text))

        start = time.perf_counter()
        await asyncio.gather(*(talk(p) for p in pages))
        wall = time.perf_counter() - start
        await asyncio.gather(*(p.ws.close() for p in pages))
    return {
        "conversations": conversations, "turns": len(latencies), "wall_s": wall,
        "turns_per_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


async def bare_load(rasa_url: str, conversations: int, per_conversation: int) -> dict[str, float]:
    """The same load posted straight to Rasa's REST channel (the baseline)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def talk() -> None:
            sender = f"bare-{uuid.uuid4().hex[:12]}"
            for text in (MESSAGES * per_conversation)[:per_conversation]:
                latencies.append(await rasa_turn(http, rasa_url, sender, text))

        start = time.perf_counter()
        await asyncio.gather(*(talk() for _ in range(conversations)))
        wall = time.perf_counter() - start
    return {
        "conversations": conversations, "turns": len(latencies), "wall_s": wall,
        "turns_per_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60, help="conversations in the comparison (2 turns each)")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--per-conversation", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chat_load_"))
    url = f"sqlite:///{work / 'cases.db'}"
    upgrade(url)
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    logs = work / "logs"
    services = [
        action_service(action_port, logs, url),
        rasa_service(rasa_port, action_port, logs, work / "tracker.db"),
        web_service(web_port, rasa_port, logs, url, action_port),
    ]
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(300)
        rasa_url, web_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{web_port}"
        print("comparing web chat and bare Rasa turns …", flush=True)
        result = {"compare": asyncio.run(compare(rasa_url, web_url, args.turns))}
        print(json.dumps(result["compare"], indent=2), flush=True)
        print(f"{args.conversations} concurrent conversations …", flush=True)
        result["load"] = asyncio.run(load(web_url, args.conversations, args.per_conversation))
        print(json.dumps(result["load"], indent=2), flush=True)
        print("the same load straight to Rasa (baseline) …", flush=True)
        result["bare_load"] = asyncio.run(bare_load(rasa_url, args.conversations, args.per_conversation))
        print(json.dumps(result["bare_load"], indent=2), flush=True)
    finally:
        for service in reversed(services):
            service.stop()
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chat_load.json").write_text(json.dumps(result, indent=2), "utf-8")
    print(f"logs in {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
