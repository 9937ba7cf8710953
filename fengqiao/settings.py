"""One settings object per process, read from the environment and validated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from routing.persistence.db import default_database_url

_RULES = {"national", "zhejiang", "stricter"}


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Process settings (see `.env.example` for every variable)."""

    database_url: str
    rasa_url: str
    rasa_token: str
    action_port: int
    web_host: str
    web_port: int
    deadline_rules: str
    allowed_origins: tuple[str, ...]
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_mode: str = "polling"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_chat_interval: float = 1.0
    action_health_url: str = ""
    inbox_retry_cap: float = 30.0
    # Console session cookie carries `Secure` (turn off only for plain-http localhost tests).
    console_cookie_secure: bool = True
    # Crisis alerts: Telegram chats of the on-duty staff (level 1), told at once; an alert nobody
    # acknowledges within `crisis_escalate_minutes` is escalated to the duty roster's next level
    # (`crisis_roster`: levels 2 and 3, e.g. the shift leader and the centre's director).
    crisis_notify_telegram: tuple[str, ...] = ()
    crisis_roster: tuple[tuple[str, ...], ...] = ()
    crisis_escalate_minutes: float = 5.0
    # An operator's file of official holiday notices for years the package lacks (optional).
    holiday_notices_file: str = ""
    # Webhooks may go to http://127.0.0.1 (development only); never to private ranges.
    webhook_allow_loopback: bool = False
    # Scale-out (issue 15): several Rasa processes (RASA_URLS, comma-separated; a conversation
    # sticks to one and fails over to the next), each with its action server's health URL at
    # the same position (ACTION_HEALTH_URLS); and the lease ttl shared by all gateways.
    rasa_urls: tuple[str, ...] = ()
    action_health_urls: tuple[str, ...] = ()
    lease_ttl: float = 10.0

    @classmethod
    def from_env(cls) -> Settings:
        """Read and validate the environment.

        Raises:
            SettingsError: a value is malformed.
        """
        rules = os.environ.get("DEADLINE_RULES", "stricter")
        if rules not in _RULES:
            raise SettingsError(f"DEADLINE_RULES must be one of {sorted(_RULES)}, not {rules!r}")
        try:
            action_port = int(os.environ.get("ACTION_PORT", "5055"))
            web_port = int(os.environ.get("WEB_PORT", "8080"))
        except ValueError as exc:
            raise SettingsError(f"ports must be integers: {exc}") from exc
        origins = tuple(o for o in os.environ.get("WEB_ALLOWED_ORIGINS", "").split(",") if o)
        mode = os.environ.get("TELEGRAM_MODE", "").strip() or (
            "webhook" if os.environ.get("TELEGRAM_WEBHOOK_URL") else "polling"
        )
        if mode not in ("polling", "webhook"):
            raise SettingsError(f"TELEGRAM_MODE must be polling or webhook, not {mode!r}")
        secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
        if mode == "webhook" and os.environ.get("TELEGRAM_BOT_TOKEN") and len(secret) < 16:
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be at least 16 characters in webhook mode")
        try:
            chat_interval = float(os.environ.get("TELEGRAM_CHAT_INTERVAL", "1.0"))
            retry_cap = float(os.environ.get("INBOX_RETRY_CAP", "30"))
            escalate = float(os.environ.get("CRISIS_ESCALATE_MINUTES", "5"))
        except ValueError as exc:
            raise SettingsError(f"intervals must be numbers: {exc}") from exc
        chats = _chat_ids("CRISIS_NOTIFY_TELEGRAM")
        roster = tuple(_chat_ids(f"CRISIS_NOTIFY_TELEGRAM_{level}") for level in (2, 3))
        if escalate <= 0:
            raise SettingsError("CRISIS_ESCALATE_MINUTES must be positive")
        rasa_urls = tuple(u.strip().rstrip("/") for u in os.environ.get("RASA_URLS", "").split(",") if u.strip())
        health_urls = tuple(u.strip() for u in os.environ.get("ACTION_HEALTH_URLS", "").split(",") if u.strip())
        if health_urls and len(health_urls) != len(rasa_urls):
            raise SettingsError("ACTION_HEALTH_URLS needs one URL per RASA_URLS entry, in the same order")
        try:
            lease_ttl = float(os.environ.get("LEASE_TTL_SECONDS", "10"))
        except ValueError as exc:
            raise SettingsError(f"LEASE_TTL_SECONDS must be a number: {exc}") from exc
        if lease_ttl < 1:
            raise SettingsError("LEASE_TTL_SECONDS must be at least 1")
        notices = os.environ.get("HOLIDAY_NOTICES_FILE", "").strip()
        if notices and not os.path.isfile(notices):
            raise SettingsError(f"HOLIDAY_NOTICES_FILE {notices!r} is not a file")
        return cls(
            database_url=default_database_url(),
            rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=os.environ.get("RASA_TOKEN", ""),
            action_port=action_port,
            web_host=os.environ.get("WEB_HOST", "127.0.0.1"),
            web_port=web_port,
            deadline_rules=rules,
            allowed_origins=origins,
            telegram_bot_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=(
                os.environ.get("TELEGRAM_API_BASE_URL", "").strip() or "https://api.telegram.org"
            ).rstrip("/"),
            telegram_mode=mode,
            telegram_webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip(),
            telegram_webhook_secret=secret,
            telegram_chat_interval=chat_interval,
            action_health_url=os.environ.get("ACTION_HEALTH_URL", "").strip(),
            inbox_retry_cap=retry_cap,
            console_cookie_secure=os.environ.get("CONSOLE_COOKIE_SECURE", "1").lower() not in ("0", "false", "no"),
            crisis_notify_telegram=chats,
            crisis_roster=roster if any(roster) else (),
            crisis_escalate_minutes=escalate,
            holiday_notices_file=notices,
            webhook_allow_loopback=os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "0").lower() in ("1", "true", "yes"),
            rasa_urls=rasa_urls,
            action_health_urls=health_urls,
            lease_ttl=lease_ttl,
        )


def _chat_ids(name: str) -> tuple[str, ...]:
    """A comma-separated list of Telegram chat ids from the environment."""
    chats = tuple(c.strip() for c in os.environ.get(name, "").split(",") if c.strip())
    if any(not c.lstrip("-").isdigit() for c in chats):
        raise SettingsError(f"{name} must be a comma-separated list of Telegram chat ids")
    return chats


def rasa_api_token() -> str:
    """Return the token guarding Rasa's HTTP API (loopback only): `RASA_TOKEN`, else a
    random token kept in `var/rasa-api.token`, created on first use and shared by the
    processes of this checkout."""
    import secrets

    from routing.persistence.db import REPO_ROOT

    token = os.environ.get("RASA_TOKEN", "").strip()
    if token:
        return token
    path = REPO_ROOT / "var" / "rasa-api.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it
            token = path.read_text().strip()
            if token:
                return token
            import time

            time.sleep(0.05)
        raise SettingsError(f"{path} is empty") from None
    with os.fdopen(fd, "w") as handle:
        token = secrets.token_hex(24)
        handle.write(token)
    return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return this process's settings (read once)."""
    return Settings.from_env()
