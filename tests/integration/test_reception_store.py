"""Pujiang reception days in the store (浦江经验), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fengqiao.seed import demo_days, seed_reception_days
from routing.cases.reception_days import (
    CST,
    DayFull,
    ReceptionDay,
    ReceptionError,
    TooManyRepresentatives,
)
from routing.cases.statuses import TransitionError
from routing.persistence.life_tables import BaoAnRow, ReceptionDayRow
from tests.integration.case_life_support import Stack, make_stack

NEIGHBOUR = "隔壁邻居把围墙砌到我家门口，车开不进去，商量几次都不肯拆。"
PLACE = "诸暨市枫桥镇枫源村"
ZHUJI_DAY = "zj-2026-05-14"  # 诸暨市委副书记, 枫桥镇, 14:00, capacity 6


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    seed_reception_days(database_url)
    s = make_stack(database_url)
    yield s
    s.engine.dispose()  # type: ignore[attr-defined]


def test_seeding_demo_days_is_idempotent(stack: Stack, database_url: str) -> None:
    """`fengqiao db seed` loads reception_days.yaml once; a second run adds nothing."""
    assert seed_reception_days(database_url) == 0
    with stack.life._sessions() as session:
        # the three published days plus their recurrences over the coming eight weeks
        expected = len(demo_days(date.today()))
        assert expected > 3
        assert session.execute(select(func.count()).select_from(ReceptionDayRow)).scalar_one() == expected


def test_only_eligible_cases_are_offered_matching_days(stack: Stack) -> None:
    """浦江经验 (信访工作条例 第十八条): slots for cases that need a leader; days on the case's place."""
    number = stack.file(NEIGHBOUR, PLACE)
    plain = stack.life.offer_slots_for_case(number)
    assert not plain.eligibility.eligible and plain.offers == ()
    asked = stack.life.offer_slots_for_case(number, citizen_asks=True)
    assert asked.eligibility.reasons == ("本人要求面见领导",)
    # the 浦江 days are on another county's path; only the 枫桥 day fits
    assert [o.day.id for o in asked.offers] == [ZHUJI_DAY]
    assert asked.offers[0].remaining == 6


def test_book_reschedule_cancel_and_record_with_baoan(stack: Stack) -> None:
    """信访工作条例 第二十条第三款 (at most 5 representatives); booking, moving, cancelling, 包案."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.publish_day(ReceptionDay(id="zj-2026-05-21", leader="诸暨市市长", date=date(2026, 5, 21),
                                        place="枫桥镇社会治理中心", division="330681104000",
                                        topics=("general",), capacity=2), actor="office")
    with pytest.raises(TooManyRepresentatives):
        stack.life.book_slot(number, ZHUJI_DAY, representatives=6)
    booked = stack.life.book_slot(number, ZHUJI_DAY, representatives=5)
    assert booked.view.status == "reception_booked" and booked.booking.representatives == 5
    moved = stack.life.reschedule_booking(number, "zj-2026-05-21")
    assert moved.day.id == "zj-2026-05-21" and moved.view.status == "reception_booked"
    assert stack.life.offer_slots_for_case(number, citizen_asks=True).offers[0].remaining == 6  # old place freed
    cancelled = stack.life.cancel_booking(number, "群众临时有事")
    assert cancelled.status == "handling"
    again = stack.life.book_slot(number, "zj-2026-05-21")
    stack.today.day = date(2026, 5, 21)
    view = stack.life.record_reception(again.booking.id, notes="领导听取诉求，责成镇里两周内拆除围墙",
                                       actor="诸暨市市长", take_charge=True, target_date=date(2026, 6, 5))
    assert view.status == "handling"
    with stack.life._sessions() as session:
        row = session.execute(select(BaoAnRow)).scalar_one()
        assert row.case_number == number and row.target_date == date(2026, 6, 5) and row.closed_on is None
    stack.today.day = date(2026, 6, 8)
    assert [b.case_id for b in stack.life.overdue_baoan()] == [number]
    with pytest.raises(ReceptionError):
        stack.life.close_baoan(number, "office")  # still open
    stack.life.resolve(number, "m-1", agreement=True, notes="围墙已拆除")
    closed = stack.life.close_baoan(number, "office")
    assert closed[0].closed_on == date(2026, 6, 8)
    kinds = [e.kind for e in stack.life.audit(number)]
    for kind in ("reception_booked", "reception_rescheduled", "reception_cancelled", "reception_recorded",
                 "baoan_taken", "baoan_closed"):
        assert kind in kinds


def test_a_full_day_refuses_more_bookings(stack: Stack) -> None:
    """Capacity is a hard limit (浦江经验: places published in advance)."""
    stack.life.publish_day(ReceptionDay(id="small", leader="枫桥镇镇长", date=date(2026, 5, 20), place="镇政府",
                                        division="330681104000", topics=("general",), capacity=1), actor="office")
    first = stack.file(NEIGHBOUR, PLACE, user="web:first001")
    second = stack.file("楼上每天半夜拖椅子，吵得老人睡不着觉。", PLACE, user="web:second01")
    stack.life.book_slot(first, "small")
    with pytest.raises(DayFull):
        stack.life.book_slot(second, "small")
    assert stack.life.view(second).status == "assigned"


def test_booking_refused_for_a_closed_case(stack: Stack) -> None:
    """The lifecycle refuses a reception booking once the case is withdrawn."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.withdraw(number, "citizen")
    with pytest.raises(TransitionError):
        stack.life.book_slot(number, ZHUJI_DAY)


def test_reminder_is_sent_once_24_hours_before(stack: Stack) -> None:
    """A booked citizen is reminded the day before (once), and the sweep sends it too."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.book_slot(number, ZHUJI_DAY)
    starts = datetime(2026, 5, 14, 14, 0, tzinfo=CST)
    assert stack.life.send_reminders(starts - timedelta(hours=30)) == 0
    assert stack.life.send_reminders(starts - timedelta(hours=20)) == 1
    assert stack.life.send_reminders(starts - timedelta(hours=19)) == 0
    reminders = [e for e in stack.life.audit(number) if e.kind == "reception_reminder"]
    assert len(reminders) == 1 and reminders[0].payload["place"].startswith("枫桥镇")
