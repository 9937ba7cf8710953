"""Pujiang reception days (浦江经验: 领导干部下访接访; 信访工作条例 第十八条).

Leaders publish days; eligible cases are offered slots and booked (a group sends at most five
representatives, 信访工作条例 第二十条); bookings are reminded, cancelled, rescheduled and
recorded; a leader may take a case in charge (包案) and it is tracked to closure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from routing.cases.events import SYSTEM_ACTOR, Event, make_event

MAX_REPRESENTATIVES = 5  # 信访工作条例 第二十条第三款
ART_RECEPTION = "信访工作条例 第十八条"
ART_REPRESENTATIVES = "信访工作条例 第二十条第三款"
DEMO_FILE = Path(__file__).parents[1] / "data" / "orgs" / "reception_days.yaml"
CLOSED_STATUSES = frozenset({"resolved", "follow_up", "archived", "withdrawn"})
CST = timezone(timedelta(hours=8))


class ReceptionError(ValueError):
    """A reception-day request that cannot be honoured."""


class TooManyRepresentatives(ReceptionError):
    """A group asked for more than five representatives (信访工作条例 第二十条)."""


class DayFull(ReceptionError):
    """No capacity left on the reception day."""


@dataclass(frozen=True, slots=True)
class ReceptionDay:
    """A published reception day."""

    id: str
    leader: str
    date: date
    place: str
    division: str
    topics: tuple[str, ...]
    capacity: int
    departments: tuple[str, ...] = ()
    start: str = "09:00"
    status: str = "published"  # published | cancelled

    @property
    def starts_at(self) -> datetime:
        """Start time of the day (China Standard Time)."""
        return datetime.combine(self.date, time.fromisoformat(self.start), CST)


@dataclass(frozen=True, slots=True)
class Booking:
    """A case booked onto a reception day."""

    id: str
    day_id: str
    case_id: str
    citizen_id: str
    representatives: int = 1
    status: str = "booked"  # booked | cancelled | rescheduled | received


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Whether a case is offered a reception slot, and why."""

    eligible: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SlotOffer:
    """An open day with the places left."""

    day: ReceptionDay
    remaining: int


@dataclass(frozen=True, slots=True)
class BaoAn:
    """A leader has taken a case in charge (包案) until it is closed."""

    case_id: str
    leader: str
    taken_on: date
    target_date: date
    closed_on: date | None = None

    @property
    def open(self) -> bool:
        """True until the case is closed."""
        return self.closed_on is None


def publish_day(day: ReceptionDay, *, today: date, actor: str) -> tuple[ReceptionDay, Event]:
    """Validate and publish a reception day.

    Raises:
        ReceptionError: missing leader or place, no capacity, or a date in the past.
    """
    if not day.leader.strip() or not day.place.strip():
        raise ReceptionError("a reception day needs a leader and a place")
    if day.capacity <= 0:
        raise ReceptionError("capacity must be positive")
    if day.date < today:
        raise ReceptionError("a reception day cannot be published in the past")
    published = replace(day, status="published")
    return published, make_event("reception_day_published", actor, f"{day.leader}接访日",
                                 payload={"day_id": day.id, "date": day.date.isoformat(),
                                          "departments": list(day.departments)})


def load_demo_days(path: Path = DEMO_FILE) -> list[ReceptionDay]:
    """Read the demo reception days from YAML."""
    import yaml  # lazy

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [ReceptionDay(id=str(d["id"]), leader=str(d["leader"]), date=d["date"], place=str(d["place"]),
                         division=str(d["division"]), topics=tuple(d.get("topics", ())),
                         capacity=int(d["capacity"]), departments=tuple(d.get("departments", ())),
                         start=str(d.get("start", "09:00")))
            for d in raw.get("days", [])]


def eligibility(*, complex_matter: bool = False, months_open: int = 0, previous_petitions: int = 0,
                departments: int = 1, citizen_asks: bool = False) -> Eligibility:
    """Decide whether a case is offered a leader's reception slot.

    Args:
        complex_matter: staff or the classifier marked it complex.
        months_open: how long the matter has been open (long-standing from 6 months).
        previous_petitions: earlier petitions on the same matter (repeated from 2).
        departments: departments involved (several from 2).
        citizen_asks: the citizen asked to see a leader.

    Returns:
        The decision with Chinese reasons.
    """
    reasons = [label for cond, label in (
        (complex_matter, "情况复杂"), (months_open >= 6, "长期未解决"),
        (previous_petitions >= 2, "重复反映"), (departments >= 2, "涉及多个部门"),
        (citizen_asks, "本人要求面见领导")) if cond]
    return Eligibility(bool(reasons), tuple(reasons))


# A booking takes its place on the day until it is cancelled or moved (a received one keeps it).
TAKING_PLACE: frozenset[str] = frozenset({"booked", "received"})


def _active(bookings: Iterable[Booking]) -> list[Booking]:
    return [b for b in bookings if b.status in TAKING_PLACE]


def remaining(day: ReceptionDay, bookings: Iterable[Booking]) -> int:
    """Places left on a day (each booking takes one place, whatever its group size)."""
    return day.capacity - len(_active(bookings))


def offer_slots(days: Iterable[ReceptionDay], bookings: Mapping[str, Sequence[Booking]], *,
                today: date, topics: Iterable[str] = (), divisions: Iterable[str] = (),
                limit: int = 3) -> list[SlotOffer]:
    """Offer the next open days that match the case's topics and place.

    Args:
        days: published days.
        bookings: bookings per day id.
        today: days before or on today are not offered.
        topics: the case's specialty / category codes (any match; empty matches all).
        divisions: the case's division path codes (a day's division must be on it; empty: any).
        limit: how many offers.
    """
    wanted, path = set(topics), set(divisions)
    offers = []
    for day in sorted(days, key=lambda d: (d.date, d.id)):
        if day.status != "published" or day.date <= today:
            continue
        if (wanted and not wanted & set(day.topics)) or (path and day.division not in path):
            continue
        left = remaining(day, bookings.get(day.id, ()))
        if left > 0:
            offers.append(SlotOffer(day, left))
    return offers[:limit]


def book(day: ReceptionDay, day_bookings: Sequence[Booking], *, booking_id: str, case_id: str,
         citizen_id: str, representatives: int = 1, today: date,
         at: datetime | None = None) -> tuple[Booking, Event]:
    """Book a case onto a reception day.

    Raises:
        TooManyRepresentatives: more than five representatives (信访工作条例 第二十条第三款).
        DayFull: no places left.
        ReceptionError: the day is cancelled or past, or the case is already booked that day.
    """
    if representatives < 1:
        raise ReceptionError("at least one person attends")
    if representatives > MAX_REPRESENTATIVES:
        raise TooManyRepresentatives(
            f"多人走访应推选代表，代表人数不得超过{MAX_REPRESENTATIVES}人（{ART_REPRESENTATIVES}）")
    if day.status != "published" or day.date <= today:
        raise ReceptionError("this reception day is not open for booking")
    if any(b.case_id == case_id for b in _active(day_bookings)):
        raise ReceptionError("the case is already booked on this day")
    if remaining(day, day_bookings) <= 0:
        raise DayFull(f"{day.date.isoformat()} {day.leader}接访日已约满")
    booking = Booking(booking_id, day.id, case_id, citizen_id, representatives)
    return booking, make_event("reception_booked", citizen_id, ART_RECEPTION, case_id=case_id, at=at,
                               payload={"booking_id": booking_id, "day_id": day.id,
                                        "date": day.date.isoformat(), "place": day.place,
                                        "representatives": representatives})


def due_reminders(bookings: Iterable[Booking], days: Mapping[str, ReceptionDay], now: datetime,
                  hours_before: int = 24) -> list[Event]:
    """Return ``reception_reminder`` events for booked days starting within ``hours_before``."""
    events = []
    for b in bookings:
        day = days.get(b.day_id)
        if b.status != "booked" or day is None or day.status != "published":
            continue
        if now <= day.starts_at <= now + timedelta(hours=hours_before):
            events.append(make_event("reception_reminder", SYSTEM_ACTOR, "接访提醒", case_id=b.case_id,
                                     at=now, payload={"booking_id": b.id, "day_id": day.id,
                                                      "starts_at": day.starts_at.isoformat(),
                                                      "place": day.place, "leader": day.leader}))
    return events


def cancel(booking: Booking, actor: str, reason: str) -> tuple[Booking, Event]:
    """Cancel a booking (its place is freed).

    Raises:
        ReceptionError: not booked, or no reason.
    """
    if booking.status != "booked":
        raise ReceptionError(f"booking {booking.id} is {booking.status}, not booked")
    if not reason.strip():
        raise ReceptionError("a cancellation needs a reason")
    return replace(booking, status="cancelled"), make_event(
        "reception_cancelled", actor, reason, case_id=booking.case_id,
        payload={"booking_id": booking.id, "day_id": booking.day_id})


def reschedule(booking: Booking, new_day: ReceptionDay, new_day_bookings: Sequence[Booking], *,
               new_booking_id: str, actor: str, today: date) -> tuple[Booking, Booking, list[Event]]:
    """Move a booking to another day: the new place is taken first, then the old one freed.

    Returns:
        The old booking (``rescheduled``), the new booking and the events.
    """
    if booking.status != "booked":
        raise ReceptionError(f"booking {booking.id} is {booking.status}, not booked")
    new, ev = book(new_day, new_day_bookings, booking_id=new_booking_id, case_id=booking.case_id,
                   citizen_id=booking.citizen_id, representatives=booking.representatives, today=today)
    moved = make_event("reception_rescheduled", actor, "", case_id=booking.case_id,
                       payload={"from_booking": booking.id, "to_booking": new.id, "day_id": new_day.id})
    return replace(booking, status="rescheduled"), new, [ev, moved]


def record_reception(booking: Booking, day: ReceptionDay, *, notes: str, actor: str, on: date,
                     take_charge: bool = False, target_date: date | None = None,
                     ) -> tuple[Booking, list[Event], BaoAn | None]:
    """Record what happened at the reception; optionally the leader takes the case in charge (包案).

    Raises:
        ReceptionError: not booked, no notes, or 包案 without a target date.
    """
    if booking.status != "booked":
        raise ReceptionError(f"booking {booking.id} is {booking.status}, not booked")
    if not notes.strip():
        raise ReceptionError("the reception record needs notes")
    events = [make_event("reception_recorded", actor, notes, case_id=booking.case_id,
                         payload={"booking_id": booking.id, "leader": day.leader,
                                  "departments": list(day.departments)})]
    baoan = None
    if take_charge:
        if target_date is None or target_date < on:
            raise ReceptionError("包案 needs a target date on or after the reception")
        baoan = BaoAn(booking.case_id, day.leader, on, target_date)
        events.append(make_event("baoan_taken", actor, f"{day.leader}包案", case_id=booking.case_id,
                                 payload={"leader": day.leader, "target_date": target_date.isoformat()}))
    return replace(booking, status="received"), events, baoan


def close_baoan(baoan: BaoAn, *, case_status: str, on: date, actor: str) -> tuple[BaoAn, Event]:
    """Close a 包案 once its case is resolved.

    Raises:
        ReceptionError: already closed, or the case is still open.
    """
    if not baoan.open:
        raise ReceptionError("包案 already closed")
    if case_status not in CLOSED_STATUSES:
        raise ReceptionError(f"包案 cannot close while the case is {case_status}")
    return replace(baoan, closed_on=on), make_event(
        "baoan_closed", actor, "", case_id=baoan.case_id,
        payload={"leader": baoan.leader, "on_time": on <= baoan.target_date})


def overdue_baoan(baoans: Iterable[BaoAn], as_of: date) -> list[BaoAn]:
    """Return open 包案 past their target date (for the centre's supervision)."""
    return [b for b in baoans if b.open and as_of > b.target_date]
