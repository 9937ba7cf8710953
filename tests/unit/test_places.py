"""Tests for the division data and place resolution (routing.places)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from routing.places import (
    DEFAULT_PATH,
    LEVELS,
    Division,
    DivisionIndex,
    load_divisions,
    short_county_name,
)

EXPECTED_COUNTIES = {
    "杭州市": "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区 临安区 桐庐县 淳安县 建德市",
    "宁波市": "海曙区 江北区 北仑区 镇海区 鄞州区 奉化区 象山县 宁海县 余姚市 慈溪市",
    "温州市": "鹿城区 龙湾区 瓯海区 洞头区 永嘉县 平阳县 苍南县 文成县 泰顺县 瑞安市 乐清市 龙港市",
    "嘉兴市": "南湖区 秀洲区 嘉善县 海盐县 海宁市 平湖市 桐乡市",
    "湖州市": "吴兴区 南浔区 德清县 长兴县 安吉县",
    "绍兴市": "越城区 柯桥区 上虞区 新昌县 诸暨市 嵊州市",
    "金华市": "婺城区 金东区 武义县 浦江县 磐安县 兰溪市 义乌市 东阳市 永康市",
    "衢州市": "柯城区 衢江区 常山县 开化县 龙游县 江山市",
    "舟山市": "定海区 普陀区 岱山县 嵊泗县",
    "台州市": "椒江区 黄岩区 路桥区 三门县 天台县 仙居县 温岭市 临海市 玉环市",
    "丽水市": "莲都区 青田县 缙云县 遂昌县 松阳县 云和县 庆元县 景宁畲族自治县 龙泉市",
}


@pytest.fixture(scope="module")
def idx() -> DivisionIndex:
    return load_divisions()


def test_csv_has_exact_columns_and_unique_codes() -> None:
    with DEFAULT_PATH.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["code", "name", "level", "parent_code", "aliases"]
        rows = list(reader)
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    for row in rows:
        assert row["level"] in LEVELS
        if row["level"] in ("province", "city", "county"):
            assert len(row["code"]) == 6, row
        else:
            assert len(row["code"]) == 12, row
            assert row["code"].startswith(row["parent_code"][:6]), row


def test_eleven_cities_and_all_ninety_counties(idx: DivisionIndex) -> None:
    province = idx.get("330000")
    assert province is not None and province.name == "浙江省"
    cities = idx.children("330000")
    assert {c.name for c in cities} == set(EXPECTED_COUNTIES)
    total = 0
    for city in cities:
        counties = {c.name for c in idx.children(city.code) if c.level == "county"}
        assert counties == set(EXPECTED_COUNTIES[city.name].split()), city.name
        total += len(counties)
    assert total == 90


def test_known_codes(idx: DivisionIndex) -> None:
    assert idx.get("330681").name == "诸暨市"  # type: ignore[union-attr]
    assert idx.get("330726").name == "浦江县"  # type: ignore[union-attr]
    assert idx.get("330600").name == "绍兴市"  # type: ignore[union-attr]
    assert idx.get("330700").name == "金华市"  # type: ignore[union-attr]
    assert idx.get("999999") is None


def test_pujiang_townships_complete(idx: DivisionIndex) -> None:
    names = {d.name for d in idx.children("330726")}
    assert names == {
        "浦阳街道", "仙华街道", "浦南街道", "黄宅镇", "岩头镇", "郑宅镇", "檀溪镇", "杭坪镇",
        "白马镇", "郑家坞镇", "虞宅乡", "大畈乡", "中余乡", "前吴乡", "花桥乡",
    }


def test_ancestors_and_children(idx: DivisionIndex) -> None:
    fengyuan = idx.by_name("枫源村")[0]
    assert [d.name for d in idx.ancestors(fengyuan.code)] == ["浙江省", "绍兴市", "诸暨市", "枫桥镇"]
    grids = [d for d in idx.children(fengyuan.code) if d.level == "grid"]
    assert "枫源村第一网格" in {g.name for g in grids}
    assert idx.ancestors("330000") == []


def test_resolve_full_path(idx: DivisionIndex) -> None:
    m = idx.resolve("我家在诸暨市枫桥镇枫源村，隔壁在搭违章建筑")
    assert m is not None
    assert m.label == "浙江省绍兴市诸暨市枫桥镇枫源村"
    assert m.division.level == "village"
    assert m.county is not None and m.county.code == "330681"
    assert m.township is not None and m.township.name == "枫桥镇"
    assert m.village is not None and m.village.name == "枫源村"
    assert m.city is not None and m.city.name == "绍兴市"
    assert m.province is not None and m.province.name == "浙江省"
    assert m.matched_text == "诸暨市枫桥镇枫源村"


def test_short_forms(idx: DivisionIndex) -> None:
    m = idx.resolve("诸暨枫桥这边的事")
    assert m is not None and m.division.name == "枫桥镇"
    m = idx.resolve("我住在浦江县城")
    assert m is not None and m.division.name == "浦阳街道"
    m = idx.resolve("杭州萧山有个工地")
    assert m is not None and m.division.name == "萧山区" and m.city.name == "杭州市"  # type: ignore[union-attr]


def test_ambiguous_village_uses_context(idx: DivisionIndex) -> None:
    assert len(idx.by_name("陈家村")) == 2
    m = idx.resolve("枫桥镇陈家村的路灯坏了")
    assert m is not None and m.township.name == "枫桥镇"  # type: ignore[union-attr]
    m = idx.resolve("店口陈家村的路灯坏了")
    assert m is not None and m.township.name == "店口镇"  # type: ignore[union-attr]
    # no context: do not guess a township, return the common ancestor
    m = idx.resolve("陈家村的路灯坏了")
    assert m is not None and m.division.name == "诸暨市"
    # same across counties: 新华村 exists in 浦阳街道 and 黄宅镇
    m = idx.resolve("黄宅镇新华村")
    assert m is not None and m.township.name == "黄宅镇"  # type: ignore[union-attr]


def test_traditional_input(idx: DivisionIndex) -> None:
    m = idx.resolve("我住在諸暨市楓橋鎮櫟橋村附近，浙江紹興")
    assert m is not None and m.county is not None and m.county.name == "诸暨市"
    m = idx.resolve("浦江縣鄭宅鎮東明村")
    assert m is not None and m.division.name == "东明村"


def test_no_place_returns_none(idx: DivisionIndex) -> None:
    assert idx.resolve("老板拖欠工资三个月了，怎么办") is None
    assert idx.resolve("") is None
    # slogans that contain a place name are not places
    assert idx.resolve("我们要发扬新时代枫桥经验") is None
    assert idx.resolve("上海黄浦江边") is None


def test_county_outside_township_data(idx: DivisionIndex) -> None:
    m = idx.resolve("义乌市佛堂镇一家工厂拖欠工资")
    assert m is not None and m.division.name == "义乌市" and m.division.level == "county"
    m = idx.resolve("温州苍南县灵溪镇")
    assert m is not None and m.division.code == "330327"


def test_longest_match_wins(idx: DivisionIndex) -> None:
    m = idx.resolve("浦江檀溪镇平湖村")  # 平湖 alone is 平湖市 in 嘉兴
    assert m is not None and m.division.name == "平湖村" and m.county.name == "浦江县"  # type: ignore[union-attr]


def test_deeper_supported_place_beats_other_county(idx: DivisionIndex) -> None:
    m = idx.resolve("我老家是浦江的，现在在诸暨店口镇打工")
    assert m is not None and m.division.name == "店口镇"


def test_grid_and_estate(idx: DivisionIndex) -> None:
    m = idx.resolve("枫源村第一网格的网格员")
    assert m is not None and m.division.level == "grid"
    assert m.label == "浙江省绍兴市诸暨市枫桥镇枫源村第一网格"
    m = idx.resolve("浦江月泉花园小区物业不作为")
    assert m is not None and m.division.level == "estate"
    assert m.village is not None and m.village.name == "月泉社区"


def test_load_is_cached_and_custom_path(tmp_path: Path) -> None:
    assert load_divisions() is load_divisions()
    path = tmp_path / "d.csv"
    path.write_text(
        "code,name,level,parent_code,aliases\n330000,浙江省,province,,浙江\n"
        "330100,杭州市,city,330000,杭州|杭城\n",
        encoding="utf-8",
    )
    small = load_divisions(path)
    assert len(small) == 2
    m = small.resolve("杭城的事")
    assert m is not None and m.division.code == "330100"


def test_bad_data_rejected() -> None:
    with pytest.raises(ValueError):
        DivisionIndex([Division("1", "a", "city", "9")])
    with pytest.raises(ValueError):
        DivisionIndex([Division("1", "a", "planet", "")])
    with pytest.raises(ValueError):
        DivisionIndex([Division("1", "a", "province", ""), Division("1", "b", "province", "")])


def test_resolve_is_fast(idx: DivisionIndex) -> None:
    text = "你好，我是诸暨市枫桥镇栎桥村的村民，邻居家在我家门口堆放建筑垃圾已经两个月了，" * 4
    idx.resolve(text)
    start = time.perf_counter()
    for _ in range(200):
        idx.resolve(text)
    per_call_ms = (time.perf_counter() - start) / 200 * 1000
    assert per_call_ms < 1.0


def test_every_county_resolves_from_its_short_name(idx: DivisionIndex) -> None:
    counties = [d for d in idx.all() if d.level == "county"]
    assert len(counties) == 90
    for county in counties:
        short = short_county_name(county.name)
        assert len(short) >= 2, county.name
        for text in (f"{short}，小区门口的路灯坏了", f"我是{short}的，想反映个事"):
            m = idx.resolve(text)
            assert m is not None and m.county is not None, text
            assert m.county.code == county.code, text


def test_short_name_that_is_a_common_word_needs_a_place_context(idx: DivisionIndex) -> None:
    # 天台 = rooftop, 江山 = the land, 开化 = civilised, 路桥 = roads and bridges
    for text in ("天台漏水了", "我家天台的防水层坏了", "天台那边堆满了杂物", "江山如此多娇", "这里开化得早", "路桥建设要加快"):
        assert idx.resolve(text) is None, text
    for text, code in (
        ("台州天台有个养殖场", "331023"),
        ("开化县城一家饭店", "330824"),
        ("我是路桥人", "331004"),
        ("住在江山，工资被拖欠", "330881"),
    ):
        m = idx.resolve(text)
        assert m is not None and m.county is not None and m.county.code == code, text
