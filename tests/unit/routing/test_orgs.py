"""Organisation data: every body sits on a real division; departments cover every category."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from routing.orgs.registry import DATA_DIR, OrgDataError, build_orgs, load_orgs
from routing.understanding.places import load_divisions

CATEGORIES = {
    "城乡建设", "党务政务", "国土资源", "环境保护", "纪检监察", "交通运输", "经济管理", "科技与信息产业",
    "民政", "农村农业", "商贸旅游", "卫生计生", "政法", "教育文体", "劳动和社会保障",
}


def test_every_body_and_person_division_exists_in_divisions_csv():
    """信访工作条例 第二十二条 (属地管理): bodies must serve a real division."""
    orgs, places = load_orgs(), load_divisions()
    for body in orgs.bodies.values():
        assert body.division in places, body.id
    for person in orgs.people:
        assert person.division in places, person.id


def test_departments_cover_all_15_categories_in_both_counties():
    """信访工作条例 第二十二条 (谁主管、谁负责): each category has a county department."""
    orgs = load_orgs()
    for county in ("330681", "330726"):
        covered = {c for b in orgs.bodies_in(county) if b.tier == "department" for c in b.categories}
        assert covered >= CATEGORIES, CATEGORIES - covered


def test_county_committees_for_five_specialties():
    """宁波市人民调解条例 / 人民调解法 第三十四条: specialised committees at county level."""
    orgs = load_orgs()
    for county in ("330681", "330726"):
        specs = {s for b in orgs.bodies_in(county) if b.tier == "committee" for s in b.specialties}
        assert {"labour", "medical", "traffic", "property", "marriage_family"} <= specs


def test_specialties_match_dispute_types():
    """Ladder specialties use the codes of dispute_types.csv."""
    orgs = load_orgs()
    assert {dt.specialty for dt in orgs.dispute_types.values()} <= set(orgs.rules.specialties)


def test_bad_person_body_is_rejected(tmp_path: Path):
    """Administrator errors are caught at load time."""
    for name in ("bodies.yaml", "departments.csv", "ladder.yaml"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    with (tmp_path / "people.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "role", "body_id", "division", "specialties", "capacity", "available"])
        w.writerow(["x", "某人", "mediator", "no-such-body", "330681", "general", "5", "true"])
    with pytest.raises(OrgDataError, match="unknown body"):
        build_orgs(tmp_path)
