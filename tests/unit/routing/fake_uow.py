"""An in-memory unit of work (``routing.cases.uow.UnitOfWork``) for fast tests of the case rules.

It behaves like the database where the rules can tell: a unit of work that is left without a
commit is rolled back (rows added are dropped, changed columns restored, events forgotten), an
identical idempotency key is refused, and case numbers are issued per year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

from routing.cases.events import Event
from routing.cases.numbers import format_case_number
from routing.cases.reception_days import BaoAn, Booking, ReceptionDay
from routing.cases.repeat import PetitionRef
from routing.cases.statuses import HANDLING_CLOCKS, OPEN_STATUSES
from routing.cases.uow import DuplicateCase
from routing.cases.values import CLOSED_STATUSES, CaseNotFound
from routing.orgs.registry import Orgs
from routing.persistence.case_tables import Case
from routing.persistence.clocks import DueClock
from routing.persistence.history import tier_of
from routing.persistence.life_tables import CaseClock


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


@dataclass
class FakeDatabase:
    """What the fake units of work share (the "database")."""

    cases: list[Case] = field(default_factory=list)
    clocks: list[CaseClock] = field(default_factory=list)
    events: dict[int, list[Event]] = field(default_factory=dict)
    counters: dict[int, int] = field(default_factory=dict)
    days: dict[str, ReceptionDay] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    reminded: dict[str, datetime] = field(default_factory=dict)
    baoan: list[BaoAn] = field(default_factory=list)
    alerts: list[tuple[str, int | None, str]] = field(default_factory=list)
    handoffs: list[tuple[str, int | None]] = field(default_factory=list)
    commits: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "cases": [(c, _columns(c)) for c in self.cases], "clocks": [(r, _columns(r)) for r in self.clocks],
            "events": {k: list(v) for k, v in self.events.items()}, "counters": dict(self.counters),
            "days": dict(self.days), "bookings": dict(self.bookings), "reminded": dict(self.reminded),
            "baoan": list(self.baoan), "alerts": list(self.alerts), "handoffs": list(self.handoffs),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        for attr in ("cases", "clocks"):
            kept = []
            for row, values in snap[attr]:
                for name, value in values.items():
                    setattr(row, name, value)
                kept.append(row)
            setattr(self, attr, kept)
        for attr in ("events", "counters", "days", "bookings", "reminded", "baoan", "alerts", "handoffs"):
            setattr(self, attr, snap[attr])


class FakeCases:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def get(self, case_number: str, owner: str | None = None, *, lock: bool = True) -> Case:
        number = case_number.strip().upper()
        case = next((c for c in self.db.cases if c.case_number == number), None)
        if case is None or (owner is not None and case.channel_user_id != owner):
            raise CaseNotFound(case_number)
        return case

    def by_id(self, case_id: int, *, lock: bool = True) -> Case:
        return next(c for c in self.db.cases if c.id == case_id)

    def by_idempotency_key(self, key: str) -> Case | None:
        return next((c for c in self.db.cases if c.idempotency_key == key), None)

    def newest_open(self, *, owner: str | None = None, channel: str | None = None,
                    conversation_id: str | None = None) -> Case | None:
        found = [c for c in self.db.cases if c.status not in CLOSED_STATUSES
                 and (owner is None or c.channel_user_id == owner) and (channel is None or c.channel == channel)
                 and (conversation_id is None or c.conversation_id == conversation_id)]
        return found[-1] if found else None

    def of_user(self, channel: str, owner: str, limit: int) -> list[Case]:
        return [c for c in reversed(self.db.cases) if c.channel == channel and c.channel_user_id == owner][:limit]

    def next_number(self, year: int) -> str:
        self.db.counters[year] = self.db.counters.get(year, 0) + 1
        return format_case_number(year, self.db.counters[year])

    def add(self, case: Case) -> None:
        if self.by_idempotency_key(case.idempotency_key) is not None:
            raise DuplicateCase(case.idempotency_key)
        case.id = len(self.db.cases) + 1
        case.created_at = case.created_at or datetime.now(UTC)
        case.human_requested = bool(case.human_requested)
        self.db.cases.append(case)


class FakeClocks:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def of_case(self, case: Case) -> list[CaseClock]:
        return [r for r in self.db.clocks if r.case_id == case.id]

    def add(self, row: CaseClock) -> None:
        row.id = len(self.db.clocks) + 1
        self.db.clocks.append(row)

    def get(self, clock_id: int) -> CaseClock | None:
        return next((r for r in self.db.clocks if r.id == clock_id), None)

    def due(self, as_of: date, near_days: int) -> list[DueClock]:
        from datetime import timedelta

        horizon = as_of + timedelta(days=near_days)
        rows = [r for r in self.db.clocks if r.due is not None and (
            (r.state == "running" and r.due <= horizon) or (r.state == "near_due" and r.due < as_of))]
        return [DueClock(r.id, r.case_id, r.clock, r.due, r.state, r.article)
                for r in sorted(rows, key=lambda r: (r.due, r.id))]


class FakeEvents:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def append(self, case: Case, events: Iterable[Event]) -> None:
        self.db.events.setdefault(case.id, []).extend(events)

    def of_case(self, case: Case) -> list[Event]:
        return list(self.db.events.get(case.id, []))


class FakeReception:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def days_between(self, start: date, end: date) -> Sequence[ReceptionDay]:
        return sorted((d for d in self.db.days.values() if start <= d.date <= end), key=lambda d: (d.date, d.id))

    def day(self, day_id: str) -> ReceptionDay | None:
        return self.db.days.get(day_id)

    def bookings_for_day(self, day_id: str, *, lock: bool = False) -> Sequence[Booking]:
        return [b for b in self.db.bookings.values() if b.day_id == day_id]

    def booking(self, booking_id: str) -> Booking | None:
        return self.db.bookings.get(booking_id)

    def bookings_for_case(self, case_number: str) -> list[Booking]:
        return [b for b in self.db.bookings.values() if b.case_id == case_number]

    def save_day(self, day: ReceptionDay) -> None:
        self.db.days[day.id] = day

    def save_booking(self, booking: Booking) -> None:
        self.db.bookings[booking.id] = booking

    def unreminded_bookings(self, start: date, end: date) -> list[Booking]:
        return [b for b in self.db.bookings.values() if b.status == "booked" and b.id not in self.db.reminded
                and start <= self.db.days[b.day_id].date <= end]

    def mark_reminded(self, booking_id: str, at: datetime) -> None:
        self.db.reminded[booking_id] = at

    def save_baoan(self, baoan: BaoAn, booking_id: str | None = None) -> None:
        self.db.baoan = [b for b in self.db.baoan if not (b.case_id == baoan.case_id and b.leader == baoan.leader
                                                           and b.closed_on is None)] + [baoan]

    def open_baoan(self, case_number: str | None = None) -> list[BaoAn]:
        return [b for b in self.db.baoan if b.closed_on is None and case_number in (None, b.case_id)]


class FakeWorkload:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def open_case_counts(self, person_ids: Sequence[str]) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        for c in self.db.cases:
            if c.assigned_person_id in person_ids and c.status in OPEN_STATUSES:
                counts[c.assigned_person_id] = counts.get(c.assigned_person_id, 0) + 1
        return counts


class FakeUnitOfWork:
    """``routing.cases.uow.UnitOfWork`` in memory; ``FakeUnitOfWork.factory(db)`` opens them."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.cases = FakeCases(db)
        self.clocks = FakeClocks(db)
        self.events = FakeEvents(db)
        self.reception = FakeReception(db)
        self.workload = FakeWorkload(db)

    @classmethod
    def factory(cls, db: FakeDatabase):  # type: ignore[no-untyped-def]
        return lambda: cls(db)

    def __enter__(self) -> Self:
        self._snapshot = self.db.snapshot()
        self._committed = False
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.db.restore(self._snapshot)

    def commit(self) -> None:
        self._committed = True
        self.db.commits += 1

    def petition_ref(self, case: Case, orgs: Orgs) -> PetitionRef:
        due = next((r.due for r in reversed(self.clocks.of_case(case)) if r.clock in HANDLING_CLOCKS), None)
        final = any(e.payload.get("action") == "decide_recheck" for e in self.events.of_case(case))
        return PetitionRef(case_id=case.case_number, person_id=case.channel_user_id, text=case.narrative_normalised,
                           division=case.location_code or "", status=case.status, respondent=case.respondent,
                           body_tier=tier_of(orgs, case.body_id), handle_due=due or case.due_date,
                           recheck_final=final, channel=case.channel)

    def earlier_petitions(self, case: Case, orgs: Orgs) -> Sequence[PetitionRef]:
        return [self.petition_ref(c, orgs) for c in reversed(self.db.cases)
                if c.channel_user_id == case.channel_user_id and c.id != case.id]

    def add_alert(self, conversation_id: str, case: Case | None, level: str, reason: str, excerpt: str) -> int:
        self.db.alerts.append((conversation_id, case.id if case else None, level))
        return len(self.db.alerts)

    def add_handoff(self, conversation_id: str, channel: str, case: Case | None) -> None:
        self.db.handoffs.append((conversation_id, case.id if case else None))

    def link_crisis_alerts(self, case: Case) -> list[tuple[int, str, str | None]]:
        return []

    def after_filing(self, case: Case) -> None:
        return None
