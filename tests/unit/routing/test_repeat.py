"""Repeat petitions (信访工作条例 第十九条第三款, 第三十六条第三款; 浙江省信访条例 第二十条、第二十五条)."""

from __future__ import annotations

from datetime import date

from routing.cases.repeat import PetitionRef, check_acceptance, find_repeats, similarity
from tests.unit.routing.fakes import FakePetitionHistory

OLD_TEXT = "枫源村的养猪场臭气熏天，污水直接排到河里，反映过没人管"
NEW_TEXT = "还是枫源村那个养猪场，污水排进河里，臭气熏天，一直没人管"
OTHER_TEXT = "小区电梯坏了三个星期物业不修"


def _old(**kw):
    base = dict(case_id="FQ-1", person_id="u1", text=OLD_TEXT, division="330681104001",
                status="handling", respondent="某养殖场", body_tier="township",
                handle_due=date(2026, 6, 5))
    base.update(kw)
    return PetitionRef(**base)


NEW = PetitionRef("FQ-2", "u1", NEW_TEXT, "330681104001", respondent="某养殖场", channel="telegram")


def test_similarity_separates_same_and_different_matters():
    """Char-bigram similarity: the same matter told differently scores well above an unrelated one."""
    assert similarity(OLD_TEXT, NEW_TEXT) > 0.4
    assert similarity(OLD_TEXT, OTHER_TEXT) < 0.1
    assert similarity(OLD_TEXT, NEW_TEXT, use_jieba=True) > similarity(OLD_TEXT, OTHER_TEXT, use_jieba=True)


def test_same_person_similar_matter_is_linked_across_channels():
    """信访工作条例 第二十一条 (信息共享): the same person's same matter is linked."""
    hist = FakePetitionHistory([_old(), _old(case_id="FQ-3", text=OTHER_TEXT),
                                _old(case_id="FQ-4", person_id="u2")])
    matches = find_repeats(NEW, hist.petitions_of("u1"))
    assert [m.case_id for m in matches] == ["FQ-1"]
    assert matches[0].same_respondent and matches[0].same_place


def test_art19_not_accepted_higher_up_while_being_handled():
    """信访工作条例 第十九条第三款: being handled below, within its period → the higher body refuses."""
    check = check_acceptance(NEW, [_old()], target_tier="county", as_of=date(2026, 5, 20))
    assert not check.accept and check.linked_case_ids == ("FQ-1",)
    assert check.articles == ("信访工作条例 第十九条第三款",) and "上级机关不予受理" in check.reason


def test_zhejiang_art20_same_level_duplicate_not_accepted_again():
    """浙江省信访条例 第二十条第一款第五项: already accepted and within its period → not again."""
    check = check_acceptance(NEW, [_old()], target_tier="township", as_of=date(2026, 5, 20))
    assert not check.accept and check.articles == ("浙江省信访条例 第二十条第一款第五项",)


def test_art19_after_the_handling_period_is_accepted_and_linked():
    """信访工作条例 第十九条第三款 applies only 在规定期限内: after it, accepted and linked."""
    check = check_acceptance(NEW, [_old()], target_tier="county", as_of=date(2026, 6, 8))
    assert check.accept and check.linked_case_ids == ("FQ-1",)


def test_art36_same_facts_after_recheck_not_accepted():
    """信访工作条例 第三十六条第三款: 复核 done, same facts and reasons → not accepted anywhere."""
    old = _old(status="archived", recheck_final=True)
    check = check_acceptance(NEW, [old], target_tier="village", as_of=date(2026, 9, 1))
    assert not check.accept and "信访工作条例 第三十六条第三款" in check.articles


def test_different_matter_is_accepted_without_link():
    """A different matter of the same person is a new case."""
    new = PetitionRef("FQ-5", "u1", OTHER_TEXT, "330681104201")
    check = check_acceptance(new, [_old()], target_tier="county", as_of=date(2026, 5, 20))
    assert check.accept and check.linked_case_ids == ()
