"""Explainable risk scoring (风险防控): flags with reasons, levels 红 / 橙 / 黄 / 蓝.

Input is the normalised narrative (``routing.understanding.text.normalise``) plus the case history. Each flag
adds weight and a Chinese reason; some flags (self-harm, threats of violence, an ongoing danger,
a large group blocking roads or raising banners) make the case red at once. Red raises an alert
event immediately (人民调解法 第二十五条; 信访工作条例 第二十五条).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from routing.cases.events import SYSTEM_ACTOR, Event, make_event


class RiskLevel(StrEnum):
    """Risk levels, lowest first (stored on cases and alerts as these strings)."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


LEVELS: tuple[str, ...] = tuple(level.value for level in RiskLevel)
LEVEL_LABELS: dict[str, str] = {RiskLevel.BLUE: "蓝", RiskLevel.YELLOW: "黄", RiskLevel.ORANGE: "橙", RiskLevel.RED: "红"}
ALERT_ARTICLES = ("人民调解法 第二十五条", "信访工作条例 第二十五条")
_THRESHOLDS = (("red", 9), ("orange", 6), ("yellow", 3))

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9, "几": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万几]+)"

# (code, reason, weight, red trigger, pattern)
_KEYWORD_FLAGS: tuple[tuple[str, str, int, bool, str], ...] = (
    ("self_harm", "有自伤、自杀倾向的表述", 10, True,
     r"自杀|轻生|不想活|活不下去|跳楼|跳河|喝农药|割腕|寻死|一死了之|同归于尽"),
    ("violence", "有暴力威胁或报复的表述", 10, True,
     r"杀了|砍死|弄死|打死|捅死|捅他|报复|拼命|动刀|放火|烧了他|炸了|同归于尽"),
    ("ongoing_danger", "正在发生的危险或人身伤害", 10, True,
     r"正在打|打起来了|持刀|拿着刀|有人受伤|流了很多血|在流血|被打伤"),
    ("group_action", "有群体性事件迹象（拉横幅、堵路、围堵、集体上访等）", 6, False,
     r"拉横幅|挂横幅|堵路|堵门|围堵|堵厂|集体上访|集体去|聚集|静坐|一起去闹"),
    ("escalate_threat", "扬言越级上访或扩大事态", 2, False,
     r"去北京|进京|到省里|去省里|上访|找媒体|发网上|曝光"),
    ("vulnerable", "涉及老人、未成年人、残疾人、孕妇等弱势群体", 2, False,
     r"老人|年迈|老太|老头|[七八九]十多岁|未成年|小孩|孩子|学生|留守|残疾|孕妇|重病"),
    ("long_standing", "问题长期未解决或反复反映", 1, False,
     r"多次|反复|好几次|一直没人管|没人管|拖了|[几两三四五]年了|好几年"),
)


def keyword_pattern(code: str) -> str:
    """Return the regular expression of a keyword flag (e.g. ``group_action`` for hotspots)."""
    return next(pattern for c, _label, _w, _red, pattern in _KEYWORD_FLAGS if c == code)


_PEOPLE_RE = _NUM + r"\s*(?:多|余|来)?\s*(?:个|名|位|户)?\s*(?:人|工人|农民工|村民|业主|员工|家)"
_AMOUNT_RE = _NUM + r"\s*(万|千)?\s*(?:多|余)?\s*(?:元|块|块钱)"
_WAN_RE = _NUM + r"\s*(?:多)?万"
_ROUGH_PEOPLE = (("上千", 1000), ("上百", 100), ("几百", 200), ("几十", 20), ("十几", 12))


@dataclass(frozen=True, slots=True)
class RiskReason:
    """One explained flag."""

    code: str
    label: str
    weight: int


@dataclass(frozen=True, slots=True)
class RiskHistory:
    """What the case history adds: earlier petitions on the matter, overdue clocks, level before."""

    previous_petitions: int = 0
    overdue: bool = False
    previous_level: str | None = None


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """Level with reasons; ``alert`` is True for red (report at once)."""

    level: str
    score: int
    reasons: tuple[RiskReason, ...]
    alert: bool
    people: int | None = None
    amount_yuan: float | None = None

    @property
    def label(self) -> str:
        """Chinese level name: 红 / 橙 / 黄 / 蓝."""
        return LEVEL_LABELS[self.level]

    def explanation(self) -> str:
        """Return the reasons as one Chinese sentence for the case record."""
        if not self.reasons:
            return f"风险等级：{self.label}（未发现风险因素）"
        return f"风险等级：{self.label}；依据：" + "；".join(r.label for r in self.reasons)

    def rose_from(self, previous: str | None) -> bool:
        """Tell whether the level is higher than ``previous``."""
        return previous is not None and LEVELS.index(self.level) > LEVELS.index(previous)


def parse_cn_number(token: str) -> float:
    """Parse Arabic or simple Chinese numerals (``35``, ``三十五``, ``两万``, ``几十``)."""
    try:
        return float(token)
    except ValueError:
        pass
    total, section, digit = 0, 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return float(total + section + digit)


@lru_cache(maxsize=1)
def _patterns():
    flags = tuple((c, lab, w, red, re.compile(p)) for c, lab, w, red, p in _KEYWORD_FLAGS)
    return flags, re.compile(_PEOPLE_RE), re.compile(_AMOUNT_RE), re.compile(_WAN_RE)


def count_people(text: str) -> int | None:
    """Return the largest number of people mentioned (``三十多个工人`` → 30), if any."""
    _, people_re, _, _ = _patterns()
    counts = [int(parse_cn_number(m.group(1))) for m in people_re.finditer(text)]
    counts += [n for word, n in _ROUGH_PEOPLE if word + "人" in text or word + "个" in text]
    return max(counts) if counts else None


def amount_yuan(text: str) -> float | None:
    """Return the largest money amount mentioned in yuan (``3万元``, ``两万多块``, ``5000元``)."""
    _, _, amount_re, wan_re = _patterns()
    amounts = []
    for m in amount_re.finditer(text):
        unit = {"万": 10000, "千": 1000}.get(m.group(2) or "", 1)
        amounts.append(parse_cn_number(m.group(1)) * unit)
    amounts += [parse_cn_number(m.group(1)) * 10000 for m in wan_re.finditer(text)]
    return max(amounts) if amounts else None


def _scale_reasons(people: int | None, amount: float | None, labour: bool) -> list[RiskReason]:
    out: list[RiskReason] = []
    if people is not None and people >= 5:
        weight = 6 if people >= 50 else 4 if people >= 20 else 2
        out.append(RiskReason("many_people", f"涉及人数较多（约{people}人）", weight))
    if labour and people is not None and people >= 10:
        out.append(RiskReason("unpaid_workers", f"多名劳动者被拖欠工资（约{people}人）", 3))
    if amount is not None and amount >= 20000:
        weight = 4 if amount >= 1_000_000 else 3 if amount >= 100_000 else 1
        out.append(RiskReason("large_amount", f"涉及金额较大（约{amount / 10000:g}万元）", weight))
    return out


def _history_reasons(history: RiskHistory) -> list[RiskReason]:
    out: list[RiskReason] = []
    if history.previous_petitions:
        weight = 3 if history.previous_petitions >= 3 else 2
        out.append(RiskReason("repeat_petition", f"同一事项已反映{history.previous_petitions}次", weight))
    if history.overdue:
        out.append(RiskReason("overdue", "办理已超过法定期限", 2))
    return out


def _crisis_reason(text: str) -> RiskReason | None:
    """The danger check's finding as a red flag (a failed check is not a reason on the record)."""
    from routing.understanding import safety
    from routing.understanding.safety.verdict import KIND_LABELS

    verdict = safety.check(text)
    if not verdict.danger or verdict.failed:
        return None
    return RiskReason("crisis", f"危机识别：{KIND_LABELS.get(verdict.kind, verdict.kind)}", 10)


def assess(
    text: str,
    *,
    history: RiskHistory | None = None,
    dispute_type: str | None = None,
    people: int | None = None,
    amount: float | None = None,
) -> RiskAssessment:
    """Score the risk of a case.

    Args:
        text: the normalised narrative (Simplified, cleaned).
        history: earlier petitions, overdue state.
        dispute_type: a ``dispute_types.csv`` code; ``labour_wage`` enables the unpaid-workers flag.
        people: number of people if known from slots (else read from the text).
        amount: amount in yuan if known (else read from the text).

    Returns:
        The assessment: level, score, reasons, alert.
    """
    flags, *_ = _patterns()
    reasons: list[RiskReason] = []
    red = False
    for code, lab, weight, trigger, pattern in flags:
        if pattern.search(text):
            reasons.append(RiskReason(code, lab, weight))
            red = red or trigger
    crisis = _crisis_reason(text)
    if crisis is not None and not any(r.code in ("self_harm", "violence", "ongoing_danger") for r in reasons):
        reasons.append(crisis)
        red = True
    people = people if people is not None else count_people(text)
    amount = amount if amount is not None else amount_yuan(text)
    labour = dispute_type == "labour_wage" or "工资" in text or "欠薪" in text
    reasons += _scale_reasons(people, amount, labour)
    reasons += _history_reasons(history or RiskHistory())
    codes = {r.code for r in reasons}
    if "group_action" in codes and people is not None and people >= 20:
        red = True
    score = sum(r.weight for r in reasons)
    level = "red" if red else next((lv for lv, t in _THRESHOLDS if score >= t), "blue")
    return RiskAssessment(level, score, tuple(reasons), level == "red", people, amount)


def alert_event(
    assessment: RiskAssessment, case_id: str = "", at: datetime | None = None
) -> Event | None:
    """Return a ``risk_alert`` event for a red case (report at once), else None."""
    if not assessment.alert:
        return None
    return make_event(
        "risk_alert",
        SYSTEM_ACTOR,
        assessment.explanation(),
        case_id=case_id,
        at=at,
        payload={
            "level": assessment.level,
            "score": assessment.score,
            "reasons": [r.code for r in assessment.reasons],
            "articles": list(ALERT_ARTICLES),
        },
    )
