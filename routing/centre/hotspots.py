"""Hotspots (热点): several complaints about one problem in one place within a window.

Place: the township (乡镇/街道) of the case's place, so villages and grids of one township meet;
a case placed only at county level counts with its county (``routing.centre.places``).
Problem: the classifier's level-2 category (``category_l2``), else the dispute type. Both come
from the normalised (Simplified) text, so a Traditional-script complaint joins the same cluster.
A cluster is a hotspot at ``min_cases`` complaints within ``window_days``, or at
``min_cases_group`` when any of them shows a group-action signal (拉横幅、堵路、集体上访 …).
One alert per place and problem grows as cases join; it is never one alert per case.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.centre import places
from routing.centre.config import CentreConfig, load_config
from routing.centre.warnings import NewAlert, add_member, aware, find, raise_alert, utcnow
from routing.persistence.case_tables import Case
from routing.persistence.centre_tables import CentreAlert
from routing.understanding.risk import keyword_pattern

EXCLUDED = ("rejected", "withdrawn")


@lru_cache(maxsize=1)
def _group_re() -> re.Pattern[str]:
    return re.compile(keyword_pattern("group_action"))


def group_signal(text: str | None) -> bool:
    """Tell whether a (normalised) narrative shows a group-action signal."""
    return bool(text) and _group_re().search(text) is not None  # type: ignore[arg-type]


def problem_of(category_l2: str | None, dispute_type: str | None) -> str | None:
    """Return the problem key of a case: its level-2 category, else its dispute type."""
    if category_l2:
        return f"l2:{category_l2}"
    if dispute_type and dispute_type != "other":
        return f"dt:{dispute_type}"
    return None


def problem_label(problem: str | None) -> str:
    """Return the problem in words."""
    if not problem:
        return ""
    kind, _, value = problem.partition(":")
    if kind == "dt":
        from routing.orgs.registry import load_orgs

        dt = load_orgs().dispute_types.get(value)
        return dt.name if dt else value
    return value


def hotspot_key(place: str, problem: str) -> str:
    """Return the key of the open hotspot of a place and problem."""
    return f"hotspot:{place}:{problem}"


def _place_filter(place: str):  # type: ignore[no-untyped-def]
    div = places.division(place)
    if div is not None and div.level == "county":
        # the county itself, and cases placed only at county level
        return (Case.location_code == place) | ((Case.location_code.is_(None)) & (Case.county_code == place))
    return Case.location_code.in_(sorted(places.covered(place)))


def _candidates(session: Session, place: str, case: Case, since: datetime) -> list[tuple[int, str]]:
    q = select(Case.id, Case.narrative_normalised).where(Case.created_at >= since, _place_filter(place),
                                                         Case.status.not_in(EXCLUDED))
    q = q.where(Case.category_l2 == case.category_l2) if case.category_l2 else q.where(
        Case.category_l2.is_(None), Case.dispute_type == case.dispute_type)
    return [(r[0], r[1]) for r in session.execute(q.order_by(Case.id))]


def _title(n: int, place: str, problem: str, group: bool) -> str:
    text = f"{places.label(place)}近期集中反映“{problem_label(problem)}”问题（{n}件）"
    return text + "，有群体性事件迹象" if group else text


def detect(session: Session, case: Case, cfg: CentreConfig | None = None, now: datetime | None = None,
           *, filing: bool = False) -> CentreAlert | None:
    """Join ``case`` to its open hotspot, or raise one when its cluster reaches the threshold.

    Args:
        session: the filing transaction (or a sweep's).
        case: a flushed case.
        cfg: thresholds (``centre.yaml``).
        now: the time of the case (its ``created_at`` by default).
        filing: the case is being filed now (it is in no alert yet).

    Returns:
        The hotspot the case belongs to, or None.
    """
    cfg = cfg or load_config()
    place = places.hotspot_place(case.location_code, case.county_code)
    problem = problem_of(case.category_l2, case.dispute_type)
    if place is None or problem is None or case.status in EXCLUDED:
        return None
    now = now or aware(case.created_at) or utcnow()
    key = hotspot_key(place, problem)
    alert = find(session, key)
    if alert is not None:
        if add_member(session, alert, case.id, new_case=case if filing else None):
            alert.title = _title(alert.member_count, place, problem, alert.severity == "red")
            if group_signal(case.narrative_normalised) and alert.severity != "red":
                alert.severity, alert.title = "red", _title(alert.member_count, place, problem, True)
        return alert
    rows = _candidates(session, place, case, now - timedelta(days=cfg.window_days))
    ids = [r[0] for r in rows] + ([case.id] if case.id not in {r[0] for r in rows} else [])
    group = any(group_signal(text) for _id, text in rows) or group_signal(case.narrative_normalised)
    if len(ids) < cfg.min_cases and not (group and len(ids) >= cfg.min_cases_group):
        return None
    new = NewAlert(key=key, kind="hotspot", severity="red" if group else "orange",
                   title=_title(len(ids), place, problem, group), county_code=case.county_code,
                   division_code=place, place_label=places.label(place), problem=problem_label(problem)[:64])
    alert, created = raise_alert(session, new, members=ids, looked_up=True)
    if not created:
        for case_id in ids:
            add_member(session, alert, case_id)
    return alert


def scan(session: Session, now: datetime | None = None, cfg: CentreConfig | None = None) -> int:
    """Find hotspots among the cases of the last window (the sweep's pass); return new alerts.

    Catches cases filed without detection (imports, a failure during filing); joining and raising
    are idempotent, so a cluster found at filing is not raised again.
    """
    cfg = cfg or load_config()
    now = now or utcnow()
    rows = session.execute(select(Case).where(Case.created_at >= now - timedelta(days=cfg.window_days),
                                              Case.status.not_in(EXCLUDED)).order_by(Case.id)).scalars().all()
    groups: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in rows:
        place = places.hotspot_place(case.location_code, case.county_code)
        problem = problem_of(case.category_l2, case.dispute_type)
        if place and problem:
            groups[(place, problem)].append(case)
    raised = 0
    for (place, problem), cases in groups.items():
        group = any(group_signal(c.narrative_normalised) for c in cases)
        existing = find(session, hotspot_key(place, problem))
        if existing is None and len(cases) < cfg.min_cases and not (group and len(cases) >= cfg.min_cases_group):
            continue
        before = existing is None
        alert = detect(session, cases[-1], cfg, now=aware(cases[-1].created_at))
        if alert is not None:
            for c in cases:
                add_member(session, alert, c.id)
            raised += int(before)
    return raised
