"""The case number, ``FQ-YYYY-NNNNNN``: one format, one pattern, one way to read what a citizen typed."""

from __future__ import annotations

import re

PREFIX = "FQ"
# As citizens type it: any case, with or without the hyphens (or with a space), not inside a longer token.
CASE_NUMBER = re.compile(r"(?<![A-Za-z0-9])[Ff][Qq][-\s]?(\d{4})[-\s]?(\d{6})(?![0-9])")


def format_case_number(year: int, serial: int) -> str:
    """Return the number of the ``serial``-th case of ``year`` (``FQ-2026-000042``)."""
    return f"{PREFIX}-{year:04d}-{serial:06d}"


def canonical_case_number(raw: str) -> str | None:
    """Return ``FQ-YYYY-NNNNNN`` for a typed number (``fq2026000042``, ``FQ-2026-000042``), else None."""
    digits = re.sub(r"[^0-9]", "", raw)
    if len(digits) != 10:
        return None
    return format_case_number(int(digits[:4]), int(digits[4:]))


def find_case_numbers(text: str) -> list[str]:
    """Return the case numbers in ``text``, canonical, in order, without duplicates."""
    seen: dict[str, None] = {}
    for m in CASE_NUMBER.finditer(text):
        seen.setdefault(format_case_number(int(m.group(1)), int(m.group(2))), None)
    return list(seen)
