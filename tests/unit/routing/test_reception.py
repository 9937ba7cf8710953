"""Pujiang reception days (信访工作条例 第十八条 领导接访、联合接访; 第二十条 ≤5 representatives)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from routing.cases.reception_days import (
    CST,
    DayFull,
    ReceptionError,
    TooManyRepresentatives,
    book,
    cancel,
    close_baoan,
    due_reminders,
    eligibility,
    load_demo_days,
    offer_slots,
    overdue_baoan,
    publish_day,
    record_reception,
    reschedule,
)
from tests.unit.routing.fakes import FakeReceptionRepository

TODAY = date(2026, 5, 6)


@pytest.fixture()
def repo():
    r = FakeReceptionRepository()
    for day in load_demo_days():
        published, _ = publish_day(day, today=TODAY, actor="office")
        r.save_day(published)
    return r


def _bookings(repo):
    return {d.id: repo.bookings_for_day(d.id) for d in repo.days.values()}


def test_publish_validates_art18(repo):
    """信访工作条例 第十八条: a published day has a leader, place, capacity and a future date."""
    day = repo.days["pj-2026-05-12"]
    assert day.departments and day.leader == "浦江县委书记"
    from dataclasses import replace

    with pytest.raises(ReceptionError):
        publish_day(replace(day, capacity=0), today=TODAY, actor="office")
    with pytest.raises(ReceptionError):
        publish_day(replace(day, date=date(2026, 5, 1)), today=TODAY, actor="office")


def test_eligibility_reasons_pujiang():
    """信访工作条例 第十八条: complex, long-standing, repeated, multi-department or asked → offered."""
    assert not eligibility().eligible
    e = eligibility(previous_petitions=2, departments=3, citizen_asks=True)
    assert e.eligible and e.reasons == ("重复反映", "涉及多个部门", "本人要求面见领导")
    assert eligibility(months_open=7).reasons == ("长期未解决",)


def test_offer_slots_by_topic_and_place(repo):
    """信访工作条例 第二十条第一款: offered at the reception place of its own level or the one above."""
    path = ["330000", "330700", "330726", "330726106000", "330726106001"]
    offers = offer_slots(repo.days.values(), _bookings(repo), today=TODAY, topics=["land"], divisions=path)
    assert [o.day.id for o in offers] == ["pj-2026-05-12", "pj-2026-05-19"]
    assert offer_slots(repo.days.values(), _bookings(repo), today=TODAY, topics=["medical"],
                       divisions=path) == []


def test_group_sends_at_most_five_representatives_art20(repo):
    """信访工作条例 第二十条第三款: 代表人数不得超过5人."""
    day = repo.days["pj-2026-05-12"]
    with pytest.raises(TooManyRepresentatives, match="5人"):
        book(day, [], booking_id="b1", case_id="C1", citizen_id="u1", representatives=6, today=TODAY)
    b, ev = book(day, [], booking_id="b1", case_id="C1", citizen_id="u1", representatives=5, today=TODAY)
    assert b.representatives == 5 and ev.kind == "reception_booked"


def test_capacity_and_double_booking(repo):
    """A full day refuses bookings; the same case cannot take two places on one day."""
    day = repo.days["pj-2026-05-19"]  # capacity 6
    for i in range(6):
        b, _ = book(day, repo.bookings_for_day(day.id), booking_id=f"b{i}", case_id=f"C{i}",
                    citizen_id=f"u{i}", today=TODAY)
        repo.save_booking(b)
    with pytest.raises(DayFull):
        book(day, repo.bookings_for_day(day.id), booking_id="bx", case_id="CX", citizen_id="ux", today=TODAY)
    first, _ = book(repo.days["pj-2026-05-12"], [], booking_id="b7", case_id="C0", citizen_id="u0",
                    today=TODAY)
    with pytest.raises(ReceptionError, match="already booked"):
        book(repo.days["pj-2026-05-12"], [first], booking_id="b8", case_id="C0", citizen_id="u0",
             today=TODAY)
    offers = offer_slots(repo.days.values(), _bookings(repo), today=TODAY, topics=["land"])
    assert "pj-2026-05-19" not in [o.day.id for o in offers]


def test_cancel_frees_place_and_reschedule_moves(repo):
    """Cancel and reschedule keep the day's count right and leave events."""
    day, other = repo.days["pj-2026-05-12"], repo.days["pj-2026-05-19"]
    b, _ = book(day, [], booking_id="b1", case_id="C1", citizen_id="u1", today=TODAY)
    repo.save_booking(b)
    old, new, events = reschedule(b, other, [], new_booking_id="b2", actor="u1", today=TODAY)
    assert (old.status, new.day_id) == ("rescheduled", "pj-2026-05-19")
    assert [e.kind for e in events] == ["reception_booked", "reception_rescheduled"]
    with pytest.raises(ReceptionError):
        cancel(new, "u1", "")
    cancelled, ev = cancel(new, "u1", "临时有事")
    assert cancelled.status == "cancelled" and ev.reason == "临时有事"
    with pytest.raises(ReceptionError):
        cancel(cancelled, "u1", "再取消")


def test_reminder_the_day_before(repo):
    """Booked citizens are reminded within 24 hours of the reception."""
    day = repo.days["pj-2026-05-12"]  # 09:00 CST
    b, _ = book(day, [], booking_id="b1", case_id="C1", citizen_id="u1", today=TODAY)
    days = dict(repo.days)
    early = datetime(2026, 5, 10, 9, 0, tzinfo=CST)
    assert due_reminders([b], days, early) == []
    evs = due_reminders([b], days, datetime(2026, 5, 11, 10, 0, tzinfo=CST))
    assert [e.kind for e in evs] == ["reception_reminder"] and evs[0].payload["place"] == day.place
    assert due_reminders([b], days, day.starts_at + timedelta(minutes=1)) == []


def test_record_reception_and_baoan_tracked_to_closure(repo):
    """信访工作条例 第十八条: the leader may take the case in charge (包案) until it is closed."""
    day = repo.days["pj-2026-05-12"]
    b, _ = book(day, [], booking_id="b1", case_id="C1", citizen_id="u1", today=TODAY)
    with pytest.raises(ReceptionError):
        record_reception(b, day, notes="", actor="office", on=day.date)
    received, events, baoan = record_reception(b, day, notes="已听取诉求，责成人社局核查", actor="office",
                                               on=day.date, take_charge=True, target_date=date(2026, 6, 12))
    assert received.status == "received" and [e.kind for e in events] == ["reception_recorded", "baoan_taken"]
    assert baoan is not None and baoan.open
    assert overdue_baoan([baoan], date(2026, 6, 13)) == [baoan]
    with pytest.raises(ReceptionError):
        close_baoan(baoan, case_status="handling", on=date(2026, 6, 1), actor="office")
    closed, ev = close_baoan(baoan, case_status="resolved", on=date(2026, 6, 1), actor="office")
    assert not closed.open and ev.payload["on_time"] is True
    assert overdue_baoan([closed], date(2026, 7, 1)) == []
