"""Case life on SQLite and PostgreSQL: every status change through the lifecycle, audit trail replays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from routing.cases.statuses import ReplayMismatch, TransitionError
from routing.orgs.ladder import RoutingError
from routing.persistence.case_tables import Case, CaseEvent
from tests.integration.case_life_support import Stack, make_stack

NEIGHBOUR = "隔壁邻居把围墙砌到我家门口，车开不进去，商量几次都不肯拆。"
PLACE = "诸暨市枫桥镇枫源村"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    s = make_stack(database_url)
    yield s
    s.engine.dispose()  # type: ignore[attr-defined]


def _event_count(stack: Stack, number: str) -> int:
    with stack.life._sessions() as session:
        case_id = session.execute(select(Case.id).where(Case.case_number == number)).scalar_one()
        return session.execute(select(func.count()).where(CaseEvent.case_id == case_id)).scalar_one()


def test_filing_starts_register_and_mediation_clocks_and_replays(stack: Stack) -> None:
    """信访工作条例 第二十二条 (register) and 宁波市人民调解条例 第二十七条 (30-day mediation)."""
    number = stack.file(NEIGHBOUR, PLACE)
    clocks = {c.clock: c for c in stack.life.clocks(number)}
    assert set(clocks) == {"petition_register", "mediation"}
    # assigned at filing → the register duty (登记、交办) is met the same day
    assert clocks["petition_register"].state == "stopped"
    assert clocks["mediation"].state == "running" and clocks["mediation"].due == date(2026, 5, 27)
    assert stack.life.view(number).due_date == date(2026, 5, 27)
    assert [e.kind for e in stack.life.audit(number)][:2] == ["status_changed", "routed"]


def test_full_life_from_filing_to_archive_is_consistent(stack: Stack) -> None:
    """受理 → 分派 → 调解中 → 办结 → 回访评价 → 归档 (人民调解法 第二十八条: agreement reached)."""
    number = stack.file(NEIGHBOUR, PLACE)
    assert stack.life.start_mediation(number, "m-1").status == "mediating"
    assert stack.life.resolve(number, "m-1", agreement=True, notes="双方同意拆除围墙").status == "resolved"
    assert stack.life.follow_up(number, "m-1").status == "follow_up"
    rated = stack.life.rate(number, "满意", "citizen")
    assert rated.view.satisfaction == "满意" and rated.review_due is None
    assert stack.life.archive(number, "m-1").status == "archived"
    events = stack.life.audit(number)
    actions = [e.payload["action"] for e in events if e.kind == "status_changed"]
    assert actions == ["accept", "assign", "start_mediation", "resolve", "follow_up", "rate", "archive"]
    assert all(c.state == "stopped" for c in stack.life.clocks(number))


def test_illegal_transition_is_refused_and_writes_nothing(stack: Stack) -> None:
    """The lifecycle refuses 归档 before 办结; the audit trail is untouched."""
    number = stack.file(NEIGHBOUR, PLACE)
    before = _event_count(stack, number)
    with pytest.raises(TransitionError):
        stack.life.archive(number, "m-1")
    with pytest.raises(TransitionError):
        stack.life.rate(number, "满意", "citizen")
    assert _event_count(stack, number) == before
    assert stack.life.view(number).status == "assigned"


def test_reject_needs_a_reason(stack: Stack) -> None:
    """浙江省信访条例 第二十条: 不予受理 is told to the citizen with its reason."""
    number = stack.file("市里的一件事情一直没人管。", "绍兴市", respondent=None, dispute_type=None)
    assert stack.life.view(number).status == "accepted"
    with pytest.raises(TransitionError):
        stack.life.reject(number, "officer", "  ")
    assert stack.life.reject(number, "officer", "属于诉讼程序，不予受理").status == "rejected"
    register = [c for c in stack.life.clocks(number) if c.clock == "petition_register"][0]
    assert register.state == "stopped" and register.stopped_at == date(2026, 4, 27)
    stack.life.audit(number)


def test_unsatisfied_rating_opens_the_review_window(stack: Stack) -> None:
    """信访工作条例 第三十五条: 不满意 → supervisor follow-up; 复查 within 30 days of the written reply."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.start_mediation(number, "m-1")
    stack.life.resolve(number, "m-1", agreement=True, notes="达成协议")
    stack.life.follow_up(number, "m-1")
    rated = stack.life.rate(number, "不满意", "citizen", reply_received_on=date(2026, 5, 6))
    assert rated.review_due == date(2026, 6, 5)
    assert "复查" in rated.citizen_message
    kinds = [e.kind for e in stack.life.audit(number)]
    assert "supervisor_follow_up" in kinds
    window = [c for c in stack.life.clocks(number) if c.clock == "review_request"]
    assert window[0].state == "window" and window[0].due == date(2026, 6, 5)
    stack.today.day = date(2026, 6, 8)
    with pytest.raises(TransitionError, match="复查请求期限"):
        stack.life.request_review(number, "citizen")
    stack.today.day = date(2026, 6, 1)
    assert stack.life.request_review(number, "citizen").status == "review"
    decide = [c for c in stack.life.clocks(number) if c.clock == "review_decide"]
    assert decide[0].state == "running" and decide[0].due == date(2026, 7, 1)


def test_recheck_only_after_a_review_opinion(stack: Stack) -> None:
    """信访工作条例 第三十六条: 复核 follows a 复查 opinion; its clock then runs."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.start_mediation(number, "m-1")
    stack.life.resolve(number, "m-1", agreement=True, notes="达成协议")
    with pytest.raises(TransitionError, match="第三十六条"):
        stack.life.request_recheck(number, "citizen")
    stack.life.request_review(number, "citizen")
    stack.life.decide_review(number, "reviewer", "维持原处理意见")
    assert stack.life.request_recheck(number, "citizen").status == "recheck"
    assert stack.life.decide_recheck(number, "rechecker", "维持").status == "resolved"
    stack.life.audit(number)


def test_failed_mediation_at_village_climbs_to_the_township(stack: Stack) -> None:
    """人民调解法 第二十六条 and the ladder (小事不出村，大事不出镇): no agreement → next tier."""
    number = stack.file(NEIGHBOUR, PLACE)
    before = stack.life.view(number)
    stack.life.start_mediation(number, "m-1")
    stack.today.day = date(2026, 5, 10)
    view = stack.life.resolve(number, "m-1", agreement=False, notes="对方拒绝拆除")
    assert view.handling_body != before.handling_body
    assert view.status in ("assigned", "escalated")
    with stack.life._sessions() as session:
        case = session.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert case.body_id and "township" in (case.body_id + (case.tier or "")) or "镇" in (case.handling_body or "")
    mediation = [c for c in stack.life.clocks(number) if c.clock == "mediation"]
    assert mediation[0].state == "stopped" and mediation[-1].start == date(2026, 5, 10)
    stack.life.audit(number)


def test_no_agreement_without_climbing_is_referred_with_article_26(stack: Stack) -> None:
    """人民调解法 第二十六条: mediation ends and the parties are told arbitration, administrative, court routes."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.start_mediation(number, "m-1")
    view = stack.life.resolve(number, "m-1", agreement=False, notes="调解不成", escalate_on_failure=False)
    assert view.status == "referred"
    last = [e for e in stack.life.audit(number) if e.kind == "status_changed"][-1]
    assert last.payload["action"] == "fail_mediation"
    assert "人民调解法 第二十六条" in last.payload["articles"]
    assert "仲裁" in last.reason and "司法" in last.reason


def test_transfer_then_timely_wrong_body_return_reroutes(stack: Stack) -> None:
    """信访工作条例 第二十三条: the receiving body may object within 5 working days, then re-routing."""
    number = stack.file(NEIGHBOUR, PLACE)
    first = stack.life.view(number)
    moved = stack.life.transfer(number, "zhuji-housing", "officer", "涉及违章建筑")
    assert moved.handling_body != first.handling_body and moved.status == "assigned"
    window = [c for c in stack.life.clocks(number) if c.clock == "transfer_objection"][-1]
    assert window.state == "window" and window.due == date(2026, 5, 7)  # 4/28-4/30, then 5/6-5/7 after May Day
    stack.today.day = date(2026, 5, 7)
    back = stack.life.return_wrong_body(number, "zhuji-housing-officer", "属于邻里纠纷，应由调委会调解")
    assert back.handling_body != moved.handling_body
    stack.life.audit(number)


def test_late_wrong_body_objection_is_refused(stack: Stack) -> None:
    """信访工作条例 第二十三条: after 5 working days the receiving body must handle the case."""
    number = stack.file(NEIGHBOUR, PLACE)
    stack.life.transfer(number, "zhuji-housing", "officer", "涉及违章建筑")
    stack.today.day = date(2026, 5, 8)
    before = _event_count(stack, number)
    with pytest.raises(RoutingError, match="5个工作日"):
        stack.life.return_wrong_body(number, "zhuji-housing-officer", "不属于本单位")
    assert _event_count(stack, number) == before


def test_repeat_petition_while_handled_is_not_accepted_again_and_linked(stack: Stack) -> None:
    """浙江省信访条例 第二十条 / 信访工作条例 第十九条: same matter within its period is not accepted again."""
    first = stack.file(NEIGHBOUR, PLACE)
    stack.today.day = date(2026, 5, 8)
    second = stack.file("隔壁邻居把围墙砌到我家门口了，车开不进去，商量几次他都不肯拆！", PLACE)
    assert stack.life.view(second).status == "rejected"
    new_events = stack.life.audit(second)
    linked = [e for e in new_events if e.kind == "repeat_linked"]
    assert linked and linked[0].payload["linked_case"] == first
    assert any(e.kind == "repeat_linked" and e.payload["linked_case"] == second for e in stack.life.audit(first))
    assert all(c.state == "stopped" for c in stack.life.clocks(second))


def test_a_different_matter_of_the_same_person_is_accepted(stack: Stack) -> None:
    """信访工作条例 第十九条 limits only the same matter: a new matter is accepted and not linked."""
    stack.file(NEIGHBOUR, PLACE)
    other = stack.file("小区门口的路灯坏了三个月，晚上老人出门摔倒过。", "诸暨市枫桥镇", respondent=None,
                       dispute_type=None)
    assert stack.life.view(other).status != "rejected"
    assert not [e for e in stack.life.audit(other) if e.kind == "repeat_linked"]


def test_a_note_cannot_change_the_status(stack: Stack) -> None:
    """The one write path: CaseService.record adds notes only; a status kind is refused, nothing written."""
    number = stack.file(NEIGHBOUR, PLACE)
    before = _event_count(stack, number)
    with pytest.raises(ValueError, match="lifecycle"):
        stack.service.record(number, "withdrawn", "citizen", "撤回")
    assert _event_count(stack, number) == before
    stack.service.record(number, "urged", "citizen", "群众催办")
    stack.life.audit(number)
    assert stack.life.view(number).status == "assigned"


def test_a_tampered_status_is_detected(stack: Stack) -> None:
    """平安建设: the case's state must agree with its events; a status set behind their back is caught."""
    number = stack.file(NEIGHBOUR, PLACE)
    with stack.life._sessions.begin() as session:
        session.execute(select(Case).where(Case.case_number == number)).scalar_one().status = "resolved"
    with pytest.raises(ReplayMismatch):
        stack.life.audit(number)


def test_withdraw_by_citizen_stops_every_duty_clock(stack: Stack) -> None:
    """撤回: nothing is left running for the sweep."""
    number = stack.file(NEIGHBOUR, PLACE)
    assert stack.life.withdraw(number, "citizen", channel_user_id="web:life0001").status == "withdrawn"
    assert all(c.state == "stopped" for c in stack.life.clocks(number))
