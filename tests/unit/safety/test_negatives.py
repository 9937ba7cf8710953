"""Everyday complaints with strong words must not raise a crisis alarm."""

from __future__ import annotations

import pytest

from routing.understanding.safety import check

EVERYDAY = [
    "隔壁KTV每天唱到凌晨两点，吵得我想死。",
    "这个月天天加班，累得半死，加班费一分没见到。",
    "物业一直推来推去，真是气死了。",
    "排了三个小时的队还没办完，急死人了。",
    "房租一下涨了八百，要了老命了。",
    "客服说系统维护，笑死，维护了两个月。",
    "办个证跑了五趟，烦死了。",
    "网上买的安眠药吃了一点用都没有，商家拒绝退货。",
    "农资店卖的百草枯是假的，喷了草还长得好好的，要求赔偿。",
    "超市卖的菜刀刀柄一用就断，差点伤到手，要求退款。",
    "有人在水库里电鱼，鱼被电死了一大片，请渔政管一管。",
    "我家养的十几只鸡被人下药毒死了，请派出所查一查是谁干的。",
    "前年和邻居因为水沟打过一架，现在医药费还没赔，想请调解。",
    "我爷爷十几年前就过世了，老宅一直是我们家在住，现在村里要收回。",
    "村口的石桥没有栏杆，老人小孩过桥都很危险，请尽快加装护栏。",
    "双十一秒杀买的电视到现在没发货。",
    "砍价砍了半天，到手价还是比别家贵。",
    "电脑店收了两百块杀毒费，中毒的问题还是没解决。",
    "我们二十几个工人明天准备去区政府门口拉横幅讨薪。",
    "催收公司一天打十几个电话到我单位，领导都知道了，请管管他们。",
    "我每天拼命工作，老板还是拖着工资不发。",
    "商场门口贴着跳楼价清仓，进去一看全是旧货。",
    "这三万块是我的救命钱，麻烦帮我要回来。",
    "天台上的太阳能热水器漏水，顶楼住户家里都泡了。",
    "新闻里说有工人跳楼讨薪，我们这里也拖欠工资，希望重视。",
    "楼下烧烤摊天天烧炭，烟全进了我家。",
    "小区的燃气管道有煤气味，燃气公司说明天才能派人来。",
    "去年我在车间被机器压伤了手，工伤认定到现在没结果。",
    "老板扣了我的身份证当押金，辞职了也不还给我。",
    "旅行团导游不让我们下车，非要我们进购物店。",
    "我老家在铁路边上，火车一过房子都在震。",
    "紫砂壶是假货，商家说是原矿，检测出来是化工泥。",
    "我真的是被逼得没办法了，求求领导帮我们解决。",
    "邻居说要把我家门口的树砍了，我们想请村里调解。",
    "我家的狗被邻居打伤了，要求赔医药费。",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_strong_words_do_not_fire(text: str) -> None:
    verdict = check(text)
    assert not verdict.danger, (text, verdict.kinds, verdict.evidence, round(verdict.score, 3))


def test_few_false_alarms_over_the_whole_list() -> None:
    fired = [t for t in EVERYDAY if check(t).danger]
    assert len(fired) / len(EVERYDAY) <= 0.03, fired
