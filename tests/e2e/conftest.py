"""Real processes for end-to-end tests: one Rasa server per test session, and an action
server + web app per database (SQLite file, then the machine's PostgreSQL)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fengqiao.migrate import upgrade
from fengqiao.processes import MODEL, Service, action_service, rasa_service, web_service
from routing.persistence.db import REPO_ROOT

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """The running processes of one end-to-end setup."""

    rasa_port: int
    action_port: int
    web_port: int
    database_url: str
    actions: Service
    web: Service

    @property
    def ws_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    """Ports fixed for the session (Rasa knows the action port from its start)."""
    return {"rasa": free_port(), "actions": free_port()}


@pytest.fixture(scope="session")
def rasa_server(ports, tmp_path_factory) -> Iterator[Service]:
    """Start the real Rasa server once for the whole session (~35 s)."""
    assert MODEL.exists(), "no trained model: run `make test` (it trains one)"
    logs = ARTIFACTS / "logs"
    tracker = tmp_path_factory.mktemp("rasa") / "tracker.db"
    service = rasa_service(ports["rasa"], ports["actions"], logs, tracker)
    service.start()
    try:
        service.wait_ready(480)
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, rasa_server, ports, tmp_path_factory) -> Iterator[Stack]:
    """Action server and web app on a fresh database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'cases.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        from sqlalchemy import text

        from routing.persistence.db import make_engine

        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    logs = ARTIFACTS / "logs" / request.param
    web_port = free_port()
    actions = action_service(ports["actions"], logs, url)
    web = web_service(web_port, ports["rasa"], logs, url)
    for service in (actions, web):
        service.start()
    try:
        for service in (actions, web):
            service.wait_ready(90)
        yield Stack(ports["rasa"], ports["actions"], web_port, url, actions, web)
    finally:
        web.stop()
        actions.stop()


@pytest.fixture
def conversation_id() -> str:
    """A fresh web conversation id."""
    return uuid.uuid4().hex[:16]


def artifact_dir(name: str) -> Path:
    """Return (and create) a folder for a test's artefacts."""
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path
