"""The Telegram channel: receive (webhook or polling) into the inbox, send from the outbox.

Receiving never acknowledges before storing: the webhook answers 200 only after the update
is in the inbox (a database failure answers 503, so Telegram delivers it again), and polling
advances the offset only past stored updates. `update_id` is a unique key, so a repeated
delivery is one turn. Update bodies are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import warnings
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from fengqiao.settings import Settings
from gateway.inbox import Messaging
from gateway.outbox import DeliveryError, describe
from gateway.tg.updates import to_inbound
from routing.persistence.messaging_tables import OutboxMessage

log = logging.getLogger("fengqiao.telegram")
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"


def quiet_library_loggers() -> None:
    """Keep citizen data and the token out of logs.

    PTB logs whole update bodies at DEBUG; httpx logs request URLs (which contain the bot
    token) at INFO.
    """
    for name in ("telegram", "telegram.ext", "telegram.request"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Return `retry_after` in seconds whatever PTB's time-period setting."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """One bot: the PTB `Bot` for API calls, the inbox for what arrives."""

    def __init__(self, settings: Settings, messaging: Messaging, poll_timeout: int = 20) -> None:
        """Build the bot (no network until `start`)."""
        # Opt in to PTB's timedelta time periods (else PTB warns about `retry_after` itself).
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        base = settings.telegram_api_base_url
        self.settings = settings
        self.m = messaging
        self.poll_timeout = poll_timeout
        self.bot = Bot(
            settings.telegram_bot_token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(connection_pool_size=32),
            get_updates_request=HTTPXRequest(read_timeout=poll_timeout + 10),
        )
        self.poller: asyncio.Task[None] | None = None
        self.offset: int | None = None

    @property
    def webhook_mode(self) -> bool:
        """Tell whether updates arrive by webhook."""
        return self.settings.telegram_mode == "webhook"

    async def start(self, poll: bool = True) -> None:
        """Check the token (getMe), then register the webhook or start polling.

        Args:
            poll: in polling mode, start the poller here; False when the caller runs
                `poll_forever` itself (several gateways: only the elected one polls).
        """
        quiet_library_loggers()
        await self.bot.initialize()
        if self.webhook_mode:
            await self.bot.set_webhook(
                self.settings.telegram_webhook_url, secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("telegram on (webhook) as @%s", self.bot.username)
        else:
            await self.bot.delete_webhook()
            if poll:
                self.poller = asyncio.create_task(self.poll_forever())
            log.info("telegram on (polling) as @%s", self.bot.username)

    async def stop(self) -> None:
        """Stop polling and close the HTTP pools."""
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.bot.shutdown()

    # -- receiving ---------------------------------------------------------------------------

    def _button(self, row_id: int, index: int) -> tuple[str, str] | None:
        with self.m.sessions() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.channel != "tg" or index >= len(row.buttons or []):
                return None
            button = row.buttons[index]
            return button["title"], button["payload"]

    def _store(self, data: dict[str, Any]) -> tuple[str | None, bool]:
        """Parse and store one update (runs in a thread). Returns (conversation, created)."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception:  # a body PTB cannot parse: drop it, never log it
            log.warning("unparseable telegram update %s ignored", data.get("update_id"))
            return None, False
        message = to_inbound(update, self._button)
        if message is None:
            return None, False
        _, created = self.m.inbox.store(message)
        return message.conversation_id, created

    async def ingest(self, data: dict[str, Any]) -> bool:
        """Store an update, then let the worker run it. Returns whether it was new.

        Raises:
            Exception: the database failed; the caller must not acknowledge.
        """
        conversation_id, created = await asyncio.to_thread(self._store, data)
        query = data.get("callback_query")
        if isinstance(query, dict) and query.get("id"):
            with contextlib.suppress(TelegramError):
                await self.bot.answer_callback_query(str(query["id"]))
        if conversation_id and created and self.m.worker is not None:
            self.m.worker.kick(conversation_id)
        return created

    async def webhook(self, request: web.Request) -> web.Response:
        """Receive one update: constant-time secret check, store, then 200."""
        secret = request.headers.get(SECRET_HEADER, "")
        expected = self.settings.telegram_webhook_secret
        if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
            return web.Response(status=401, text="bad secret token")
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="malformed JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or isinstance(
            data.get("update_id"), bool
        ):
            return web.Response(status=400, text="not a Telegram update")
        try:
            await self.ingest(data)
        except Exception as exc:
            log.error("could not store telegram update %s: %s", data["update_id"], describe(exc))
            return web.Response(status=503, text="try again")  # Telegram retries non-2xx
        return web.Response(status=200)

    async def poll_once(self) -> int:
        """Fetch updates, store each, then advance the offset past the stored ones."""
        updates = await self.bot._post(  # raw dicts: an update PTB cannot parse must not stall us
            "getUpdates",
            {"offset": self.offset, "timeout": self.poll_timeout, "allowed_updates": ALLOWED_UPDATES},
            read_timeout=self.poll_timeout + 10,
        )
        count = 0
        for data in sorted(updates, key=lambda u: u.get("update_id", 0)):
            if not isinstance(data.get("update_id"), int):
                continue
            await self.ingest(data)  # raises on a database failure: the offset stays
            self.offset = data["update_id"] + 1
            count += 1
        return count

    async def poll_forever(self) -> None:
        """Poll until cancelled (retrying after network and database failures)."""
        while True:
            try:
                count = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except Exception as exc:
                log.warning("telegram polling failed: %s", type(exc).__name__)
                await asyncio.sleep(2)
                continue
            if count == 0:
                await asyncio.sleep(0.05)  # servers that answer at once (local Bot API, emulator)

    # -- sending (the outbox relay's transport) ------------------------------------------------

    async def send(self, conversation_id: str, row_id: int, text: str, buttons: list[dict[str, str]]) -> None:
        """Send one outbox row to its chat.

        Raises:
            DeliveryError: with `retry_after` on flood control, `permanent` when the chat is gone.
        """
        chat_id = int(conversation_id.split(":", 1)[1])
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b["title"][:64], callback_data=f"o{row_id}:{i}")] for i, b in enumerate(buttons)]
            )
        try:
            await self.bot.send_message(chat_id, text or "…", reply_markup=markup)
        except RetryAfter as exc:
            raise DeliveryError("flood control", retry_after=retry_after_seconds(exc)) from exc
        except Forbidden as exc:
            raise DeliveryError("forbidden (blocked by the user)", permanent=True) from exc
        except BadRequest as exc:
            raise DeliveryError(f"bad request: {exc.message[:80]}", permanent=True) from exc
        except NetworkError as exc:  # includes TimedOut: the message may have arrived (at least once)
            raise DeliveryError(type(exc).__name__) from exc
        except TelegramError as exc:
            raise DeliveryError(type(exc).__name__) from exc
