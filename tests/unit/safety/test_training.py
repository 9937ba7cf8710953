"""How the danger model is trained from multi-sentence danger components (routing/understanding/safety/model.py)."""

from __future__ import annotations

from routing.understanding.safety import model

_DANGER = ["今晚我就从楼顶跳下去", "药已经买好了今晚全吃掉", "我不想活了", "他拿着刀在砸门",
           "我站在天台边上了", "我把遗书写好了", "农药就放在床头", "我现在就去跳河"]
_EVERYDAY = ["物业不给修电梯", "小区停车太难了", "上个月工资被拖欠", "我在厂里干了五年",
             "老板一直不接电话", "外卖送得太慢了", "楼上装修太吵", "社保转移办不下来"]


def test_a_danger_narrative_keeps_only_its_danger_sentence_as_positive() -> None:
    narrative = "我在厂里干了五年。上个月工资被拖欠。今晚我就从楼顶跳下去"
    data = model.TrainingSet(
        texts=[*_DANGER, narrative, *_EVERYDAY],
        labels=[1] * (len(_DANGER) + 1) + [0] * len(_EVERYDAY),
        kinds=["self_harm"] * (len(_DANGER) + 1) + [""] * len(_EVERYDAY),
    )
    focused = model.focus(model._fit(data), data)
    positives = [t for t, label in zip(focused.texts, focused.labels, strict=True) if label]
    assert "今晚我就从楼顶跳下去" in positives[len(_DANGER):]
    assert "我在厂里干了五年" not in positives and "上个月工资被拖欠" not in positives
    # Single sentences and negatives are kept as they are.
    assert positives[: len(_DANGER)] == _DANGER
    assert [t for t, label in zip(focused.texts, focused.labels, strict=True) if not label] == _EVERYDAY
    assert set(focused.kinds[: len(positives)]) == {"self_harm"}
