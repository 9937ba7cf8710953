"""In-memory implementations of the routing ports (``routing.cases.ports``), for unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date


class FakeWorkload:
    """Open-case counts held in a dict."""

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        self.counts = dict(counts or {})
        self.calls = 0

    def open_case_counts(self, person_ids: Sequence[str]) -> Mapping[str, int]:
        self.calls += 1
        return {p: self.counts.get(p, 0) for p in person_ids}


class FakePetitionHistory:
    """Earlier petitions per person id."""

    def __init__(self, petitions: Iterable[object] = ()) -> None:
        self._by_person: dict[str, list[object]] = {}
        for p in petitions:
            self._by_person.setdefault(p.person_id, []).append(p)  # type: ignore[attr-defined]

    def petitions_of(self, person_id: str) -> Sequence[object]:
        return tuple(self._by_person.get(person_id, ()))


class FakeReceptionRepository:
    """Reception days and bookings in dicts."""

    def __init__(self) -> None:
        self.days: dict[str, object] = {}
        self.bookings: dict[str, object] = {}

    def days_between(self, start: date, end: date) -> Sequence[object]:
        return sorted((d for d in self.days.values() if start <= d.date <= end),  # type: ignore[attr-defined]
                      key=lambda d: (d.date, d.id))  # type: ignore[attr-defined]

    def bookings_for_day(self, day_id: str) -> Sequence[object]:
        return [b for b in self.bookings.values() if b.day_id == day_id]  # type: ignore[attr-defined]

    def save_day(self, day: object) -> None:
        self.days[day.id] = day  # type: ignore[attr-defined]

    def save_booking(self, booking: object) -> None:
        self.bookings[booking.id] = booking  # type: ignore[attr-defined]
