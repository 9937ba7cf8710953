"""Default county and township centres for divisions the organisation data does not cover.

Every county-level division of Zhejiang has a county 社会治理中心（矛调中心） that owns its desk and
takes what its townships cannot; every township (乡/镇/街道) has its 社会治理中心. Where
``bodies.yaml`` has no such body, one exists by default, marked ``default`` (the console says so),
so that no matter skips a tier — and never goes straight to the city — because the data is thin.
"""

from __future__ import annotations

from collections.abc import Mapping

from routing.orgs.body import Body

COUNTY_SPECIALTIES = frozenset({"general", "marriage_family", "property", "land", "environment", "labour",
                                "medical", "traffic", "consumer", "market"})
TOWNSHIP_SPECIALTIES = frozenset({"general", "marriage_family", "property", "land", "environment", "labour"})


def county_centre_id(code: str) -> str:
    """Return the id of the default centre of a county-level division."""
    return f"default-centre-{code}"


def township_centre_id(code: str) -> str:
    """Return the id of the default centre of a township."""
    return f"default-town-{code}"


def default_bodies(existing: Mapping[str, Body]) -> dict[str, Body]:
    """Return the default centres missing from ``existing``.

    County-level divisions and the townships of the demo counties come from ``divisions.csv``;
    the other counties' townships are listed by :func:`township_centres_of`.
    """
    from routing.understanding.places import load_divisions

    index = load_divisions()
    have = {(b.tier, b.division) for b in existing.values()}
    out: dict[str, Body] = {}
    for div in index.all():
        if div.level == "county" and ("county", div.code) not in have:
            out[county_centre_id(div.code)] = Body(county_centre_id(div.code), f"{div.name}社会治理中心（矛调中心）",
                                                   "county", div.code, COUNTY_SPECIALTIES, default=True)
        if div.level == "township" and ("township", div.code) not in have:
            out[township_centre_id(div.code)] = Body(township_centre_id(div.code), f"{div.name}社会治理中心",
                                                     "township", div.code, TOWNSHIP_SPECIALTIES, default=True)
    return out


def township_centres_of(county_code: str) -> list[Body]:
    """Return the default township centres of a county whose townships ``divisions.csv`` lacks.

    Their places resolve to the county (``routing.understanding.places``), so the ladder gives such a matter to
    the county centre, which passes it down; the desk lists them under their county.
    """
    from routing.understanding.places import TOWNSHIPS_PATH, load_divisions, read_townships

    index = load_divisions()
    if any(d.level == "township" for d in index.children(county_code)) or not TOWNSHIPS_PATH.exists():
        return []
    return [Body(township_centre_id(code), f"{name}社会治理中心", "township", code, TOWNSHIP_SPECIALTIES, default=True)
            for code, name, county in read_townships(TOWNSHIPS_PATH) if county == county_code]
