"""The lifecycle and clock rules of the use cases, on an in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from routing.cases.deadlines import HolidayCalendar, PauseError, compute_due
from routing.cases.life import CaseLife
from routing.cases.service import CaseService
from routing.cases.statuses import TransitionError
from routing.cases.values import CaseDraft, CaseStateError, Routed
from tests.unit.routing.fake_uow import FakeDatabase, FakeUnitOfWork

DAY = date(2026, 4, 27)  # a Monday


class Today:
    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def _policy(*, person: bool):  # type: ignore[no-untyped-def]
    def policy(draft: CaseDraft, today: date) -> Routed:
        due = compute_due("mediation", today).due
        return Routed(handling_body="枫源村人民调解委员会", tier="村（社区）", explanation="就近受理", due_date=due,
                      status="assigned" if person else "accepted", body_id="fy-village",
                      person_id="p-1" if person else None, person_name="调解员甲" if person else None,
                      clock="mediation")

    return policy


def _draft(user: str = "web:u1", story: str = "邻居把围墙砌到我家门口。") -> CaseDraft:
    return CaseDraft(narrative_original=story, narrative_normalised=story, subject=story, channel="web",
                     channel_user_id=user, conversation_id=user, location_text="枫源村")


def _world(person: bool = True):  # type: ignore[no-untyped-def]
    db = FakeDatabase()
    uows = FakeUnitOfWork.factory(db)
    today = Today(DAY)
    service = CaseService(None, _policy(person=person), today, uows=uows)
    life = CaseLife(None, today, uows=uows, calendar=HolidayCalendar())
    return db, service, life, today


def _states(life: CaseLife, number: str) -> dict[str, str]:
    return {c.clock: c.state for c in life.clocks(number)}


def test_filing_an_assigned_case_stops_the_register_clock_and_shows_the_handling_due_date() -> None:
    db, service, life, _ = _world(person=True)
    view = service.file_case(_draft()).view
    assert view.status == "assigned" and db.commits == 1
    assert _states(life, view.case_number) == {"petition_register": "stopped", "mediation": "running"}
    assert view.due_date == date(2026, 5, 27)
    assert [e.kind for e in life.audit(view.case_number)] == ["status_changed", "routed", "status_changed"]


def test_a_retried_filing_returns_the_same_case() -> None:
    _db, service, _life, _ = _world()
    first, again = service.file_case(_draft()), service.file_case(_draft())
    assert (first.created, again.created) == (True, False)
    assert first.view.case_number == again.view.case_number == "FQ-2026-000001"


def test_handing_an_accepted_case_to_a_colleague_stops_the_register_clock() -> None:
    _db, service, life, _ = _world(person=False)
    number = service.file_case(_draft()).view.case_number
    assert _states(life, number)["petition_register"] == "running"
    view = life.hand_to(number, "u:dir", "u:med", "调解员乙", "认领")
    assert view.status == "assigned"
    assert _states(life, number) == {"petition_register": "stopped", "mediation": "running"}
    assert view.due_date == [c for c in life.clocks(number) if c.clock == "mediation"][-1].due


def test_a_hand_over_that_raced_another_change_writes_nothing() -> None:
    db, service, life, _ = _world(person=True)
    number = service.file_case(_draft()).view.case_number
    before = len(life.audit(number))
    with pytest.raises(CaseStateError):
        life.hand_to(number, "u:dir", "u:med", "调解员乙", "转交", expected_status="accepted")
    with pytest.raises(TransitionError):
        life.hand_to(number, "u:dir", "u:med", "调解员乙", "")  # a transfer needs a reason
    assert len(life.audit(number)) == before and db.commits == 1


def test_an_illegal_move_is_rolled_back_whole() -> None:
    _db, service, life, _ = _world()
    number = service.file_case(_draft()).view.case_number
    with pytest.raises(TransitionError):
        life.archive(number, "m-1")
    assert life.view(number).status == "assigned"
    assert _states(life, number)["mediation"] == "running"


def test_resolving_stops_every_duty_clock_and_a_bad_rating_opens_the_review_window() -> None:
    _db, service, life, today = _world()
    number = service.file_case(_draft()).view.case_number
    life.start_mediation(number, "m-1")
    life.resolve(number, "m-1", agreement=True, notes="双方达成协议")
    assert _states(life, number) == {"petition_register": "stopped", "mediation": "stopped"}
    life.follow_up(number, "m-1")
    rated = life.rate(number, "不满意", "citizen:web:u1")
    assert rated.review_due == date(2026, 5, 27)
    assert _states(life, number)["review_request"] == "window"
    today.day = date(2026, 5, 6)
    view = life.request_review(number, "citizen:web:u1")
    assert view.status == "review"
    states = _states(life, number)
    assert states["review_request"] == "window" and states["review_decide"] == "running"  # windows are never swept
    assert view.due_date == [c for c in life.clocks(number) if c.clock == "review_decide"][-1].due


def test_a_review_after_the_window_is_refused() -> None:
    _db, service, life, today = _world()
    number = service.file_case(_draft()).view.case_number
    life.start_mediation(number, "m-1")
    life.resolve(number, "m-1", agreement=True, notes="达成协议")
    life.follow_up(number, "m-1")
    life.rate(number, "不满意", "citizen:web:u1")
    today.day = date(2026, 6, 30)
    with pytest.raises(TransitionError, match="届满"):
        life.request_review(number, "citizen:web:u1")


def test_the_sweep_reports_a_near_due_clock_once_and_a_window_never() -> None:
    _db, service, life, _ = _world()
    number = service.file_case(_draft()).view.case_number
    assert life.sweep(date(2026, 5, 23), escalate=False).near_due == ()
    report = life.sweep(date(2026, 5, 24), escalate=False)
    assert [(i.case_number, i.clock) for i in report.near_due] == [(number, "mediation")]
    assert life.sweep(date(2026, 5, 24), escalate=False).near_due == ()
    assert [e.kind for e in life.audit(number)].count("deadline_near_due") == 1


def test_a_hearing_pause_is_not_counted_and_the_due_date_follows() -> None:
    """信访工作条例 第三十六条: hearing time is not counted in the 复核 period; other clocks cannot pause."""
    _db, service, life, today = _world()
    number = service.file_case(_draft()).view.case_number
    with pytest.raises(PauseError):
        life.pause_clock(number, "mediation", "听证")
    life.start_mediation(number, "m-1")
    life.resolve(number, "m-1", agreement=True, notes="达成协议")
    life.request_review(number, "citizen")
    life.decide_review(number, "reviewer", "维持")
    today.day = date(2026, 5, 11)
    assert life.request_recheck(number, "citizen").due_date == date(2026, 6, 10)
    today.day = date(2026, 5, 15)
    assert life.pause_clock(number, "recheck_decide", "组织听证").due is None
    today.day = date(2026, 5, 25)
    resumed = life.resume_clock(number, "recheck_decide")
    assert (resumed.paused_days, resumed.due) == (10, date(2026, 6, 22))
    assert life.view(number).due_date == date(2026, 6, 22)  # the case shows the moved due date
    life.audit(number)


def test_notes_never_change_the_status() -> None:
    _db, service, life, _ = _world()
    number = service.file_case(_draft()).view.case_number
    service.record(number, "urged", "citizen:web:u1", "群众催办", channel_user_id="web:u1")
    with pytest.raises(ValueError):
        service.record(number, "status_changed", "citizen", "撤回")
    assert life.view(number).status == "assigned"
    assert life.audit(number)[-1].kind == "urged"
