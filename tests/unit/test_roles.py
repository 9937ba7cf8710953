"""Roles in a narrative: the party complained about vs the body asked to act
(``tests/data/entities_roles.jsonl``, sentences written for this test)."""

from __future__ import annotations

import json
from pathlib import Path

from routing.understanding.entities import extract
from routing.understanding.roles import asked_bodies

ROWS = [json.loads(line) for line in (Path(__file__).parents[1] / "data" / "entities_roles.jsonl").read_text("utf-8").splitlines()]


def test_a_body_asked_to_act_is_never_the_respondent() -> None:
    for row in ROWS:
        found = extract(row["text"])
        assert not set(found.respondents) & set(found.bodies), row["text"]


def test_roles_floor() -> None:
    """Exact respondents and exact bodies on at least 80 % of the sentences (measured: 10/12, 11/12)."""
    resp = sum(extract(r["text"]).respondents == r["respondents"] for r in ROWS)
    bodies = sum(extract(r["text"]).bodies == r["bodies"] for r in ROWS)
    assert resp >= 0.8 * len(ROWS) and bodies >= 0.8 * len(ROWS), (resp, bodies)


def test_the_car_wash_case() -> None:
    found = extract("我们小区门口的洗车店天天把污水直接排到路上，希望城管和环保部门来管一管。")
    assert found.respondents == ["洗车店"]
    assert found.bodies == ["城管", "环保部门"]


def test_a_body_complained_about_stays_the_party() -> None:
    assert extract("城管执法的时候把我的三轮车砸坏了，要求城管赔偿。").respondents == ["城管"]
    assert asked_bodies("要求物业赔偿损失") == []


def test_a_street_the_gazetteer_does_not_know_is_kept_with_its_county() -> None:
    from routing.understanding.intake import place_label, resolve_place

    for text, label in [("义乌市北苑街道", "浙江省金华市义乌市北苑街道"), ("浦江黄宅镇", "浙江省金华市浦江县黄宅镇"),
                        ("婺城区城东街道幸福小区", "浙江省金华市婺城区城东街道")]:
        assert place_label(resolve_place(text), text) == label
