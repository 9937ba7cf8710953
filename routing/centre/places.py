"""Where a case lies for the desk: the division tree of a region and the hotspot place of a case."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from routing.understanding.places import Division, DivisionIndex, load_divisions

CASE_LEVELS = ("county", "township", "village", "grid")


def index() -> DivisionIndex:
    """Return the shared division index."""
    return load_divisions()


@lru_cache(maxsize=4096)
def covered(code: str) -> frozenset[str]:
    """Return ``code`` and every division below it."""
    idx = index()
    out: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        if c not in out:
            out.add(c)
            stack.extend(d.code for d in idx.children(c))
    return frozenset(out)


def covered_all(codes: Iterable[str]) -> frozenset[str]:
    """Return every division at or below any of ``codes``."""
    out: set[str] = set()
    for code in codes:
        out |= covered(code)
    return frozenset(out)


@lru_cache(maxsize=65536)
def child_under(region: str, code: str | None) -> str | None:
    """Return the direct child of ``region`` that contains ``code`` (``region`` itself if on it)."""
    if not code:
        return None
    path = [d.code for d in index().path(code)]
    if region not in path:
        return None
    i = path.index(region)
    return path[i + 1] if i + 1 < len(path) else region


@lru_cache(maxsize=65536)
def hotspot_place(location_code: str | None, county_code: str | None) -> str | None:
    """Return the place a hotspot is counted in: the township (乡镇/街道) of the case, else its county.

    A village or grid counts with its township, so complaints from neighbouring villages of one
    township about one problem meet; a case known only to the county counts with its county.
    """
    if location_code:
        for div in reversed(index().path(location_code)):
            if div.level == "township":
                return div.code
            if div.level == "county":
                return div.code
    return county_code


def label(code: str | None) -> str:
    """Return the place's name without province and city (e.g. 诸暨市枫桥镇)."""
    if not code:
        return "未知地点"
    path = index().path(code)
    if not path:
        return code
    return "".join(d.name for d in path if d.level in CASE_LEVELS) or path[-1].name


def division(code: str) -> Division | None:
    """Return the division of a code."""
    return index().get(code)
