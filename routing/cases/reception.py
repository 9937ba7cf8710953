"""Leaders' reception days (浦江经验) for a case: offer, book, cancel, move, receive, 包案, reminders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from routing.cases import reception_days as rec
from routing.cases import statuses
from routing.cases.events import citizen_actor
from routing.cases.steps import CaseContext, finish, load, move
from routing.cases.uow import UnitOfWork
from routing.cases.values import CaseView
from routing.persistence.case_tables import Case


@dataclass(frozen=True, slots=True)
class SlotOffers:
    """Whether the case is eligible for a leader's reception day, and the open days offered."""

    eligibility: rec.Eligibility
    offers: tuple[rec.SlotOffer, ...]


@dataclass(frozen=True, slots=True)
class BookingResult:
    """A booking and the case after it."""

    booking: rec.Booking
    day: rec.ReceptionDay
    view: CaseView


def _booking_id() -> str:
    return f"bk-{uuid.uuid4().hex[:12]}"


def publish_day(uow: UnitOfWork, ctx: CaseContext, day: rec.ReceptionDay, actor: str) -> rec.ReceptionDay:
    """Publish (or re-publish) a leader's reception day."""
    published, _ev = rec.publish_day(day, today=ctx.today(), actor=actor)
    uow.reception.save_day(published)
    return published


def offer_slots(uow: UnitOfWork, ctx: CaseContext, case_number: str, *, owner: str | None = None,
                citizen_asks: bool = False, complex_matter: bool = False, departments: int = 1,
                horizon_days: int = 60, limit: int = 3) -> SlotOffers:
    """Offer the next open reception days that fit the case, if the case is eligible (read only).

    Eligible (浦江经验): complex, open 6 months or more, repeated (2+ linked petitions), several
    departments, or the citizen asks (also when a ``leader_requested`` event is on the case).
    Days match the case's specialty or category and lie on its division path.
    """
    orgs = ctx.orgs()
    today = ctx.today()
    case = uow.cases.get(case_number, owner, lock=False)
    kinds = [e.kind for e in uow.events.of_case(case)]
    months = (today - case.created_at.date()).days // 30
    elig = rec.eligibility(complex_matter=complex_matter, months_open=months,
                           previous_petitions=kinds.count("repeat_linked"), departments=departments,
                           citizen_asks=citizen_asks or "leader_requested" in kinds)
    if not elig.eligible:
        return SlotOffers(elig, ())
    days = uow.reception.days_between(today + timedelta(days=1), today + timedelta(days=horizon_days))
    bookings = {d.id: uow.reception.bookings_for_day(d.id) for d in days}
    places = ctx.places()
    code = case.location_code
    path = [d.code for d in places.path(code)] if code and code in places else []  # type: ignore[operator]
    topics = [t for t in (orgs.specialty_of(case.dispute_type), case.category) if t]
    return SlotOffers(elig, tuple(rec.offer_slots(days, bookings, today=today, topics=topics, divisions=path,
                                                  limit=limit)))


def _day(uow: UnitOfWork, day_id: str) -> rec.ReceptionDay:
    day = uow.reception.day(day_id)
    if day is None:
        raise rec.ReceptionError(f"unknown reception day {day_id}")
    return day


def book(uow: UnitOfWork, ctx: CaseContext, case_number: str, day_id: str, *, representatives: int = 1,
         owner: str | None = None, actor: str | None = None) -> BookingResult:
    """Book the case onto a reception day (status 预约接访; at most 5 representatives, 第二十条).

    Raises:
        TooManyRepresentatives, DayFull, ReceptionError: the booking is refused.
        TransitionError: the case's status does not allow a booking.
    """
    case = load(uow, case_number, owner)
    day = _day(uow, day_id)
    who = actor or citizen_actor(case.channel_user_id)
    statuses.transition(case.status, "book_reception", who)  # refuse early, before counting places
    booking, ev_book = rec.book(day, uow.reception.bookings_for_day(day_id, lock=True), booking_id=_booking_id(),
                                case_id=case.case_number, citizen_id=case.channel_user_id,
                                representatives=representatives, today=ctx.today(), at=ctx.now())
    ev = move(uow, ctx, case, "book_reception", who, rec.ART_RECEPTION, {"booking_id": booking.id, "day_id": day.id})
    uow.reception.save_booking(booking)
    return BookingResult(booking, day, finish(uow, case, [ev, ev_book]))


def active_booking(uow: UnitOfWork, case: Case, booking_id: str | None = None) -> rec.Booking:
    """Return the case's booking that is still ``booked`` (the given one, or the newest)."""
    booked = [b for b in uow.reception.bookings_for_case(case.case_number) if b.status == "booked"]
    if booking_id:
        booked = [b for b in booked if b.id == booking_id]
    if not booked:
        raise rec.ReceptionError(f"{case.case_number} has no active reception booking")
    return booked[-1]


def booked_day_ids(uow: UnitOfWork, case_number: str, *, owner: str | None = None) -> set[str]:
    """Return the reception days the case is currently booked on (read only)."""
    case = uow.cases.get(case_number, owner, lock=False)
    return {b.day_id for b in uow.reception.bookings_for_case(case.case_number) if b.status == "booked"}


def cancel(uow: UnitOfWork, ctx: CaseContext, case_number: str, reason: str, *, actor: str | None = None,
           owner: str | None = None, booking_id: str | None = None) -> CaseView:
    """Cancel the case's booking (its place is freed; the case goes back to 办理)."""
    case = load(uow, case_number, owner)
    who = actor or citizen_actor(case.channel_user_id)
    booking = active_booking(uow, case, booking_id)
    statuses.transition(case.status, "cancel_reception", who, reason)
    cancelled, ev_cancel = rec.cancel(booking, who, reason)
    ev = move(uow, ctx, case, "cancel_reception", who, reason, {"booking_id": booking.id})
    uow.reception.save_booking(cancelled)
    return finish(uow, case, [ev, ev_cancel])


def reschedule(uow: UnitOfWork, ctx: CaseContext, case_number: str, new_day_id: str, *, actor: str | None = None,
               owner: str | None = None) -> BookingResult:
    """Move the case's booking to another day (the new place is taken before the old is freed)."""
    case = load(uow, case_number, owner)
    who = actor or citizen_actor(case.channel_user_id)
    booking = active_booking(uow, case)
    day = _day(uow, new_day_id)
    statuses.transition(case.status, "reschedule_reception", who)
    old, new, evs = rec.reschedule(booking, day, uow.reception.bookings_for_day(new_day_id, lock=True),
                                   new_booking_id=_booking_id(), actor=who, today=ctx.today())
    ev = move(uow, ctx, case, "reschedule_reception", who, "", {"from": booking.id, "to": new.id})
    uow.reception.save_booking(old)
    uow.reception.save_booking(new)
    return BookingResult(new, day, finish(uow, case, [ev, *evs]))


def record_reception(uow: UnitOfWork, ctx: CaseContext, booking_id: str, *, notes: str, actor: str,
                     take_charge: bool = False, target_date: date | None = None) -> CaseView:
    """Record the reception; the leader may take the case in charge (包案) until a target date."""
    booking = uow.reception.booking(booking_id)
    if booking is None:
        raise rec.ReceptionError(f"unknown booking {booking_id}")
    day = _day(uow, booking.day_id)
    case = load(uow, booking.case_id)
    statuses.transition(case.status, "record_reception", actor)
    received, evs, baoan = rec.record_reception(booking, day, notes=notes, actor=actor, on=ctx.today(),
                                                take_charge=take_charge, target_date=target_date)
    ev = move(uow, ctx, case, "record_reception", actor, notes, {"booking_id": booking.id})
    uow.reception.save_booking(received)
    if baoan is not None:
        uow.reception.save_baoan(baoan, booking_id=booking.id)
    return finish(uow, case, [ev, *evs])


def close_baoan(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str) -> list[rec.BaoAn]:
    """Close the case's open 包案 once it is resolved (on time or late is recorded)."""
    case = load(uow, case_number)
    closed, events = [], []
    for b in uow.reception.open_baoan(case.case_number):
        done, ev = rec.close_baoan(b, case_status=case.status, on=ctx.today(), actor=actor)
        uow.reception.save_baoan(done)
        closed.append(done)
        events.append(ev)
    finish(uow, case, events)
    return closed


def overdue_baoan(uow: UnitOfWork, ctx: CaseContext) -> list[rec.BaoAn]:
    """Open 包案 past their target date (for the centre's supervision; read only)."""
    return rec.overdue_baoan(uow.reception.open_baoan(), ctx.today())


def send_reminders(uow: UnitOfWork, ctx: CaseContext, now: datetime | None = None, hours_before: int = 24) -> int:
    """Write a ``reception_reminder`` event for each booked day starting within ``hours_before`` (once)."""
    now = now or ctx.now()
    local = now.astimezone(rec.CST).date()
    pending = uow.reception.unreminded_bookings(local - timedelta(days=1),
                                                local + timedelta(days=hours_before // 24 + 1))
    days = {b.day_id: uow.reception.day(b.day_id) for b in pending}
    sent = 0
    for ev in rec.due_reminders(pending, {k: v for k, v in days.items() if v is not None}, now, hours_before):
        uow.events.append(load(uow, ev.case_id), [ev])
        uow.reception.mark_reminded(ev.payload["booking_id"], now)
        sent += 1
    return sent
