"""The Fengqiao ladder: pick the handling body, tier and person for a case, and explain why.

Lowest competent tier for the citizen's place first (小事不出村，大事不出镇，矛盾不上交; 信访工作条例
第二十条第四款 and 第二十二条 属地管理、分级负责); litigation, arbitration and administrative-review
matters are diverted (第二十八条、第三十一条; 浙江省信访条例 第十九条); accusations go to the discipline
body and never to the accused (第三十条); wrong transfers are returned within 5 working days
(第二十三条); failed mediation tells the parties the other routes (人民调解法 第二十六条).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from routing.cases.events import Event, make_event
from routing.cases.ports import PlaceIndex, WorkloadRepository
from routing.orgs.registry import Body, Orgs, Person, SpecialtyRule
from routing.understanding.risk import ALERT_ARTICLES, RiskAssessment

if TYPE_CHECKING:
    from routing.cases.deadlines import HolidayCalendar

ART_LOCAL = ("信访工作条例 第二十条第四款", "信访工作条例 第二十二条")
ART_DIVERT = ("信访工作条例 第二十八条第二款", "信访工作条例 第三十一条", "浙江省信访条例 第十九条")
ART_ACCUSE = ("信访工作条例 第三十条", "浙江省信访条例 第二十六条第四项")
ART_TRANSFER = ("信访工作条例 第二十三条",)
ART_MEDIATION_FAILED = ("人民调解法 第二十六条", "宁波市人民调解条例 第二十七条")
ART_LABOUR = ("劳动争议调解仲裁法 第十四条",)
ROUTES_TEXT = "仲裁、行政（行政复议、行政裁决等）、司法（向人民法院起诉）"
_LEGAL_PATTERNS = (
    ("admin_review", r"行政复议|不服.{0,8}(处罚|罚款|决定)|行政处罚.{0,4}不服"),
    ("arbitration", r"申请仲裁|仲裁裁决|仲裁委|去仲裁"),
    ("litigation", r"起诉|打官司|判决|裁定书|上诉|再审|申请执行|法院执行|已经立案"),
)


class RoutingError(ValueError):
    """A routing request that cannot be honoured (no body, a late objection, an accused target)."""


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the router needs to know about a case.

    Attributes:
        case_id: case number.
        division: deepest known division code of the matter's place.
        text: the normalised narrative.
        category: first-level hotline category (e.g. ``劳动和社会保障``).
        dispute_type: a ``dispute_types.csv`` code.
        matter: ``dispute`` | ``complaint`` | ``accusation`` | ``suggestion`` | ``report``.
        accused: names or body ids of the accused / complained-about (never shown the case).
        legal_channel: ``litigation`` | ``arbitration`` | ``admin_review``; detected when None.
    """

    case_id: str
    division: str
    text: str = ""
    category: str | None = None
    dispute_type: str | None = None
    matter: str = "dispute"
    accused: tuple[str, ...] = ()
    legal_channel: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Where a case goes and why; the service stores it and its ``explanation`` on the case."""

    action: str  # route | divert | escalate | refer | transfer | return
    case_id: str
    body_id: str
    body_name: str
    tier: str
    tier_label: str
    division: str
    explanation: str
    articles: tuple[str, ...]
    person_id: str | None = None
    person_name: str | None = None
    confidential: bool = False
    hidden_from: tuple[str, ...] = ()
    channel: str | None = None
    alternatives: tuple[str, ...] = ()
    alert: bool = False
    risk_level: str | None = None
    clock: str | None = None
    due: date | None = None
    excluded_body_ids: tuple[str, ...] = ()
    grid_skipped: str | None = None  # the grid body the admission list kept the matter from

    def to_event(self, actor: str, at: datetime | None = None) -> Event:
        """Return the ``routing_<action>`` event recording this decision."""
        payload = {
            "body_id": self.body_id, "tier": self.tier, "person_id": self.person_id,
            "articles": list(self.articles), "confidential": self.confidential,
            "channel": self.channel, "clock": self.clock,
            "due": self.due.isoformat() if self.due else None,
            "excluded_body_ids": list(self.excluded_body_ids),
        }
        if self.grid_skipped:
            payload["grid_skipped"] = self.grid_skipped
        return make_event(f"routing_{self.action}", actor, self.explanation, case_id=self.case_id,
                          at=at, payload=payload)


@lru_cache(maxsize=1)
def _legal_res():
    return tuple((c, re.compile(p)) for c, p in _LEGAL_PATTERNS)


def detect_legal_channel(text: str) -> str | None:
    """Return ``admin_review`` / ``arbitration`` / ``litigation`` when the text names that procedure."""
    for channel, pattern in _legal_res():
        if pattern.search(text):
            return channel
    return None


def _default_places() -> PlaceIndex:
    from routing.understanding.places import load_divisions  # lazy

    return load_divisions()


def _path(places: PlaceIndex, division: str) -> list:
    path = list(places.path(division))
    if not path:
        raise RoutingError(f"unknown division {division!r}")
    return path


def _code_at(path: Sequence, level: str) -> str | None:
    return next((d.code for d in path if d.level == level), None)


def _place_name(path: Sequence) -> str:
    return "".join(d.name for d in path if d.level not in ("province", "city", "grid", "estate"))


def _is_accused(name_or_id: str, accused: Collection[str]) -> bool:
    return any(a and (a == name_or_id or a in name_or_id) for a in accused)


def _sequence(rules_tiers: Sequence[str], rule: SpecialtyRule, matter: str) -> list[str]:
    if rule.start == "department" or matter in ("complaint", "report", "suggestion"):
        return ["department", "county", "city"]
    tiers = [t for t in rules_tiers if t != "committee" or rule.committee]
    return tiers[tiers.index(rule.start):]


def _find_body(orgs: Orgs, tier: str, path: Sequence, specialty: str, category: str | None,
               excluded: Collection[str]) -> Body | None:
    if tier in ("grid", "village", "township"):
        codes = [d.code for d in reversed(path)]
    elif tier == "city":
        codes = [c for c in [_code_at(path, "city")] if c]
    else:
        codes = [c for c in [_code_at(path, "county")] if c]
    for code in codes:
        for body in orgs.bodies_in(code):
            if body.tier != tier or body.id in excluded or _is_accused(body.name, excluded):
                continue
            if tier == "department" and category in body.categories and not body.channels:
                return body
            if tier != "department" and (specialty in body.specialties or tier in ("county", "city")):
                return body
    return None


def assign_person(body: Body, specialty: str, orgs: Orgs, workload: WorkloadRepository | None,
                  exclude: Collection[str] = ()) -> Person | None:
    """Pick the handler in ``body``: available, under capacity, specialty first, then least loaded.

    Args:
        body: the chosen body.
        specialty: the matter's specialty code.
        orgs: organisation data.
        workload: open-case counts per person (all zero when None).
        exclude: person ids or names that must not handle it (e.g. the accused).

    Returns:
        The person, or None when nobody in the body can take it now.
    """
    people = [p for p in orgs.people_of(body.id)
              if p.available and p.id not in exclude and not _is_accused(p.name, exclude)]
    loads = workload.open_case_counts([p.id for p in people]) if workload and people else {}
    free = [p for p in people if loads.get(p.id, 0) < p.capacity]
    if not free:
        return None
    return min(free, key=lambda p: (specialty not in p.specialties, p.role == "director",
                                    loads.get(p.id, 0) / max(p.capacity, 1), p.id))


def _due(clock: str | None, received_on: date | None, rules: str,
         calendar: HolidayCalendar | None = None) -> date | None:
    if clock is None or received_on is None:
        return None
    # local: the ladder works without the calendar
    from routing.cases.deadlines import OFFICIAL, compute_due

    return compute_due(clock, received_on, rules, calendar or OFFICIAL).due


def _decision(action: str, facts: CaseFacts, orgs: Orgs, body: Body, person: Person | None,
              text: str, articles: tuple[str, ...], **extra) -> RoutingDecision:
    handler = f"，承办人：{person.name}" if person else "，由该机构负责人指定承办人"
    return RoutingDecision(
        action=action, case_id=facts.case_id, body_id=body.id, body_name=body.name, tier=body.tier,
        tier_label=orgs.rules.tier_labels.get(body.tier, body.tier), division=body.division,
        explanation=text + handler + "。", articles=articles,
        person_id=person.id if person else None, person_name=person.name if person else None,
        **extra,
    )


def _divert(facts: CaseFacts, orgs: Orgs, path: Sequence, channel: str) -> RoutingDecision:
    specialty = orgs.specialty_of(facts.dispute_type)
    if channel == "arbitration" and specialty == "labour":
        channel = "labour_arbitration"
    label, key = orgs.rules.channels[channel]
    county, city = _code_at(path, "county"), _code_at(path, "city")
    body = next((b for code in (county, city) if code for b in orgs.bodies_in(code)
                 if channel in b.channels), None)
    if body is None:
        raise RoutingError(f"no {key} body for division {facts.division}")
    text = (f"您反映的事项依法应当通过{label}程序解决。按照诉讼与信访分离的要求，"
            f"请向{body.name}提出，我们可以告诉您需要准备的材料和办理地点")
    return replace(_decision("divert", facts, orgs, body, None, text, ART_DIVERT, channel=channel,
                             clock="petition_register"), explanation=text + "。")


def _accusation(facts: CaseFacts, orgs: Orgs, path: Sequence, excluded: Collection[str]) -> RoutingDecision:
    cat = orgs.rules.accusation_category
    blocked = set(excluded) | set(facts.accused)
    # the county's discipline body first; if it is itself accused, the city's
    body = next((b for level in ("county", "city") if (code := _code_at(path, level))
                 for b in orgs.bodies_in(code)
                 if b.tier == "department" and cat in b.categories
                 and b.id not in blocked and not _is_accused(b.name, blocked)), None)
    if body is None:
        raise RoutingError("no discipline inspection body that is not accused")
    text = (f"您的检举控告已转{body.name}依规依纪依法办理。您的身份和材料将严格保密，"
            "不会透露或转给被检举、控告的人员或单位")
    return RoutingDecision(
        action="route", case_id=facts.case_id, body_id=body.id, body_name=body.name, tier=body.tier,
        tier_label=orgs.rules.tier_labels.get(body.tier, body.tier), division=body.division,
        explanation=text + "。", articles=ART_ACCUSE, confidential=True,
        hidden_from=tuple(facts.accused), excluded_body_ids=tuple(sorted(excluded)),
    )


def route(
    facts: CaseFacts,
    orgs: Orgs,
    risk: RiskAssessment | None = None,
    *,
    places: PlaceIndex | None = None,
    workload: WorkloadRepository | None = None,
    exclude_bodies: Collection[str] = (),
    min_tier: str | None = None,
    received_on: date | None = None,
    rules: str = "stricter",
    action: str = "route",
    calendar: HolidayCalendar | None = None,
) -> RoutingDecision:
    """Route a case to the lowest competent body for its place and assign a person.

    Args:
        facts: the case facts.
        orgs: organisation data (:func:`routing.orgs.registry.load_orgs`).
        risk: the risk assessment; orange starts at township, red at the county centre with an alert.
        places: division index (the packaged divisions by default).
        workload: open-case counts for person assignment.
        exclude_bodies: body ids not to use (a returned or escalated-from body).
        min_tier: do not go below this tier (escalation).
        received_on: the day the case was received; gives ``due`` for the started clock.
        rules: deadline rules (``stricter`` by default).
        action: the action name recorded on the decision.
        calendar: the holiday calendar for ``due`` (the strict official one by default).

    Returns:
        The decision with explanation and articles.

    Raises:
        RoutingError: unknown division or no competent body.
    """
    places = places or _default_places()
    path = _path(places, facts.division)
    channel = facts.legal_channel or detect_legal_channel(facts.text)
    accusation = facts.matter == "accusation" or facts.category == orgs.rules.accusation_category
    if accusation:
        return _accusation(facts, orgs, path, exclude_bodies)
    if channel:
        return _divert(facts, orgs, path, channel)
    specialty = orgs.specialty_of(facts.dispute_type)
    rule = orgs.rules.specialties.get(specialty, orgs.rules.specialties["general"])
    category = facts.category or rule.department_category
    floors = [t for t in (min_tier, orgs.rules.risk_floor.get(risk.level) if risk else None) if t]
    excluded = set(exclude_bodies) | set(facts.accused)
    grid_skipped: Body | None = None
    for tier in _sequence(orgs.rules.tiers, rule, facts.matter):
        if any(orgs.rules.rank(tier) < orgs.rules.rank(f) for f in floors):
            continue
        body = _find_body(orgs, tier, path, specialty, category, excluded)
        if body is not None and tier == "grid" and not grid_admits(orgs, facts.dispute_type):
            grid_skipped = body  # 网格事务准入清单: not a grid matter, the next tier takes it
            continue
        if body is not None:
            break
    else:
        raise RoutingError(f"no competent body for {facts.case_id} at {facts.division}")
    person = assign_person(body, specialty, orgs, workload, exclude=facts.accused)
    clock = "petition_handle" if body.tier in ("department",) or facts.matter != "dispute" else rule.clock
    due = _due(clock, received_on, rules, calendar)
    text = _route_text(facts, orgs, body, path, risk, due)
    if grid_skipped is not None:
        text = grid_note(orgs, facts.dispute_type, grid_skipped) + text
    articles = ART_LOCAL + (ART_LABOUR if clock == "labour_mediation" else ()) + (
        ALERT_ARTICLES if risk and risk.alert else ())
    return _decision(action, facts, orgs, body, person, text, articles,
                     alert=bool(risk and risk.alert), risk_level=risk.level if risk else None,
                     clock=clock, due=due, confidential=bool(facts.accused),
                     hidden_from=tuple(facts.accused), excluded_body_ids=tuple(sorted(exclude_bodies)),
                     grid_skipped=grid_skipped.id if grid_skipped else None)


def grid_admits(orgs: Orgs, dispute_type: str | None) -> bool:
    """Tell whether the grid admission list (网格事务准入清单) lets this matter go to a grid worker."""
    return orgs.grid_admitted is None or (dispute_type or "") in orgs.grid_admitted


def grid_note(orgs: Orgs, dispute_type: str | None, grid: Body) -> str:
    """Return the sentence that tells why a matter was not put on the grid."""
    dtype = orgs.dispute_types.get(dispute_type or "")
    what = dtype.name if dtype else "未分类事项"
    return f"依据网格事务准入清单，{what}不属于可交由网格员办理的事项，不交{grid.name}，由上一层级受理；"


def _route_text(facts: CaseFacts, orgs: Orgs, body: Body, path: Sequence,
                risk: RiskAssessment | None, due: date | None) -> str:
    tier_label = orgs.rules.tier_labels.get(body.tier, body.tier)
    dtype = orgs.dispute_types.get(facts.dispute_type or "")
    what = dtype.name if dtype else (facts.category or "您反映的")
    principle = ("按照“小事不出村、大事不出镇”、就地化解的原则" if body.tier in ("grid", "village", "township")
                 else "按照“属地管理、分级负责，谁主管、谁负责”的原则")
    text = f"{what}事项发生在{_place_name(path)}，{principle}，由{body.name}（{tier_label}）受理"
    if risk and risk.level in ("orange", "red"):
        text += f"；因风险等级为{risk.label}（{'；'.join(r.label for r in risk.reasons)}），提级处理"
    if risk and risk.alert:
        text += "，并已即时报告社会治理中心"
    if due:
        text += f"；办理期限至{due.year}年{due.month}月{due.day}日"
    return text


def escalate(
    decision: RoutingDecision,
    facts: CaseFacts,
    orgs: Orgs,
    reason: str,
    *,
    risk: RiskAssessment | None = None,
    places: PlaceIndex | None = None,
    workload: WorkloadRepository | None = None,
    received_on: date | None = None,
    rules: str = "stricter",
    calendar: HolidayCalendar | None = None,
) -> RoutingDecision:
    """Move a case up the ladder.

    Args:
        decision: the current decision.
        facts: case facts.
        orgs: organisation data.
        reason: ``overdue`` (a tier missed its clock), ``risk`` (risk rose) or ``mediation_failed``
            (人民调解法 第二十六条: the parties are told the other routes; at county level and
            above the case is referred to them rather than climbing further).
        risk: the current risk assessment.
        places: division index.
        workload: open-case counts.
        received_on: date for the new clock.
        rules: deadline rules.

    Returns:
        The new decision (action ``escalate`` or ``refer``).
    """
    if reason not in ("overdue", "risk", "mediation_failed"):
        raise RoutingError(f"unknown escalation reason {reason!r}")
    ranks = orgs.rules
    specialty = orgs.specialty_of(facts.dispute_type)
    if reason == "mediation_failed" and ranks.rank(decision.tier) >= ranks.rank("committee"):
        channel = "labour_arbitration" if specialty == "labour" else "litigation"
        referred = _divert(replace(facts, legal_channel=channel), orgs, _path(places or _default_places(), facts.division), channel)
        return replace(referred, action="refer", articles=ART_MEDIATION_FAILED + (ART_LABOUR if specialty == "labour" else ()),
                       alternatives=_alternatives(specialty),
                       explanation=_failed_text(decision, specialty) + referred.explanation)
    higher = ranks.tiers[min(ranks.rank(decision.tier) + 1, len(ranks.tiers) - 1)]
    new = route(facts, orgs, risk, places=places, workload=workload, min_tier=higher,
                exclude_bodies={*decision.excluded_body_ids, decision.body_id},
                received_on=received_on, rules=rules, action="escalate", calendar=calendar)
    why = {"overdue": f"{decision.body_name}未在法定期限内办结，",
           "risk": "风险等级上升，",
           "mediation_failed": _failed_text(decision, specialty)}[reason]
    extra = ART_MEDIATION_FAILED if reason == "mediation_failed" else ()
    return replace(new, explanation=why + "依规提级：" + new.explanation, articles=new.articles + extra,
                   alternatives=_alternatives(specialty) if reason == "mediation_failed" else ())


def _alternatives(specialty: str) -> tuple[str, ...]:
    alts = ("向人民法院起诉", "申请行政复议或行政裁决", "申请仲裁")
    return ("向劳动人事争议仲裁院申请仲裁", *alts[:2]) if specialty == "labour" else alts


def _failed_text(decision: RoutingDecision, specialty: str) -> str:
    text = f"{decision.body_name}调解未能达成协议，已终止调解。您可以依法通过{ROUTES_TEXT}等途径维护权利"
    if specialty == "labour":
        text += "；劳动争议自调解组织收到申请之日起十五日内未达成协议的，可以申请劳动仲裁"
    return text + "。"


def transfer(
    decision: RoutingDecision,
    to_body_id: str,
    reason: str,
    facts: CaseFacts,
    orgs: Orgs,
    *,
    workload: WorkloadRepository | None = None,
) -> RoutingDecision:
    """Transfer a case to another body chosen by staff (信访工作条例 第二十三条: tell the citizen where).

    Raises:
        RoutingError: no reason, unknown body, or the target is accused in a confidential case.
    """
    if not reason.strip():
        raise RoutingError("a transfer needs a reason")
    body = orgs.body(to_body_id)
    if decision.confidential and (body.id in facts.accused or _is_accused(body.name, facts.accused)):
        raise RoutingError("信访工作条例 第三十条：不得将检举控告材料转给被检举、控告的单位")
    person = assign_person(body, orgs.specialty_of(facts.dispute_type), orgs, workload, exclude=facts.accused)
    text = f"因{reason}，本事项由{decision.body_name}转送{body.name}办理"
    return replace(_decision("transfer", facts, orgs, body, person, text, ART_TRANSFER),
                   confidential=decision.confidential, hidden_from=decision.hidden_from,
                   excluded_body_ids=tuple(sorted({*decision.excluded_body_ids, decision.body_id})),
                   clock=decision.clock, risk_level=decision.risk_level)


def return_wrong_body(
    decision: RoutingDecision,
    facts: CaseFacts,
    orgs: Orgs,
    *,
    received_on: date,
    objected_on: date,
    reason: str,
    risk: RiskAssessment | None = None,
    places: PlaceIndex | None = None,
    workload: WorkloadRepository | None = None,
    rules: str = "stricter",
    calendar: HolidayCalendar | None = None,
) -> RoutingDecision:
    """A body objects that a transferred case is not its to handle, and the case is re-routed.

    信访工作条例 第二十三条第三款: the objection, with reasons, within 5 working days of receipt.

    Raises:
        RoutingError: no reason, or the objection is late (the body must handle the case).
    """
    from routing.cases.deadlines import OFFICIAL, compute_due

    if not reason.strip():
        raise RoutingError("an objection needs detailed reasons (信访工作条例 第二十三条)")
    limit = compute_due("transfer_objection", received_on, rules, calendar or OFFICIAL)
    if objected_on > limit.due:
        raise RoutingError(
            f"异议已超过{limit.article}规定的5个工作日（截止{limit.due.isoformat()}），应由{decision.body_name}办理"
        )
    new = route(facts, orgs, risk, places=places, workload=workload,
                exclude_bodies={*decision.excluded_body_ids, decision.body_id},
                received_on=objected_on, rules=rules, action="return", calendar=calendar)
    text = f"{decision.body_name}提出异议（{reason}），经核实交还后重新分派：" + new.explanation
    return replace(new, explanation=text, articles=ART_TRANSFER + new.articles)
