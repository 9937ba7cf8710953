"""The situation report (平安形势分析) of a region for a month: every figure from the store, as plain data.

``build`` returns a JSON-ready dict (what the HTML, PDF, xlsx and csv show, and what is stored so
a past report opens as it was). The summary sentences are built from the figures: each states one.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.centre import places
from routing.centre.board import OPEN_STATUSES, region_condition
from routing.persistence.case_tables import Alert, Case
from routing.persistence.centre_tables import CentreAlert
from routing.persistence.life_tables import BaoAnRow, ReceptionDayRow
from routing.persistence.rates_tables import SurveyAnswer
from routing.rates import monthly
from routing.rates.compute import INSUFFICIENT, Figure
from routing.rates.definitions import load_rates
from routing.rates.index import index_of, rank
from routing.rates.store import month_bounds, utc_bounds


def shift(month: str, by: int) -> str:
    """The month ``by`` months after ``month`` (negative: before)."""
    y, m = (int(x) for x in month.split("-"))
    k = y * 12 + m - 1 + by
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def _filed(session: Session, region: str, month: str) -> int:
    lo, hi = utc_bounds([month])
    return int(session.execute(select(func.count()).select_from(Case).where(
        region_condition(region), Case.created_at >= lo, Case.created_at < hi)).scalar() or 0)


def _change(now: int, before: int) -> float | None:
    return round(100.0 * (now - before) / before, 1) if before else None


def _categories(session: Session, region: str, months: list[str]) -> dict[str, dict[str, int]]:
    lo, hi = utc_bounds(months)
    shifted = Case.created_at + timedelta(hours=8)
    month_expr = func.to_char(shifted, "YYYY-MM") if session.bind and session.bind.dialect.name == "postgresql" \
        else func.strftime("%Y-%m", shifted)
    out: dict[str, dict[str, int]] = {}
    q = (select(Case.category, month_expr, func.count()).where(region_condition(region), Case.created_at >= lo,
                                                              Case.created_at < hi)
         .group_by(Case.category, month_expr))
    for cat, m, n in session.execute(q):
        out.setdefault(cat or "未分类", {})[str(m)] = int(n)
    return out


def _figure(f: Figure) -> dict[str, Any]:
    return {"id": f.rate.id, "name": f.rate.name, "numerator": f.numerator, "denominator": f.denominator,
            "value": None if f.insufficient else f.value, "shown": f.shown(), "insufficient": f.insufficient,
            "kind": f.rate.kind, "source": f.rate.source, "extra": dict(f.extra)}


def rates_section(session: Session, region: str, month: str) -> dict[str, Any]:
    """The rates of the region and of each township (or county), ranked by the index."""
    book = load_rates()
    div = places.division(region)
    by = "township" if div is not None and div.level in ("county", "township") else "county"
    months = [shift(month, -1), month]
    table = monthly.read(session, region, months, by=by, book=book)
    whole = monthly.read(session, region, [month], book=book).figures.get((region, month)) or \
        {r.id: Figure(r) for r in book.rates}
    places_now = {g: figs for (g, m), figs in table.figures.items() if m == month}
    before = {g: index_of(figs) for (g, m), figs in table.figures.items() if m == months[0]}
    current = {g: index_of(figs) for g, figs in places_now.items()}
    rows = []
    for r in rank(current, before):
        rows.append({"code": r.code, "name": places.label(r.code), "index": r.value, "rank": r.rank,
                     "change": r.change, "rates": [_figure(places_now[r.code][rid]) for rid in book.ids]})
    return {"by": by, "rates": [_figure(whole[rid]) for rid in book.ids], "index": index_of(whole),
            "places": rows, "columns": [{"id": r.id, "name": r.name, "kind": r.kind} for r in book.rates]}


def _alerts(session: Session, region: str, month: str) -> list[dict[str, Any]]:
    lo, hi = utc_bounds([month])
    codes = places.covered(region)
    counties = monthly.counties_of(region)
    out = []
    for a in session.execute(select(CentreAlert).where(CentreAlert.severity == "red", CentreAlert.created_at >= lo,
                                                       CentreAlert.created_at < hi,
                                                       CentreAlert.county_code.in_(counties))
                             .order_by(CentreAlert.created_at)).scalars():
        if a.division_code and a.division_code not in codes:
            continue
        out.append({"title": a.title, "kind": a.kind, "state": a.state, "place": a.place_label or "",
                    "at": (a.created_at + timedelta(hours=8)).strftime("%Y-%m-%d"), "members": a.member_count})
    crisis = session.execute(select(Alert.acknowledged, func.count()).where(
        Alert.created_at >= lo, Alert.created_at < hi, Alert.region_code.in_(sorted(codes)))
        .group_by(Alert.acknowledged)).all()
    for acknowledged, n in crisis:
        out.append({"title": "危机求助", "kind": "crisis", "state": "acknowledged" if acknowledged else "open",
                    "place": "", "at": month, "members": int(n)})
    return out


def _overdue_by_body(session: Session, region: str, month: str) -> list[dict[str, Any]]:
    from routing.orgs.registry import load_orgs

    end = month_bounds(month)[1]
    q = (select(Case.body_id, func.count()).where(region_condition(region), Case.status.in_(OPEN_STATUSES),
                                                 Case.due_date < end)
         .group_by(Case.body_id).order_by(func.count().desc()).limit(15))
    bodies = load_orgs().bodies
    return [{"body": bodies[b].name if b is not None and b in bodies else (b or "未落实承办单位"), "overdue": int(n)}
            for b, n in session.execute(q)]


def _hotspots(session: Session, region: str, month: str) -> list[dict[str, Any]]:
    lo, hi = utc_bounds([month])
    q = (select(CentreAlert).where(CentreAlert.kind == "hotspot", CentreAlert.created_at >= lo,
                                   CentreAlert.created_at < hi, CentreAlert.county_code.in_(monthly.counties_of(region)))
         .order_by(CentreAlert.member_count.desc()).limit(10))
    codes = places.covered(region)
    return [{"place": a.place_label or "", "problem": a.problem or "", "cases": a.member_count, "state": a.state}
            for a in session.execute(q).scalars() if not a.division_code or a.division_code in codes]


def _reception(session: Session, region: str, month: str) -> dict[str, Any]:
    first, nxt = month_bounds(month)
    codes = sorted(places.covered(region))
    days = session.execute(select(func.count()).select_from(ReceptionDayRow).where(
        ReceptionDayRow.date >= first, ReceptionDayRow.date < nxt, ReceptionDayRow.division.in_(codes))).scalar()
    rows = session.execute(select(BaoAnRow.closed_on, BaoAnRow.target_date).join(
        Case, Case.case_number == BaoAnRow.case_number).where(region_condition(region), BaoAnRow.taken_on < nxt)).all()
    closed = sum(1 for c, _t in rows if c is not None and c < nxt)
    overdue = sum(1 for c, t in rows if (c is None or c >= nxt) and t < nxt)
    return {"days": int(days or 0), "baoan": len(rows), "baoan_closed": closed, "baoan_overdue": overdue}


def _survey(session: Session, region: str, month: str) -> dict[str, Any]:
    first, nxt = month_bounds(month)
    rows = session.execute(select(SurveyAnswer.participated, SurveyAnswer.satisfied, SurveyAnswer.aware).where(
        SurveyAnswer.day >= first, SurveyAnswer.day < nxt,
        SurveyAnswer.region.in_(sorted(places.covered(region))))).all()
    n = len(rows)
    c = Counter()  # type: Counter[str]
    for p, s, a in rows:
        c["p"] += p == "yes"
        c["s"] += s in ("satisfied", "basically")
        c["a"] += a == "yes"
    return {"answers": n, "participation": c["p"], "satisfied": c["s"], "aware": c["a"]}


def build(session: Session, region: str, month: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the report of ``region`` for ``month`` (``YYYY-MM``) shows."""
    if places.division(region) is None:
        raise ValueError(f"unknown region {region}")
    month_bounds(month)  # refuses a malformed month
    prev, last_year = shift(month, -1), shift(month, -12)
    filed = {m: _filed(session, region, m) for m in (month, prev, last_year)}
    trend_months = [shift(month, -k) for k in range(5, -1, -1)]
    cats = _categories(session, region, trend_months)
    top = sorted(cats, key=lambda c: -cats[c].get(month, 0))[:5]
    data: dict[str, Any] = {
        "region": region, "region_name": places.label(region), "period": month,
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "volumes": {"filed": filed[month], "previous": filed[prev], "last_year": filed[last_year],
                    "change_previous": _change(filed[month], filed[prev]),
                    "change_last_year": _change(filed[month], filed[last_year]), "previous_period": prev,
                    "last_year_period": last_year},
        "categories": {"months": trend_months, "top": [{"name": c, "counts": [cats[c].get(m, 0) for m in trend_months]}
                                                       for c in top]},
        "hotspots": _hotspots(session, region, month),
        "alerts": _alerts(session, region, month),
        "overdue": _overdue_by_body(session, region, month),
        "rates": rates_section(session, region, month),
        "reception": _reception(session, region, month),
        "survey": _survey(session, region, shift(month, -1)) | {"period": shift(month, -1)},
    }
    data["summary"] = summary(data)
    return data


def _pct(v: float | None) -> str:
    return f"{v * 100:.1f}%" if v is not None else INSUFFICIENT


def summary(d: dict[str, Any]) -> list[str]:
    """Chinese sentences, each stating a computed figure of the report (no other text)."""
    v = d["volumes"]
    out = []
    line = f"{d['period']}，{d['region_name']}共受理矛盾纠纷和信访事项{v['filed']}件"
    if v["change_previous"] is not None:
        line += f"，环比{'上升' if v['change_previous'] >= 0 else '下降'}{abs(v['change_previous']):.1f}%"
    if v["change_last_year"] is not None:
        line += f"，同比{'上升' if v['change_last_year'] >= 0 else '下降'}{abs(v['change_last_year']):.1f}%"
    out.append(line + "。")
    top = d["categories"]["top"]
    if top and top[0]["counts"][-1]:
        out.append(f"数量最多的类别是{top[0]['name']}，共{top[0]['counts'][-1]}件。")
    rates = {r["id"]: r for r in d["rates"]["rates"]}
    for rid in ("mediation_success_rate", "closed_on_time_rate", "satisfaction_rate"):
        r = rates.get(rid)
        if r is None:
            continue
        if r["insufficient"]:
            out.append(f"{r['name']}样本不足（{r['denominator']}件），不作排名。")
        else:
            out.append(f"{r['name']}为{_pct(r['value'])}（{int(r['numerator'])}/{r['denominator']}）。")
    sat = rates.get("satisfaction_rate")
    if sat and sat["extra"].get("unsatisfied"):
        out.append(f"群众评价不满意{sat['extra']['unsatisfied']}件，已回访{sat['extra'].get('unsatisfied_followed', 0)}件。")
    ranked = [p for p in d["rates"]["places"] if p["rank"] is not None]
    if ranked:
        best = ranked[0]
        out.append(f"矛盾纠纷化解指数最高的是{best['name']}，为{best['index']:.1f}。")
        if len(ranked) > 1:
            worst = ranked[-1]
            out.append(f"指数最低的是{worst['name']}，为{worst['index']:.1f}。")
    if d["hotspots"]:
        out.append(f"本期出现矛盾热点{len(d['hotspots'])}处。")
    red = [a for a in d["alerts"] if a["kind"] != "crisis"]
    if red:
        done = sum(1 for a in red if a["state"] == "closed")
        out.append(f"红色预警{len(red)}条，已办结{done}条。")
    over = sum(o["overdue"] for o in d["overdue"])
    if over:
        out.append(f"期末超期未办结{over}件。")
    rec = d["reception"]
    if rec["days"] or rec["baoan"]:
        out.append(f"领导接访日{rec['days']}次，包案{rec['baoan']}件，已办结{rec['baoan_closed']}件。")
    return out


def period_end(month: str) -> date:
    """The last day of a month."""
    return month_bounds(month)[1] - timedelta(days=1)


def as_of_utc(month: str) -> datetime:
    """The instant a month ends (China Standard Time) in UTC."""
    return datetime.combine(month_bounds(month)[1], time.min, UTC) - timedelta(hours=8)
