"""The handling body as a plain value (its own module so that the default bodies and the
organisation data can both build bodies without importing each other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Body:
    """A handling body: a grid, a committee, a centre or a department."""

    id: str
    name: str
    tier: str
    division: str
    specialties: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    default: bool = False  # made from the divisions data because the org data has no entry
