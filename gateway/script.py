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
