"""Read a citizen's free narrative: category, dispute type, place, parties, demand, risk.

The live bot and batch tools call `analyse`, so both use the same classifier and extractors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from routing.understanding.places import PlaceMatch, load_divisions
from routing.understanding.text import LANDLINE, MOBILE, clean, is_traditional, normalise

_CLAUSE = re.compile(r"[^。！？!?；;，,\n]+")
_DEMAND_WORDS = ("要求", "希望", "请求", "恳请", "恳求", "盼望", "请有关部门", "请相关部门", "请帮", "请尽快", "诉求")
# Risk flags that mean someone may be in danger now: answer with emergency numbers at once,
# even when NLU took the message for an ordinary complaint.
CRISIS_CODES = frozenset({"self_harm", "violence", "ongoing_danger"})
_NO_PARTY = {"无", "没有", "不知道", "不清楚", "无对方", "没有对方", "不确定"}


@dataclass(frozen=True)
class Analysis:
    """What the assistant understood from one narrative."""

    original: str
    normalised: str
    script: str
    category: str | None
    category_path: tuple[str | None, ...]
    dispute_type: str | None
    dispute_type_name: str | None
    confidence: float
    low_confidence: bool
    alternatives: tuple[tuple[str, float], ...]
    place: PlaceMatch | None
    respondent: str | None
    demand: str | None
    phone: str | None
    amounts: tuple[int, ...] = ()
    people_count: int | None = None
    risk_level: str = "blue"
    risk_reasons: tuple[str, ...] = field(default_factory=tuple)
    crisis: bool = False
    asked_bodies: tuple[str, ...] = ()


def find_phone(text: str) -> str | None:
    """Return the first mobile or landline number in `text`, digits only (landline keeps '-')."""
    cleaned = clean(text).replace(" ", "").replace("－", "-")
    found = MOBILE.search(cleaned) or LANDLINE.search(cleaned)
    return found.group(0) if found else None


def find_demand(text: str) -> str | None:
    """Return the clause in which the citizen says what they want, if any."""
    clauses = [c.strip() for c in _CLAUSE.findall(normalise(text))]
    for index in range(len(clauses) - 1, -1, -1):
        clause = clauses[index]
        for word in _DEMAND_WORDS:
            if word in clause:
                # "希望他们晚上十点以后不要再跳了" — from the demand word to the clause's end,
                # plus the next clause when the demand continues there ("要求结清工资，并赔偿损失").
                demand = clause[clause.index(word):]
                follow = clauses[index + 1] if index + 1 < len(clauses) else ""
                return f"{demand}，{follow}" if follow.startswith(("并", "并且", "同时")) else demand
    return None


def is_no_party(answer: str) -> bool:
    """Tell whether a form answer means 'there is no other party'."""
    return normalise(answer).strip("。.！! ") in _NO_PARTY


def resolve_place(text: str) -> PlaceMatch | None:
    """Resolve the place a text mentions to an administrative division."""
    return load_divisions().resolve(normalise(text))


def analyse(text: str) -> Analysis:
    """Analyse a narrative with the shipped classifier, the entity extractor and risk rules.

    Args:
        text: the citizen's message as written.

    Returns:
        An `Analysis`; fields the text does not support are None.
    """
    from routing.understanding import classifier, entities, risk, safety

    normalised = normalise(text)
    result = classifier.load().classify(normalised)
    found = entities.extract(normalised)
    assessed = risk.assess(
        normalised,
        dispute_type=result.dispute_type,
        people=found.people_count,
        amount=float(max(found.amounts)) if found.amounts else None,
    )
    return Analysis(
        original=text,
        normalised=normalised,
        script="traditional" if is_traditional(text) else "simplified",
        category=result.category,
        category_path=tuple(result.category_path),
        dispute_type=result.dispute_type,
        dispute_type_name=result.dispute_type_name,
        confidence=float(result.confidence),
        low_confidence=bool(result.low_confidence),
        alternatives=tuple((c, float(p)) for c, p in result.alternatives),
        place=found.place,
        respondent=found.respondents[0] if found.respondents else None,
        demand=find_demand(normalised),
        phone=found.phones[0] if found.phones else find_phone(normalised),
        amounts=tuple(found.amounts),
        people_count=found.people_count,
        risk_level=assessed.level,
        risk_reasons=tuple(r.label for r in assessed.reasons),
        crisis=any(r.code in CRISIS_CODES for r in assessed.reasons) or safety.check(text).danger,
        asked_bodies=tuple(found.bodies),
    )


_ADMIN_DETAIL = re.compile(r"[\u4e00-\u9fa5]{1,8}?(?:街道|镇|乡)")
_PLACE_DETAIL = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{1,12}?(?:街道|镇|乡|村|社区|小区|路|街|弄|号|大道|花园|苑|新村)")


def place_label(match: PlaceMatch, text: str, narrative: bool = False) -> str:
    """The division's label, plus the finer place the citizen named when the gazetteer stops
    higher ("婺城区城东街道" resolves only to 婺城区: keep 城东街道, never lose the citizen's words).
    """
    label = match.label
    norm = normalise(text)
    county = match.county.name if match.county else None
    tail = norm.split(county, 1)[1] if county and county in norm else norm
    tail = tail.strip(" ，,。的在")
    found = _ADMIN_DETAIL.match(tail) or _PLACE_DETAIL.match(tail)  # 北苑街道, not 北苑
    if not found:
        return label
    detail = found.group(0)
    if narrative and not detail.endswith(("街道", "镇", "乡", "村", "社区")):
        return label
    if detail in label or match.division.name in detail or match.division.level not in ("province", "city", "county"):
        return label  # the gazetteer already reached this place (or went deeper)
    return label + detail
