"""The look-ahead on first characters speeds the lexicon up without changing what matches."""

from __future__ import annotations

import re

from routing.understanding.safety import lexicon
from routing.understanding.safety.prefilter import first_chars, with_lookahead


def test_first_characters_of_alternations_groups_and_optional_parts() -> None:
    assert first_chars("自杀|轻生") == {"自", "轻"}
    assert first_chars("(我|他)?想死") == {"我", "他", "想"}
    assert first_chars("[0-9]+片") == set("0123456789")
    assert first_chars(r"\d+片") == set("0123456789")
    assert first_chars("(?<!自)杀人") == {"杀"}


def test_unknown_or_empty_starts_give_no_lookahead() -> None:
    assert first_chars(".{0,4}刀") is None
    assert first_chars("(我)?") is None
    assert with_lookahead(".{0,4}刀").pattern == ".{0,4}刀"


def test_rules_match_exactly_as_without_the_lookahead() -> None:
    lex = lexicon.load()
    texts = [
        "我已经买好了百草枯，今晚就喝。我在天台上。他正在打我，我躲在厕所里。",
        "我爸从脚手架上摔下来了，老板不让打120。我被关在园区里出不去，护照被收走了。",
        "楼上装修吵得我想死，网上买的安眠药是假货，商家不退款。秒杀的东西没发货。",
    ]
    for rule in lex.rules:
        plain = rule.pattern.pattern
        if plain.startswith("(?=["):
            plain = plain[plain.index(")(?:") + 4 : -1]
        original = re.compile(plain)
        for text in texts:
            for window in lexicon.windows(lex.prepare(text)):
                a, b = rule.pattern.search(window), original.search(window)
                assert (a and a.span()) == (b and b.span()), (rule.id, window)
