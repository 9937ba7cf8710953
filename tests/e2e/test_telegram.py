# ruff: noqa: F811  (pytest fixtures imported by name)
"""Telegram end to end: the real gateway process (python-telegram-bot 22) against the npm
`telegram-test-api` emulator, with the session's real Rasa and a real action server.

Polling mode carries the whole intake and status flow; webhook mode is checked for the
secret token, duplicate deliveries, bad bodies, group chats and unsupported messages.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from gateway.inbox import NOTICE_UNSUPPORTED
from tests.e2e.conftest import artifact_dir
from tests.e2e.messaging_support import (  # noqa: F401  (fixtures)
    CASE_NUMBER,
    NARRATIVE,
    InboxMessage,
    OutboxMessage,
    TelegramCitizen,
    button,
    emulator,
    messaging_env,
    texts,
)

pytestmark = pytest.mark.e2e


def _token() -> str:
    return f"{uuid.uuid4().int % 10**9}:TEST{uuid.uuid4().hex[:20]}"


def _file_case(citizen: TelegramCitizen) -> str:
    """Drive the intake until a case number is told; return it."""
    citizen.command("/start")
    greeting = citizen.replies()
    assert "个人信息" in texts(greeting), citizen.transcript
    citizen.press(button(greeting, "同意"))
    asked = citizen.replies()
    assert "发生了什么" in texts(asked), citizen.transcript
    citizen.send(NARRATIVE)
    replies = citizen.replies()
    for _ in range(6):
        said = texts(replies)
        if CASE_NUMBER.search(said):
            return CASE_NUMBER.search(said).group(0)
        if any("确认提交" in b["text"] for r in replies for b in r["buttons"]):
            citizen.press(button(replies, "确认提交"))
        elif "都不是" in json.dumps(replies, ensure_ascii=False):
            citizen.press(replies[-1]["buttons"][0])
        elif "电话" in said:
            citizen.send("我的手机是13906754321")
        else:
            raise AssertionError("\n".join(citizen.transcript))
        replies = citizen.replies()
    raise AssertionError("\n".join(citizen.transcript))


def test_intake_and_status_over_telegram_polling(messaging_env, emulator) -> None:
    token = _token()
    messaging_env.gateway(
        "tg-polling", TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=emulator.base_url,
        TELEGRAM_MODE="polling", TELEGRAM_CHAT_INTERVAL="0.3",
    )
    citizen = TelegramCitizen(emulator, token)
    try:
        number = _file_case(citizen)
        citizen.command(f"/status {number}")
        status = texts(citizen.replies())
        assert number in status and ("已分派" in status or "已受理" in status), status
        citizen.command("/cases")
        assert number in texts(citizen.replies())
        citizen.command("/human")
        assert "转接人工" in texts(citizen.replies())
        citizen.emulator.call("/sendMessage", {**citizen._message(""), "text": None, "sticker": {
            "file_id": "stk1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512,
            "is_animated": False, "is_video": False}})
        assert texts(citizen.replies()) == NOTICE_UNSUPPORTED
        citizen.emulator.call("/sendMessage", {**citizen._message(""), "text": None, "caption": "墙的照片", "photo": [
            {"file_id": "small-photo", "file_unique_id": "p1", "width": 90, "height": 90},
            {"file_id": "big-photo", "file_unique_id": "p2", "width": 1280, "height": 960}]})
        assert number in texts(citizen.replies())
    finally:
        (artifact_dir("telegram") / "polling_transcript.txt").write_text("\n".join(citizen.transcript), "utf-8")
    (case,) = messaging_env.cases(citizen.conversation_id)
    assert case.case_number == number and case.channel == "tg"
    assert case.contact_phone == "13906754321"
    assert case.human_requested
    material = [e for e in case.events if e.kind == "material_added"]
    assert len(material) == 1 and material[0].payload["file_id"] == "big-photo"
    # every turn went to Rasa once: one tracker user event per stored Telegram update
    inbox = messaging_env.count(InboxMessage, conversation_id=citizen.conversation_id, status="done")
    rasa_turns = messaging_env.rasa_user_turns(citizen.conversation_id)
    material_and_stickers = 2
    assert len(rasa_turns) == inbox - material_and_stickers, rasa_turns


def _post(url: str, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _update(update_id: int, chat_id: int, text: str, chat_type: str = "private") -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "测试"},
        "chat": {"id": chat_id, "type": chat_type}}}, ensure_ascii=False).encode()


def test_webhook_secret_duplicates_and_bad_bodies(messaging_env, emulator) -> None:
    token, secret = _token(), uuid.uuid4().hex
    _, port = messaging_env.gateway(
        "tg-webhook", TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=emulator.base_url,
        TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=secret, TELEGRAM_CHAT_INTERVAL="0.3",
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/telegram/webhook",
    )
    hook = f"http://127.0.0.1:{port}/telegram/webhook"
    # the emulator delivers to the webhook with the secret the gateway registered
    citizen = TelegramCitizen(emulator, token)
    citizen.command("/start")
    assert "个人信息" in texts(citizen.replies())

    chat = citizen.chat_id + 1
    update_id = 900_000 + chat % 1000
    body = _update(update_id, chat, "你好")
    assert _post(hook, body, "wrong-secret-0000") == 401
    assert _post(hook, body, None) == 401
    assert _post(hook, b"{not json", secret) == 400
    assert _post(hook, json.dumps({"update_id": "x"}).encode(), secret) == 400
    assert messaging_env.count(InboxMessage, conversation_id=f"tg:{chat}") == 0
    assert _post(hook, body, secret) == 200
    assert _post(hook, body, secret) == 200  # Telegram's retry of the same update
    deadline = time.monotonic() + 60
    while messaging_env.count(InboxMessage, conversation_id=f"tg:{chat}", status="done") < 1:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.5)
    assert messaging_env.count(InboxMessage, conversation_id=f"tg:{chat}") == 1
    assert messaging_env.rasa_user_turns(f"tg:{chat}") == ["你好"]
    replies = messaging_env.count(OutboxMessage, conversation_id=f"tg:{chat}")
    assert replies >= 1
    # a group chat is ignored (200, nothing stored); an unknown update type too
    assert _post(hook, _update(update_id + 1, -100123, "大家好", "group"), secret) == 200
    assert _post(hook, json.dumps({"update_id": update_id + 2, "poll": {"id": "1"}}).encode(), secret) == 200
    assert messaging_env.count(InboxMessage, conversation_id="tg:-100123") == 0
    assert messaging_env.count(OutboxMessage, conversation_id=f"tg:{chat}") == replies
