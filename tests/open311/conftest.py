"""Shared set-up of the data-sharing tests: a classifier, a migrated store, keys, the API app."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.orm import sessionmaker

from fengqiao.bootstrap import units_of_work
from fengqiao.migrate import upgrade
from gateway.open311 import PREFIX, build
from routing.cases.filing_policy import make_policy
from routing.cases.service import CaseService
from routing.open311.keys import create_key
from routing.persistence.db import make_engine, make_session_factory
from routing.understanding.classifier.model import ENV_MODEL_DIR, MODEL_FILE, default_model_dir

TODAY = date(2026, 4, 27)
NOISE = "隔壁工地每天晚上十点以后还在施工，噪音很大，影响休息，要求停止夜间施工"
FENGQIAO = "诸暨市枫桥镇"
SERVICE = "fq60b6614a"  # 城乡建设 / 安全生产 / 事故处理


@pytest.fixture(scope="session", autouse=True)
def classifier_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Use the shipped/active classifier; without one (a fresh checkout), train one for the session."""
    if (default_model_dir() / MODEL_FILE).exists():
        yield
        return
    from routing.understanding.classifier.train import train_model

    out = tmp_path_factory.mktemp("classifier") / "model"
    train_model(out, measure=False)
    old = os.environ.get(ENV_MODEL_DIR)
    os.environ[ENV_MODEL_DIR] = str(out)
    yield
    if old is None:
        os.environ.pop(ENV_MODEL_DIR, None)
    else:
        os.environ[ENV_MODEL_DIR] = old


@dataclass
class Api:
    """The API under test with its database and keys."""

    client: TestClient
    url: str
    sessions: sessionmaker
    service: CaseService
    keys: dict[str, str]

    def path(self, tail: str) -> str:
        """Return the full path of an API resource."""
        return f"{PREFIX}/{tail}"


def make_keys(sessions: sessionmaker) -> dict[str, str]:
    """Create the test keys: writer (read,write), full (all scopes), reader (read)."""
    with sessions.begin() as s:
        return {
            "writer": create_key(s, "writer", ["read", "write"], rate_limit=10_000),
            "full": create_key(s, "full", ["geo", "personal", "read", "write"], rate_limit=10_000),
            "reader": create_key(s, "reader", ["read"], rate_limit=10_000),
            "slow": create_key(s, "slow", ["read"], rate_limit=2),
        }


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The /open311/v2 sub-app (no webhook sender) on SQLite and on PostgreSQL."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    keys = make_keys(sessions)
    app = web.Application()
    app.add_subapp(PREFIX, build(database_url, "stricter", today=lambda: TODAY, sender=False))
    async with TestClient(TestServer(app)) as client:
        yield Api(client, database_url, sessions, CaseService(sessions, make_policy("stricter", sessions),
                                                               lambda: TODAY, uows=units_of_work(sessions)), keys)
    engine.dispose()


def form(key: str, **extra: str) -> dict[str, str]:
    """A valid filing form, changed by `extra`."""
    data = {"api_key": key, "service_code": SERVICE, "description": NOISE, "address_string": FENGQIAO}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def repo_root() -> Path:
    """The repository root."""
    return Path(__file__).resolve().parents[2]


@pytest.fixture
def live_api(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """The API on a real port, served from its own thread (schemathesis calls it with requests)."""
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    engine = make_engine(url)
    keys = make_keys(make_session_factory(engine))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    loop = asyncio.new_event_loop()
    started = threading.Event()
    app = web.Application()
    app.add_subapp(PREFIX, build(url, "stricter", today=lambda: TODAY, sender=False))
    runner = web.AppRunner(app)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{port}{PREFIX}", keys
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
    engine.dispose()
