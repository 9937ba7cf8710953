"""Case life and audit trail (信访工作条例 第二十二、三十四至三十六条; 平安建设条例 不得瞒报漏报)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from routing.cases.events import Event, make_event
from routing.cases.statuses import (
    STATUS_LABELS,
    ReplayMismatch,
    TransitionError,
    allowed_actions,
    assert_consistent,
    had_review,
    rate,
    recheck_final,
    replay,
    transition,
)

T0 = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)


def _run(actions):
    status, events = None, []
    for action, reason in actions:
        status, ev = transition(status, action, "u1", reason, case_id="FQ-2026-000001", at=T0)
        events.append(ev)
    return status, events


def test_happy_path_through_mediation_to_archive_art34():
    """信访工作条例 第三十四条: accepted → assigned → mediating → resolved → follow-up → archived."""
    status, events = _run(
        [("accept", ""), ("assign", ""), ("start_mediation", ""), ("resolve", ""),
         ("follow_up", ""), ("archive", "")]
    )
    assert status == "archived"
    assert [e.payload["to"] for e in events][-1] == "archived"
    assert replay(events) == "archived"


def test_reception_branch_pujiang():
    """信访工作条例 第十八条 (联合接访): a booked reception is recorded then handled."""
    status, _ = _run([("accept", ""), ("assign", ""), ("book_reception", ""), ("record_reception", "")])
    assert status == "handling"


def test_mediation_failure_is_referred_art26():
    """人民调解法 第二十六条: 调解不成 ends mediation; the case is referred with a reason."""
    status, events = _run([("accept", ""), ("assign", ""), ("start_mediation", ""),
                           ("fail_mediation", "双方分歧较大")])
    assert status == "referred"
    assert STATUS_LABELS[status].startswith("未达成")
    assert events[-1].reason == "双方分歧较大"


def test_reject_requires_reason_zhejiang_art20():
    """浙江省信访条例 第二十条: 不予受理 must be told with a reason."""
    with pytest.raises(TransitionError, match="reason"):
        transition(None, "reject", "u1", "")
    status, ev = transition(None, "reject", "u1", "属于诉讼程序处理事项")
    assert status == "rejected" and ev.reason


def test_illegal_transitions_are_refused():
    """信访工作条例 第二十八条 (不得推诿敷衍): an archived case cannot be resolved again, etc."""
    with pytest.raises(TransitionError, match="not allowed"):
        transition("archived", "resolve", "u1")
    with pytest.raises(TransitionError):
        transition("accepted", "archive", "u1")
    with pytest.raises(TransitionError):
        transition("withdrawn", "assign", "u1")
    assert allowed_actions("archived") == ["reopen"]  # only a supervisor's 重新办理, with a reason
    assert "escalate" in allowed_actions("mediating")


def test_review_and_recheck_art35_art36():
    """信访工作条例 第三十五、三十六条: 复查 then 复核; after 复核 the matter is final."""
    _, events = _run([("accept", ""), ("assign", ""), ("start_handling", ""), ("resolve", ""),
                      ("request_review", ""), ("decide_review", ""), ("request_recheck", ""),
                      ("decide_recheck", "")])
    assert had_review(events) and recheck_final(events)
    assert replay(events) == "resolved"


def test_events_are_immutable_audit():
    """平安建设条例 不得瞒报、漏报: an event cannot be changed after it is made."""
    ev = make_event("status_changed", "u1", "x", payload={"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.reason = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.payload["a"] = 2  # type: ignore[index]
    with pytest.raises(ValueError):
        Event(kind="", actor="u1", at=T0)


def test_replay_detects_hidden_or_forged_steps():
    """平安建设条例 不得瞒报: removing an event or storing a different status is caught."""
    status, events = _run([("accept", ""), ("assign", ""), ("start_handling", ""), ("resolve", "")])
    assert_consistent(status, events)
    with pytest.raises(ReplayMismatch):
        replay([events[0], events[2], events[3]])  # the assignment was hidden
    with pytest.raises(ReplayMismatch):
        assert_consistent("archived", events)


def test_unsatisfied_rating_triggers_supervisor_and_review_right_art35():
    """信访工作条例 第三十五条: 不满意 → supervisor follow-up, citizen told the 30-day 复查 window."""
    out = rate("follow_up", "unsatisfied", "citizen:1", reply_received_on=date(2026, 9, 10),
               case_id="FQ-9")
    assert out.status == "follow_up"
    kinds = [e.kind for e in out.events]
    assert kinds == ["status_changed", "supervisor_follow_up"]
    assert out.review_due == date(2026, 10, 10)  # 9/10 + 30 = 10/10, a make-up Saturday
    assert "复查" in out.citizen_message and "2026年10月10日" in out.citizen_message
    assert "第三十五条" in out.citizen_message


def test_satisfied_rating_has_no_supervisor_event():
    """信访工作条例 第二十一条 (群众评价): 满意 is recorded without escalation."""
    out = rate("follow_up", "satisfied", "citizen:1", reply_received_on=date(2026, 5, 6))
    assert [e.kind for e in out.events] == ["status_changed"]
    assert out.review_due is None and "满意" in out.citizen_message
    with pytest.raises(TransitionError):
        rate("follow_up", "so-so", "citizen:1", reply_received_on=date(2026, 5, 6))
    with pytest.raises(TransitionError):
        rate("handling", "satisfied", "citizen:1", reply_received_on=date(2026, 5, 6))
