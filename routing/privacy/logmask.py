"""Mask phone and ID-card numbers in every log record of a process, at every level.

``install()`` wraps the logging record factory, so every logger — ours, aiohttp's, SQLAlchemy's,
Rasa's — produces records whose message (arguments merged) and traceback text have the numbers
masked before any handler sees them. Each process calls it once at start: the gateway, the
action server (``actions/__init__``), the ``fengqiao`` command, and Rasa when it loads the
project's tokenizer. Standard library and ``routing.understanding.text`` only (Rasa's venv imports it too).
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from routing.understanding.text import mask_pii

_DIGITS = re.compile(r"\d{4}")  # every masked number has four digits in a row (full-width too)
_installed = False


def mask(text: str) -> str:
    """Return ``text`` with phone and ID-card numbers masked (cheap when it has no four digits)."""
    return mask_pii(text) if _DIGITS.search(text) else text


def _masked(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 — a bad format string: logging reports it itself
        return record
    clean = mask(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = mask(text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    return record


def install() -> None:
    """Mask every record this process creates from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _masked(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
