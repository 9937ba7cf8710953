"""The Fengqiao ladder; each test names the article it follows."""

from __future__ import annotations

from datetime import date

import pytest

from routing.orgs.ladder import (
    CaseFacts,
    RoutingError,
    assign_person,
    detect_legal_channel,
    escalate,
    return_wrong_body,
    route,
    transfer,
)
from routing.orgs.registry import load_orgs
from routing.understanding.risk import assess
from tests.unit.routing.fakes import FakeWorkload

FENGYUAN_GRID1 = "330681104801"
FENGYUAN = "330681104001"
SONGXI = "330726106001"


@pytest.fixture(scope="module")
def orgs():
    return load_orgs()


def test_neighbour_dispute_stays_in_the_grid_art20(orgs):
    """信访工作条例 第二十条第四款 (就地化解): 邻里纠纷 in 枫源村一网格 → that grid's worker."""
    d = route(CaseFacts("A", FENGYUAN_GRID1, "邻居家的狗半夜叫", dispute_type="neighbour"), orgs)
    assert (d.body_id, d.tier, d.person_id) == ("fq-fengyuan-grid1", "grid", "p-fq-001")
    assert "小事不出村" in d.explanation and "信访工作条例 第二十条第四款" in d.articles


def test_family_dispute_at_village_goes_to_village_committee_art20(orgs):
    """信访工作条例 第二十条第四款: 婚姻家庭 known only to village level → 村调委会, specialist first."""
    d = route(CaseFacts("B", FENGYUAN, "", dispute_type="marriage_family"), orgs)
    assert d.body_id == "fq-fengyuan-tw" and d.tier == "village"
    assert d.person_id in {"p-fq-010", "p-fq-011"}


def test_labour_starts_at_township_with_15_day_clock_labour_law_art14(orgs):
    """劳动争议调解仲裁法 第十四条: wage arrears → township committee, 15-day clock."""
    d = route(CaseFacts("C", FENGYUAN, "欠了三个月工资", dispute_type="labour_wage"), orgs,
              received_on=date(2026, 4, 28))
    assert d.body_id == "fq-town-tw" and d.clock == "labour_mediation"
    assert d.due == date(2026, 5, 13)
    assert "劳动争议调解仲裁法 第十四条" in d.articles
    assert "2026年5月13日" in d.explanation


def test_medical_dispute_goes_to_county_committee(orgs):
    """人民调解法 第三十四条 (专业性调解组织): 医疗纠纷 → 浦江县医疗纠纷人民调解委员会."""
    d = route(CaseFacts("D", SONGXI, "", dispute_type="medical"), orgs)
    assert d.body_id == "pj-medical-tw" and d.tier == "committee"


def test_fraud_report_goes_to_police_department_art22(orgs):
    """信访工作条例 第二十二条 (谁主管、谁负责): 电信网络诈骗 → 公安反诈 with the 60/30-day clock."""
    d = route(CaseFacts("E", FENGYUAN, "", category="政法", dispute_type="telecom_fraud", matter="report"),
              orgs, received_on=date(2026, 4, 28))
    assert d.body_id == "zhuji-police_fraud" and d.clock == "petition_handle"
    assert d.due == date(2026, 5, 28)  # stricter: 浙江省信访条例 第二十三条, 30 days
    assert "谁主管" in d.explanation


@pytest.mark.parametrize(
    ("text", "channel", "body"),
    [
        ("他不还钱，我已经去法院起诉了", "litigation", "zhuji-court"),
        ("对交警的罚款决定不服，想申请行政复议", "admin_review", "zhuji-admin_review"),
    ],
)
def test_legal_procedure_matters_are_diverted_art28_art31(orgs, text, channel, body):
    """信访工作条例 第二十八条、第三十一条; 浙江省信访条例 第十九条: 诉讼/复议 matters are diverted."""
    d = route(CaseFacts("F", FENGYUAN, text, dispute_type="lending"), orgs)
    assert (d.action, d.channel, d.body_id) == ("divert", channel, body)
    assert "信访工作条例 第三十一条" in d.articles and "诉讼与信访分离" in d.explanation


def test_labour_arbitration_diverted_to_labour_arbitration_body_art31(orgs):
    """信访工作条例 第三十一条第二项: 应当通过仲裁解决的 → 劳动人事争议仲裁院."""
    d = route(CaseFacts("G", SONGXI, "我想申请仲裁", dispute_type="labour_wage"), orgs)
    assert (d.channel, d.body_id) == ("labour_arbitration", "pujiang-labour_arbitration")
    assert detect_legal_channel("楼上漏水") is None


def test_accusation_never_goes_to_the_accused_art30(orgs):
    """信访工作条例 第三十条第三款: accusations are confidential and never reach the accused."""
    d = route(CaseFacts("H", FENGYUAN, "村干部侵占补助款", matter="accusation", accused=("陈国华",)), orgs)
    assert d.body_id == "zhuji-discipline" and d.confidential
    assert d.hidden_from == ("陈国华",) and d.person_id != "p-fq-010"
    d2 = route(CaseFacts("I", FENGYUAN, "", category="纪检监察", accused=("诸暨市纪委监委",)), orgs)
    assert d2.body_id == "shaoxing-discipline" and d2.confidential
    assert "保密" in d2.explanation


def test_complaint_against_a_body_skips_that_body(orgs):
    """信访工作条例 第二十八条第三款 (回避): the complained-about committee does not handle it."""
    d = route(CaseFacts("J", FENGYUAN, "", dispute_type="land_housing", accused=("枫源村人民调解委员会",)), orgs)
    assert d.body_id == "fq-town-tw" and d.confidential


def test_red_risk_goes_to_county_centre_with_alert_art25(orgs):
    """信访工作条例 第二十五条; 人民调解法 第二十五条: red → county centre and an alert."""
    text = "老板欠我们三十多个工人工资，大家准备去堵路拉横幅"
    risk = assess(text, dispute_type="labour_wage")
    d = route(CaseFacts("K", FENGYUAN, text, dispute_type="labour_wage"), orgs, risk)
    assert d.body_id == "zj-centre" and d.alert and d.risk_level == "red"
    assert "信访工作条例 第二十五条" in d.articles and "提级处理" in d.explanation


def test_orange_risk_starts_at_township(orgs):
    """信访工作条例 第二十五条: orange risk is handled no lower than the township."""
    risk = assess("我们三个人要去镇政府拉横幅")
    d = route(CaseFacts("L", FENGYUAN_GRID1, "", dispute_type="neighbour"), orgs, risk)
    assert d.tier == "township" and not d.alert


def test_person_assignment_by_specialty_availability_and_load(orgs):
    """人民调解法 第十七条 (the committee takes the case): available, under capacity, specialty first, least loaded."""
    body = orgs.body("fq-fengyuan-tw")
    assert assign_person(body, "property", orgs, FakeWorkload()).id == "p-fq-011"
    assert assign_person(body, "property", orgs, FakeWorkload({"p-fq-011": 10})).id == "p-fq-010"
    full = FakeWorkload({"p-fq-010": 10, "p-fq-011": 10})
    assert assign_person(body, "property", orgs, full) is None
    both = FakeWorkload({"p-fq-010": 1, "p-fq-011": 5})
    assert assign_person(body, "general", orgs, both).id == "p-fq-010"
    # 傅建平 (新华村) is not available: nobody can be assigned there
    assert assign_person(orgs.body("pj-xinhua-tw"), "general", orgs, FakeWorkload()) is None


def test_no_available_person_is_explained(orgs):
    """信访工作条例 第二十八条 (不得推诿): the body head assigns when nobody is free."""
    d = route(CaseFacts("M", "330726001001", "", dispute_type="neighbour"), orgs)
    assert d.body_id == "pj-xinhua-tw" and d.person_id is None
    assert "负责人指定承办人" in d.explanation


def test_escalation_when_overdue_moves_up_one_tier_art34(orgs):
    """信访工作条例 第三十四条: a tier that misses its clock hands the case up."""
    facts = CaseFacts("N", FENGYUAN_GRID1, "", dispute_type="neighbour")
    d = route(facts, orgs)
    e = escalate(d, facts, orgs, "overdue")
    assert e.action == "escalate" and e.tier == "village" and e.body_id == "fq-fengyuan-tw"
    assert "未在法定期限内办结" in e.explanation and "fq-fengyuan-grid1" in e.excluded_body_ids


def test_mediation_failure_tells_other_routes_mediation_law_art26(orgs):
    """人民调解法 第二十六条: 调解不成 → tell parties 仲裁、行政、司法 routes; at county level refer."""
    facts = CaseFacts("O", FENGYUAN, "", dispute_type="labour_wage")
    d = route(facts, orgs)
    up = escalate(d, facts, orgs, "mediation_failed")
    assert up.tier == "committee" and "人民调解法 第二十六条" in up.articles
    assert any("仲裁" in a for a in up.alternatives)
    ref = escalate(up, facts, orgs, "mediation_failed")
    assert ref.action == "refer" and ref.body_id == "zhuji-labour_arbitration"
    assert "劳动争议调解仲裁法 第十四条" in ref.articles and "十五日" in ref.explanation


def test_transfer_refuses_accused_target_art30(orgs):
    """信访工作条例 第三十条第三款: a confidential case cannot be transferred to the accused."""
    facts = CaseFacts("P", FENGYUAN, "", matter="accusation", accused=("枫桥镇人民调解委员会",))
    d = route(facts, orgs)
    with pytest.raises(RoutingError, match="第三十条"):
        transfer(d, "fq-town-tw", "属地办理", facts, orgs)
    t = transfer(d, "zj-centre", "需要协调", facts, orgs)
    assert t.action == "transfer" and t.confidential and "信访工作条例 第二十三条" in t.articles


def test_wrong_body_objection_within_5_working_days_reroutes_art23(orgs):
    """信访工作条例 第二十三条第三款: objection within 5 working days → returned and re-routed."""
    facts = CaseFacts("Q", FENGYUAN, "", dispute_type="property_mgmt")
    d = route(facts, orgs)
    assert d.body_id == "fq-fengyuan-tw"
    # received 4/29; 5 working days: 4/30, 5/6, 5/7, 5/8, 5/9 (make-up Saturday)
    back = return_wrong_body(d, facts, orgs, received_on=date(2026, 4, 29),
                             objected_on=date(2026, 5, 9), reason="本村无物业小区")
    assert back.action == "return" and back.body_id != "fq-fengyuan-tw"
    assert back.articles[0] == "信访工作条例 第二十三条" and "异议" in back.explanation
    with pytest.raises(RoutingError, match="5个工作日"):
        return_wrong_body(d, facts, orgs, received_on=date(2026, 4, 29),
                          objected_on=date(2026, 5, 11), reason="本村无物业小区")
    with pytest.raises(RoutingError):
        return_wrong_body(d, facts, orgs, received_on=date(2026, 4, 29),
                          objected_on=date(2026, 4, 30), reason=" ")


def test_decision_event_records_explanation(orgs):
    """平安建设条例 不得瞒报: every routing decision becomes an event with its reasons."""
    d = route(CaseFacts("R", FENGYUAN_GRID1, "", dispute_type="neighbour"), orgs)
    ev = d.to_event("system")
    assert ev.kind == "routing_route" and ev.reason == d.explanation
    assert ev.payload["body_id"] == d.body_id


def test_unknown_division_is_an_error(orgs):
    """A place the data does not know cannot be routed silently."""
    with pytest.raises(RoutingError):
        route(CaseFacts("S", "999999", ""), orgs)
