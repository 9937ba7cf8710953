"""Generate realistic case volumes for the desk: counties, townships, villages, categories, risks,
clocks' due dates, transfers, closures — and a few planted hotspots.

Rows are written in bulk with their events (filed, routed, risk assessed, assigned, transfers,
closures), so the reconciliation finds every figure in the event log too. Routing uses the real
ladder once per (place, dispute type) and reuses the decision. Generated cases carry case numbers
``FQ-<year>-G<seq>`` and idempotency keys ``gen:<run>:<n>``; they never collide with filed ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from routing.centre import places
from routing.persistence.case_tables import Case, CaseEvent

# (dispute type, level-1, level-2, level-3, weight)
MIX: tuple[tuple[str, str, str, str, int], ...] = (
    ("neighbour", "城乡建设", "城市建设和市政管理", "违章建筑", 18),
    ("environment_noise", "环境保护", "环境污染", "噪声污染", 10),
    ("labour_wage", "劳动和社会保障", "劳动关系", "拖欠工资", 14),
    ("property_mgmt", "城乡建设", "住房保障和房地产", "物业管理", 12),
    ("land_housing", "国土资源", "土地管理", "征地拆迁", 8),
    ("consumer_contract", "经济管理", "市场监管", "消费维权", 10),
    ("lending", "政法", "社会治安", "民间借贷", 6),
    ("marriage_family", "民政", "婚姻家庭", "家庭纠纷", 8),
    ("traffic_accident", "交通运输", "道路交通", "交通事故", 5),
    ("medical", "卫生计生", "医疗服务", "医疗纠纷", 3),
    ("other", "党务政务", "政务服务", "办事效率", 6),
)
RISK_MIX = (("blue", 70), ("yellow", 18), ("orange", 9), ("red", 3))
CHANNELS = (("web", 55), ("tg", 30), ("open311", 15))
STORIES = {
    "neighbour": "隔壁邻居在院墙边搭了违章棚子，挡了我家的路，说了好几次都不拆。",
    "environment_noise": "楼下饭店排风机半夜还在响，噪音很大，孩子睡不着。",
    "labour_wage": "老板拖欠我们工资三个月了，一直说下个月给，现在电话也不接。",
    "property_mgmt": "小区物业不管电梯维修，电梯坏了一个月，老人上下楼很困难。",
    "land_housing": "村里征地补偿款一直没有发到我们手上，也没人解释。",
    "consumer_contract": "在店里办了健身卡，店突然关门了，钱退不回来。",
    "lending": "借给朋友五万块钱，到期了一直不还，现在人也找不到。",
    "marriage_family": "和儿子儿媳因为老人赡养的事闹得很僵，想请人调解一下。",
    "traffic_accident": "骑电动车被小货车撞了，对方不肯赔医药费。",
    "medical": "在镇卫生院做了手术后一直发烧，医院说不是他们的责任。",
    "other": "去镇里办证件跑了三次都没办成，每次要的材料都不一样。",
}
GROUP_STORY = "老板拖欠我们三十多个工人工资，大家商量明天去堵路拉横幅。"


def _pick(rng: random.Random, mix: tuple) -> Any:  # type: ignore[type-arg]
    return rng.choices(mix, weights=[m[-1] for m in mix])[0]


@dataclass
class Plan:
    """What to generate."""

    cases: int
    region: str
    months: int = 12
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    hotspots: int = 5
    seed: int = 7
    batch: int = 5000


@dataclass
class Result:
    """What was generated."""

    cases: int
    events: int
    planted: list[dict[str, Any]]


def leaf_places(region: str) -> list[str]:
    """Return the deepest divisions under a region where cases happen (villages, else counties)."""
    out = []
    for code in sorted(places.covered(region)):
        div = places.division(code)
        if div is None:
            continue
        if div.level in ("village", "grid") or div.level == "county" and not any(d.level == "township" for d in places.index().children(code)) or div.level == "township" and not places.index().children(code):
            out.append(code)
    return out


class _Router:
    """The real ladder, asked once per (place, dispute type)."""

    def __init__(self) -> None:
        from routing.orgs.registry import load_orgs

        self.orgs = load_orgs()
        self.cache: dict[tuple[str, str], tuple[str | None, str, str]] = {}

    def __call__(self, code: str, dtype: str, l1: str) -> tuple[str | None, str, str]:
        key = (code, dtype)
        if key not in self.cache:
            from routing.orgs.ladder import CaseFacts, RoutingError, route

            try:
                d = route(CaseFacts("gen", code, "", category=l1, dispute_type=dtype), self.orgs)
                self.cache[key] = (d.body_id, d.body_name, d.tier_label)
            except RoutingError:
                self.cache[key] = (None, "县级社会治理中心", "县级社会治理中心")
        return self.cache[key]


def _status(rng: random.Random, age_days: int) -> str:
    if age_days > 75:
        return rng.choices(("archived", "follow_up", "rejected", "withdrawn", "handling"), (86, 4, 4, 4, 2))[0]
    if age_days > 30:
        return rng.choices(("archived", "follow_up", "resolved", "handling", "mediating", "reception_booked",
                            "escalated"), (45, 15, 10, 15, 8, 3, 4))[0]
    return rng.choices(("accepted", "assigned", "handling", "mediating", "follow_up", "archived",
                        "reception_booked"), (12, 30, 25, 15, 6, 10, 2))[0]


def _events_for(case_id: int, c: dict[str, Any], rng: random.Random, body_ids: list[str]) -> list[dict[str, Any]]:
    at = c["created_at"]
    evs: list[dict[str, Any]] = []

    def add(kind: str, status: str, reason: str, payload: dict[str, Any]) -> None:
        evs.append({"case_id": case_id, "seq": len(evs) + 1, "kind": kind, "actor": "system", "reason": reason,
                    "status_after": status, "payload": payload, "created_at": at + timedelta(minutes=len(evs))})

    add("filed", "accepted", "生成数据", {"channel": c["channel"]})
    add("routed", "accepted", c["routing_explanation"], {"handling_body": c["handling_body"], "tier": c["tier"]})
    add("risk_assessed", "accepted", "生成数据", {"level": c["risk_level"]})
    final = c["status"]
    person = c["assigned_person_id"]
    if final in ("rejected", "withdrawn"):
        add("status_changed", final, "生成数据", {"from": "accepted", "to": final, "action": final[:-2]})
        return evs
    if person:
        add("assigned", "assigned", "分派", {"person_id": person})
    for _ in range(c.pop("_bounces")):
        target = rng.choice(body_ids) if body_ids else c["body_id"]
        add("routing_transfer", evs[-1]["status_after"], "生成数据：转办",
            {"body_id": c["body_id"], "tier": c["tier"], "person_id": None, "from_body": target})
        if person:
            add("assigned", "assigned", "分派", {"person_id": person})
    if evs[-1]["status_after"] != final:
        _life(add, evs, c, final, rng)
    return evs


# A closed case's way through the lifecycle (legal transitions, with their actions, so the rates
# in routing/rates read the same history a filed case would have).
_CLOSED_FINALS = ("resolved", "follow_up", "archived")


def _life(add: Callable[..., None], evs: list[dict[str, Any]], c: dict[str, Any], final: str,
          rng: random.Random) -> None:
    """Append the status changes from the case's current status to ``final`` (days apart, never in the future)."""
    start = c["created_at"]
    limit = max(0, min(c.pop("_age", 0), 45))  # a case is closed and rated within weeks, not months
    days = iter(sorted(rng.sample(range(1, max(limit, 8) + 1), k=min(6, max(limit, 8)))))
    at = start

    def step(frm: str, to: str, action: str, **payload: Any) -> None:
        nonlocal at
        at = max(at + timedelta(minutes=1),
                 start + timedelta(days=min(next(days, limit), limit), hours=rng.randrange(1, 9)))
        add("status_changed", to, "生成数据", {"from": frm, "to": to, "action": action, **payload})
        evs[-1]["created_at"] = at

    now = evs[-1]["status_after"]
    if now == "accepted":
        if final == "escalated":
            step("accepted", "escalated", "escalate", why="risk")
            return
        if c["assigned_person_id"]:
            step("accepted", "assigned", "assign", person_id=c["assigned_person_id"])
        else:  # placed with a body, nobody named yet (the desk's 未分派)
            step("accepted", "assigned", "")
        now = "assigned"
    if final == "escalated":
        step(now, "escalated", "escalate", why="risk")
        return
    if final == "reception_booked":
        step(now, "reception_booked", "book_reception")
        return
    mediate = c["dispute_type"] not in ("other", "consumer_contract") and rng.random() < 0.7
    work = "mediating" if mediate else "handling"
    step(now, work, "start_mediation" if mediate else "start_handling")
    if final in ("handling", "mediating"):
        if final != work:
            step(work, "mediating", "start_mediation")
        return
    if final not in _CLOSED_FINALS:
        return
    agreement = rng.random() < 0.82
    if agreement:
        step(work, "resolved", "resolve", agreement=True)
    else:
        step(work, "referred", "fail_mediation" if mediate else "refer", agreement=False)
    if final == "resolved":
        return
    closed = "resolved" if agreement else "referred"
    if final == "archived" and rng.random() < 0.1:
        step(closed, "archived", "archive")
        return
    step(closed, "follow_up", "follow_up")
    if rng.random() < 0.85:
        rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), (70, 20, 10))[0]
        step("follow_up", "follow_up", "rate", satisfaction=rating)
        c["satisfaction"] = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}[rating]
    if final == "archived":
        step("follow_up", "archived", "archive")


def generate(sessions: sessionmaker, plan: Plan, progress: Callable[[int], None] | None = None) -> Result:
    """Write ``plan.cases`` cases (and their events) spread over ``plan.region``."""
    rng = random.Random(plan.seed)
    leaves = leaf_places(plan.region)
    if not leaves:
        raise ValueError(f"no places under {plan.region}")
    router = _Router()
    people = {b: [p for p in router.orgs.people_of(b)] for b in router.orgs.bodies}
    run = uuid.uuid4().hex[:8]
    start = plan.today - timedelta(days=30 * plan.months)
    span = (plan.today - start).days or 1
    planted = _plant(rng, leaves, plan)
    written = events = 0
    with sessions() as s:
        base = int(s.execute(select(Case.id).order_by(Case.id.desc()).limit(1)).scalar() or 0)
    seq = 0
    while written < plan.cases:
        n = min(plan.batch, plan.cases - written)
        rows = []
        for i in range(n):
            k = written + i
            p = planted[k] if k < len(planted) else None
            rows.append(_row(rng, plan, run, k, leaves, router, people, start, span, p))
        ids = list(range(base + written + 1, base + written + n + 1))
        for cid, row in zip(ids, rows, strict=True):
            row["id"] = cid
        evs = []
        bodies = list(router.orgs.bodies)
        for cid, row in zip(ids, rows, strict=True):
            evs += _events_for(cid, row, rng, bodies)
            row.pop("_age", None)
        with sessions.begin() as s:
            s.execute(insert(Case), rows)
            s.execute(insert(CaseEvent), evs)
        written += n
        events += len(evs)
        seq += 1
        if progress:
            progress(written)
    _bump_sequence(sessions)
    return Result(written, events, [{"place": p["place"], "problem": p["l2"], "cases": p["size"]}
                                    for p in planted if p.get("first")])


def _bump_sequence(sessions: sessionmaker) -> None:
    with sessions.begin() as s:
        if s.bind.dialect.name == "postgresql":
            from sqlalchemy import text

            s.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
            s.execute(text("SELECT setval(pg_get_serial_sequence('case_events', 'id'), "
                           "(SELECT max(id) FROM case_events))"))


def _plant(rng: random.Random, leaves: list[str], plan: Plan) -> list[dict[str, Any]]:
    """Planted hotspots: a few clusters of one problem in one township within the last days."""
    out: list[dict[str, Any]] = []
    towns = sorted({town for code in leaves if (town := places.hotspot_place(code, None)) is not None})
    for h in range(min(plan.hotspots, len(towns))):
        town = towns[(h * 7) % len(towns)]
        villages = [c for c in leaves if places.hotspot_place(c, None) == town]
        mix = MIX[h % 3 + 2]  # labour, property, land
        size = 4 + h % 3
        for j in range(size):
            out.append({"place": town, "code": rng.choice(villages), "mix": mix, "l2": mix[2], "size": size,
                        "first": j == 0, "group": h % 2 == 0 and j == 0,
                        "at": datetime.combine(plan.today - timedelta(days=1 + j % 3), time(2 + j)).replace(tzinfo=UTC)})
    return out


@lru_cache(maxsize=8)
def _by_town(leaves: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code in leaves:
        out.setdefault(places.hotspot_place(code, None) or code, []).append(code)
    return out


@lru_cache(maxsize=8)
def _towns(leaves: tuple[str, ...]) -> list[str]:
    return sorted(_by_town(leaves))


def _row(rng: random.Random, plan: Plan, run: str, k: int, leaves: list[str], router: _Router,
         people: dict[str, list[Any]], start: date, span: int, planted: dict[str, Any] | None) -> dict[str, Any]:
    if planted:
        mix, code, created = planted["mix"], planted["code"], planted["at"]
    else:
        mix = _pick(rng, MIX)
        town = rng.choice(_towns(tuple(leaves)))
        code = rng.choice(_by_town(tuple(leaves))[town])
        day = start + timedelta(days=rng.randrange(span))
        created = datetime.combine(day, time(rng.randrange(24), rng.randrange(60))).replace(tzinfo=UTC)
    # planted hotspot members in the background would let unrelated clusters form; keep
    # the background out of the last window for the planted problems' places
    dtype, l1, l2, l3, _w = mix
    age = (plan.today - created.date()).days
    status = "handling" if planted else _status(rng, age)
    body_id, body_name, tier = router(code, dtype, l1)
    staff = people.get(body_id or "", [])
    person = rng.choice(staff) if staff and status != "accepted" and rng.random() < 0.8 else None
    county = places.index().county_of(code)
    risk = _pick(rng, RISK_MIX)[0]
    due = created.date() + timedelta(days=30 if dtype != "labour_wage" else 15)
    story = GROUP_STORY if planted and planted["group"] else STORIES[dtype]
    bounces = 0 if planted else 3 if rng.random() < 0.002 else (1 if rng.random() < 0.03 else 0)
    return {
        "case_number": f"FQ-{created.year}-G{run[:3]}{k:07d}"[:20], "idempotency_key": f"gen:{run}:{k}",
        "status": status, "category": l1, "category_l2": l2, "category_l3": l3, "dispute_type": dtype,
        "classifier_confidence": 0.9, "subject": story[:40], "narrative_original": story, "narrative_normalised": story,
        "script": "simplified", "location_text": places.label(code), "location_code": code,
        "county_code": county.code if county else None, "respondent": None, "demand": None, "contact_phone": None,
        "channel": _pick(rng, CHANNELS)[0], "channel_user_id": f"gen:{run}:{k % 50000}", "conversation_id": f"gen:{run}:{k}",
        "risk_level": "red" if planted and planted["group"] else risk, "human_requested": False,
        "handling_body": body_name, "body_id": body_id,
        "assigned_person_id": person.id if person else None, "assigned_person_name": person.name if person else None,
        "confidential": False, "hidden_from": [], "tier": tier, "routing_explanation": f"生成数据：由{body_name}受理",
        "due_date": due, "satisfaction": None, "created_at": created, "updated_at": created, "_bounces": bounces,
        "_age": age,
    }
