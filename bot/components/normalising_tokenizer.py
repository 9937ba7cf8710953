"""A jieba tokenizer that first normalises the text the way every project model expects.

Citizens write Simplified and Traditional characters, full-width digits and invisible
characters pasted from phones. DIET is trained on Simplified text, so the message text is
replaced by its normalised form before tokenising; every later component (featurizers, DIET,
regex extractor, synonyms) and the parse result then see the same text.

Training examples are normalised character by character so entity offsets stay valid.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from routing.privacy.logmask import install as _mask_logs

# Rasa loads this component with the model, before any message: from then on no phone or ID
# number appears in any log line of the Rasa process, at any level.
_mask_logs()

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _char_map(char: str) -> str:
    """Map one character to one character: NFKC where it stays one character, then t2s."""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    converted = _converter().convert(folded)
    return converted if len(converted) == 1 else folded


def normalise_keep_length(text: str) -> str:
    """Normalise without changing the length, so annotated offsets remain correct."""
    whole = _converter().convert(unicodedata.normalize("NFKC", text))
    if len(whole) == len(text) and unicodedata.normalize("NFKC", text) == text:
        return whole
    return "".join(_char_map(c) for c in text)


def normalise(text: str) -> str:
    """Normalise a live message: drop invisible characters, then length-keeping mapping."""
    return normalise_keep_length(_INVISIBLE.sub("", text)).strip()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class NormalisingJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer that tokenises the NFKC + Simplified form of the message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config (that of JiebaTokenizer)."""
        return JiebaTokenizer.get_default_config()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise training examples in place, keeping entity offsets valid."""
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if text:
                example.set(TEXT, normalise_keep_length(text))
            # The span text is now Simplified with ASCII digits: give annotated values the same
            # form, or EntitySynonymMapper would learn 货车 -> 貨車 as a "synonym".
            for entity in example.get(ENTITIES) or []:
                if isinstance(entity.get("value"), str):
                    entity["value"] = normalise_keep_length(entity["value"])
        return super().process_training_data(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise incoming messages, then tokenise them."""
        for message in messages:
            text = message.get(TEXT)
            if text:
                message.set(TEXT, normalise(text), add_to_output=True)
        return super().process(messages)
