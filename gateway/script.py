"""Answer in the script the citizen wrote: Traditional in, Traditional out."""

from __future__ import annotations

from functools import lru_cache

from gateway.rasa_client import BotReply
from routing.understanding.text import clean, is_traditional


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def match_script(user_text: str, reply: BotReply) -> BotReply:
    """Convert a Simplified reply to Traditional when the citizen wrote Traditional."""
    if not is_traditional(user_text):
        return reply
    convert = _s2t().convert
    buttons = [{"title": convert(b["title"]), "payload": b["payload"]} for b in reply.buttons]
    return BotReply(convert(reply.text), buttons)


def script_of(text: str) -> str:
    """Return ``traditional`` or ``simplified`` for a citizen's free text."""
    return "traditional" if is_traditional(text) else "simplified"


def script_signal(text: str) -> str | None:
    """Return the script a turn shows, or None when it shows none.

    A turn shows Traditional when it holds a character that has a Simplified form (確認), and
    Simplified when it holds one that has a Traditional form (确认). Digits, Latin letters,
    punctuation and characters written alike in both scripts (好的, 是) show nothing: such a turn
    (a phone number, "OK") must leave the conversation's script as it was.
    """
    if is_traditional(text):
        return "traditional"
    cleaned = clean(text)
    return "simplified" if _s2t().convert(cleaned) != cleaned else None


def next_script(current: str, text: str) -> str:
    """Return the conversation's script after a turn: it sticks until the citizen writes the other."""
    return script_signal(text) or current


def render(text: str, script: str) -> str:
    """Render a Simplified bot text in the conversation's script."""
    return _s2t().convert(text) if script == "traditional" else text


def render_reply(reply: BotReply, script: str) -> BotReply:
    """Render a bot reply (text and button titles) in the conversation's script."""
    if script != "traditional":
        return reply
    buttons = [{"title": render(b["title"], script), "payload": b["payload"]} for b in reply.buttons]
    return BotReply(render(reply.text, script), buttons)
