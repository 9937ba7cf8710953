"""The live board: open cases of a region by division and by handling body, counted from the store.

One grouped query over the cases still on someone's desk (the partial index ``ix_cases_desk``
answers it without touching closed cases), aggregated here into rows per child division and per
body. The same :class:`DeskFilter` and metric names drive the drill-down list, so every number
links to exactly the cases it counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from routing.centre import places
from routing.centre.config import load_config
from routing.persistence.case_tables import Case
from routing.persistence.centre_tables import DeskCount, DeskDueCount, Supervision

OPEN_STATUSES = ("accepted", "assigned", "handling", "mediating", "reception_booked", "escalated", "review",
                 "recheck")
DESK_STATUSES = (*OPEN_STATUSES, "follow_up")  # the predicate of ix_cases_desk (migration 0007)
TIERS = ("grid", "village", "township", "county", "reception")
TIER_LABELS = {"grid": "网格", "village": "村社区", "township": "乡镇", "county": "县", "reception": "接访"}
METRICS = ("open", *(f"tier_{t}" for t in TIERS), "unassigned", "waiting", "near_due", "overdue", "red", "orange",
           "reception", "supervised")
METRIC_LABELS = {"open": "在办", **{f"tier_{t}": label for t, label in TIER_LABELS.items()}, "unassigned": "未分派",
                 "waiting": "待群众回应", "near_due": "临期", "overdue": "超期", "red": "红色", "orange": "橙色",
                 "reception": "领导接访", "supervised": "挂牌督办"}
RISKS = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
CHANNELS = {"web": "网页", "tg": "Telegram", "open311": "Open311", "phone": "电话"}


def tier_bucket(tier: str | None, status: str) -> str:
    """Map a case's tier (label or code) and status to a board column."""
    if status == "reception_booked":
        return "reception"
    t = tier or ""
    if t in ("grid", "网格") or t.startswith("网格"):
        return "grid"
    if t in ("village",) or t.startswith("村"):
        return "village"
    if t in ("township",) or t.startswith("乡镇"):
        return "township"
    return "county"


@dataclass(frozen=True)
class DeskFilter:
    """What the desk shows: a region and optional narrowing (all optional but the region)."""

    region: str
    category: str = ""
    category_l2: str = ""
    category_l3: str = ""
    dispute_type: str = ""
    risk: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """Return the filter as URL query arguments (empty ones left out)."""
        out = {"region": self.region, "category": self.category, "l2": self.category_l2, "l3": self.category_l3,
               "dispute_type": self.dispute_type, "risk": self.risk, "channel": self.channel,
               "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v}


def region_condition(region: str) -> ColumnElement[bool]:
    """SQL: the case lies in ``region`` (a county or above by county code, below by place)."""
    div = places.division(region)
    if div is None:
        return false()
    if div.level in ("province", "city", "county"):
        counties = sorted(c for c in places.covered(region) if (d := places.division(c)) and d.level == "county")
        return Case.county_code.in_(counties)
    return Case.location_code.in_(sorted(places.covered(region)))


def filter_conditions(flt: DeskFilter) -> list[ColumnElement[bool]]:
    """SQL conditions of the filter, the region included."""
    conds: list[ColumnElement[bool]] = [region_condition(flt.region)]
    if flt.category:
        conds.append(Case.category == flt.category)
    if flt.category_l2:
        conds.append(Case.category_l2 == flt.category_l2)
    if flt.category_l3:
        conds.append(Case.category_l3 == flt.category_l3)
    if flt.dispute_type:
        conds.append(Case.dispute_type == flt.dispute_type)
    if flt.risk:
        conds.append(Case.risk_level == flt.risk)
    if flt.channel:
        conds.append(Case.channel == flt.channel)
    if flt.date_from:
        conds.append(Case.created_at >= datetime.combine(flt.date_from, time.min) - timedelta(hours=8))
    if flt.date_to:
        conds.append(Case.created_at < datetime.combine(flt.date_to + timedelta(days=1), time.min) - timedelta(hours=8))
    return conds


def near_horizon(today: date, working_days: int | None = None) -> date:
    """Return the last day that counts as near due (``working_days`` working days from today)."""
    from routing.cases.deadlines import CalendarRangeError, is_workday

    n = working_days if working_days is not None else load_config().near_due_working_days
    day, counted = today, 0
    while counted < n:
        day += timedelta(days=1)
        try:
            work = is_workday(day)
        except CalendarRangeError:
            work = day.weekday() < 5
        counted += int(work)
    return day


@dataclass
class Counts:
    """The board's numbers for one row (a division, a body, or the total)."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    def add(self, status: str, tier: str | None, risk: str, due_bucket: int, unassigned: bool, n: int) -> None:
        """Count ``n`` cases of one group."""
        v = self.values
        if status == "follow_up":
            v["waiting"] += n
            return
        v["open"] += n
        v[f"tier_{tier_bucket(tier, status)}"] += n
        v["unassigned"] += n if unassigned else 0
        v["near_due"] += n if due_bucket == 1 else 0
        v["overdue"] += n if due_bucket == 2 else 0
        v["red"] += n if risk == "red" else 0
        v["orange"] += n if risk == "orange" else 0
        v["reception"] += n if status == "reception_booked" else 0


@dataclass
class Row:
    """One line of the board."""

    key: str
    label: str
    counts: Counts
    default: bool = False
    capacity: int | None = None


@dataclass
class Board:
    """The board of a region."""

    flt: DeskFilter
    region_label: str
    total: Counts
    divisions: list[Row]
    bodies: list[Row]
    today: date


def _grouped(session: Session, flt: DeskFilter, today: date) -> Iterable[Any]:
    horizon = near_horizon(today)
    due_bucket = sql_case((Case.due_date < today, 2), (Case.due_date <= horizon, 1), else_=0)
    unassigned = Case.assigned_person_id.is_(None)
    q = (select(Case.location_code, Case.county_code, Case.body_id, Case.tier, Case.status, Case.risk_level,
                due_bucket.label("due_bucket"), unassigned.label("unassigned"), func.count().label("n"))
         .where(Case.status.in_(DESK_STATUSES), *filter_conditions(flt))
         .group_by(Case.location_code, Case.county_code, Case.body_id, Case.tier, Case.status, Case.risk_level,
                   due_bucket, unassigned))
    return session.execute(q)


def supervision_condition(session: Session) -> ColumnElement[bool]:
    """SQL: the case is under 挂牌督办 itself or through its body."""
    from routing.centre.supervision import ACTIVE

    rows = session.execute(select(Supervision.target_kind, Supervision.case_id, Supervision.body_id)
                           .where(Supervision.state.in_(ACTIVE))).all()
    case_ids = sorted({r.case_id for r in rows if r.target_kind == "case" and r.case_id})
    body_ids = sorted({r.body_id for r in rows if r.target_kind == "body" and r.body_id})
    conds = []
    if case_ids:
        conds.append(Case.id.in_(case_ids))
    if body_ids:
        conds.append(Case.body_id.in_(body_ids))
    return or_(*conds) if conds else false()


def narrowed(flt: DeskFilter) -> bool:
    """Tell whether a filter beyond the region is set (the summary table cannot answer it)."""
    return any((flt.category, flt.category_l2, flt.category_l3, flt.dispute_type, flt.risk, flt.channel,
                flt.date_from, flt.date_to))


def _summary_region(region: str, table: Any = DeskCount) -> ColumnElement[bool]:
    div = places.division(region)
    if div is None:
        return false()
    if div.level in ("province", "city", "county"):
        counties = sorted(c for c in places.covered(region) if (d := places.division(c)) and d.level == "county")
        return table.county_code.in_(counties)
    return table.location_code.in_(sorted(places.covered(region)))


def _from_summary(session: Session, flt: DeskFilter, today: date) -> Iterable[Any]:
    """The same groups as :func:`_grouped`, from ``desk_counts`` and ``desk_due_counts`` (a due-date range)."""
    horizon = near_horizon(today)
    q = (select(DeskCount.location_code, DeskCount.county_code, DeskCount.body_id, DeskCount.tier,
                DeskCount.status, DeskCount.risk_level, DeskCount.unassigned, func.sum(DeskCount.n))
         .where(_summary_region(flt.region), DeskCount.n != 0)
         .group_by(DeskCount.location_code, DeskCount.county_code, DeskCount.body_id, DeskCount.tier,
                   DeskCount.status, DeskCount.risk_level, DeskCount.unassigned))
    for loc, county, body, tier, status, risk, unassigned, n in session.execute(q):
        yield (loc or None, county or None, body or None, tier or None, status, risk, 0, unassigned, int(n))
    d = DeskDueCount
    due_bucket = sql_case((d.due_date < today, 2), else_=1)
    dq = (select(d.location_code, d.county_code, d.body_id, due_bucket, func.sum(d.n))
          .where(d.due_date <= horizon, d.n != 0, _summary_region(flt.region, d))
          .group_by(d.location_code, d.county_code, d.body_id, due_bucket))
    for loc, county, body, bucket, n in session.execute(dq):
        yield (loc or None, county or None, body or None, None, "_due", "", int(bucket), False, int(n))


def build(session: Session, flt: DeskFilter, today: date) -> Board:
    """Count the board of ``flt.region`` on ``today``.

    Without narrowing filters the counts come from ``desk_counts`` (kept by triggers) and one range
    query over the due index; with filters, from one grouped query over the open cases.

    Args:
        session: an open session.
        flt: region and filters.
        today: the working day (near due and overdue are counted against it).
    """
    from routing.orgs.registry import load_orgs

    orgs = load_orgs()
    total = Counts()
    by_div: dict[str, Counts] = defaultdict(Counts)
    by_body: dict[str, Counts] = defaultdict(Counts)
    rows = _grouped(session, flt, today) if narrowed(flt) else _from_summary(session, flt, today)
    for loc, county, body_id, tier, status, risk, bucket, unassigned, n in rows:
        child = places.child_under(flt.region, loc or county) or flt.region
        for target in (total, by_div[child], by_body[body_id or ""]):
            if status == "_due":
                target.values["overdue" if bucket == 2 else "near_due"] += n
            else:
                target.add(status, tier, risk, bucket, bool(unassigned), n)
    sup = supervision_condition(session)
    q = (select(Case.location_code, Case.county_code, Case.body_id, func.count())
         .where(Case.status.in_(OPEN_STATUSES), sup, *filter_conditions(flt))
         .group_by(Case.location_code, Case.county_code, Case.body_id))
    for loc, county, body_id, n in session.execute(q):
        child = places.child_under(flt.region, loc or county) or flt.region
        for target in (total, by_div[child], by_body[body_id or ""]):
            target.values["supervised"] += n
    return Board(flt, places.label(flt.region), total, _division_rows(flt.region, by_div),
                 _body_rows(orgs, by_body), today)


def _division_rows(region: str, by_div: dict[str, Counts]) -> list[Row]:
    rows = [Row(d.code, d.name, by_div.get(d.code, Counts())) for d in places.index().children(region)
            if d.level != "estate"]
    if region in by_div:
        rows.append(Row(region, "本级（未细化到下一级）", by_div[region]))
    known = {r.key for r in rows}
    rows += [Row(code, places.label(code), c) for code, c in by_div.items() if code not in known]
    return rows


def _body_rows(orgs: Any, by_body: dict[str, Counts]) -> list[Row]:
    rows = []
    for body_id, counts in by_body.items():
        body = orgs.bodies.get(body_id)
        people = orgs.people_of(body_id) if body else []
        capacity = sum(p.capacity for p in people) or None
        rows.append(Row(body_id, body.name if body else (body_id or "未落实承办单位"), counts,
                        default=bool(body and body.default), capacity=capacity))
    return sorted(rows, key=lambda r: -r.counts.values["open"])


# ---------------------------------------------------------------- drill-down and workload

def metric_condition(session: Session, metric: str, today: date) -> ColumnElement[bool]:
    """SQL: the cases a board metric counts."""
    open_ = Case.status.in_(OPEN_STATUSES)
    horizon = near_horizon(today)
    tiers = {"tier_reception": Case.status == "reception_booked"}
    conds: dict[str, ColumnElement[bool]] = {
        "open": open_, "unassigned": and_(open_, Case.assigned_person_id.is_(None)),
        "waiting": Case.status == "follow_up",
        "near_due": and_(open_, Case.due_date >= today, Case.due_date <= horizon),
        "overdue": and_(open_, Case.due_date < today),
        "red": and_(open_, Case.risk_level == "red"), "orange": and_(open_, Case.risk_level == "orange"),
        "reception": Case.status == "reception_booked", **tiers,
    }
    if metric == "supervised":
        return and_(open_, supervision_condition(session))
    if metric in conds:
        return conds[metric]
    if metric.startswith("tier_"):
        return and_(open_, Case.status != "reception_booked", tier_condition(metric[5:]))
    return open_


def tier_condition(bucket: str) -> ColumnElement[bool]:
    """SQL twin of :func:`tier_bucket` (tiers are stored as labels, routing events as codes)."""
    t = func.coalesce(Case.tier, "")
    grid = or_(t == "grid", t.like("网格%"))
    village = or_(t == "village", t.like("村%"))
    township = or_(t == "township", t.like("乡镇%"))
    return {"grid": grid, "village": and_(~grid, village), "township": and_(~grid, ~village, township),
            "county": and_(~grid, ~village, ~township)}.get(bucket, false())


def list_cases(session: Session, flt: DeskFilter, today: date, metric: str = "open", division: str = "",
               body: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[Case], bool]:
    """Return one page of the cases behind a board number, due first; and whether more follow."""
    conds = [metric_condition(session, metric, today), *filter_conditions(flt)]
    if division and division != flt.region:
        conds.append(region_condition(division) if places.division(division) else false())
    elif division == flt.region and places.division(flt.region):
        # the row of cases placed at the region itself
        conds.append(or_(Case.location_code == flt.region,
                         and_(Case.location_code.is_(None), Case.county_code == flt.region)))
    if body is not None:
        conds.append(Case.body_id == body if body else Case.body_id.is_(None))
    order = (Case.due_date.asc().nulls_last(), Case.id)
    # ids first (index-only on ix_cases_desk_due, in due order), then the page's rows
    ids = _page_ids(session, flt, conds, order, page, per_page)
    by_id = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(ids[:per_page]))).scalars()}
    return [by_id[i] for i in ids[:per_page] if i in by_id], len(ids) > per_page


def _counties(region: str) -> list[str]:
    div = places.division(region)
    if div is None or div.level not in ("province", "city"):
        return []
    return sorted(c for c in places.covered(region) if (d := places.division(c)) and d.level == "county")


def _page_ids(session: Session, flt: DeskFilter, conds: list[Any], order: tuple[Any, ...], page: int,
              per_page: int) -> list[int]:
    """Return the ids of one page in due order.

    A city's few counties are read one by one (each an ordered index range that stops early) and
    merged; one county, or a whole province, is one query.
    """
    want = page * per_page + 1
    counties = _counties(flt.region)
    if not 1 < len(counties) <= 16:
        return list(session.execute(select(Case.id).where(*conds).order_by(*order)
                                    .offset((page - 1) * per_page).limit(per_page + 1)).scalars())
    found: list[tuple[Any, int]] = []
    for county in counties:
        q = select(Case.due_date, Case.id).where(*conds, Case.county_code == county).order_by(*order).limit(want)
        found += [(r.due_date or date.max, r.id) for r in session.execute(q)]
    found.sort()
    return [i for _d, i in found[(page - 1) * per_page:want]]


@dataclass(frozen=True)
class Load:
    """Open cases held against capacity."""

    key: str
    label: str
    body: str
    open: int
    capacity: int

    @property
    def ratio(self) -> float:
        """Share of capacity in use."""
        return self.open / self.capacity if self.capacity else 0.0


def workload(session: Session, flt: DeskFilter) -> list[Load]:
    """Open cases per person of the region against their capacity (people data, else the default)."""
    from routing.orgs.registry import load_orgs

    orgs = load_orgs()
    capacity = {p.id: p.capacity for p in orgs.people}
    default = load_config().default_capacity
    q = (select(Case.assigned_person_id, Case.body_id, func.count())
         .where(Case.status.in_(OPEN_STATUSES), Case.assigned_person_id.is_not(None), *filter_conditions(flt))
         .group_by(Case.assigned_person_id, Case.body_id))
    counts = list(session.execute(q))
    names = {p.id: p.name for p in orgs.people}
    missing = sorted({pid for pid, _b, _n in counts if pid is not None and pid not in names})
    if missing:  # console accounts and people no longer in the data: the name the case carries
        names.update((pid, name or pid) for pid, name in session.execute(
            select(Case.assigned_person_id, func.max(Case.assigned_person_name))
            .where(Case.assigned_person_id.in_(missing)).group_by(Case.assigned_person_id)) if pid is not None)
    out = []
    for pid, body_id, n in counts:
        if pid is None:  # the query excludes them; the type does not know
            continue
        body = orgs.bodies.get(body_id or "")
        out.append(Load(pid, names.get(pid) or pid, body.name if body else (body_id or ""), n,
                        capacity.get(pid, default)))
    return sorted(out, key=lambda x: -x.ratio)


def with_region(flt: DeskFilter, region: str) -> DeskFilter:
    """Return the filter moved to another region."""
    return replace(flt, region=region)
