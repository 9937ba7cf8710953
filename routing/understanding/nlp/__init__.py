"""The project's own spaCy pipeline: blank Chinese with the jieba segmenter plus an EntityRuler.

Patterns are data (``patterns.jsonl`` beside this file). Nothing is built at import time: call
:func:`routing.understanding.nlp.pipeline.get_pipeline`.
"""
