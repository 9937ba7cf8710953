"""Demo data: a few filed cases so a fresh install shows something real."""

from __future__ import annotations

from datetime import date

from fengqiao.bootstrap import build_services
from fengqiao.settings import get_settings
from routing.cases.service import CaseDraft, utc_today
from routing.persistence.db import make_engine, make_session_factory
from routing.understanding.places import load_divisions
from routing.understanding.text import normalise

DEMO = (
    ("诸暨市枫桥镇枫源村", "隔壁邻居在两家之间的过道上砌了围墙，我家的车进不去，找村里说了两次没结果。", "邻居", "希望拆除围墙恢复通道"),
    ("浦江县黄宅镇", "我们二十多个工人在工地干了半年，包工头拖欠工资一共三十多万元，一直推说甲方没付款。", "包工头", "要求尽快结清工资"),
    ("诸暨市暨阳街道", "小区物业把楼道里的消防栓拆了也没人修，反映了几次物业都说没钱。", "物业公司", "要求物业恢复消防设施"),
)


def seed_demo(url: str) -> int:
    """File the demo cases (idempotent: a second run creates nothing).

    Args:
        url: database URL.

    Returns:
        How many cases were created.
    """
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    # the same rules and holiday calendar as every other process (a December seed needs next year)
    service = build_services(get_settings(), sessions, utc_today).cases
    index = load_divisions()
    created = 0
    try:
        for place, story, party, demand in DEMO:
            match = index.resolve(place)
            draft = CaseDraft(
                narrative_original=story,
                narrative_normalised=normalise(story),
                subject=story,
                channel="demo",
                channel_user_id="demo:citizen",
                conversation_id="demo:citizen",
                location_text=match.label if match else place,
                location_code=match.division.code if match else None,
                county_code=match.county.code if match and match.county else None,
                respondent=party,
                demand=demand,
                contact_phone="13800000000",
            )
            created += service.file_case(draft, actor="demo-seed").created
    finally:
        engine.dispose()
    return created


def seed_reception_days(url: str) -> int:
    """Load the demo reception days of ``routing/data/orgs/reception_days.yaml`` (idempotent).

    Args:
        url: database URL.

    Returns:
        How many days were added (days already stored are left as they are).
    """
    from routing.persistence.reception import SqlReceptionRepository

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    added = 0
    try:
        with sessions.begin() as session:
            repo = SqlReceptionRepository(session)
            for day in demo_days(date.today()):
                if repo.day(day.id) is None:
                    repo.save_day(day)
                    added += 1
    finally:
        engine.dispose()
    return added


def demo_days(today: date, weeks: int = 8) -> list:
    """Return the published demo days plus the same leaders' days for the coming weeks.

    The YAML holds a few dated days; a demo installed later still needs days ahead of it, so each
    published day recurs on its weekday for `weeks` weeks from `today` (ids carry the date).
    """
    from dataclasses import replace
    from datetime import timedelta

    from routing.cases.reception_days import load_demo_days

    days = list(load_demo_days())
    for day in list(days):
        ahead = (day.date.weekday() - today.weekday()) % 7 or 7
        for week in range(weeks):
            when = today + timedelta(days=ahead + 7 * week)
            if when > day.date:
                days.append(replace(day, id=f"{day.id}@{when.isoformat()}", date=when))
    return days
