"""The case store on SQLite and on PostgreSQL: filing, numbers, idempotency, audit trail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from routing.cases.service import CaseDraft, CaseNotFound, CaseService, CaseStateError
from routing.persistence.case_tables import Alert, Case, CaseEvent
from routing.understanding.places import load_divisions
from routing.understanding.text import normalise


def draft(story: str = "楼上邻居每天半夜装修，吵得孩子没法睡觉。", user: str = "web:abc12345", place: str = "诸暨市枫桥镇枫源村") -> CaseDraft:
    match = load_divisions().resolve(place)
    return CaseDraft(
        narrative_original=story,
        narrative_normalised=normalise(story),
        subject=story,
        channel=user.split(":")[0],
        channel_user_id=user,
        conversation_id=user,
        category="城乡建设",
        category_path=("城乡建设", "城市建设和市政管理", None),
        dispute_type="neighbour",
        location_text=match.label,
        location_code=match.division.code,
        county_code=match.county.code,
        respondent="楼上邻居",
        demand="希望晚上十点后停止施工",
        contact_phone="13812345678",
    )


def test_filing_stores_every_field_and_two_events(service: CaseService) -> None:
    filed = service.file_case(draft())
    assert filed.created
    view = filed.view
    assert view.case_number == "FQ-2026-000001"
    # 小事不出村: a neighbour dispute in 枫源村 goes to the village committee, a person assigned
    assert view.status == "assigned"
    assert view.handling_body == "枫源村人民调解委员会"
    # people's mediation: 30 days from the day after 2026-04-27 → 2026-05-27 (a Wednesday)
    assert view.due_date == date(2026, 5, 27)
    stored = service.get_case(view.case_number, channel_user_id="web:abc12345")
    assert stored.category == "城乡建设"
    assert stored.location_text == "浙江省绍兴市诸暨市枫桥镇枫源村"
    # 受理 and 分派 are the lifecycle's status changes (one writer, one form)
    assert [e["kind"] for e in stored.events] == ["status_changed", "routed", "risk_assessed", "status_changed"]


def test_case_numbers_are_sequential_per_year(service: CaseService) -> None:
    numbers = [service.file_case(draft(story=f"第{i}件：邻居占用公共楼道堆放杂物。")).view.case_number for i in range(3)]
    assert numbers == ["FQ-2026-000001", "FQ-2026-000002", "FQ-2026-000003"]


def test_a_retried_filing_returns_the_same_case(service: CaseService) -> None:
    first = service.file_case(draft())
    again = service.file_case(draft())
    assert again.created is False
    assert again.view.case_number == first.view.case_number


def test_concurrent_identical_filings_create_one_case(service: CaseService, database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: service.file_case(draft()), range(6)))
    assert len({r.view.case_number for r in results}) == 1
    assert sum(r.created for r in results) == 1
    with service._sessions() as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar() == 1


def test_concurrent_different_filings_get_distinct_numbers(service: CaseService) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: service.file_case(draft(story=f"案情{i}：物业不修电梯。")), range(8)))
    numbers = {r.view.case_number for r in results}
    assert len(numbers) == 8


def test_a_citizen_cannot_see_another_citizens_case(service: CaseService) -> None:
    number = service.file_case(draft()).view.case_number
    with pytest.raises(CaseNotFound):
        service.get_case(number, channel_user_id="web:someone-else")
    with pytest.raises(CaseNotFound):
        service.get_case("FQ-2026-999999")


def test_events_cannot_be_updated_or_deleted(service: CaseService) -> None:
    service.file_case(draft())
    with service._sessions() as session:
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text("UPDATE case_events SET reason = 'changed'"))
            session.commit()
        session.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text("DELETE FROM case_events"))
            session.commit()
        session.rollback()
        assert session.execute(select(func.count()).select_from(CaseEvent)).scalar() == 4


def test_a_console_hand_over_that_raced_another_change_is_refused(service: CaseService, database_url: str) -> None:
    from routing.cases.life import CaseLife
    from routing.persistence.db import make_engine, make_session_factory

    number = service.file_case(draft()).view.case_number
    engine = make_engine(database_url)
    life = CaseLife(make_session_factory(engine), lambda: date(2026, 4, 27))
    status = life.view(number).status
    life.withdraw(number, "citizen:web:abc", "撤回")
    with pytest.raises(CaseStateError):
        life.hand_to(number, "u:1", "u:2", "乙", "转交", expected_status=status)
    engine.dispose()
    assert [e["kind"] for e in service.get_case(number).events][-1] == "status_changed"
    assert service.get_case(number).status == "withdrawn"


def test_alert_masks_personal_data_and_marks_the_case_red(service: CaseService) -> None:
    number = service.file_case(draft()).view.case_number
    service.raise_alert("web:abc12345", "red", "危机表述", "我不想活了，电话13812345678，身份证330681199001011234")
    with service._sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert "13812345678" not in alert.excerpt and "138****5678" in alert.excerpt
        assert "330681199001011234" not in alert.excerpt
        case = session.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert case.risk_level == "red"


def test_user_case_list_is_newest_first_and_scoped(service: CaseService) -> None:
    a = service.file_case(draft(story="第一件事：门口垃圾没人清。")).view.case_number
    b = service.file_case(draft(story="第二件事：路灯坏了一个月。")).view.case_number
    service.file_case(replace(draft(story="别人的事"), channel_user_id="web:other-user"))
    views = service.cases_for_user("web", "web:abc12345")
    assert [v.case_number for v in views] == [b, a]


def test_request_human_flags_the_open_case(service: CaseService) -> None:
    number = service.file_case(draft()).view.case_number
    assert service.request_human("web:abc12345", "web", "web:abc12345") == number
    assert service.request_human("web:nobody-here", "web", "web:nobody-here") is None
    assert [e["kind"] for e in service.get_case(number).events][-1] == "human_requested"
