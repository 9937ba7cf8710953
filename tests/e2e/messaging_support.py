"""Fixtures and clients for the messaging end-to-end tests (Telegram emulator, web chat, faults).

The session's single Rasa (`rasa_server`) is reused; each module gets a fresh SQLite case
database with its own action server, and gateways are started per test as needed (~2 s).
Import the fixtures by name into a test module to use them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from fengqiao.migrate import upgrade
from fengqiao.processes import Service, action_service, web_service
from routing.persistence.case_tables import Case
from routing.persistence.db import REPO_ROOT, make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage
from tests.e2e.conftest import ARTIFACTS, free_port

EMULATOR_DIR = REPO_ROOT / "tests" / "e2e" / "emulator"
CASE_NUMBER = re.compile(r"FQ-\d{4}-\d{6}")
NARRATIVE = (
    "我家在诸暨市枫桥镇枫源村，后院的排水沟被隔壁新建的车库堵死了，"
    "一下雨院子就积水，找他商量了两回都不肯改。希望他把排水沟恢复原样。"
)


@dataclass
class MessagingEnv:
    """A case database with its action server, and the ports the gateways need."""

    database_url: str
    rasa_port: int
    action_port: int
    actions: Service
    rasa: Service
    logs: Path
    gateways: list[Service] = field(default_factory=list)

    def gateway(self, name: str, **env: str) -> tuple[Service, int]:
        """Start a gateway process (web chat, and Telegram when a token is given).

        One gateway per case database, as in production: the ones started before are stopped.
        """
        for running in self.gateways:
            running.stop()
        port = free_port()
        env = {name: value.replace("{port}", str(port)) for name, value in env.items()}
        env.setdefault("INBOX_RETRY_CAP", "2")
        service = web_service(port, self.rasa_port, self.logs / name, self.database_url, self.action_port, **env)
        service.start()
        service.wait_ready(60)
        self.gateways.append(service)
        return service, port

    def count(self, model: Any, **where: Any) -> int:
        """Count rows of a messaging table."""
        engine = make_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                query = select(func.count()).select_from(model)
                for name, value in where.items():
                    query = query.where(getattr(model, name) == value)
                return int(session.execute(query).scalar() or 0)
        finally:
            engine.dispose()

    def cases(self, conversation_id: str) -> list[Case]:
        """Return the cases filed from one conversation."""
        engine = make_engine(self.database_url)
        try:
            with make_session_factory(engine)() as session:
                return list(session.execute(
                    select(Case).where(Case.conversation_id == conversation_id).options(selectinload(Case.events))
                ).scalars())
        finally:
            engine.dispose()

    def rasa_user_turns(self, sender: str) -> list[str]:
        """Return the user messages Rasa's tracker store recorded for a sender, in order."""
        path = self.rasa.env["RASA_TRACKER_DB"]
        with sqlite3.connect(path) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(r[0]).get("text") for r in rows]


@pytest.fixture(scope="module")
def messaging_env(rasa_server, ports, tmp_path_factory, request) -> Iterator[MessagingEnv]:
    """A fresh SQLite case database and an action server, for this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('msg') / 'cases.db'}"
    upgrade(url)
    logs = ARTIFACTS / "logs" / request.module.__name__.rsplit(".", 1)[-1]
    actions = action_service(ports["actions"], logs, url)
    actions.start()
    actions.wait_ready(90)
    env = MessagingEnv(url, ports["rasa"], ports["actions"], actions, rasa_server, logs)
    try:
        yield env
    finally:
        for gateway in env.gateways:
            gateway.stop()
        actions.stop()


@dataclass
class Emulator:
    """The telegram-test-api emulator (patched launcher) on a loopback port."""

    port: int
    process: subprocess.Popen

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, path: str, body: dict[str, Any]) -> Any:
        """POST to the emulator's own API and return `result`."""
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read()).get("result")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """Start the Bot API emulator (node) for this module."""
    assert (EMULATOR_DIR / "node_modules" / "telegram-test-api").exists(), "run `make setup` (npm install)"
    port = free_port()
    log = open(ARTIFACTS / "logs" / f"emulator-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(["node", "launch.js", str(port)], cwd=EMULATOR_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/botX/getMe", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield Emulator(port, process)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


class TelegramCitizen:
    """A person in a private chat with the bot, driven through the emulator's client API."""

    def __init__(self, emulator: Emulator, token: str, chat_id: int | None = None) -> None:
        self.emulator = emulator
        self.token = token
        self.chat_id = chat_id or int(uuid.uuid4().int % 10**9) + 10**9
        self.user = {"id": self.chat_id, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"}
        self.chat = {"id": self.chat_id, "type": "private", "first_name": "测试"}
        self.transcript: list[str] = []

    @property
    def conversation_id(self) -> str:
        return f"tg:{self.chat_id}"

    def _message(self, text: str) -> dict[str, Any]:
        return {"botToken": self.token, "from": self.user, "chat": self.chat, "date": int(time.time()), "text": text}

    def send(self, text: str) -> None:
        """Type a text message."""
        self.transcript.append(f"群众：{text}")
        self.emulator.call("/sendMessage", self._message(text))

    def command(self, text: str) -> None:
        """Send a bot command such as `/start` (a bot_command entity, as Telegram apps do)."""
        self.transcript.append(f"群众：{text}")
        body = self._message(text)
        body["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        self.emulator.call("/sendCommand", body)

    def press(self, button: dict[str, str], message_id: int = 1) -> None:
        """Press an inline-keyboard button."""
        self.transcript.append(f"群众：[{button['text']}]")
        self.emulator.call("/sendCallback", {
            "botToken": self.token, "from": self.user, "chat_instance": str(self.chat_id),
            "data": button["callback_data"],
            "message": {"message_id": message_id, "date": int(time.time()), "chat": self.chat},
        })

    def replies(self, timeout: float = 60, quiet: float = 2.5) -> list[dict[str, Any]]:
        """Collect the bot's messages until `quiet` seconds pass without a new one."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < deadline:
            batch = self.emulator.call("/getUpdates", {"token": self.token, "chatId": self.chat_id})
            if batch:
                for item in batch:
                    message = item["message"]
                    markup = message.get("reply_markup")
                    if isinstance(markup, str):
                        markup = json.loads(markup)
                    entry = {"text": message.get("text", ""), "buttons": [
                        b for row in (markup or {}).get("inline_keyboard", []) for b in row
                    ], "at": item["time"] / 1000}
                    got.append(entry)
                    self.transcript.append(f"助手：{entry['text']}")
                last = time.monotonic()
            elif got and time.monotonic() - last > quiet:
                break
            time.sleep(0.1)
        return got


def texts(replies: list[dict[str, Any]]) -> str:
    """Join reply texts."""
    return " ".join(r["text"] for r in replies)


def button(replies: list[dict[str, Any]], title_part: str) -> dict[str, str]:
    """Find a button by part of its title."""
    for reply in replies:
        for b in reply["buttons"]:
            if title_part in b["text"]:
                return b
    raise AssertionError(f"no button with {title_part!r} in {replies}")


class WebCitizen:
    """A web chat page's protocol, spoken over aiohttp."""

    def __init__(self, port: int, conversation: str | None = None) -> None:
        self.port = port
        self.conversation = conversation or uuid.uuid4().hex[:16]
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seen: dict[int, dict[str, Any]] = {}
        self.acks: list[str] = []

    async def connect(self, after: int | None = None) -> None:
        """Open the socket (after a reconnect, ask for everything after `after`)."""
        self.session = self.session or aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(f"http://127.0.0.1:{self.port}/ws?conversation={self.conversation}")
        if after is not None:
            await self.ws.send_json({"type": "hello", "after": after})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()

    async def send(self, client_id: str, text: str, wait_ack: bool = True) -> None:
        assert self.ws is not None
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        while wait_ack and client_id not in self.acks:
            await self.receive_one(10)

    async def receive_one(self, timeout: float) -> dict[str, Any] | None:
        assert self.ws is not None
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError("socket closed")
        data = json.loads(msg.data)
        if data["type"] == "ack":
            self.acks.append(data["id"])
        if data["type"] == "bot":
            self.seen[data["id"]] = data
        return data

    async def until(self, predicate, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
        """Receive until `predicate(self)` holds."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; seen {list(self.seen.values())}")
            try:
                await self.receive_one(left)
            except TimeoutError:
                continue
            except ConnectionError:  # dropped: reconnect as the page does, asking for what it missed
                await self.connect(after=max(self.seen, default=0))

    def replies_to(self, client_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for _, m in sorted(self.seen.items()) if m["reply_to"] == client_id and (kind is None or m["kind"] == kind)]

    async def say(self, client_id: str, text: str, timeout: float = 60) -> str:
        """Send and wait for the bot's answer (kind reply), returning its text."""
        await self.send(client_id, text)
        await self.until(lambda c: c.replies_to(client_id, "reply"), timeout)
        await self._settle(1.0)
        return " ".join(m["text"] for m in self.replies_to(client_id, "reply"))

    async def _settle(self, quiet: float) -> None:
        while True:
            try:
                await self.receive_one(quiet)
            except TimeoutError:
                return


__all__ = [
    "CASE_NUMBER", "NARRATIVE", "Emulator", "InboxMessage", "MessagingEnv", "OutboxMessage",
    "TelegramCitizen", "WebCitizen", "button", "emulator", "messaging_env", "texts",
]
