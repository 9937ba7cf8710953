"""Risk scoring: 人民调解法 第二十五条 and 信访工作条例 第二十五条 (red reported at once)."""

from __future__ import annotations

from routing.understanding.risk import (
    RiskHistory,
    alert_event,
    amount_yuan,
    assess,
    count_people,
    parse_cn_number,
)


def test_self_harm_is_red_with_alert_art25():
    """信访工作条例 第二十五条: a self-harm statement is an urgent matter → red, alert now."""
    a = assess("我实在没办法了，不想活了")
    assert a.level == "red" and a.alert and a.label == "红"
    assert "self_harm" in {r.code for r in a.reasons}
    ev = alert_event(a, case_id="FQ-1")
    assert ev is not None and ev.kind == "risk_alert" and "人民调解法 第二十五条" in ev.payload["articles"]


def test_violence_threat_is_red_mediation_law_art25():
    """人民调解法 第二十五条: a dispute that may turn into a criminal case is reported."""
    a = assess("再不赔钱我就去砍死他")
    assert a.level == "red" and "violence" in {r.code for r in a.reasons}


def test_group_incident_with_many_workers_is_red():
    """信访工作条例 第二十五条: 三十多名工人 + 拉横幅/堵路 → red with every reason listed."""
    a = assess("老板欠我们三十多个工人的工资四十多万元，大家商量去堵路拉横幅", dispute_type="labour_wage")
    codes = {r.code for r in a.reasons}
    assert a.level == "red"
    assert {"group_action", "many_people", "unpaid_workers", "large_amount"} <= codes
    assert a.people == 30 and a.amount_yuan == 400000
    assert "拉横幅" in a.explanation()


def test_small_group_banner_without_crowd_is_orange_not_red():
    """A banner threat by a few people is serious (orange) but not a red alert."""
    a = assess("我们三个人准备去镇政府门口拉横幅")
    assert a.level == "orange" and not a.alert
    assert alert_event(a) is None


def test_vulnerable_and_repeated_history_raise_level():
    """Repeated petitions and overdue handling (信访工作条例 第三十四条) add weight."""
    base = assess("邻居占了我家老人门口的路")
    assert base.level == "blue"
    hist = assess("邻居占了我家老人门口的路", history=RiskHistory(previous_petitions=3, overdue=True))
    assert hist.level == "orange" and hist.score == base.score + 5
    assert hist.rose_from(base.level)


def test_plain_noise_complaint_is_blue_without_reasons():
    """No risk factor → blue, and the explanation says so."""
    a = assess("楼上晚上装修声音太大")
    assert (a.level, a.reasons, a.alert) == ("blue", (), False)
    assert "未发现" in a.explanation()


def test_number_reading():
    """Counts and amounts are read from Arabic and Chinese numerals."""
    assert parse_cn_number("三十五") == 35 and parse_cn_number("两万") == 20000
    assert count_people("来了20多名农民工") == 20
    assert count_people("上百人聚集") == 100
    assert amount_yuan("欠款3.5万元") == 35000 and amount_yuan("借了五千块") == 5000
