"""When the classifier is unsure: the two or three most likely problems, in plain words.

A citizen does not say 政法 or 民政; the buttons name the level-3 or level-2 problem
(装修噪音扰民 → 环境污染/噪声, 物业管理 …) under each of the most likely first-level
categories. Each option is stored as ``"plain label｜level1"`` so the pick maps back.
"""

from __future__ import annotations

from routing.understanding.classifier import model as cmodel
from routing.understanding.classifier.features import prepare

# Taxonomy names a citizen would not use, said in everyday words.
PLAIN: dict[str, str] = {
    "城市建设和市政管理": "市政设施、道路和环卫",
    "住房保障与房地产": "买房、租房和房产证",
    "社会治安": "治安问题（打架、偷盗、扰乱秩序）",
    "环境污染": "污染和噪音扰民",
    "环保管理": "环保监管",
    "劳动关系": "劳动合同和辞退",
    "工资福利": "拖欠工资",
    "市场监管": "消费纠纷和商家问题",
    "商业贸易": "买卖和商家经营",
    "仲裁与调解": "邻里家庭矛盾调解",
    "村务管理": "村里的事务（村务、村干部）",
    "土地承包经营": "承包地和宅基地",
    "医患纠纷": "看病和医疗纠纷",
    "食品药品监管": "食品药品安全",
    "交通管理": "交通和违章停车",
    "客货运输": "公交、客运和货运",
    "教育行政管理": "学校和教育管理",
    "教育收费": "学校收费",
    "社会救助": "低保和困难救助",
    "基层选举和社区建设": "社区和居委会",
    "集体土地上房屋拆迁与补偿": "农村拆迁补偿",
    "国有土地上房屋征收与补偿": "城市房屋征收补偿",
    "小区管理": "物业和小区管理",
    "物业管理": "物业和小区管理",
    "噪声污染": "噪音扰民",
    "电信": "电话、网络和诈骗电话",
    "金融财税": "银行、借贷和税务",
}
LEVEL1_PLAIN: dict[str, str] = {
    "政法": "治安、法律和纠纷调解",
    "民政": "救助、社区和民政服务",
    "教育文体": "学校、教育和文体",
    "城乡建设": "城乡建设和小区物业",
    "环境保护": "污染和噪音",
    "劳动和社会保障": "工资、劳动和社保",
    "商贸旅游": "消费和商家问题",
    "农村农业": "农村和农业",
    "卫生计生": "看病和卫生",
    "交通运输": "交通出行",
    "国土资源": "土地问题",
    "经济管理": "金融和企业",
    "科技与信息产业": "通信和网络",
    "纪检监察": "干部作风和违纪",
    "党务政务": "政务服务",
}


def plain_label(level1: str, level2: str | None, level3: str | None) -> str:
    """The everyday name of a category path: a level-3 or level-2 name, else level 1's."""
    for name in (level3, level2):
        if name and name != "其他":
            return PLAIN.get(name, name)
    return LEVEL1_PLAIN.get(level1, level1)


def plain_choices(text: str, k: int = 3) -> list[str]:
    """Return up to `k` options ``"plain label｜level1"`` for the most likely level-1 categories.

    Args:
        text: the narrative (normalised or not).
        k: how many options.
    """
    clf = cmodel.load()
    features = clf.bundle["vectorizer"].transform([prepare(text)])
    result = clf.classify(text)
    p2 = clf._scores("l2", features)
    p3 = clf._scores("l3", features)
    options: list[str] = []
    for level1, _ in result.alternatives[:k]:
        level2 = _best_child(clf, "l2", p2, f"{level1}/")
        level3 = _best_child(clf, "l3", p3, f"{level1}/{level2}/") if level2 else None
        label = plain_label(level1, level2, level3)
        if any(o.split("｜")[0] == label for o in options):
            label = LEVEL1_PLAIN.get(level1, level1)
        options.append(f"{label}｜{level1}")
    return options


def _best_child(clf: cmodel.Classifier, key: str, scores: object, prefix: str) -> str | None:
    """The highest-scoring child under `prefix`, whatever its score (we only rank here)."""
    if scores is None:
        return None
    labels = clf.bundle[key].classes_
    best, best_s = None, float("-inf")
    for j, label in enumerate(labels):
        if str(label).startswith(prefix) and float(scores[0][j]) > best_s:  # type: ignore[index]
            best, best_s = str(label), float(scores[0][j])  # type: ignore[index]
    return best[len(prefix):].split("/")[0] if best else None
