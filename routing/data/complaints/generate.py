"""Generate the project's complaint training corpus from the hand-written scenario files.

The scenarios are data: ``classifier_data/scenarios/<category>.yaml`` (one file per category,
format in ``classifier_data/scenarios/README.md``). Training (``fengqiao train-classifier``,
``make train``) generates the corpus from them every time, so an edited scenario is what the
next model learns; no generated file is committed. To look at the corpus::

    .venv/bin/python -m routing.data.complaints.generate --out /tmp/corpus.csv

The output is deterministic (fixed seed; one random stream per scenario, scenarios in ``id``
order). Every sentence comes from the scenario files and the slot fillers below, all written
for this project.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterable
from pathlib import Path

from routing.persistence.db import REPO_ROOT

SCENARIO_DIR = REPO_ROOT / "classifier_data" / "scenarios"
SEED = 20240611
# Keys of one scenario: required ones, then optional ones.
REQUIRED_KEYS = ("id", "path", "dispute_type", "complainants", "titles", "facts", "questions")
OPTIONAL_KEYS = ("demands",)
LIST_KEYS = ("complainants", "titles", "facts", "questions", "demands")


class ScenarioError(ValueError):
    """A scenario file that does not follow the format."""


def _check(scenario: object, where: str, category: str) -> dict:
    if not isinstance(scenario, dict):
        raise ScenarioError(f"{where}: a scenario must be a mapping")
    keys = set(scenario)
    missing = [k for k in REQUIRED_KEYS if k not in keys]
    unknown = sorted(keys - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if missing or unknown:
        raise ScenarioError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    for key in ("id", "path", "dispute_type"):
        if not isinstance(scenario[key], str) or not scenario[key].strip():
            raise ScenarioError(f"{where}: {key} must be a non-empty string")
    for key in LIST_KEYS:
        value = scenario.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ScenarioError(f"{where}: {key} must be a list of non-empty strings")
    if not scenario["titles"] or not scenario["facts"]:
        raise ScenarioError(f"{where}: titles and facts may not be empty")
    if scenario["path"].split("/")[0] != category:
        raise ScenarioError(f"{where}: path {scenario['path']!r} is not in the file's category {category!r}")
    return scenario


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[dict]:
    """Read and check every ``*.yaml`` scenario file; return the scenarios in ``id`` order.

    Raises:
        ScenarioError: a file or a scenario does not follow the format, or an id repeats.
    """
    import yaml  # lazy

    scenarios: list[dict] = []
    for path in sorted(directory.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if set(raw) != {"category", "scenarios"} or not isinstance(raw["scenarios"], list):
            raise ScenarioError(f"{path.name}: expected the keys category and scenarios (a list)")
        for k, sc in enumerate(raw["scenarios"], start=1):
            scenarios.append(_check(sc, f"{path.name} scenario {k}", str(raw["category"])))
    ids = [sc["id"] for sc in scenarios]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"repeated scenario ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    if not scenarios:
        raise ScenarioError(f"no scenario files in {directory}")
    return sorted(scenarios, key=lambda sc: sc["id"])


FREQUENT = {"城乡建设", "劳动和社会保障", "教育文体", "卫生计生", "交通运输", "商贸旅游", "环境保护"}
TARGET_FREQUENT = 520
TARGET_OTHER = 150
TRADITIONAL_SHARE = 0.13
LONG_SHARE = 0.62  # share of long narratives (the rest are one-liners or title + one sentence)
FACTS_PER_LONG = (1, 2, 2, 3)  # how many facts of the scenario a long narrative tells (drawn uniformly)

# --------------------------------------------------------------------------- slot fillers
MASKED_CITIES = ["A市", "B市", "C市", "A市", "A市"]
MASKED_DISTRICTS = ["A1区", "A2区", "A3区", "A4区", "A5区", "A6区", "A7县", "A8县", "A9市"]
REAL_PLACES = [
    "杭州市西湖区", "杭州市余杭区", "杭州市萧山区", "杭州市临平区", "杭州市拱墅区", "宁波市鄞州区",
    "宁波市海曙区", "宁波市慈溪市", "温州市鹿城区", "温州市瑞安市", "温州市乐清市", "绍兴市诸暨市",
    "绍兴市柯桥区", "绍兴市上虞区", "金华市浦江县", "金华市义乌市", "金华市东阳市", "金华市婺城区",
    "嘉兴市南湖区", "嘉兴市海宁市", "湖州市吴兴区", "湖州市长兴县", "台州市椒江区", "台州市温岭市",
    "台州市临海市", "丽水市莲都区", "丽水市缙云县", "衢州市柯城区", "衢州市江山市", "舟山市定海区",
]
TOWNS = ["枫桥镇", "城关镇", "新塘街道", "花园乡", "白马镇", "东湖街道", "龙山镇", "黄宅镇", "岩头镇",
         "仙华街道", "大溪镇", "石门乡", "梅林镇", "横街镇", "长乐镇", "双塔街道"]
VILLAGE_NAMES = ["杨家", "陈村", "下宅", "新丰", "石桥", "塘头", "后畈", "枫源", "栎桥", "马村", "黄泥岭",
                 "上林", "桐坞", "溪口", "前洪", "官庄", "大路口", "沙田", "柳塘", "竹园"]
XQ_NAMES = ["锦绣花园", "阳光家园", "翡翠湾", "金色港湾", "滨江御府", "东方名苑", "梧桐苑", "香樟苑",
            "和平新村", "幸福里", "丽景湾", "桂花城", "碧水云天", "书香门第", "世纪新城", "融创府",
            "江南春晓", "湖畔雅苑", "紫荆花园", "望江公寓", "城南安置小区", "兴业小区", "春江花月",
            "绿城玫瑰园", "新华社区", "铁路新村", "天鹅湖小区", "明珠花园"]
ROAD_NAMES = ["人民路", "解放路", "中山北路", "建设大道", "文一西路", "环城南路", "沿江大道", "学府路",
              "健康路", "滨河路", "体育场路", "工业园区大道", "迎宾大道", "江滨西路", "东风路",
              "长安街", "新华路", "浦阳路", "凤凰山路", "创业大道", "湘江路", "金城路", "车站路"]
COMPANY_CORE = ["宏达", "鑫源", "恒通", "瑞丰", "华美", "金鼎", "天成", "永盛", "新宇", "佳和", "博远",
                "利华", "中兴达", "东升", "海纳", "万家乐", "明辉", "富康", "嘉禾", "星辰"]
COMPANY_KIND = ["科技有限公司", "服装厂", "电子有限公司", "建材公司", "机械制造有限公司", "物流公司",
                "化工有限公司", "家具厂", "食品有限公司", "印染厂", "房地产开发有限公司", "商贸公司",
                "塑料制品厂", "汽配厂", "纺织有限公司", "餐饮管理公司", "超市", "培训学校", "投资咨询公司"]
SCHOOLS = ["第一中学", "第三中学", "实验小学", "中心小学", "外国语学校", "第二实验小学", "职业技术学校",
           "育才中学", "东城小学", "第十二中学", "城南幼儿园", "阳光幼儿园", "第八高级中学"]
HOSPITALS = ["市第一人民医院", "中医院", "妇幼保健院", "人民医院", "中心医院", "第二人民医院",
             "社区卫生服务中心", "镇卫生院", "骨伤科医院", "口腔医院", "某民营医院"]
CN_NUM = ["两", "三", "四", "五", "六", "七", "八", "九", "十"]


def _place(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(MASKED_CITIES) + rng.choice(MASKED_DISTRICTS)
    place = rng.choice(REAL_PLACES)
    return place if rng.random() < 0.6 else place[3:] if len(place) > 4 else place


def _amount(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return f"{rng.randint(2, 98) * 1000 + rng.choice([0, 0, 500])}元"
    if kind < 0.55:
        return f"{rng.randint(1, 60)}.{rng.randint(1, 9)}万元"
    if kind < 0.75:
        return f"{rng.choice(CN_NUM)}万多元"
    if kind < 0.9:
        return f"{rng.randint(1200, 99999)}元"
    return f"{rng.choice(CN_NUM)}千多块钱"


def _month(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(2016, 2023)}年{rng.randint(1, 12)}月", f"去年{rng.randint(1, 12)}月",
                       f"今年{rng.randint(1, 6)}月", f"{rng.randint(2018, 2023)}年底", "去年年初", "前年"])


def _dur(rng: random.Random) -> str:
    return rng.choice([f"{rng.choice(CN_NUM)}个月", f"{rng.choice(CN_NUM[:5])}年", "大半年", "一年多",
                       f"{rng.randint(2, 11)}个多月", "好几年"])


def fill(template: str, rng: random.Random, ctx: dict[str, str]) -> str:
    """Fill the slots of one template; slot values are fixed per message through ``ctx``."""
    return template.format(**ctx)


def make_context(rng: random.Random) -> dict[str, str]:
    """Draw one set of slot values for a message."""
    place = _place(rng)
    town = rng.choice(TOWNS)
    return {
        "place": place,
        "xq": rng.choice(XQ_NAMES),
        "road": rng.choice(ROAD_NAMES),
        "company": rng.choice(["", place[:3] if place[0] != "A" else "A市"]) + rng.choice(COMPANY_CORE)
        + rng.choice(COMPANY_KIND),
        "school": rng.choice([place[-3:] if len(place) > 3 else place, "A市", "", town]) + rng.choice(SCHOOLS),
        "hospital": rng.choice([place[:3], "A市", "县", ""]) + rng.choice(HOSPITALS),
        "village": rng.choice([town, ""]) + rng.choice(VILLAGE_NAMES) + "村",
        "town": town,
        "amount": _amount(rng),
        "month": _month(rng),
        "dur": _dur(rng),
        "n": str(rng.randint(2, 30)),
        "n2": str(rng.randint(8, 80)),
        "small": f"{rng.randint(1, 2)}.{rng.randint(0, 9)}",
        "small2": f"{rng.randint(3, 4)}.{rng.randint(0, 9)}",
        "small3": str(rng.choice([180, 260, 300, 450, 520, 680, 800, 1200])),
        "small4": str(rng.randint(3, 80) * 100),
        "small5": str(rng.randint(5, 60) * 100),
    }


# --------------------------------------------------------------------------- discourse pieces
GREETINGS = ["", "", "", "您好！", "领导您好，", "尊敬的领导：", "你好，", "各位领导好，", "书记您好！",
             "市长您好：", "有关部门领导：", "麻烦问一下，"]
INTROS = ["我是{place}的{w}，", "我家住在{place}{xq}，", "我是{town}的{w}，", "我是一个普通的{w}，",
          "我想反映一个问题。", "我要投诉。", "我想咨询一下，", "反映一下我们{place}的情况：", "本人系{place}{w}，", "我们是{place}{xq}的{w}，", "我是一名{w}，",
          "我是住在{place}的{w}。", "", "", "我是{w}，家住{place}，"]
SINCE = ["这个问题从{month}开始就存在了，", "从{month}到现在已经{dur}了，", "已经持续{dur}了，",
         "{month}以来一直这样，", "前后拖了{dur}，", "", "", "最近一段时间，"]
ACTIONS = ["我们多次向社区和街道反映，都说会处理，但是一直没有结果。",
           "打过好几次12345热线，每次都说转交相关部门，然后就没有下文了。",
           "找过{dept}，他们说不归他们管，让我们去找别的部门。",
           "之前也在网上留过言，回复说已经责成相关单位处理，可问题依然存在。",
           "我们也去{dept}当面反映过，工作人员做了登记，之后再也没人联系我们。",
           "多次协商无果，对方态度非常强硬。", "", "", ""]
IMPACTS = ["这严重影响了我们的正常生活。", "大家对此意见很大。", "我们老百姓真的是没有办法了。",
           "家里的老人孩子都受到了影响。", "心里实在是憋屈。", "", "", "这样下去迟早要出大事。"]
ASKS = ["恳请相关部门尽快调查处理，给我们一个满意的答复。", "希望领导重视，早日解决这个问题。",
        "请问这种情况应该找哪个部门？", "请有关部门依法处理，还我们一个公道。", "望尽快回复，谢谢！",
        "请问这种情况合理吗？", "希望政府出面协调。", "盼复。", "恳请领导帮帮我们。"]
CLOSINGS = ["", "", "", "谢谢！", "万分感谢！", "此致敬礼。", "望回复。", "急！"]

DEPTS = {
    "城乡建设": ["物业", "社区", "住建局", "城管局", "街道办"],
    "劳动和社会保障": ["劳动监察大队", "人社局", "社保局", "公司人事部门"],
    "教育文体": ["学校", "教育局", "班主任", "校长"],
    "卫生计生": ["医院医务科", "卫健委", "市场监管局", "医院投诉办"],
    "交通运输": ["交通局", "运管所", "客服", "公交公司"],
    "商贸旅游": ["市场监管局", "商家", "12315", "旅游局"],
    "环境保护": ["生态环境局", "环保局", "街道", "镇政府"],
    "党务政务": ["窗口负责人", "政务服务中心", "街道"],
    "农村农业": ["村委会", "镇政府", "农业农村局"],
    "国土资源": ["自然资源局", "镇政府", "村委会"],
    "政法": ["派出所", "交警大队", "法院", "司法所"],
    "民政": ["民政局", "村委会", "社区", "街道办"],
    "科技与信息产业": ["营业厅", "运营商客服", "通信管理局"],
    "纪检监察": ["镇纪委", "上级部门", "村监委会"],
    "经济管理": ["金融办", "银行", "税务局", "公司"],
}


def _sentence(text: str) -> str:
    text = text.strip()
    if not text or text[-1] in "。！？!?，,；：:":
        return text
    return text + "。"


def long_message(sc: dict, l1: str, rng: random.Random) -> tuple[str, str]:
    """Compose one long narrative (title + detail) for a scenario."""
    ctx = make_context(rng)
    ctx["w"] = rng.choice(sc.get("complainants") or ["市民"])
    ctx["dept"] = rng.choice(DEPTS[l1])
    title = fill(rng.choice(sc["titles"]), rng, ctx)
    facts = rng.sample(sc["facts"], k=min(len(sc["facts"]), rng.choice(FACTS_PER_LONG)))
    parts = [rng.choice(GREETINGS), fill(rng.choice(INTROS), rng, ctx)]
    since = fill(rng.choice(SINCE), rng, ctx)
    for k, fact in enumerate(facts):
        sentence = fill(fact, rng, ctx)
        if k == 1 and since:
            sentence = since + sentence
        parts.append(_sentence(sentence))
    parts.append(fill(rng.choice(ACTIONS), rng, ctx))
    parts.append(rng.choice(IMPACTS))
    asks = list(sc.get("demands", [])) + ASKS
    parts.append(_sentence(fill(rng.choice(asks), rng, ctx)))
    if "谢" not in parts[-1]:
        parts.append(rng.choice(CLOSINGS))
    detail = "".join(p for p in parts if p)
    if rng.random() < 0.15:
        detail = detail.replace("。", "，", 1)  # citizens' punctuation is loose
    return title, detail


def short_message(sc: dict, l1: str, rng: random.Random) -> tuple[str, str]:
    """Compose a one-liner or a title with a one-sentence detail."""
    ctx = make_context(rng)
    ctx["w"] = rng.choice(sc.get("complainants") or ["市民"])
    ctx["dept"] = rng.choice(DEPTS[l1])
    kind = rng.random()
    if kind < 0.4 and sc.get("questions"):
        return fill(rng.choice(sc["questions"]), rng, ctx), ""
    if kind < 0.7:
        return fill(rng.choice(sc["titles"]), rng, ctx), ""
    fact = _sentence(fill(rng.choice(sc["facts"]), rng, ctx))
    ask = _sentence(fill(rng.choice(list(sc.get("demands", [])) + ASKS), rng, ctx))
    return fill(rng.choice(sc["titles"]), rng, ctx), fact + ask


def all_scenarios(directory: Path = SCENARIO_DIR) -> list[dict]:
    """Return every scenario, in ``id`` order."""
    return load_scenarios(directory)


def generate(seed: int = SEED, scenarios: Iterable[dict] | None = None) -> list[dict[str, str]]:
    """Generate the corpus rows (from the scenario files unless ``scenarios`` are given)."""
    import opencc

    to_trad = opencc.OpenCC("s2t")
    scenarios = list(scenarios) if scenarios is not None else all_scenarios()
    per_l1: dict[str, int] = {}
    for sc in scenarios:
        l1 = sc["path"].split("/")[0]
        per_l1[l1] = per_l1.get(l1, 0) + 1
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for sc in scenarios:
        # One random stream per scenario: adding a scenario leaves the other scenarios' rows alone
        # (only the per-scenario count of its own category changes).
        rng = random.Random(f"{seed}:{sc['path']}:{sc['titles'][0]}")
        l1, l2, l3 = (sc["path"].split("/") + ["", ""])[:3]
        target = TARGET_FREQUENT if l1 in FREQUENT else TARGET_OTHER
        count = max(8, round(target / per_l1[l1]))
        made, tries = 0, 0
        while made < count and tries < count * 5:
            tries += 1
            if rng.random() < LONG_SHARE:
                title, detail = long_message(sc, l1, rng)
            else:
                title, detail = short_message(sc, l1, rng)
            key = title + "|" + detail
            if key in seen:
                continue
            seen.add(key)
            script = "zh-Hans"
            if rng.random() < TRADITIONAL_SHARE:
                title, detail, script = to_trad.convert(title), to_trad.convert(detail), "zh-Hant"
            rows.append({"scenario": sc["path"], "title": title, "detail": detail, "category": l1, "level2": l2,
                         "level3": "" if l3 == "其他" else l3, "dispute_type": sc["dispute_type"], "script": script})
            made += 1
    for k, row in enumerate(rows, start=1):
        row["id"] = f"g{k:05d}"
    return rows


FIELDS = ["id", "scenario", "title", "detail", "category", "level2", "level3", "dispute_type", "script"]


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    """Write corpus rows as CSV (for a look at the corpus, or a benchmark's folder)."""
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    """Write the generated corpus to ``--out``."""
    parser = argparse.ArgumentParser(description="generate the complaint corpus from the scenario files")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args()
    rows = generate()
    write_csv(rows, args.out)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
