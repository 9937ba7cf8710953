"""The channels a citizen reaches the assistant on, and the one way to read them from an id."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A channel, as stored on cases and conversations and used as the prefix of their ids."""

    WEB = "web"
    TELEGRAM = "tg"
    REST = "rest"  # Rasa's REST channel without a prefix (tests, `fengqiao chat`)


def channel_of(conversation_id: str) -> str:
    """Return the channel encoded in a conversation or sender id (``web:…`` → ``web``), else ``rest``."""
    return conversation_id.split(":", 1)[0] if ":" in conversation_id else Channel.REST.value
