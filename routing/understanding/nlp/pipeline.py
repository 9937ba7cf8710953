"""Build, cache, save and load the entity pipeline (spaCy ``zh`` + jieba + EntityRuler).

The pipeline has no trained weights and downloads nothing: the tokenizer is jieba's default
dictionary (shipped inside the ``jieba`` wheel) and the ruler's patterns come from
``routing/understanding/nlp/patterns.jsonl``. Saved with :func:`save_pipeline`, it loads back with
:func:`load_pipeline` (or plain ``spacy.load(path)``) and needs no project code to run.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

PATTERNS_PATH = Path(__file__).parent / "patterns.jsonl"
PIPELINE_NAME = "fengqiao_entities"
PIPELINE_VERSION = "0.1.0"


def read_patterns(path: Path = PATTERNS_PATH) -> list[dict[str, Any]]:
    """Read EntityRuler patterns, one JSON object a line (blank lines and ``#`` lines skipped).

    Args:
        path: a JSONL file of ``{"label", "pattern", "id"?}`` objects.

    Returns:
        The patterns in file order.
    """
    patterns: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(json.loads(line))
    return patterns


def build_pipeline(patterns_path: Path = PATTERNS_PATH) -> Language:
    """Build a fresh pipeline: ``spacy.blank("zh")`` with jieba and an EntityRuler.

    Args:
        patterns_path: the EntityRuler patterns (JSONL).

    Returns:
        A new ``Language`` object; building it takes well under a second once jieba's cache exists.
    """
    import logging

    import jieba
    import spacy

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = "枫桥助手 respondent / organisation ruler on jieba tokens"
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(read_patterns(patterns_path))  # type: ignore[attr-defined]
    return nlp


@lru_cache(maxsize=1)
def get_pipeline() -> Language:
    """Return the process-wide pipeline, built on first use."""
    return build_pipeline()


def save_pipeline(path: Path, nlp: Language | None = None) -> Path:
    """Write the pipeline to a folder (``nlp.to_disk``), creating it if needed.

    Args:
        path: the target folder.
        nlp: the pipeline to save; the shared one by default.

    Returns:
        The folder written.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (nlp or get_pipeline()).to_disk(path)
    return path


def load_pipeline(path: Path) -> Language:
    """Load a pipeline saved by :func:`save_pipeline`.

    Args:
        path: a folder written by :func:`save_pipeline`.

    Returns:
        The loaded ``Language`` object.
    """
    import spacy

    return spacy.load(Path(path))
