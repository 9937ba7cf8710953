"""Repository seams the routing services need (implemented by SQLAlchemy adapters and test fakes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol, runtime_checkable


@runtime_checkable
class DivisionLike(Protocol):
    """What the router reads of a division (``routing.understanding.places.Division`` fits)."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def level(self) -> str: ...


@runtime_checkable
class PlaceIndex(Protocol):
    """Division look-ups (``routing.understanding.places.DivisionIndex`` fits)."""

    def path(self, code: str) -> Sequence[DivisionLike]:
        """Return the division and its ancestors, from the province down."""
        ...


@runtime_checkable
class WorkloadRepository(Protocol):
    """Current load of case handlers."""

    def open_case_counts(self, person_ids: Sequence[str]) -> Mapping[str, int]:
        """Return open cases per person id (missing ids count as 0)."""
        ...


@runtime_checkable
class PetitionHistory(Protocol):
    """Earlier petitions of a person, for repeat detection (``routing.cases.repeat.PetitionRef``)."""

    def petitions_of(self, person_id: str) -> Sequence[object]:
        """Return the person's earlier petitions as ``PetitionRef`` values."""
        ...


@runtime_checkable
class ReceptionRepository(Protocol):
    """Reception days and bookings (``routing.cases.reception_days`` dataclasses)."""

    def days_between(self, start: date, end: date) -> Sequence[object]:
        """Return published reception days in the date range, inclusive."""
        ...

    def bookings_for_day(self, day_id: str) -> Sequence[object]:
        """Return the bookings of one reception day."""
        ...

    def save_day(self, day: object) -> None:
        """Insert or replace a reception day."""
        ...

    def save_booking(self, booking: object) -> None:
        """Insert or replace a booking."""
        ...
