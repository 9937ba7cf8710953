"""The danger check finds each kind of danger, in every way citizens write it.

Every sentence here was written for these tests (not taken from the crisis corpus).
"""

from __future__ import annotations

import pytest

from routing.understanding.safety import check

SELF_HARM = [
    "我在出租屋里点了炭盆，门缝都用毛巾塞住了。",
    "我把家里那瓶敌敌畏拿到了床头，想着喝完就不疼了。",
    "医生开的安眠药我攒了一个月，今天打算一口气吃掉。",
    "我现在在大桥的栏杆外面，脚下就是江水。",
    "我想了很久，还是决定一死了之。",
    "活着没意思，今年的工钱一分都没拿到。",
    "遗书写好了，压在我妈的枕头底下。",
    "我不想再拖累我爸妈了，他们没有我会过得更好。",
    "实在熬不住了，我想带着女儿一起走。",
    "我已经把手机里的存款都转给了我妹，以后爸妈就拜托她照顾了。",
    "我站在公司顶楼的天台边上，老板再不接电话我就跳。",
    "这辈子就这样吧，一了百了。",
]
HARM_OTHERS = [
    "他要是再不还钱，我就拿刀跟他同归于尽。",
    "我打算今天晚上去把村主任家的房子点了。",
    "汽油我已经装了两桶放在车上，明早去他厂里。",
    "我要弄死那个害我家破人亡的包工头。",
]
VIOLENCE_NOW = [
    "他喝了酒正在打我，我反锁在卧室里，门快被撞开了。",
    "救命，有几个人拿着棍子冲进我们家来了。",
    "楼下邻居在打他老婆，一直在喊救命。",
    "我前夫在外面踹门，说今天非打死我不可。",
]
MEDICAL = [
    "我爸从二楼的脚手架上摔下来了，一直在流血，包工头不让我们打120。",
    "我奶奶倒在厨房里叫不醒了。",
    "我老公吃了一整瓶降压药，现在意识不清。",
    "工友被搅拌机卷进去了，血止不住。",
]
HELD = [
    "我被人骗到缅北的一个园区，护照被他们收走了，出不去。",
    "老板把我们锁在厂里，晚上有人看守，不让我们回家。",
    "我女儿被人贩子拐走了，对方打电话要赎金。",
    "我被关在一个小房间里三天了，他们说家里不打钱就不放人。",
]


@pytest.mark.parametrize("text", SELF_HARM)
def test_self_harm_is_found(text: str) -> None:
    verdict = check(text)
    assert verdict.danger, text
    assert "self_harm" in verdict.kinds, (text, verdict)


@pytest.mark.parametrize("text", HARM_OTHERS)
def test_harm_to_others_is_found(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and "harm_others" in verdict.kinds, (text, verdict)


@pytest.mark.parametrize("text", VIOLENCE_NOW)
def test_violence_going_on_now_is_found(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and verdict.kind == "violence_now", (text, verdict)
    assert verdict.imminent


@pytest.mark.parametrize("text", MEDICAL)
def test_medical_emergency_is_found(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and "medical" in verdict.kinds, (text, verdict)
    assert verdict.numbers[0] == "120"


@pytest.mark.parametrize("text", HELD)
def test_person_held_is_found(text: str) -> None:
    verdict = check(text)
    assert verdict.danger and "held" in verdict.kinds, (text, verdict)
    assert verdict.numbers[0] == "110"


def test_evidence_names_the_cues() -> None:
    verdict = check("我已经买好了百草枯，今晚就喝。")
    assert verdict.evidence
    assert any("百草枯" in cue for cue in verdict.evidence)
    assert all(len(cue) <= 24 for cue in verdict.evidence)
