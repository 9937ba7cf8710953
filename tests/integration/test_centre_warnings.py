"""Early warnings raised at filing and by the sweep: red risk, a repeat on a closed case,
bounced cases, overdue clocks — each once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from routing.centre.sweep import centre_pass
from routing.persistence.centre_tables import CentreAlert
from tests.integration.case_life_support import make_stack

TODAY = date(2026, 4, 27)


@pytest.fixture
def stack(database_url):  # type: ignore[no-untyped-def]
    s = make_stack(database_url, TODAY)
    yield s
    s.engine.dispose()


def _kinds(stack) -> list[str]:  # type: ignore[no-untyped-def]
    with stack.life._sessions() as s:
        return sorted(s.execute(select(CentreAlert.kind)).scalars())


def test_red_at_filing_and_repeat_on_a_closed_case(stack) -> None:
    stack.file("邻居天天骂人，我忍不下去了，再这样我就拿刀砍死他", "诸暨市枫桥镇枫源村", user="web:red1")
    assert _kinds(stack) == ["red_at_filing"]
    story = "隔壁在院墙边搭棚子挡住我家通道，说了好几次都不拆"
    first = stack.file(story, "诸暨市枫桥镇枫源村", user="web:rep1")
    life = stack.life
    if life.view(first).status == "accepted":
        life.assign(first, "staff:a")
    life.start_handling(first, "staff:a")
    life.resolve(first, "staff:a", agreement=True, notes="已拆除")
    stack.file(story + "，现在又搭起来了", "诸暨市枫桥镇枫源村", user="web:rep1")
    kinds = _kinds(stack)
    assert "repeat_closed" in kinds, kinds


def test_bounced_and_overdue_cases_are_raised_once_by_the_sweep(stack) -> None:
    number = stack.file("物业不修电梯", "诸暨市枫桥镇", user="web:b1", dispute_type="property_mgmt")
    life = stack.life
    if life.view(number).status == "accepted":
        life.assign(number, "staff:a")
    for target in ("zj-property-tw", "fq-town-tw", "zj-centre"):
        life.transfer(number, target, "staff:a", "不属于本单位职责")
    stack.today.day = TODAY + timedelta(days=90)
    life.sweep(stack.today.day, escalate=False)
    out = centre_pass(life._sessions, stack.today.day, datetime.now(UTC))
    assert out.raised["bounced"] == 1 and out.raised["overdue"] == 1
    again = centre_pass(life._sessions, stack.today.day, datetime.now(UTC))
    assert again.raised == {"overdue": 0, "bounced": 0, "baoan_overdue": 0, "hotspot": 0}


def test_two_raises_of_one_key_at_once_make_one_alert(stack) -> None:
    """Two transactions raise the same key: one alert, one 'raised' step, the loser gets the winner's."""
    import threading

    from routing.centre.warnings import NewAlert, raise_alert
    from routing.persistence.centre_tables import CentreAlertEvent

    new = NewAlert(key="hotspot:330681104000:l2:race", kind="hotspot", severity="orange", title="race",
                   county_code="330681", division_code="330681104000")
    sessions = stack.life._sessions
    first = sessions()
    won, created = raise_alert(first, new, looked_up=True)  # holds the key, uncommitted
    assert created
    out: list[tuple[int, bool]] = []

    def second() -> None:
        with sessions() as s:
            alert, made = raise_alert(s, new, looked_up=True)  # waits for the first to commit (PostgreSQL)
            out.append((alert.id, made))
            s.commit()

    t = threading.Thread(target=second)
    t.start()
    t.join(0.5)  # the second writer waits (a row lock on PostgreSQL, the busy timeout on SQLite)
    first.commit()
    won_id = won.id
    first.close()
    t.join(30)
    assert out == [(won_id, False)]
    with sessions() as s:
        assert s.execute(select(CentreAlert.id).where(CentreAlert.key == new.key)).scalars().all() == [won_id]
        assert s.execute(select(CentreAlertEvent.kind).where(CentreAlertEvent.alert_id == won_id)).scalars().all() \
            == ["raised"]
