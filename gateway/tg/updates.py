"""Turn a Telegram update into an inbox message (or nothing, for updates we ignore).

Only private chats are served. Commands map to Rasa intents; inline-keyboard presses carry
an outbox reference (``o<row>:<index>``) because Rasa payloads may exceed Telegram's 64-byte
`callback_data`; voice, stickers and other media get a polite text; photos and documents are
case material (their `file_id` is recorded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from telegram import Message, Update

from gateway.inbox import Inbound
from routing.cases.numbers import find_case_numbers
from routing.understanding.text import clean, strip_invisible

MAX_TEXT = 2000
_CALLBACK = re.compile(r"^o(\d{1,12}):(\d{1,2})$")
COMMANDS = {
    "start": "/greet",
    "status": "/ask_status",
    "cases": "/ask_status",
    "human": "/request_human",
    "cancel": "/cancel",
}
ButtonLookup = Callable[[int, int], tuple[str, str] | None]


def conversation_of(chat_id: int) -> str:
    """Return the conversation (and Rasa sender) id of a Telegram chat."""
    return f"tg:{chat_id}"


def _command(message: Message) -> tuple[str, str] | None:
    text = message.text or ""
    for entity in message.entities or ():
        if entity.type == "bot_command" and entity.offset == 0:
            name = text[1:entity.length].split("@", 1)[0].lower()
            return name, text[entity.length:].strip()
    return None


def _command_text(name: str, args: str) -> str | None:
    if name not in COMMANDS:
        return None
    if name == "status":
        found = find_case_numbers(clean(args))
        if found:
            return "/ask_status" + json.dumps({"case_number": found[0]})
    return COMMANDS[name]


def to_inbound(update: Update, buttons: ButtonLookup) -> Inbound | None:
    """Return the inbox message for an update, or None when the update is ignored.

    Args:
        update: the parsed update.
        buttons: finds (title, payload) of button `index` of outbox row `row`.
    """
    key = f"update:{update.update_id}"
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return None
        chat_id = chat.id if chat is not None else query.from_user.id
        found = _CALLBACK.match(query.data or "")
        button = buttons(int(found.group(1)), int(found.group(2))) if found else None
        payload: dict[str, Any] = {"callback_query_id": query.id}
        if button is None:
            return Inbound("tg", key, conversation_of(chat_id), "", kind="unsupported", payload=payload)
        payload["title"] = button[0]
        return Inbound("tg", key, conversation_of(chat_id), button[1], kind="callback", payload=payload)
    message = update.message
    if message is None or message.chat.type != "private":
        return None  # edited messages, channel posts, groups, membership changes: ignored
    conversation = conversation_of(message.chat.id)
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width or 0) * (p.height or 0))
        return Inbound("tg", key, conversation, strip_invisible(message.caption or ""), kind="material",
                       payload={"type": "photo", "file_id": best.file_id, "file_unique_id": best.file_unique_id})
    if message.document is not None:
        doc = message.document
        return Inbound("tg", key, conversation, strip_invisible(message.caption or ""), kind="material",
                       payload={"type": "document", "file_id": doc.file_id, "file_unique_id": doc.file_unique_id,
                                "file_name": doc.file_name or "", "mime_type": doc.mime_type or ""})
    if message.text:
        command = _command(message)
        if command is not None:
            text = _command_text(*command)
            if text is None:
                return Inbound("tg", key, conversation, "", kind="unsupported", payload={"command": command[0]})
            return Inbound("tg", key, conversation, text, kind="command", payload={"command": command[0]})
        text = strip_invisible(message.text)
        if text:
            return Inbound("tg", key, conversation, text[:MAX_TEXT])
    return Inbound("tg", key, conversation, "", kind="unsupported")
