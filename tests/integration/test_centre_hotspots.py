"""Hotspots on SQLite and PostgreSQL: found once each as cases are filed and again by the sweep;
unrelated cases do not cluster; Traditional-script complaints join; filing stays fast."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from routing.centre import hotspots
from routing.centre.sweep import centre_pass
from routing.persistence.centre_tables import CentreAlert, CentreAlertMember
from tests.integration.centre_support import LABOUR, LAND, NOISE, PROPERTY, draft, many

TODAY = date(2026, 4, 27)


def _hotspots(service) -> list[CentreAlert]:  # type: ignore[no-untyped-def]
    with service._sessions() as s:
        return list(s.execute(select(CentreAlert).where(CentreAlert.kind == "hotspot").order_by(CentreAlert.id))
                    .scalars())


def _members(service, alert_id: int) -> int:  # type: ignore[no-untyped-def]
    with service._sessions() as s:
        return int(s.execute(select(func.count()).where(CentreAlertMember.alert_id == alert_id)).scalar() or 0)


def test_planted_clusters_are_found_exactly_once_each(service) -> None:
    planted = [
        many(draft("老板拖欠工资三个月不发", "诸暨市枫桥镇枫源村"), 3, "a"),
        many(draft("小区物业不修电梯", "浦江县浦阳街道月泉社区", PROPERTY, dispute_type="property_mgmt"), 4, "b"),
        many(draft("工地拖欠农民工工资，大家说要去堵路", "诸暨市店口镇", LABOUR), 2, "c"),
    ]
    for cluster in planted:
        for d in cluster:
            service.file_case(d)
    found = _hotspots(service)
    assert len(found) == 3
    assert sorted(a.member_count for a in found) == [2, 3, 4]
    assert [a.severity for a in found if a.member_count == 2] == ["red"]  # the group-action signal
    assert all(_members(service, a.id) == a.member_count for a in found)
    # the sweep finds the same clusters and raises nothing new
    result = centre_pass(service._sessions, TODAY, datetime.now(UTC))
    assert result.raised["hotspot"] == 0 and len(_hotspots(service)) == 3
    # a fourth complaint joins the open hotspot instead of raising another
    service.file_case(many(draft("老板拖欠工资三个月不发", "诸暨市枫桥镇陈家村"), 1, "a4")[0])
    grown = [a for a in _hotspots(service) if a.division_code == "330681104000"]
    assert len(grown) == 1 and grown[0].member_count == 4


def test_unrelated_cases_in_one_place_and_one_problem_in_many_places_do_not_cluster(service) -> None:
    place = "诸暨市枫桥镇枫源村"
    service.file_case(draft("拖欠工资", place, LABOUR, user="web:u1"))
    service.file_case(draft("物业不作为", place, PROPERTY, user="web:u2", dispute_type="property_mgmt"))
    service.file_case(draft("饭店排风噪音", place, NOISE, user="web:u3", dispute_type="environment_noise"))
    service.file_case(draft("征地补偿未发", place, LAND, user="web:u4", dispute_type="land_housing"))
    for i, town in enumerate(("诸暨市店口镇", "浦江县白马镇", "诸暨市暨阳街道")):
        service.file_case(draft("拖欠工资", town, LABOUR, user=f"web:t{i}"))
    assert _hotspots(service) == []
    assert centre_pass(service._sessions, TODAY, datetime.now(UTC)).raised["hotspot"] == 0


def test_traditional_script_complaints_join_the_cluster(service) -> None:
    service.file_case(draft("老板拖欠我们工资三个月了", "诸暨市枫桥镇枫源村", user="web:s1"))
    service.file_case(draft("工厂拖欠工资一直不发", "诸暨市枫桥镇陈家村", user="web:s2"))
    assert _hotspots(service) == []
    service.file_case(draft("老闆拖欠我們工資三個月了，找他也不理", "诸暨市枫桥镇", user="web:s3"))
    found = _hotspots(service)
    assert len(found) == 1 and found[0].member_count == 3
    # a group-action signal written in Traditional script makes two complaints a hotspot
    service.file_case(draft("物業不修電梯", "浦江县浦阳街道", PROPERTY, user="web:s4", dispute_type="property_mgmt"))
    service.file_case(draft("物業不管，業主們說要集體去拉橫幅", "浦江县浦阳街道月泉社区", PROPERTY, user="web:s5",
                            dispute_type="property_mgmt"))
    red = [a for a in _hotspots(service) if a.severity == "red"]
    assert len(red) == 1 and red[0].member_count == 2


def test_detection_adds_a_few_statements_to_a_filing(service) -> None:
    """Detection's cost is bounded by its SQL statements (the time is benched:
    bench/centre/hotspot_filing.py): a few per filing, whatever the volume already stored."""
    for d in many(draft("拖欠工资", "诸暨市枫桥镇枫源村"), 40, "bulk"):
        service.file_case(d)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with service._sessions() as s:
        from routing.persistence.case_tables import Case

        cases = list(s.execute(select(Case).order_by(Case.id.desc()).limit(20)).scalars())
        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            for case in cases:
                hotspots.detect(s, case)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        s.rollback()
    assert 0 < len(statements) <= 5 * len(cases), len(statements)


@pytest.mark.parametrize("threshold", [3])
def test_thresholds_are_data(threshold: int) -> None:
    from routing.centre.config import load_config

    cfg = load_config()
    assert (cfg.window_days, cfg.min_cases, cfg.min_cases_group) == (7, threshold, 2)
