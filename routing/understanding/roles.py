"""Roles in a narrative: the party complained about vs the body asked to act.

"希望城管和环保部门来管一管" names bodies the citizen asks to act; they are not the other
party. A body counts as asked when it stands in a request clause (希望/请/要求/让/麻烦 …)
before an action verb (管/处理/查/督促/出面 …) or is addressed by 向/找/给 … 反映. The party
complained about is then whatever else the extractor found, or the shop/works the narrative
names ("小区门口的洗车店").
"""

from __future__ import annotations

import re

# Public bodies a citizen asks to act; the lexicon names the extractor gives them are included.
BODIES = (
    "有关部门", "相关部门", "政府部门", "主管部门", "城管", "综合执法", "环保部门", "环保局", "环保",
    "生态环境局", "市场监管局", "市场监管", "住建局", "住建部门", "交警", "派出所", "公安", "警察",
    "街道办", "街道", "镇政府", "乡政府", "政府", "社区", "居委会", "卫健委", "教育局", "劳动监察",
    "人社局", "信访局", "领导", "网格员", "调解员", "12345", "消防", "水务", "供电局", "交通局",
)
_REQUEST = re.compile(r"(?:希望|请求|恳请|请|要求|让|麻烦|盼望|建议|呼吁|拜托)")
_ACTION = re.compile(r"(?:来|去|出面|帮忙|帮|管|处理|查|检查|督促|整治|整改|协调|解决|调查|介入|取缔|执法|处罚|关停|看看|过问)")
_ADDRESSED = re.compile(r"(?:向|找|给|跟|去|到)(?:了)?(?:过)?([^，。,；;]{1,10}?)(?:反映|投诉|打电话|举报|说过|求助)")
_SHOP = re.compile(
    r"(?:那家|这家|一家|有家|的|个)([\u4e00-\u9fa5]{1,5}?(?:店|馆|铺|坊|厂|场|中心|公司|工地|作坊|摊))"
)
_CLAUSE = re.compile(r"[^。！？!?；;，,\n]+")


def asked_bodies(text: str) -> list[str]:
    """Return the bodies the citizen asks to act, in order of mention."""
    found: list[tuple[int, str]] = []
    offset = 0
    for clause in _CLAUSE.findall(text):
        start = text.find(clause, offset)
        offset = start + len(clause)
        request = _REQUEST.search(clause)
        if request:
            rest = clause[request.end():]
            for body in BODIES:
                at = rest.find(body)
                if 0 <= at < 12 and _ACTION.search(rest, at + len(body)):
                    found.append((start + request.end() + at, body))
        for m in _ADDRESSED.finditer(clause):
            for body in BODIES:
                if body in m.group(1):
                    found.append((start + m.start(1) + m.group(1).index(body), body))
    found.sort(key=lambda f: (f[0], -len(f[1])))
    names: list[str] = []
    for _, body in found:
        if not any(body in n or n in body for n in names):
            names.append(body)
    return names


def split_roles(text: str, respondents: list[str]) -> tuple[list[str], list[str]]:
    """Separate the parties complained about from the bodies asked to act.

    Args:
        text: normalised narrative.
        respondents: what the entity extractor found.

    Returns:
        ``(respondents, bodies)``: bodies are removed from the respondents; when nothing is
        left, a shop or works the narrative names becomes the respondent.
    """
    bodies = asked_bodies(text)
    kept = [r for r in respondents if not any(r in b or b in r for b in bodies) or _also_accused(text, r)]
    if not kept and bodies:
        shop = _SHOP.search(text)
        if shop and not any(b in shop.group(1) for b in bodies):
            kept = [shop.group(1)]
    return kept, bodies


def _also_accused(text: str, name: str) -> bool:
    """A body is still a party when the narrative complains about it (城管打人, 街道不作为)."""
    return bool(re.search(re.escape(name) + r"[^，。,]{0,6}(?:打人|不作为|乱收费|推诿|拖着|不管|不理|扣|强拆|不给)", text))
