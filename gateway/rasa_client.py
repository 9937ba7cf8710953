"""One REST turn against Rasa: send a citizen's message, get the bot's replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

TURN_TIMEOUT = ClientTimeout(total=60)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer the turn (down, restarting or erroring)."""


@dataclass(frozen=True)
class BotReply:
    """One bot message: text and optional buttons."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form sent to clients."""
        return {"text": self.text, "buttons": self.buttons}


def _parse(items: list[dict[str, Any]]) -> list[BotReply]:
    replies = []
    for item in items:
        text = str(item.get("text") or "")
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
        ]
        if text or buttons:
            replies.append(BotReply(text, buttons))
    return replies


async def send_turn(
    http: ClientSession, rasa_url: str, sender: str, text: str, metadata: dict[str, Any] | None = None
) -> list[BotReply]:
    """Send one message to Rasa's REST channel and return its replies.

    Args:
        http: a shared client session.
        rasa_url: base URL of the Rasa server.
        sender: conversation id (``web:<uuid>``, ``tg:<chat id>``).
        text: the message as the citizen wrote it (Rasa normalises it for NLU).
        metadata: passed through to the tracker.

    Raises:
        RasaUnavailable: Rasa is down or answered with an error.
    """
    body = {"sender": sender, "message": text, "metadata": metadata or {}}
    try:
        async with http.post(
            f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=TURN_TIMEOUT
        ) as response:
            if response.status != 200:
                raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
            return _parse(await response.json())
    except (TimeoutError, ClientError, ValueError) as exc:
        raise RasaUnavailable(type(exc).__name__) from exc
