"""Every county-level division of Zhejiang has its centre: no filing goes to a city body directly,
and a matter outside the grid admission list never lands on a grid worker."""

from __future__ import annotations

from itertools import cycle

from sqlalchemy import select

from routing.cases.service import CaseDraft
from routing.centre.config import load_grid_admission
from routing.orgs.defaults import township_centres_of
from routing.orgs.ladder import CaseFacts, route
from routing.orgs.registry import load_orgs
from routing.persistence.case_tables import Case, CaseEvent
from routing.understanding.places import load_divisions
from routing.understanding.text import normalise

KINDS = (("neighbour", "邻居在两家中间挖沟，下雨水全灌进我家", "城乡建设"),
         ("labour_wage", "老板拖欠工资三个月不发", "劳动和社会保障"),
         ("consumer_contract", "健身房关门了，卡里的钱退不回来", "经济管理"),
         ("property_mgmt", "物业不修电梯一个月了", "城乡建设"),
         ("land_housing", "宅基地和邻居有争议", "国土资源"),
         ("medical", "手术后感染，医院不承认责任", "卫生计生"))


def test_one_case_per_county_level_division_none_goes_to_a_city_body(service) -> None:
    index, orgs = load_divisions(), load_orgs()
    counties = [d for d in index.all() if d.level == "county"]
    assert len(counties) == 90
    for county, (dtype, story, category) in zip(counties, cycle(KINDS)):
        text = f"{county.name}：{story}"
        service.file_case(CaseDraft(
            narrative_original=text, narrative_normalised=normalise(text), subject=story,
            channel="web", channel_user_id=f"web:county{county.code}", conversation_id=f"web:county{county.code}",
            category=category, dispute_type=dtype, location_text=county.name, location_code=county.code,
            county_code=county.code, respondent="对方", demand="解决"))
    with service._sessions() as s:
        rows = s.execute(select(Case.county_code, Case.body_id, Case.handling_body)).all()
    assert len(rows) == 90
    for county_code, body_id, name in rows:
        assert body_id, (county_code, name)
        body = orgs.body(body_id)
        assert body.tier != "city", (county_code, name)
        owner = index.county_of(body.division)
        assert owner is not None and owner.code == county_code, (county_code, name)


def test_default_centres_exist_and_are_marked() -> None:
    orgs, index = load_orgs(), load_divisions()
    counties = {d.code for d in index.all() if d.level == "county"}
    centres = {b.division: b for b in orgs.bodies.values() if b.tier == "county"}
    assert counties <= set(centres)
    assert not centres["330681"].default and centres["330783"].default  # 诸暨 from data, 东阳 by default
    assert "东阳市社会治理中心" in centres["330783"].name
    towns = township_centres_of("330783")
    assert towns and all(t.default and t.tier == "township" for t in towns)
    assert any("横店镇" in t.name for t in towns)


def test_a_matter_outside_the_admission_list_never_goes_to_a_grid_worker(service) -> None:
    orgs, admission = load_orgs(), load_grid_admission()
    grid_place = "330681104801"  # 枫源村第一网格
    for code in orgs.dispute_types:
        decision = route(CaseFacts("t", grid_place, "事情", dispute_type=code), orgs)
        if admission.admits(code):
            continue
        assert decision.tier != "grid", code
    assert route(CaseFacts("t", grid_place, "邻居排水沟", dispute_type="neighbour"), orgs).tier == "grid"
    # filed: the case history says why it did not go to the grid
    text = "朋友借了我两万块钱一直不还"
    service.file_case(CaseDraft(
        narrative_original=text, narrative_normalised=text, subject=text, channel="web", channel_user_id="web:grid1",
        conversation_id="web:grid1", category="政法", dispute_type="lending", location_text="枫源村第一网格",
        location_code=grid_place, county_code="330681"))
    with service._sessions() as s:
        case = s.execute(select(Case)).scalar_one()
        kinds = {e.kind: e for e in s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars()}
    assert case.tier != "网格" and "网格事务准入清单" in (case.routing_explanation or "")
    assert "grid_not_admitted" in kinds and kinds["grid_not_admitted"].payload["grid_body"] == "fq-fengyuan-grid1"
