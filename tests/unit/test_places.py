"""Tests for the division data and place resolution (routing.understanding.places)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from routing.understanding.places import (
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


# --- townships of every county (routing/data/townships_zj.csv) -------------------------------

TOWNSHIPS_CSV = DEFAULT_PATH.parent / "townships_zj.csv"


def _county(idx: DivisionIndex, text: str) -> str | None:
    m = idx.resolve(text)
    return m.county.code if m is not None and m.county is not None else None


def test_township_list_covers_zhejiang_only() -> None:
    with TOWNSHIPS_CSV.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["code", "name", "county_code"]
        rows = list(reader)
    assert len(rows) > 1300
    counties = {d.code for d in load_divisions().all() if d.level == "county"}
    for row in rows:
        assert row["code"].startswith(row["county_code"]) and len(row["code"]) == 9, row
        assert row["county_code"] in counties, row
        assert row["name"].endswith(("镇", "乡", "街道")), row
    # 龙港 (a city since 2019) has no townships; every other county has some
    assert len({r["county_code"] for r in rows}) == 89


def test_unique_township_full_name_resolves_to_its_county(idx: DivisionIndex) -> None:
    for text, code in (
        ("濮院镇一家羊毛衫厂拖了我两个月工钱", "330483"),  # 桐乡
        ("新塍镇的菜场里有人缺斤短两", "330411"),  # 秀洲
        ("我在观海卫镇租的房子，房东不退押金", "330282"),  # 慈溪
        ("朱家尖街道有家海鲜排档宰客", "330903"),  # 普陀
        ("织里镇童装厂老板跑路了", "330502"),  # 吴兴
    ):
        m = idx.resolve(text)
        assert m is not None and m.division.code == code, text
        assert m.division.level == "county"


def test_township_of_listed_county_keeps_its_own_row(idx: DivisionIndex) -> None:
    m = idx.resolve("郑宅镇有户人家的围墙倒了")
    assert m is not None and m.division.code == "330726103000"
    m = idx.resolve("店口镇一家五金厂排污水")
    assert m is not None and m.division.code == "330681102000"


def test_ambiguous_township_name_needs_a_written_county_or_city(idx: DivisionIndex) -> None:
    # 溪口镇 is both in 奉化 and in 龙游; 城东街道 is in several counties
    assert idx.resolve("溪口镇上的那家面馆不卫生") is None
    assert idx.resolve("城东街道的路灯一直不亮") is None
    assert _county(idx, "奉化溪口镇上的那家面馆不卫生") == "330213"
    assert _county(idx, "宁波溪口镇一家面馆不卫生") == "330213"
    assert _county(idx, "龙游县溪口镇有人在河里电鱼") == "330825"


def test_written_county_beats_same_named_township_of_another_county(idx: DivisionIndex) -> None:
    # 岩头镇 is a township of 浦江 in divisions.csv and also a town of 永嘉
    m = idx.resolve("我家在永嘉县岩头镇，村口的桥塌了半边")
    assert m is not None and m.division.code == "330324"
    m = idx.resolve("永嘉县的，岩头镇上有家超市卖过期奶粉")
    assert m is not None and m.division.code == "330324"
    m = idx.resolve("浦江岩头镇有个养猪场臭得很")
    assert m is not None and m.division.code == "330726102000"
    # with no county written, the township of divisions.csv is kept
    m = idx.resolve("岩头镇有个养猪场臭得很")
    assert m is not None and m.division.code == "330726102000"


def test_township_short_form_in_a_place_context(idx: DivisionIndex) -> None:
    for text, code in (
        ("温岭泽国有家鞋厂欠薪", "331081"),  # after the county
        ("嘉兴濮院有家羊毛衫店不退货", "330483"),  # after the city
        ("我是濮院的，隔壁厂房噪音太大", "330483"),  # the writer's place
        ("住在织里，楼下天天有人烧垃圾", "330502"),
        ("朱家尖那边的民宿乱涨价", "330903"),  # before 那边
        ("织里附近新开的童装厂夜里赶工", "330502"),  # before 附近
        ("濮院，我在一家毛衫厂上班，老板扣了押金", "330483"),  # standing alone
        ("我们在濮院开了家小吃店，房东突然要涨租", "330483"),  # 在X开
        ("诸暨大唐有家袜厂欠了工钱", "330681"),  # a township of divisions.csv without alias
    ):
        assert _county(idx, text) == code, text
    m = idx.resolve("诸暨大唐有家袜厂欠了工钱")
    assert m is not None and m.division.code == "330681005000"


def test_township_short_form_alone_in_running_text_is_not_a_place(idx: DivisionIndex) -> None:
    for text in (
        "他说泽国的事情不归他管",  # 泽国 = a land of waters
        "我们织里面的毛衣",  # 织 + 里面
        "这批货物濮院那个仓库不收",  # 那个 is not 那边
        "老板说下管不了",  # 下管 is a town of 上虞
    ):
        assert idx.resolve(text) is None, text


def test_ordinary_words_do_not_become_places(idx: DivisionIndex) -> None:
    for text in (
        "我在花园里散步被狗咬了",
        "湖南那边的老板欠我钱",  # 湖南 is also a town of 衢江
        "前进一步就是悬崖",
        "楼下的大门坏了半个月",
        "他们说建设银行不给办",
        "住在新城的小区里，物业不管事",
        "在工地开会的时候被砸伤了",
        "小区门口有人摆摊卖枸杞",
        "我们三甲医院看病排队太久",
        "沙门和道场的事我不懂",
    ):
        assert idx.resolve(text) is None, text


def test_place_right_after_another_province_is_not_read(idx: DivisionIndex) -> None:
    assert idx.resolve("我在江苏的安吉物流仓库上班，工资拖了两个月") is None
    assert _county(idx, "从江苏回到安吉，老家的房子被人占了") == "330523"


def test_first_load_is_fast() -> None:
    from routing.understanding.places import TOWNSHIPS_PATH, read_divisions, read_townships

    start = time.perf_counter()
    DivisionIndex(read_divisions(DEFAULT_PATH), read_townships(TOWNSHIPS_PATH))
    assert time.perf_counter() - start < 0.5
