"""Learning from an agency's history: the agency expert, its pool with the project expert and
the inner cross-validation that weighs them (``routing.understanding.classifier.train.fit_agency_adaptation``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from fengqiao.commands.train_classifier import run as train_run
from routing.understanding.classifier import load, train
from routing.understanding.classifier.features import prepare
from routing.understanding.classifier.model import combine_experts

# An agency whose convention differs from the taxonomy the project follows: it files city-bus
# complaints under 交通运输 (the taxonomy, and so the shipped model, puts 公共汽车 under 城乡建设).
BUS_FACTS = [
    "{r}的{n}路公交车{m}",
    "坐{n}路公交去上班，{m}",
    "{r}公交站的{n}路车{m}",
]
BUS_TROUBLE = [
    "班次越来越少，等了四十分钟都不来", "司机经常甩站不停车", "车厢里空调坏了一直没人修",
    "末班车提前二十分钟就开走了", "老年卡刷不上司机态度恶劣", "早高峰挤得根本上不去",
    "线路突然改道也没有提前通知",
]
ROADS = ["人民路", "解放路", "学府路", "环城南路", "建设大道"]
NOISE_FACTS = [
    "{r}附近的工厂晚上排放刺鼻的废气，窗户都不敢开",
    "{r}旁边的小河被印染厂排污染成了黑色，鱼都死了",
    "{r}有个塑料加工点天天烧垃圾，烟雾很大",
]


def _agency_rows() -> list[list[str]]:
    rows = []
    for i, road in enumerate(ROADS):
        for j, trouble in enumerate(BUS_TROUBLE):
            fact = BUS_FACTS[(i + j) % len(BUS_FACTS)].format(r=road, n=10 + i * 7 + j, m=trouble)
            rows.append([f"{road}公交车问题", fact + "，希望有关部门管一管。", "交通运输"])
    for i, road in enumerate(ROADS):
        for j, fact in enumerate(NOISE_FACTS):
            rows.append([f"{road}环境污染", fact.format(r=road) + f"，已经持续{i + j + 2}个月了。", "环境保护"])
            rows.append([f"投诉{road}污染", fact.format(r=road) + "，请环保部门来查一查。", "环境保护"])
    return rows


def test_pool_is_a_normalised_log_linear_mix() -> None:
    project = np.array([[0.7, 0.2, 0.1], [0.98, 0.01, 0.01]])
    agency = np.array([[0.1, 0.8, 0.1], [0.0, 0.9, 0.1]])
    assert np.allclose(combine_experts(project, agency, 0.0, 0.01), project)
    pooled = combine_experts(project, agency, 0.5, 0.01)
    assert np.allclose(pooled.sum(axis=1), 1.0)
    expected = np.sqrt(project[0] * agency[0])
    assert np.allclose(pooled[0], expected / expected.sum())
    assert pooled[0].argmax() == 1  # the agency's view wins where the project expert is unsure
    # A temperature re-calibrates without changing the winner.
    sharper = combine_experts(project, agency, 0.5, 0.01, 2.0)
    assert (sharper.argmax(axis=1) == pooled.argmax(axis=1)).all()
    assert (sharper.max(axis=1) > pooled.max(axis=1)).all()
    assert np.allclose(sharper.sum(axis=1), 1.0)
    # A category the agency never used (probability 0) stays reachable through the floor …
    assert pooled[1][0] > 0
    # … and without the floor it would be ruled out.
    assert combine_experts(project, agency, 0.5, 1e-12)[1].argmax() == 1


def test_agency_history_gets_an_expert_that_learns_its_convention(tmp_path: Path) -> None:
    path = tmp_path / "agency.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["title", "detail", "category"])
        writer.writerows(_agency_rows())
    out = tmp_path / "model"
    args = dict(csv=path, out=out, rollback=False, variant=None, no_calibrate_threshold=False)
    import argparse

    assert train_run(argparse.Namespace(**args)) == 0
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    adaptation = metadata["agency_adaptation"]
    assert metadata["agency_rows"] == len(_agency_rows())
    assert adaptation["alpha"] in train.ALPHA_GRID
    assert adaptation["agency_categories"] == ["交通运输", "环境保护"]
    assert set(adaptation["oof_logloss_by_alpha"]) == {"0.0", *(f"{a:.1f}" for a in train.ALPHA_GRID)}
    # The chosen weight is the one with the lowest out-of-fold log-loss.
    best = min(train.ALPHA_GRID, key=lambda a: adaptation["oof_logloss_by_alpha"][f"{a:.1f}"])
    assert adaptation["alpha"] == best
    assert 0.2 <= metadata["low_confidence_threshold"] <= 0.9
    low, high = train.TEMPERATURE_BOUNDS
    assert low <= adaptation["temperature"] <= high

    unseen = "中山北路的88路公交车总是晚点，等半个小时都不来，司机还不停站"
    adapted = load(out)
    assert adapted.classify(unseen).category == "交通运输"
    # The project expert alone follows the taxonomy: the convention came from the agency expert.
    project_only = adapted.bundle["l1"].predict(adapted.bundle["vectorizer"].transform([prepare(unseen)]))
    assert project_only[0] == "城乡建设"
    # A message about a category this agency never labelled is not forced through silently:
    # the answer is low-confidence (the bot offers buttons) and the right category is offered.
    clear = "我在医院做手术后出现严重感染，医生隐瞒病情，要求卫健委调查医疗事故并处理涉事医生"
    outside = adapted.classify(clear)
    assert outside.low_confidence
    assert "卫生计生" in [c for c, _ in outside.alternatives]
    result = adapted.classify(unseen)
    assert abs(sum(p for _, p in result.alternatives) - 1.0) < 0.2
    assert result.category_path[0] == "交通运输"


def test_small_agency_history_is_trained_together(tmp_path: Path) -> None:
    rows = [train.Example("海岛轮渡停航没有提前通知", "交通运输", group="agency")] * 6
    assert not train.agency_rows_usable(rows)
    metadata = train.train_model(tmp_path / "m", extra=rows, measure=False)
    assert metadata["agency_adaptation"] is None
    assert "agency" not in load(tmp_path / "m").bundle


@pytest.mark.parametrize("count,usable", [(59, False), (60, True)])
def test_usable_needs_rows_and_two_categories(count: int, usable: bool) -> None:
    rows = [train.Example(f"t{i}", "交通运输" if i % 2 else "环境保护", group="agency") for i in range(count)]
    assert train.agency_rows_usable(rows) is usable
    one_class = [train.Example(f"t{i}", "交通运输", group="agency") for i in range(100)]
    assert not train.agency_rows_usable(one_class)
