"""Button payloads versus text a citizen typed that looks like one.

Rasa reads a message starting with ``/`` as ``/intent{"slot": "value"}`` and sets the slots it
names. A citizen typing that must not set slots, skip the danger check or pick an intent: only a
payload one of the bot's recent buttons offered to this conversation passes as a payload. Any
other ``/…`` text is stored as written, marked ``typed_payload``, screened like any text, and
reaches Rasa with its slash made full-width, so the NLU reads it as words.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.persistence.messaging_tables import OutboxMessage

RECENT_REPLIES = 30


def looks_like_payload(text: str) -> bool:
    """Tell whether Rasa would read the text as a payload (it starts with a slash)."""
    return text.lstrip().startswith("/")


def offered(session: Session, conversation_id: str, limit: int = RECENT_REPLIES) -> set[str]:
    """Return the payloads of the buttons in the conversation's recent bot messages."""
    rows = session.execute(select(OutboxMessage.buttons).where(OutboxMessage.conversation_id == conversation_id)
                           .order_by(OutboxMessage.id.desc()).limit(limit)).scalars()
    return {str(b.get("payload")) for buttons in rows for b in (buttons or []) if isinstance(b, dict)}


def typed(session: Session, conversation_id: str, text: str) -> bool:
    """Tell whether a payload-looking text was typed (no recent button offered it)."""
    return looks_like_payload(text) and text.strip() not in offered(session, conversation_id)


def as_words(text: str) -> str:
    """Return the text Rasa gets for a typed payload: its leading slash made full-width."""
    stripped = text.lstrip()
    return "／" + stripped[1:] if stripped.startswith("/") else text
