"""Repairs inside the complaint form and at the summary, against a real SQLite case store."""

from __future__ import annotations

from sqlalchemy import func, select

from fengqiao import bootstrap
from routing.persistence.case_tables import Case
from tests.actions.form_sim import FormSim

NARRATIVE = "我在诸暨市枫桥镇枫源村，隔壁邻居把围墙砌到我家门口的路上，车子开不进去。"
BASE = {
    "consent_given": True,
    "narrative": NARRATIVE,
    "complaint_subject": NARRATIVE,
    "complaint_location": "浙江省绍兴市诸暨市枫桥镇枫源村",
    "location_code": "330681104001",
    "category": "城乡建设",
    "dispute_type": "neighbour",
}


def cases() -> int:
    with bootstrap.case_service()._sessions() as session:
        return session.execute(select(func.count()).select_from(Case)).scalar_one()


async def at_summary() -> FormSim:
    sim = FormSim({**BASE, "complaint_respondent": "隔壁邻居", "complaint_demand": "要求拆掉围墙",
                   "contact_phone": "13906754321", "requested_slot": "summary_confirmed"})
    await sim.ask()
    return sim


async def test_a_wrong_place_at_the_summary_is_corrected_and_shown_again(app_database) -> None:
    sim = await at_summary()
    said = await sim.say("地点说错了，是诸暨市店口镇", intent="correct")
    assert said == ["utter_corrected"]
    assert sim.slots["complaint_location"].endswith("诸暨市店口镇")
    assert sim.messages[-1]["response"] == "utter_summary"  # shown again
    assert "店口镇" in sim.messages[-1]["complaint_location"]
    assert cases() == 0


async def test_change_then_confirm_files_only_after_the_new_summary(app_database) -> None:
    sim = await at_summary()
    assert await sim.say("修改", intent="deny") == ["utter_ask_what_to_change"]
    assert cases() == 0
    # 修改 opened a question; 确认 now only shows the summary again
    await sim.say("确认", intent="affirm")
    assert cases() == 0 and sim.messages[-1]["response"] == "utter_summary"
    said = await sim.say("确认", intent="affirm")
    assert "utter_case_filed" in said and cases() == 1


async def test_change_question_then_field_name_asks_that_field_again(app_database) -> None:
    sim = await at_summary()
    await sim.say("修改", intent="deny")
    await sim.say("对方", intent="inform")
    assert sim.slots["requested_slot"] == "complaint_respondent"
    await sim.say("是物业公司", intent="inform")
    assert sim.slots["complaint_respondent"] == "是物业公司"
    assert sim.messages[-1]["response"] == "utter_summary"


async def test_respondent_corrected_in_one_sentence(app_database) -> None:
    sim = await at_summary()
    await sim.say("对方不是他，是村委会的张主任", intent="correct")
    assert sim.slots["complaint_respondent"] == "村委会的张主任"
    assert sim.messages[-1]["response"] == "utter_summary"


async def test_cancel_at_the_summary_files_nothing(app_database) -> None:
    sim = await at_summary()
    said = await sim.say("算了不办了", intent="cancel")
    assert said == ["utter_complaint_cancelled"]
    assert not sim.active and cases() == 0
    assert sim.slots["contact_phone"] is None


async def test_declining_the_phone_explains_and_offers_the_chat(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙",
                   "requested_slot": "contact_phone"})
    said = await sim.say("我不想留电话", intent="decline")
    assert said == ["utter_phone_declined"]  # a neighbour dispute cannot be anonymous
    titles = [b["title"] for b in sim.messages[-1]["buttons"]]
    assert "在本对话里联系我" in titles and "匿名反映" not in titles
    assert sim.slots["contact_phone"] is None and sim.slots["requested_slot"] == "contact_phone"
    await sim.say("在本对话里联系我")
    assert sim.slots["contact_phone"] == "本对话联系"
    assert sim.messages[-1]["masked_phone"].startswith("不留电话")


async def test_a_pollution_report_may_be_anonymous(app_database) -> None:
    sim = FormSim({**BASE, "dispute_type": "environment_noise", "complaint_respondent": "洗车店",
                   "complaint_demand": "停止排污", "requested_slot": "contact_phone"})
    assert await sim.say("电话保密，不想给", intent="inform") == ["utter_phone_declined_anonymous_ok"]
    await sim.say("匿名反映")
    assert sim.slots["contact_phone"] == "匿名"
    said = await sim.say("确认", intent="affirm")
    assert "utter_case_filed" in said
    with bootstrap.case_service()._sessions() as session:
        assert session.execute(select(Case.contact_phone)).scalar_one() is None


async def test_repairs_at_the_phone_never_read_as_a_bad_number(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙",
                   "requested_slot": "contact_phone"})
    assert await sim.say("为什么要电话", intent="inform") == ["utter_why_contact_phone"]
    assert await sim.say("我想预约领导接访", intent="inform") == ["utter_leader_noted"]
    assert sim.slots["wishes"] == ["leader"]
    assert "utter_invalid_phone" not in [m.get("response") for m in sim.messages]
    assert await sim.say("算了不办了", intent="inform") == ["utter_complaint_cancelled"]
    assert cases() == 0


async def test_two_bad_numbers_offer_the_alternatives_instead_of_looping(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙",
                   "requested_slot": "contact_phone"})
    assert await sim.say("12345") == ["utter_invalid_phone"]
    assert await sim.say("6789") == ["utter_phone_declined"]


async def test_a_phone_given_for_the_demand_is_taken_as_the_phone(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "requested_slot": "complaint_demand"})
    await sim.say("13857812345")
    assert sim.slots["contact_phone"] == "13857812345"
    assert sim.slots["complaint_demand"] is None and sim.slots["requested_slot"] == "complaint_demand"
    await sim.say("要求拆掉围墙，电话13857812345")
    assert sim.slots["complaint_demand"] == "要求拆掉围墙"


async def test_a_correction_during_a_later_question_keeps_the_question(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙",
                   "requested_slot": "contact_phone"})
    assert await sim.say("地点说错了，是浦江县黄宅镇", intent="correct") == ["utter_corrected"]
    assert sim.slots["complaint_location"].endswith("浦江县黄宅镇")
    assert sim.slots["requested_slot"] == "contact_phone" and sim.slots["contact_phone"] is None


async def test_traditional_repairs_work_the_same(app_database) -> None:
    sim = await at_summary()
    await sim.say("地點說錯了，是諸暨市店口鎮", intent="correct")
    assert sim.slots["complaint_location"].endswith("诸暨市店口镇")
    assert await sim.say("算了，不辦了", intent="cancel") == ["utter_complaint_cancelled"]
    assert cases() == 0


async def test_the_respondent_question_does_not_store_a_refusal(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    assert await sim.say("这个不想说", intent="inform") == ["utter_respondent_declined"]
    assert sim.slots["complaint_respondent"] == "未说明"
    assert sim.slots["requested_slot"] == "complaint_demand"


async def test_an_unclear_answer_at_the_summary_is_never_a_filing(app_database) -> None:
    sim = await at_summary()
    for text, intent in [("嗯……我想想", "affirm"), ("对，但地点错了", "affirm"), ("什么时候能办好", "ask_status"),
                         ("好像不太对", "affirm"), ("提交吗？", "affirm")]:
        await sim.say(text, intent=intent)
        assert cases() == 0, text


async def test_a_narrative_that_mentions_giving_up_is_not_a_cancellation(app_database) -> None:
    sim = FormSim({"consent_given": True, "requested_slot": "complaint_subject"})
    await sim.say("邻居把水管弄坏了，他说算了不赔了，我不同意，要求他赔偿维修费", intent="tell_complaint")
    assert sim.active and sim.slots["complaint_subject"].startswith("邻居把水管弄坏了")


async def test_wishes_in_the_narrative_are_acted_on_after_filing(app_database) -> None:
    from routing.understanding.repair import wishes_in

    text = "村里修路占了我家的地一直不补偿，很急，我想见县领导当面反映，已经去法院起诉过了，不要透露我的名字，匿名处理。"
    assert set(wishes_in(text)) == {"leader", "urgent", "litigation", "anonymous"}
    sim = await at_summary()
    sim.slots["wishes"] = list(wishes_in(text))
    await sim.ask()
    said = await sim.say("确认", intent="affirm")
    assert said[0] == "utter_case_filed"
    assert {"utter_urgent_noted", "utter_anonymity_explained", "utter_litigation_channel"} <= set(said)
    assert said[-1] in ("utter_reception_offer", "utter_leader_requested")
    with bootstrap.case_service()._sessions() as session:
        case = session.execute(select(Case)).scalar_one()
    assert case.risk_level == "yellow"


async def test_none_of_these_asks_for_a_sentence_more_and_reclassifies(app_database) -> None:
    sim = FormSim({"consent_given": True, "narrative": "这事我也不知道找谁", "complaint_subject": "这事我也不知道找谁",
                   "category_low_confidence": True, "requested_slot": "category_choice",
                   "category_alternatives": ["司法调解｜政法", "社会救助｜民政", "学校管理｜教育文体"]})
    assert await sim.say("都不是，我再说说", intent="none_of_these") == ["utter_tell_more"]
    assert sim.slots["awaiting_more_detail"] is True and sim.slots["requested_slot"] == "category_choice"
    await sim.say("楼上邻居装修，天天电钻噪音，吵得孩子睡不着", intent="tell_complaint")
    assert sim.slots["awaiting_more_detail"] is False
    assert "电钻" in sim.slots["narrative"]
    if sim.slots["category_choice"] is None:  # still unsure: new plain choices, not the rejected ones
        assert not set(sim.slots["category_alternatives"]) & {"司法调解｜政法", "社会救助｜民政"}
    else:
        assert sim.slots["category"] == sim.slots["category_choice"]


async def test_an_offered_choice_is_the_answer_whatever_nlu_made_of_it(app_database) -> None:
    """A button title NLU reads as another intent (司法调解 → withdraw) still picks that problem."""
    sim = FormSim({"consent_given": True, "narrative": NARRATIVE, "complaint_subject": NARRATIVE,
                   "category_low_confidence": True, "requested_slot": "category_choice",
                   "category_alternatives": ["司法调解｜政法", "宅基地纠纷｜农村农业", "新农村建设｜城乡建设"]})
    said = await sim.say("司法调解", intent="withdraw")
    assert "utter_complaint_cancelled" not in said
    assert sim.active and (sim.slots["category_choice"], sim.slots["category"]) == ("司法调解", "政法")
    assert sim.slots["requested_slot"] != "category_choice"
    # the same words not offered as a button, at another question, still give up
    assert await FormSim({**BASE, "requested_slot": "complaint_demand"}).say("撤掉吧", intent="withdraw") \
        == ["utter_complaint_cancelled"]


async def test_a_human_asked_for_inside_the_form_keeps_the_form_going(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    assert await sim.say("我要转人工", intent="request_human") == ["utter_human_requested_in_form"]
    assert sim.active and sim.slots["requested_slot"] == "complaint_respondent"
    assert sim.slots["complaint_respondent"] is None


async def test_withdraw_inside_the_form_gives_up_the_registration(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_demand"})
    assert await sim.say("撤掉吧", intent="withdraw") == ["utter_complaint_cancelled"]
    assert not sim.active and cases() == 0


async def test_no_at_the_phone_question_is_a_refusal(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙", "requested_slot": "contact_phone"})
    assert await sim.say("不给", intent="deny") == ["utter_phone_declined"]


async def test_an_unclear_answer_with_should_be_is_an_answer_not_a_loop(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    await sim.say("不太清楚，应该是管公路的部门", intent="inform")
    assert sim.slots["complaint_respondent"] == "不太清楚,应该是管公路的部门"
    assert sim.slots["requested_slot"] == "complaint_demand" and not sim.slots.get("awaiting_change")


async def test_a_number_with_words_at_the_phone_question_is_the_number(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "砂石场", "complaint_demand": "关停", "requested_slot": "contact_phone"})
    await sim.say("行，电话是13588214576，先帮我登记", intent="cancel")
    assert sim.active and sim.slots["contact_phone"] == "13588214576"


async def test_none_of_these_with_the_sentence_in_one_message_reclassifies(app_database) -> None:
    sim = FormSim({"consent_given": True, "narrative": "老家的房子被人动了", "complaint_subject": "老家的房子被人动了",
                   "category_low_confidence": True, "requested_slot": "category_choice",
                   "category_alternatives": ["物业服务｜城乡建设", "司法调解｜政法"]})
    await sim.say("都不是，我再说说：是村里修路把我家老房子的围墙推倒了，也不赔", intent="none_of_these")
    assert "围墙推倒" in sim.slots["narrative"] and not sim.slots.get("awaiting_change")


async def test_a_correction_takes_the_value_after_what_was_wrong(app_database) -> None:
    sim = await at_summary()
    await sim.say("对方不是他，是装修公司，叫美家装饰，是他们动手拆的", intent="correct")
    assert sim.slots["complaint_respondent"] == "装修公司(叫美家装饰)"  # NFKC-normalised


async def test_being_answered_in_this_chat_is_understood_in_other_words(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙", "requested_slot": "contact_phone"})
    await sim.say("就在这个聊天里回复我就行")
    assert sim.slots["contact_phone"] == "本对话联系"


async def test_an_answer_nlu_took_for_a_correction_is_still_the_answer(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    await sim.say("不太清楚，应该是管公路的部门", intent="correct")
    assert "管公路的部门" in sim.slots["complaint_respondent"]
    assert sim.slots["requested_slot"] == "complaint_demand"


async def test_a_long_message_opening_with_giving_up_cancels_at_the_summary(app_database) -> None:
    sim = await at_summary()
    said = await sim.say("先不登记了吧，对方刚答应下周把墙拆掉，我再等几天看看", intent="tell_complaint")
    assert said == ["utter_complaint_cancelled"]
    assert not sim.active and cases() == 0
    said = await sim.say("确认", intent="affirm")
    assert cases() == 0


async def test_declining_the_phone_with_this_chat_named_takes_the_chat(app_database) -> None:
    sim = FormSim({**BASE, "complaint_respondent": "邻居", "complaint_demand": "拆墙", "requested_slot": "contact_phone"})
    await sim.say("號碼不給了，有消息直接在這邊通知我", intent="decline")
    assert sim.slots["contact_phone"] == "本对话联系"
    assert sim.slots["requested_slot"] == "summary_confirmed"


async def test_not_knowing_declines_only_in_a_short_answer(app_database) -> None:
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    assert await sim.say("谁干的我也不晓得", intent="inform") == ["utter_respondent_declined"]
    sim = FormSim({**BASE, "requested_slot": "complaint_respondent"})
    await sim.say("不知道叫什么名字，是村口开挖掘机的那个人", intent="inform")
    assert "开挖掘机" in sim.slots["complaint_respondent"]
