"""The 矛盾纠纷化解指数: the formula on hand-made figures, ranking with ties, month-on-month change."""

from __future__ import annotations

from routing.rates.compute import Figure
from routing.rates.definitions import load_rates
from routing.rates.index import Weights, index_of, rank

BOOK = load_rates()


def fig(rid: str, num: float, den: int) -> Figure:
    return Figure(BOOK.get(rid), num, den)


def test_index_formula_worked_by_hand() -> None:
    w = Weights({"mediation_success_rate": 3, "escalation_rate": 1, "mean_working_days": 1}, 0.5)
    figs = {"mediation_success_rate": fig("mediation_success_rate", 8, 10),  # 0.8
            "escalation_rate": fig("escalation_rate", 1, 10),  # lower is better: 1 − 0.1 = 0.9
            "mean_working_days": fig("mean_working_days", 300, 10)}  # 30 days of 60: 0.5
    # 100 × (3·0.8 + 1·0.9 + 1·0.5) / 5 = 76.0
    assert index_of(figs, w) == 76.0
    # 样本不足 drops a rate from both sums: 100 × (3·0.8 + 1·0.9) / 4 = 82.5
    figs["mean_working_days"] = fig("mean_working_days", 12, 2)
    assert index_of(figs, w) == 82.5
    # below half of the weight: no index
    figs["mediation_success_rate"] = fig("mediation_success_rate", 1, 2)
    assert index_of(figs, w) is None


def test_rank_ties_and_change() -> None:
    out = rank({"a": 80.0, "b": 90.0, "c": 80.0, "d": None}, {"a": 75.5, "b": 91.0})
    assert [(r.code, r.rank, r.change) for r in out] == [("b", 1, -1.0), ("c", 2, None), ("a", 2, 4.5),
                                                          ("d", None, None)]
