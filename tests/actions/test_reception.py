"""Reception days in the chat (浦江经验) and lifecycle-backed rating, review and withdrawal."""

from __future__ import annotations

from datetime import timedelta

from actions.case_ops import ActionRateCase, ActionRequestReview, ActionWithdrawCase
from actions.reception import (
    ActionBookReception,
    ActionCancelReception,
    ActionOfferReception,
    ActionOfferReschedule,
    ActionRescheduleReception,
)
from fengqiao import bootstrap
from routing.cases.reception_days import ReceptionDay
from routing.cases.service import CaseDraft, utc_today
from routing.understanding.text import normalise
from tests.actions.conftest import make_tracker, responses, slot_events

SENDER = "web:test-conversation"
STORY = "枫桥镇枫源村的邻居把过道堵了，车进不去，村里调解过一次没结果，希望领导当面听听。"


def file_routed_case() -> str:
    """File a neighbour dispute in 诸暨市枫桥镇枫源村 (routed and assigned by the ladder)."""
    draft = CaseDraft(
        narrative_original=STORY, narrative_normalised=normalise(STORY), subject=STORY,
        channel="web", channel_user_id=SENDER, conversation_id=SENDER, category="城乡建设",
        dispute_type="neighbour", location_text="浙江省绍兴市诸暨市枫桥镇枫源村",
        location_code="330681104001", county_code="330681", respondent="邻居", demand="恢复通道",
        contact_phone="13906754321",
    )
    return bootstrap.case_service().file_case(draft).view.case_number


def publish_days(count: int = 2) -> list[str]:
    """Publish reception days at 枫桥镇 in the coming weeks."""
    ids = []
    for n in range(count):
        day = ReceptionDay(
            id=f"test-day-{n}", leader="诸暨市委副书记", date=utc_today() + timedelta(days=7 * (n + 1)),
            place="枫桥镇社会治理中心", division="330681104000", topics=("general", "property"), capacity=2,
        )
        bootstrap.case_life().publish_day(day, "reception-office")
        ids.append(day.id)
    return ids


async def test_asking_for_a_leader_offers_days_and_books_one(dispatcher, app_database) -> None:
    number = file_routed_case()
    days = publish_days()
    events = await ActionOfferReception().run(dispatcher, make_tracker("我要见领导", intent="request_leader"), {})
    assert slot_events(events)["pending_action"] == "reception"
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [f'/inform{{"reception_day": "{d}"}}' for d in days]
    picked = make_tracker("", intent="inform", slots={"reception_day": days[0], "pending_action": "reception"})
    await ActionBookReception().run(dispatcher, picked, {})
    assert responses(dispatcher) == ["utter_reception_offer", "utter_reception_booked"]
    assert dispatcher.messages[1]["leader"] == "诸暨市委副书记"
    view = bootstrap.case_service().get_case(number)
    assert view.status == "reception_booked"
    assert "leader_requested" in [e["kind"] for e in view.events]


async def test_a_booking_can_be_moved_and_cancelled(dispatcher, app_database) -> None:
    number = file_routed_case()
    days = publish_days(3)
    bootstrap.case_life().book_slot(number, days[0], channel_user_id=SENDER)
    events = await ActionOfferReschedule().run(dispatcher, make_tracker("改个时间", intent="reschedule_reception"), {})
    offered = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert all(days[0] not in p for p in offered) and len(offered) == 2
    assert slot_events(events)["pending_action"] == "reschedule"
    moved = make_tracker("", intent="inform", slots={"reception_day": days[2], "pending_action": "reschedule"})
    await ActionRescheduleReception().run(dispatcher, moved, {})
    assert bootstrap.case_life().booked_day_ids(number) == {days[2]}
    await ActionCancelReception().run(dispatcher, make_tracker("取消预约", intent="cancel_reception"), {})
    assert responses(dispatcher)[-2:] == ["utter_reception_rescheduled", "utter_reception_cancelled"]
    assert bootstrap.case_life().booked_day_ids(number) == set()
    assert bootstrap.case_service().get_case(number).status == "handling"


async def test_cancel_without_a_booking_is_explained(dispatcher, app_database) -> None:
    file_routed_case()
    await ActionCancelReception().run(dispatcher, make_tracker("取消预约", intent="cancel_reception"), {})
    assert responses(dispatcher) == ["utter_no_booking"]


async def test_rating_waits_for_the_outcome(dispatcher, app_database) -> None:
    file_routed_case()
    await ActionRateCase().run(dispatcher, make_tracker("满意", intent="rate_satisfaction"), {})
    assert responses(dispatcher) == ["utter_rating_too_early"]


async def test_unsatisfied_rating_opens_the_review_window_art35(dispatcher, app_database) -> None:
    number = file_routed_case()
    life = bootstrap.case_life()
    life.start_handling(number, "mediator")
    life.resolve(number, "mediator", agreement=True, notes="双方同意拆除围墙")
    life.follow_up(number, "mediator")
    await ActionRateCase().run(dispatcher, make_tracker("不满意", intent="rate_satisfaction"), {})
    assert responses(dispatcher) == ["utter_rating_unsatisfied"]
    deadline = dispatcher.messages[0]["review_deadline"]
    assert deadline == (utc_today() + timedelta(days=30)).isoformat() or deadline > utc_today().isoformat()
    kinds = [e["kind"] for e in bootstrap.case_service().get_case(number).events]
    assert "supervisor_follow_up" in kinds
    await ActionRequestReview().run(dispatcher, make_tracker("申请复查", intent="request_review"), {})
    assert responses(dispatcher)[-1] == "utter_review_requested"
    assert bootstrap.case_service().get_case(number).status == "review"


async def test_review_before_an_outcome_is_refused(dispatcher, app_database) -> None:
    file_routed_case()
    await ActionRequestReview().run(dispatcher, make_tracker("申请复查", intent="request_review"), {})
    assert responses(dispatcher) == ["utter_review_not_possible"]


async def test_withdrawal_goes_through_the_lifecycle(dispatcher, app_database) -> None:
    number = file_routed_case()
    tracker = make_tracker("确认", intent="affirm", slots={"case_number": number, "pending_action": "withdraw"})
    await ActionWithdrawCase().run(dispatcher, tracker, {})
    await ActionWithdrawCase().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_withdrawn", "utter_case_not_found"] or responses(dispatcher) == [
        "utter_withdrawn", "utter_withdraw_kept"]
    assert bootstrap.case_service().get_case(number).status == "withdrawn"
