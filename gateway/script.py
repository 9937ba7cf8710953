"""Answer in the script the citizen wrote: Traditional in, Traditional out."""

from __future__ import annotations

from functools import lru_cache

from gateway.rasa_client import BotReply
from routing.text import is_traditional


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


def render(text: str, script: str) -> str:
    """Render a Simplified bot text in the conversation's script."""
    return _s2t().convert(text) if script == "traditional" else text


def render_reply(reply: BotReply, script: str) -> BotReply:
    """Render a bot reply (text and button titles) in the conversation's script."""
    if script != "traditional":
        return reply
    buttons = [{"title": render(b["title"], script), "payload": b["payload"]} for b in reply.buttons]
    return BotReply(render(reply.text, script), buttons)
