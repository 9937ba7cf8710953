"""The repair word rules (routing.understanding.repair): what counts as giving up, declining or correcting."""

from __future__ import annotations

import pytest

from actions.intake_form import wants_chat_contact
from routing.understanding import repair
from routing.understanding.text import normalise


@pytest.mark.parametrize("text", ["不填了，太复杂", "先不登记了吧，他答应明天还钱，我等等看", "取消", "懶得報了"])
def test_giving_up_is_read_from_the_first_clause(text: str) -> None:
    assert repair.opens_with_cancel(text)


@pytest.mark.parametrize("text", ["邻居说算了，可第二天又开始吵", "他们厂里天天半夜开工，吵得人睡不着，我想反映一下"])
def test_a_story_is_not_a_cancellation(text: str) -> None:
    assert not repair.opens_with_cancel(text)


def test_not_knowing_declines_only_a_short_answer() -> None:
    assert repair.repair_kind("谁弄的我也不晓得") == "decline"
    assert repair.repair_kind("記不清門牌號了") == "decline"
    assert repair.repair_kind("不知道叫什么名字，是村口开挖掘机的那个人") is None


def test_a_correction_keeps_the_organisation_named_after_the_value() -> None:
    found = repair.parse_correction("对方不是老板，是他们厂，永兴五金制品有限公司")
    assert found is not None and found.field == "complaint_respondent"
    assert "永兴五金" in found.value
    found = repair.parse_correction("对方不是他，是他女婿，房子是他女婿租的")
    assert found is not None and found.value == "他女婿"


@pytest.mark.parametrize("text", ["有结果就在这边通知我", "網上回我就行", "在这聊吧"])
def test_being_answered_in_this_chat(text: str) -> None:
    assert wants_chat_contact(normalise(text))


@pytest.mark.parametrize("text", ["13906754321", "我不想留电话", "我留电话"])
def test_other_answers_are_not_the_chat(text: str) -> None:
    assert not wants_chat_contact(normalise(text))
