"""``routing.cases.ports.ReceptionRepository`` over the reception tables, plus 包案 records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.cases.reception_days import BaoAn, Booking, ReceptionDay
from routing.persistence.life_tables import BaoAnRow, ReceptionBookingRow, ReceptionDayRow


def day_of(row: ReceptionDayRow) -> ReceptionDay:
    """Return the domain day of a row."""
    return ReceptionDay(id=row.id, leader=row.leader, date=row.date, place=row.place, division=row.division,
                        topics=tuple(row.topics or ()), capacity=row.capacity,
                        departments=tuple(row.departments or ()), start=row.start, status=row.status)


def booking_of(row: ReceptionBookingRow) -> Booking:
    """Return the domain booking of a row."""
    return Booking(id=row.id, day_id=row.day_id, case_id=row.case_number, citizen_id=row.citizen_id,
                   representatives=row.representatives, status=row.status)


class SqlReceptionRepository:
    """Reception days and bookings in one session (the caller commits)."""

    def __init__(self, session: Session) -> None:
        """Bind to an open session."""
        self._session = session

    def days_between(self, start: date, end: date) -> Sequence[ReceptionDay]:
        """Return the days in the range, inclusive, by date then id."""
        rows = self._session.execute(
            select(ReceptionDayRow).where(ReceptionDayRow.date >= start, ReceptionDayRow.date <= end)
            .order_by(ReceptionDayRow.date, ReceptionDayRow.id)).scalars()
        return [day_of(r) for r in rows]

    def day(self, day_id: str) -> ReceptionDay | None:
        """Return one day, or None."""
        row = self._session.get(ReceptionDayRow, day_id)
        return day_of(row) if row else None

    def bookings_for_day(self, day_id: str, *, lock: bool = False) -> Sequence[Booking]:
        """Return the bookings of one day (``lock``: lock the day row first, to count places safely)."""
        if lock:
            self._session.execute(select(ReceptionDayRow.id).where(ReceptionDayRow.id == day_id).with_for_update())
        rows = self._session.execute(
            select(ReceptionBookingRow).where(ReceptionBookingRow.day_id == day_id)
            .order_by(ReceptionBookingRow.created_at, ReceptionBookingRow.id)).scalars()
        return [booking_of(r) for r in rows]

    def booking(self, booking_id: str) -> Booking | None:
        """Return one booking, or None."""
        row = self._session.get(ReceptionBookingRow, booking_id)
        return booking_of(row) if row else None

    def bookings_for_case(self, case_number: str) -> list[Booking]:
        """Return a case's bookings, oldest first."""
        rows = self._session.execute(
            select(ReceptionBookingRow).where(ReceptionBookingRow.case_number == case_number)
            .order_by(ReceptionBookingRow.created_at, ReceptionBookingRow.id)).scalars()
        return [booking_of(r) for r in rows]

    def save_day(self, day: ReceptionDay) -> None:
        """Insert or replace a day."""
        row = self._session.get(ReceptionDayRow, day.id) or ReceptionDayRow(id=day.id)
        row.leader, row.date, row.start, row.place = day.leader, day.date, day.start, day.place
        row.division, row.topics, row.capacity = day.division, list(day.topics), day.capacity
        row.departments, row.status = list(day.departments), day.status
        self._session.add(row)
        self._session.flush()

    def save_booking(self, booking: Booking) -> None:
        """Insert or replace a booking."""
        row = self._session.get(ReceptionBookingRow, booking.id) or ReceptionBookingRow(id=booking.id)
        row.day_id, row.case_number, row.citizen_id = booking.day_id, booking.case_id, booking.citizen_id
        row.representatives, row.status = booking.representatives, booking.status
        self._session.add(row)
        self._session.flush()

    def unreminded_bookings(self, start: date, end: date) -> list[Booking]:
        """Return booked, not yet reminded bookings on days in the range."""
        rows = self._session.execute(
            select(ReceptionBookingRow).join(ReceptionDayRow, ReceptionDayRow.id == ReceptionBookingRow.day_id)
            .where(ReceptionBookingRow.status == "booked", ReceptionBookingRow.reminded_at.is_(None),
                   ReceptionDayRow.date >= start, ReceptionDayRow.date <= end)
            .order_by(ReceptionDayRow.date, ReceptionBookingRow.id)).scalars()
        return [booking_of(r) for r in rows]

    def mark_reminded(self, booking_id: str, at: datetime) -> None:
        """Note that the booking's reminder was sent (it is not sent again)."""
        row = self._session.get(ReceptionBookingRow, booking_id)
        if row is not None:
            row.reminded_at = at

    def save_baoan(self, baoan: BaoAn, booking_id: str | None = None) -> None:
        """Insert a 包案 record, or update the open one of the same case and leader."""
        row = self._session.execute(
            select(BaoAnRow).where(BaoAnRow.case_number == baoan.case_id, BaoAnRow.leader == baoan.leader,
                                   BaoAnRow.closed_on.is_(None))).scalar()
        if row is None:
            row = BaoAnRow(case_number=baoan.case_id, leader=baoan.leader, booking_id=booking_id)
        row.taken_on, row.target_date, row.closed_on = baoan.taken_on, baoan.target_date, baoan.closed_on
        self._session.add(row)
        self._session.flush()

    def open_baoan(self, case_number: str | None = None) -> list[BaoAn]:
        """Return open 包案 (of one case, or all)."""
        q = select(BaoAnRow).where(BaoAnRow.closed_on.is_(None))
        if case_number is not None:
            q = q.where(BaoAnRow.case_number == case_number)
        return [BaoAn(r.case_number, r.leader, r.taken_on, r.target_date, r.closed_on)
                for r in self._session.execute(q.order_by(BaoAnRow.id)).scalars()]
