"""Reading a narrative: the demand clause, phone numbers and 'no other party'."""

from __future__ import annotations

import pytest

from routing.understanding.intake import find_demand, find_phone, is_no_party, resolve_place


@pytest.mark.parametrize(
    ("text", "demand"),
    [
        ("包工头欠我们二十多个工人工资一共三十多万，要求尽快结清", "要求尽快结清"),
        ("楼上吵。希望他们晚上十点以后不要再跳了。", "希望他们晚上十点以后不要再跳了"),
        ("要求结清工资，并赔偿损失", "要求结清工资，并赔偿损失"),
        ("懇請有關部門儘快處理", "恳请有关部门尽快处理"),
        ("门口的路灯坏了", None),
    ],
)
def test_the_demand_is_the_clause_that_asks(text: str, demand: str | None) -> None:
    assert find_demand(text) == demand


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("我的手机是１３９０６７５４３２１", "13906754321"),
        ("座机 0575-87654321 白天有人", "0575-87654321"),
        ("电话 139 0675 4321", "13906754321"),
        ("12345热线打不通", None),
        ("身份证330681199001011234", None),
    ],
)
def test_phone_numbers_are_found_in_any_width(text: str, phone: str | None) -> None:
    assert find_phone(text) == phone


def test_none_means_no_other_party() -> None:
    assert is_no_party("无") and is_no_party("沒有") and not is_no_party("物业公司")


def test_places_resolve_from_short_and_traditional_forms() -> None:
    assert resolve_place("諸暨楓橋鎮").division.name == "枫桥镇"
    assert resolve_place("月球背面") is None
