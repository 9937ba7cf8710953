"""The unit of work every change to a case goes through, and its SQL implementation.

A use case opens one unit of work, loads the case through ``uow.cases`` (locked for the
change), applies ``routing.cases.statuses`` through ``routing.cases.steps``, appends events through
``uow.events`` (the one event writer) and calls ``uow.commit()`` once. Leaving the ``with``
block without a commit rolls everything back, so a refused change writes nothing.

``tests/unit/routing/fake_uow.py`` implements the same protocol in memory, so the lifecycle
and clock rules run as fast unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from routing.cases.events import Event
from routing.cases.ports import WorkloadRepository
from routing.cases.reception_days import BaoAn, Booking, ReceptionDay
from routing.cases.repeat import PetitionRef
from routing.cases.values import CaseNotFound
from routing.orgs.registry import Orgs
from routing.persistence import clocks as clock_store
from routing.persistence.case_tables import Alert, Case, CaseCounter, CaseEvent, HandoffRequest
from routing.persistence.events import append_events, to_domain
from routing.persistence.history import SqlPetitionHistory, petition_ref
from routing.persistence.life_tables import CaseClock
from routing.persistence.reception import SqlReceptionRepository
from routing.persistence.workload import SessionWorkload
from routing.privacy.fields import phone_index

# A step run inside a filing's transaction once the case is stored (session, case).
FilingHook = Callable[[Session, Case], None]

class DuplicateCase(Exception):
    """A case with the same idempotency key was stored concurrently."""


class CaseRepository(Protocol):
    """Cases, loaded for a change (locked) or for reading."""

    def get(self, case_number: str, owner: str | None = None, *, lock: bool = True) -> Case:
        """Return the case; with ``owner``, only if that channel user filed it (else CaseNotFound)."""
        ...

    def by_id(self, case_id: int, *, lock: bool = True) -> Case:
        """Return the case with this row id."""
        ...

    def by_idempotency_key(self, key: str) -> Case | None:
        """Return the case a filing with this key created, if any."""
        ...

    def newest_open(self, *, owner: str | None = None, channel: str | None = None,
                    conversation_id: str | None = None) -> Case | None:
        """Return the newest case not closed, of a channel user or of a conversation."""
        ...

    def of_user(self, channel: str, owner: str, limit: int) -> list[Case]:
        """Return a channel user's cases, newest first."""
        ...

    def next_number(self, year: int) -> str:
        """Issue the next case number of ``year`` (``routing.cases.numbers``)."""
        ...

    def add(self, case: Case) -> None:
        """Store a new case (its id is set; DuplicateCase on a concurrent identical filing)."""
        ...


class ClockRepository(Protocol):
    """The statutory clocks of cases (rows; ``routing.persistence.clocks`` converts them)."""

    def of_case(self, case: Case) -> list[CaseClock]:
        """Return the case's clocks, oldest first."""
        ...

    def add(self, row: CaseClock) -> None:
        """Store a new clock row."""
        ...

    def get(self, clock_id: int) -> CaseClock | None:
        """Return one clock row, locked for a change."""
        ...

    def due(self, as_of: date, near_days: int) -> list[clock_store.DueClock]:
        """Return the clocks near due or overdue on ``as_of`` not reported as such yet."""
        ...


class EventWriter(Protocol):
    """The one event writer: append-only, in order, in the unit of work."""

    def append(self, case: Case, events: Iterable[Event]) -> None:
        """Append events to the case."""
        ...

    def of_case(self, case: Case) -> list[Event]:
        """Return the case's events in order."""
        ...


class ReceptionStore(Protocol):
    """Reception days, bookings and 包案 (``routing.persistence.reception`` fits)."""

    def days_between(self, start: date, end: date) -> Sequence[ReceptionDay]: ...
    def day(self, day_id: str) -> ReceptionDay | None: ...
    def bookings_for_day(self, day_id: str, *, lock: bool = False) -> Sequence[Booking]: ...
    def booking(self, booking_id: str) -> Booking | None: ...
    def bookings_for_case(self, case_number: str) -> list[Booking]: ...
    def save_day(self, day: ReceptionDay) -> None: ...
    def save_booking(self, booking: Booking) -> None: ...
    def unreminded_bookings(self, start: date, end: date) -> list[Booking]: ...
    def mark_reminded(self, booking_id: str, at: datetime) -> None: ...
    def save_baoan(self, baoan: BaoAn, booking_id: str | None = None) -> None: ...
    def open_baoan(self, case_number: str | None = None) -> list[BaoAn]: ...


class UnitOfWork(Protocol):
    """One transaction over the case store."""

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def clocks(self) -> ClockRepository: ...

    @property
    def events(self) -> EventWriter: ...

    @property
    def reception(self) -> ReceptionStore: ...

    @property
    def workload(self) -> WorkloadRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit of work durable."""
        ...

    def petition_ref(self, case: Case, orgs: Orgs) -> PetitionRef:
        """Describe a case for repeat detection."""
        ...

    def earlier_petitions(self, case: Case, orgs: Orgs) -> Sequence[PetitionRef]:
        """Return the other cases of the case's channel user, newest first."""
        ...

    def add_alert(self, conversation_id: str, case: Case | None, level: str, reason: str, excerpt: str) -> int:
        """Store a risk alert; return its id."""
        ...

    def add_handoff(self, conversation_id: str, channel: str, case: Case | None) -> None:
        """Store a request for a human."""
        ...

    def link_crisis_alerts(self, case: Case) -> list[tuple[int, str, str | None]]:
        """Attach the conversation's recent crisis alerts to a new case: (id, reason, kind) each."""
        ...

    def after_filing(self, case: Case) -> None:
        """Raise the centre's early warnings a new case brings (red risk, repeat, hotspot)."""
        ...


# ---------------------------------------------------------------- SQL implementation


class SqlCases:
    """Cases in one session."""

    def __init__(self, session: Session) -> None:
        """Bind to the unit of work's session."""
        self._session = session

    def get(self, case_number: str, owner: str | None = None, *, lock: bool = True) -> Case:
        """Return the case (locked unless ``lock`` is False); CaseNotFound if absent or not the owner's."""
        q = select(Case).where(Case.case_number == case_number.strip().upper())
        case = self._session.execute(q.with_for_update() if lock else q).scalar()
        if case is None or (owner is not None and case.channel_user_id != owner):
            raise CaseNotFound(case_number)
        return case

    def by_id(self, case_id: int, *, lock: bool = True) -> Case:
        """Return the case with this row id."""
        q = select(Case).where(Case.id == case_id)
        return self._session.execute(q.with_for_update() if lock else q).scalar_one()

    def by_idempotency_key(self, key: str) -> Case | None:
        """Return the case a filing with this key created, if any."""
        return self._session.execute(select(Case).where(Case.idempotency_key == key)).scalar()

    def newest_open(self, *, owner: str | None = None, channel: str | None = None,
                    conversation_id: str | None = None) -> Case | None:
        """Return the newest case not closed, of a channel user or of a conversation."""
        from routing.cases.values import CLOSED_STATUSES

        q = select(Case).where(Case.status.not_in(sorted(CLOSED_STATUSES)))
        if owner is not None:
            q = q.where(Case.channel_user_id == owner)
        if channel is not None:
            q = q.where(Case.channel == channel)
        if conversation_id is not None:
            q = q.where(Case.conversation_id == conversation_id)
        return self._session.execute(q.order_by(Case.id.desc()).limit(1)).scalar()

    def of_user(self, channel: str, owner: str, limit: int) -> list[Case]:
        """Return a channel user's cases, newest first."""
        return list(self._session.execute(
            select(Case).where(Case.channel == channel, Case.channel_user_id == owner)
            .order_by(Case.id.desc()).limit(limit)).scalars())

    def next_number(self, year: int) -> str:
        """Issue the next number of ``year`` atomically on SQLite and PostgreSQL."""
        from routing.cases.numbers import format_case_number

        bumped = self._session.execute(
            update(CaseCounter).where(CaseCounter.year == year)
            .values(last=CaseCounter.last + 1).returning(CaseCounter.last)).scalar()
        if bumped is None:
            try:
                with self._session.begin_nested():
                    self._session.execute(insert(CaseCounter).values(year=year, last=1))
                bumped = 1
            except IntegrityError:
                return self.next_number(year)
        return format_case_number(year, bumped)

    def add(self, case: Case) -> None:
        """Insert the case and flush (DuplicateCase when the idempotency key is taken)."""
        self._session.add(case)
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise DuplicateCase(case.idempotency_key) from exc


class SqlClocks:
    """Clock rows in one session."""

    def __init__(self, session: Session) -> None:
        """Bind to the unit of work's session."""
        self._session = session

    def of_case(self, case: Case) -> list[CaseClock]:
        """Return the case's clocks, oldest first."""
        return clock_store.clocks_of(self._session, case.id)

    def add(self, row: CaseClock) -> None:
        """Insert a clock row."""
        self._session.add(row)
        self._session.flush()

    def get(self, clock_id: int) -> CaseClock | None:
        """Return one clock row, locked."""
        return self._session.get(CaseClock, clock_id, with_for_update=True)

    def due(self, as_of: date, near_days: int) -> list[clock_store.DueClock]:
        """Return the clocks the sweep must look at."""
        return clock_store.due_clocks(self._session, as_of, near_days)


class SqlEvents:
    """The event writer over ``case_events`` (``routing.persistence.events``)."""

    def __init__(self, session: Session) -> None:
        """Bind to the unit of work's session."""
        self._session = session

    def append(self, case: Case, events: Iterable[Event]) -> None:
        """Append events to the case."""
        append_events(self._session, case, events)

    def of_case(self, case: Case) -> list[Event]:
        """Return the case's events in order."""
        rows = self._session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars()
        return to_domain(rows, case.case_number)

    def count(self, case: Case) -> int:
        """Return how many events the case has."""
        return int(self._session.execute(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).scalar() or 0)


class SqlUnitOfWork:
    """One session and one transaction; ``commit`` once, or everything is rolled back."""

    session: Session
    cases: SqlCases
    clocks: SqlClocks
    events: SqlEvents
    reception: SqlReceptionRepository
    workload: SessionWorkload

    def __init__(self, sessions: sessionmaker, after_filing: Sequence[FilingHook] = ()) -> None:
        """Bind to the case database's session factory.

        Args:
            sessions: the case database's session factory.
            after_filing: what runs inside a filing's transaction once the case is stored (the
                centre's early warnings); given by the composition root, so that the use cases
                never import the applications built on them.
        """
        self._sessions = sessions
        self._after_filing = tuple(after_filing)

    def __enter__(self) -> Self:
        self.session = self._sessions()
        self.session.begin()
        self.cases = SqlCases(self.session)
        self.clocks = SqlClocks(self.session)
        self.events = SqlEvents(self.session)
        self.reception = SqlReceptionRepository(self.session)
        self.workload = SessionWorkload(self.session)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        """Commit the transaction."""
        self.session.commit()

    def petition_ref(self, case: Case, orgs: Orgs) -> PetitionRef:
        """Describe a case for repeat detection."""
        return petition_ref(self.session, case, orgs)

    def earlier_petitions(self, case: Case, orgs: Orgs) -> Sequence[PetitionRef]:
        """Return the other cases of the case's channel user, newest first."""
        return SqlPetitionHistory(self.session, orgs, exclude_case_id=case.id,
                                  phone_index=phone_index(case.contact_phone)).petitions_of(case.channel_user_id)

    def add_alert(self, conversation_id: str, case: Case | None, level: str, reason: str, excerpt: str) -> int:
        """Store a risk alert; return its id."""
        alert = Alert(conversation_id=conversation_id, case_id=case.id if case else None, level=level,
                      reason=reason, excerpt=excerpt)
        self.session.add(alert)
        self.session.flush()
        return alert.id

    def add_handoff(self, conversation_id: str, channel: str, case: Case | None) -> None:
        """Store a request for a human."""
        self.session.add(HandoffRequest(conversation_id=conversation_id, channel=channel,
                                        case_id=case.id if case else None))

    def link_crisis_alerts(self, case: Case) -> list[tuple[int, str, str | None]]:
        """Attach the conversation's recent crisis alerts (the danger check's) to a new case."""
        from routing.cases.alerts import link_open_alerts

        return [(a.id, a.reason, a.kind) for a in link_open_alerts(self.session, case)]

    def after_filing(self, case: Case) -> None:
        """Run the filing hooks in the filing's transaction (see ``__init__``)."""
        if not self._after_filing:
            return
        self.session.flush()
        for hook in self._after_filing:
            hook(self.session, case)


def sql_units_of_work(sessions: sessionmaker, after_filing: Sequence[FilingHook] = ()) -> Callable[[], UnitOfWork]:
    """Return a function that opens a SQL unit of work on ``sessions`` (with the filing hooks)."""
    return lambda: SqlUnitOfWork(sessions, after_filing)
