"""One settings object per process, read from the environment and validated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from routing.db import default_database_url

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
        return cls(
            database_url=default_database_url(),
            rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=os.environ.get("RASA_TOKEN", ""),
            action_port=action_port,
            web_host=os.environ.get("WEB_HOST", "127.0.0.1"),
            web_port=web_port,
            deadline_rules=rules,
            allowed_origins=origins,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return this process's settings (read once)."""
    return Settings.from_env()
