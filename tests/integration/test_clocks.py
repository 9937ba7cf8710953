"""Statutory clocks in the store and the sweep, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from fengqiao.cli import main
from routing.cases.deadlines import ExtensionError, PauseError
from tests.integration.case_life_support import Stack, make_stack

NEIGHBOUR = "隔壁邻居把围墙砌到我家门口，车开不进去，商量几次都不肯拆。"
PLACE = "诸暨市枫桥镇枫源村"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    s = make_stack(database_url)
    yield s
    s.engine.dispose()  # type: ignore[attr-defined]


def _kinds(stack: Stack, number: str) -> list[str]:
    return [e.kind for e in stack.life.audit(number)]


def test_near_due_is_reported_once(stack: Stack) -> None:
    """宁波市人民调解条例 第二十七条: the 30-day mediation clock (due 2026-05-27) is near due from 05-24."""
    number = stack.file(NEIGHBOUR, PLACE)
    assert stack.life.sweep(date(2026, 5, 23), near_days=3).near_due == ()
    report = stack.life.sweep(date(2026, 5, 24), near_days=3)
    assert [(i.case_number, i.clock, i.due) for i in report.near_due] == [(number, "mediation", date(2026, 5, 27))]
    again = stack.life.sweep(date(2026, 5, 24), near_days=3)
    assert again.near_due == () and again.overdue == ()
    assert _kinds(stack, number).count("deadline_near_due") == 1


def test_overdue_handling_tier_climbs_the_ladder_once(stack: Stack) -> None:
    """信访工作条例 第二十二条 (分级负责) with the ladder: a tier that misses its clock is escalated."""
    number = stack.file(NEIGHBOUR, PLACE)
    village = stack.life.view(number).handling_body
    stack.life.sweep(date(2026, 5, 25))
    report = stack.life.sweep(date(2026, 5, 28))
    assert [i.case_number for i in report.overdue] == [number]
    assert report.overdue[0].escalated_to and report.overdue[0].escalated_to != village
    view = stack.life.view(number)
    assert view.handling_body == report.overdue[0].escalated_to
    kinds = _kinds(stack, number)
    assert kinds.count("deadline_overdue") == 1 and "routing_escalate" in kinds
    clocks = [c for c in stack.life.clocks(number) if c.clock == "mediation"]
    assert clocks[0].state == "overdue" and clocks[0].stopped_at == date(2026, 5, 28)
    assert clocks[-1].state == "running" and clocks[-1].start == date(2026, 5, 28)
    assert view.due_date == clocks[-1].due
    again = stack.life.sweep(date(2026, 5, 28))
    assert again.overdue == () and again.near_due == ()
    assert _kinds(stack, number).count("deadline_overdue") == 1


def test_overdue_register_clock_is_reported_without_escalation(stack: Stack) -> None:
    """浙江省信访条例 第二十条 (stricter than 信访工作条例 第二十二条): 5 working days to register and hand over."""
    number = stack.file("市里的一件事情一直没人管。", "绍兴市", respondent=None, dispute_type=None)
    register = [c for c in stack.life.clocks(number) if c.clock == "petition_register"][0]
    # 4/28, 4/29, 4/30, then May Day (5/1-5/5), 5/6, 5/7
    assert register.due == date(2026, 5, 7) and register.state == "running"
    assert register.article == "浙江省信访条例 第二十条"
    report = stack.life.sweep(date(2026, 5, 8))
    assert [(i.clock, i.escalated_to) for i in report.overdue] == [("petition_register", None)]
    assert stack.life.view(number).status == "accepted"


def test_extension_needs_approver_and_moves_the_due_date(stack: Stack) -> None:
    """宁波市人民调解条例 第二十七条: mediation may be extended, with approval and a reason."""
    number = stack.file(NEIGHBOUR, PLACE)
    with pytest.raises(ExtensionError):
        stack.life.extend_clock(number, "mediation", 15, "", "双方要求延长")
    stack.today.day = date(2026, 5, 20)
    view = stack.life.extend_clock(number, "mediation", 15, "双方当事人", "双方要求延长调解")
    assert view.due == date(2026, 6, 11) and view.extended_days == 15
    assert stack.life.view(number).due_date == date(2026, 6, 11)
    assert stack.life.sweep(date(2026, 5, 28)).overdue == ()
    assert "clock_extended" in _kinds(stack, number)


def test_hearing_pause_is_not_counted(stack: Stack) -> None:
    """信访工作条例 第三十六条: hearing time is not counted in the 复核 period; other clocks cannot pause."""
    number = stack.file(NEIGHBOUR, PLACE)
    with pytest.raises(PauseError):
        stack.life.pause_clock(number, "mediation", "听证")
    stack.life.start_mediation(number, "m-1")
    stack.life.resolve(number, "m-1", agreement=True, notes="达成协议")
    stack.life.request_review(number, "citizen")
    stack.life.decide_review(number, "reviewer", "维持")
    stack.today.day = date(2026, 5, 11)
    stack.life.request_recheck(number, "citizen")
    clock = [c for c in stack.life.clocks(number) if c.clock == "recheck_decide"][0]
    assert clock.due == date(2026, 6, 10)
    stack.today.day = date(2026, 5, 15)
    paused = stack.life.pause_clock(number, "recheck_decide", "组织听证")
    assert paused.state == "paused" and paused.due is None
    assert stack.life.sweep(date(2026, 6, 12)).overdue == ()
    stack.today.day = date(2026, 5, 25)
    resumed = stack.life.resume_clock(number, "recheck_decide")
    # 10 days (05-15..05-24) not counted: 06-20 is a Saturday → next working day 06-22
    assert resumed.paused_days == 10 and resumed.state == "running"
    assert resumed.due == date(2026, 6, 22)
    stack.life.audit(number)


def test_sweep_command_prints_json(stack: Stack, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`fengqiao sweep --as-of` reports the overdue mediation clock and escalates it."""
    number = stack.file(NEIGHBOUR, PLACE)
    assert main(["sweep", "--as-of", "2026-05-28", "--url", database_url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2026-05-28" and out["escalated"] == 1
    assert [o["case"] for o in out["overdue"]] == [number]
    assert main(["sweep", "--as-of", "2026-05-28", "--url", database_url]) == 0
    assert json.loads(capsys.readouterr().out)["overdue"] == []
