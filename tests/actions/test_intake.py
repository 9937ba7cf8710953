"""Intake actions against a real case store (SQLite file) and the shipped classifier."""

from __future__ import annotations

from sqlalchemy import select

from actions.intake import ActionAnalyzeNarrative, ActionDeclineConsent, ActionFileCase
from actions.intake_form import ActionAskSummaryConfirmed, ValidateComplaintForm, fingerprint
from fengqiao import bootstrap
from routing.persistence.case_tables import Case
from tests.actions.conftest import make_tracker, responses, slot_events

NARRATIVE = "我在诸暨市枫桥镇枫源村，隔壁邻居把围墙砌到我家门口的路上，车子开不进去，要求他拆掉围墙。我的电话13906754321。"
FILLED = {
    "consent_given": True,
    "narrative": NARRATIVE,
    "complaint_subject": NARRATIVE,
    "complaint_location": "浙江省绍兴市诸暨市枫桥镇枫源村",
    "location_code": "330681104001",
    "complaint_respondent": "邻居",
    "complaint_demand": "要求他拆掉围墙",
    "contact_phone": "13906754321",
    "pending_action": "file_case",
}
FILLED["summary_shown"] = FILLED["summary_confirmed"] = fingerprint(make_tracker("", slots=FILLED))


async def test_narrative_prefills_place_party_demand_and_phone(dispatcher, app_database) -> None:
    events = await ActionAnalyzeNarrative().run(dispatcher, make_tracker(NARRATIVE, intent="tell_complaint"), {})
    slots = slot_events(events)
    assert slots["complaint_location"] == "浙江省绍兴市诸暨市枫桥镇枫源村"
    assert slots["location_code"] == "330681104001"
    assert slots["contact_phone"] == "13906754321"
    assert "邻居" in slots["complaint_respondent"]
    assert "拆掉围墙" in slots["complaint_demand"]
    assert slots["category"]
    assert responses(dispatcher) == ["utter_narrative_noted"]


async def test_traditional_narrative_is_understood_the_same(dispatcher, app_database) -> None:
    traditional = "我在諸暨市楓橋鎮楓源村，隔壁鄰居把圍牆砌到我家門口的路上，車子開不進去，要求他拆掉圍牆。"
    events = await ActionAnalyzeNarrative().run(dispatcher, make_tracker(traditional, intent="tell_complaint"), {})
    slots = slot_events(events)
    assert slots["location_code"] == "330681104001"
    assert slots["narrative"] == traditional  # the original is kept as evidence


async def test_form_rejects_unknown_places_and_bad_phones(dispatcher, app_database) -> None:
    form = ValidateComplaintForm()
    tracker = make_tracker("火星基地")
    assert await form.validate_complaint_location("火星基地", dispatcher, tracker, {}) == {"complaint_location": None}
    assert await form.validate_contact_phone("12345", dispatcher, tracker, {}) == {"contact_phone": None, "phone_attempts": 1}
    assert responses(dispatcher) == ["utter_invalid_location", "utter_invalid_phone"]


async def test_form_accepts_full_width_phone_and_short_place(dispatcher, app_database) -> None:
    form = ValidateComplaintForm()
    tracker = make_tracker("１３８１２３４５６７８")
    assert await form.validate_contact_phone("１３８１２３４５６７８", dispatcher, tracker, {}) == {"contact_phone": "13812345678"}
    result = await form.validate_complaint_location("浦江黄宅镇", dispatcher, make_tracker("浦江黄宅镇"), {})
    assert result["complaint_location"].endswith("浦江县黄宅镇")
    assert dispatcher.messages == []


async def test_form_accepts_none_as_respondent(dispatcher, app_database) -> None:
    result = await ValidateComplaintForm().validate_complaint_respondent("无", dispatcher, make_tracker("无"), {})
    assert result == {"complaint_respondent": "无明确对方"}


async def test_summary_masks_the_phone(dispatcher, app_database) -> None:
    events = await ActionAskSummaryConfirmed().run(dispatcher, make_tracker("", slots=FILLED), {})
    assert slot_events(events) == {"pending_action": "file_case", "summary_shown": FILLED["summary_shown"]}
    assert dispatcher.messages[0]["response"] == "utter_summary"
    assert dispatcher.messages[0]["masked_phone"] == "139****4321"


async def test_filing_stores_the_case_and_tells_its_number(dispatcher, app_database) -> None:
    events = await ActionFileCase().run(dispatcher, make_tracker("确认", slots=FILLED, intent="affirm"), {})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_case_filed"
    number = message["case_number"]
    assert number.startswith("FQ-") and len(number) == 14
    assert slot_events(events)["case_number"] == number
    with bootstrap.case_service()._sessions() as session:
        case = session.execute(select(Case).where(Case.case_number == number)).scalar_one()
    assert case.location_code == "330681104001"
    assert case.category and case.channel == "web"
    assert case.contact_phone == "13906754321"


async def test_a_store_failure_is_told_never_confirmed(dispatcher, app_database, tmp_path, monkeypatch) -> None:
    from fengqiao import settings

    # A database path whose parent is a file: every connection fails.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker}/cases.db")
    settings.get_settings.cache_clear()
    bootstrap.reset()
    events = await ActionFileCase().run(dispatcher, make_tracker("确认", slots=FILLED, intent="affirm"), {})
    assert responses(dispatcher) == ["utter_filing_failed"]
    assert events == []


async def test_declining_consent_forgets_everything(dispatcher, app_database) -> None:
    events = await ActionDeclineConsent().run(dispatcher, make_tracker("不同意", slots=FILLED, intent="deny"), {})
    slots = slot_events(events)
    assert slots["narrative"] is None and slots["contact_phone"] is None
    assert slots["consent_given"] is False


async def test_low_confidence_asks_for_the_category_first(dispatcher, app_database) -> None:
    from actions.intake_form import ActionAskCategoryChoice

    form = ValidateComplaintForm()
    slots = {"category_low_confidence": True, "category_alternatives": ["物业服务｜城乡建设", "司法调解｜政法", "噪音污染｜环境保护"]}
    tracker = make_tracker("", slots=slots, active_loop="complaint_form")
    domain_order = ["category_choice", "complaint_subject", "contact_phone"]
    order = await form.required_slots(domain_order, dispatcher, tracker, {})
    assert order == ["category_choice", "complaint_subject", "contact_phone", "summary_confirmed"]
    await ActionAskCategoryChoice().run(dispatcher, tracker, {})
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["物业服务", "司法调解", "噪音污染", "都不是，我再说说"]
    assert dispatcher.messages[0]["buttons"][1]["payload"] == "司法调解"


async def test_a_confident_category_is_not_asked(dispatcher, app_database) -> None:
    tracker = make_tracker("", slots={"category_low_confidence": False, "category_alternatives": ["城乡建设"]})
    order = await ValidateComplaintForm().required_slots(["category_choice", "complaint_subject"], dispatcher, tracker, {})
    assert order == ["complaint_subject", "summary_confirmed"]


async def test_the_picked_category_is_kept_for_filing(dispatcher, app_database) -> None:
    form = ValidateComplaintForm()
    slots = {"category_low_confidence": True, "category_alternatives": ["物业服务｜城乡建设", "司法调解｜政法"]}
    tracker = make_tracker("司法调解", slots=slots)
    result = await form.validate_category_choice("司法调解", dispatcher, tracker, {})
    assert result == {"category_choice": "司法调解", "category": "政法", "category_low_confidence": False}
    nothing = await form.validate_category_choice("随便", dispatcher, tracker, {})
    assert nothing == {"category_choice": None}
    assert responses(dispatcher) == ["utter_invalid_category"]
    from actions.intake import draft_from

    filed = draft_from(make_tracker("确认", slots={**FILLED, "category": "政法"}))
    assert filed.category == "政法" and filed.category_path == ("政法",)


async def test_danger_inside_a_narrative_gets_emergency_numbers(dispatcher, app_database) -> None:
    """Even when NLU files it as a complaint, 不想活 / 拿着刀 get 110/120/12356 and a red alert."""
    from routing.persistence.case_tables import Alert

    text = "欠了我半年工资一分不给，我现在真的不想活了，打算今晚从厂房楼顶跳下去。"
    await ActionAnalyzeNarrative().run(dispatcher, make_tracker(text, intent="tell_complaint"), {})
    assert responses(dispatcher)[0] == "utter_crisis"
    with bootstrap.case_service()._sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()
    assert alert.level == "red" and "自伤" in alert.reason


async def test_an_ordinary_narrative_raises_no_alarm(dispatcher, app_database) -> None:
    await ActionAnalyzeNarrative().run(dispatcher, make_tracker(NARRATIVE, intent="tell_complaint"), {})
    assert "utter_crisis" not in responses(dispatcher)
