"""Administrative divisions of Zhejiang and resolution of place mentions in free text.

The division tree lives in ``routing/data/divisions.csv`` (province → city → county →
township → village / community → estate / grid). :func:`load_divisions` builds a
:class:`DivisionIndex` once; :meth:`DivisionIndex.resolve` finds the deepest division a
message talks about, using the other places mentioned in the same message to disambiguate.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from routing.text import normalise

DEFAULT_PATH = Path(__file__).parent / "data" / "divisions.csv"

LEVELS: tuple[str, ...] = (
    "province",
    "city",
    "county",
    "township",
    "village",
    "community",
    "estate",
    "grid",
)

# Surface forms that contain a division name or alias but do not name a place the citizen is
# in (a slogan, a river, a university, a place in another province). The longest match wins,
# so listing them here stops the shorter alias inside them from matching.
BLOCKED_SURFACES: tuple[str, ...] = (
    "枫桥经验",
    "枫桥式",
    "枫桥助手",
    "浦江经验",
    "黄浦江",
    "浦江镇",
    "钱塘江",
    "暨南大学",
    "文成公主",
    "临安府",
)


# County-level suffixes; the name without one is the short form citizens write (江山市 → 江山).
_COUNTY_SUFFIXES: tuple[str, ...] = ("畲族自治县", "自治县", "县", "市", "区")
# A short form that is not in the data as an alias may also be an everyday word (天台 = rooftop,
# 江山 = the land, 开化 = civilised), so it only counts where it reads as a place: after the
# city's name (台州天台), before 县城 / 市区 / 这边, or standing alone as the writer's place
# (``开化，…``, ``我是江山的``).
_PLACE_AFTER = re.compile(r"(?:县城|市区|城区)")
_ALONE_BEFORE = re.compile(r"(?:^|[,，。!?；;:：\s]|我是|我住|住在|来自|家在|老家|老家是|老家在)$")
_ALONE_AFTER = re.compile(r"(?:$|[,，。!?；;:：\s]|人(?!家))")
_OWN_AFTER = re.compile(r"的")
_OWN_BEFORE = re.compile(r"(?:我是|来自|老家是)$")


def short_county_name(name: str) -> str:
    """The county-level name without its suffix (``江山市`` → ``江山``); the name when none."""
    for suffix in _COUNTY_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division (or a grid / residential estate below it).

    Attributes:
        code: GB/T 2260 six-digit code down to county level; a 12-digit code below it.
        name: the full official name, e.g. ``诸暨市``.
        level: one of :data:`LEVELS`.
        parent_code: code of the parent division; empty for the province.
        aliases: short forms citizens write, e.g. ``("诸暨",)``.
    """

    code: str
    name: str
    level: str
    parent_code: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """The result of resolving a message to a division.

    Attributes:
        division: the deepest division the message names.
        path: divisions from the province down to ``division``.
        matched_text: the part of the (normalised) message that named the place.
    """

    division: Division
    path: list[Division] = field(default_factory=list)
    matched_text: str = ""

    def _at(self, *levels: str) -> Division | None:
        for div in self.path:
            if div.level in levels:
                return div
        return None

    @property
    def province(self) -> Division | None:
        """The province on the path, if any."""
        return self._at("province")

    @property
    def city(self) -> Division | None:
        """The prefecture-level city on the path, if any."""
        return self._at("city")

    @property
    def county(self) -> Division | None:
        """The county-level division on the path, if any."""
        return self._at("county")

    @property
    def township(self) -> Division | None:
        """The township (镇 / 乡 / 街道) on the path, if any."""
        return self._at("township")

    @property
    def village(self) -> Division | None:
        """The village (村) or community (社区) on the path, if any."""
        return self._at("village", "community")

    @property
    def label(self) -> str:
        """Full names joined from the province down, e.g. ``浙江省绍兴市诸暨市枫桥镇枫源村``.

        A name that repeats its parent's (``枫源村第一网格`` under ``枫源村``) is not doubled.
        """
        parts: list[str] = []
        previous = ""
        for div in self.path:
            name = div.name
            if previous and name.startswith(previous) and len(name) > len(previous):
                name = name[len(previous) :]
            parts.append(name)
            previous = div.name
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    surface: str
    codes: tuple[str, ...]


class DivisionIndex:
    """All divisions, with a longest-match dictionary of their names and aliases."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        """Build the index.

        Args:
            divisions: every division; parents need not come before children.

        Raises:
            ValueError: on a duplicate code, an unknown level or a parent that is missing.
        """
        self._by_code: dict[str, Division] = {}
        self._children: dict[str, list[str]] = {}
        for div in divisions:
            if div.code in self._by_code:
                raise ValueError(f"duplicate division code {div.code}")
            if div.level not in LEVELS:
                raise ValueError(f"unknown level {div.level!r} for {div.code}")
            self._by_code[div.code] = div
        for div in self._by_code.values():
            if div.parent_code:
                if div.parent_code not in self._by_code:
                    raise ValueError(f"{div.code} has unknown parent {div.parent_code}")
                self._children.setdefault(div.parent_code, []).append(div.code)
        self._paths: dict[str, tuple[str, ...]] = {}
        for code in self._by_code:
            self._paths[code] = self._compute_path(code)
        self._surfaces: dict[str, list[str]] = {}
        for div in self._by_code.values():
            for surface in (div.name, *div.aliases):
                if surface:
                    self._surfaces.setdefault(surface, []).append(div.code)
        for surface in BLOCKED_SURFACES:
            self._surfaces.setdefault(surface, [])
        # Every county-level division is also found by its short form when that names no other
        # division; those the data does not list as aliases must be read in a place context.
        self._weak: dict[str, str] = {}  # short form -> parent city code
        for div in self._by_code.values():
            short = short_county_name(div.name)
            if div.level == "county" and short != div.name and short not in self._surfaces:
                self._weak[short] = div.parent_code
        for short in self._weak:
            self._surfaces[short] = [
                d.code for d in self._by_code.values() if d.level == "county" and short_county_name(d.name) == short
            ]
        # first character → candidate lengths, longest first
        lengths: dict[str, set[int]] = {}
        for surface in self._surfaces:
            lengths.setdefault(surface[0], set()).add(len(surface))
        self._lengths: dict[str, tuple[int, ...]] = {
            ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()
        }

    def _compute_path(self, code: str) -> tuple[str, ...]:
        chain: list[str] = []
        seen: set[str] = set()
        current: str = code
        while current:
            if current in seen:
                raise ValueError(f"cycle in divisions at {current}")
            seen.add(current)
            chain.append(current)
            current = self._by_code[current].parent_code
        return tuple(reversed(chain))

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def all(self) -> list[Division]:
        """Return every division in file order."""
        return list(self._by_code.values())

    def get(self, code: str) -> Division | None:
        """Return the division with this code, or None."""
        return self._by_code.get(code)

    def children(self, code: str) -> list[Division]:
        """Return the direct children of a division (empty for a leaf or unknown code)."""
        return [self._by_code[c] for c in self._children.get(code, [])]

    def ancestors(self, code: str) -> list[Division]:
        """Return the ancestors of a division, from the province down, without itself."""
        return [self._by_code[c] for c in self._paths.get(code, ())[:-1]]

    def path(self, code: str) -> list[Division]:
        """Return the division and its ancestors, from the province down."""
        return [self._by_code[c] for c in self._paths.get(code, ())]

    def by_name(self, name: str) -> list[Division]:
        """Return the divisions whose full name or alias is exactly ``name``."""
        return [self._by_code[c] for c in self._surfaces.get(name, [])]

    def county_of(self, code: str) -> Division | None:
        """Return the county-level division at or above ``code``, if any."""
        for div in reversed(self.path(code)):
            if div.level == "county":
                return div
        return None

    def _scan(self, text: str) -> list[_Mention]:
        """Find non-overlapping dictionary matches, longest first, left to right."""
        mentions: list[_Mention] = []
        i, n = 0, len(text)
        surfaces, lengths = self._surfaces, self._lengths
        while i < n:
            step = 1
            for length in lengths.get(text[i], ()):
                if i + length > n:
                    continue
                piece = text[i : i + length]
                codes = surfaces.get(piece)
                if codes is not None and piece in self._weak and not self._reads_as_place(text, i, piece):
                    continue
                if codes is not None:
                    if codes:
                        mentions.append(_Mention(i, i + length, piece, tuple(codes)))
                    step = length
                    break
            i += step
        return mentions

    def _reads_as_place(self, text: str, start: int, short: str) -> bool:
        """Tell whether a short county name that is also a common word names the place here."""
        end = start + len(short)
        city = self._by_code.get(self._weak[short])
        before = text[max(0, start - 4) : start]
        if city is not None and any(before.endswith(s) for s in (city.name, *city.aliases)):
            return True  # 台州天台, 衢州市江山
        if _PLACE_AFTER.match(text, end):
            return True  # 开化县城
        if _ALONE_BEFORE.search(before) and _ALONE_AFTER.match(text, end):
            return True  # 开化，… / 我是路桥人
        return bool(_OWN_BEFORE.search(before) and _OWN_AFTER.match(text, end))  # 我是江山的

    def resolve(self, text: str) -> PlaceMatch | None:
        """Find the deepest division that a message names.

        Every name and alias in the text is found (longest match). Each candidate is scored
        by how many of its ancestors are also mentioned, then by depth, so ``枫桥镇陈家村``
        picks the 陈家村 under 枫桥镇 even though another township has one too. When equally
        good candidates share a surface form (an ambiguous name with no context), their lowest
        common ancestor is returned instead of a guess; between different places the first
        mentioned wins.

        Args:
            text: a citizen's message, Simplified or Traditional.

        Returns:
            The match, or None when the text names no known place.
        """
        norm = normalise(text)
        mentions = self._scan(norm)
        if not mentions:
            return None
        mentioned: set[str] = set()
        for m in mentions:
            mentioned.update(m.codes)
        best_key: tuple[int, int, int] | None = None
        best: list[tuple[str, _Mention]] = []
        for order, m in enumerate(mentions):
            for code in m.codes:
                path = self._paths[code]
                support = sum(1 for anc in path[:-1] if anc in mentioned)
                key = (support, len(path), -order)
                if best_key is None or key[:2] > best_key[:2]:
                    best_key, best = key, [(code, m)]
                elif key == best_key:
                    # the same mention names several divisions: ambiguous. A later mention of
                    # a different place with the same score loses (the first mentioned wins).
                    best.append((code, m))
        assert best
        if len(best) == 1:
            code, mention = best[0]
        else:
            code = self._common_ancestor([c for c, _ in best])
            mention = best[0][1]
        chosen = self._paths[code]
        chain = [m for m in mentions if m is mention or any(c in chosen for c in m.codes)]
        return PlaceMatch(
            division=self._by_code[code],
            path=self.path(code),
            matched_text=self._span_text(norm, chain, mention),
        )

    def _common_ancestor(self, codes: list[str]) -> str:
        paths = [self._paths[c] for c in codes]
        common = paths[0][0]
        for level_codes in zip(*paths, strict=False):
            if len(set(level_codes)) != 1:
                break
            common = level_codes[0]
        return common

    @staticmethod
    def _span_text(text: str, chain: list[_Mention], deepest: _Mention) -> str:
        """Return the text covering the chain of mentions when they are close together."""
        if not chain:
            return deepest.surface
        start = min(m.start for m in chain)
        end = max(m.end for m in chain)
        if end - start <= 24:
            return text[start:end]
        return deepest.surface


def read_divisions(path: Path) -> list[Division]:
    """Read divisions from a CSV with columns ``code,name,level,parent_code,aliases``.

    Args:
        path: the CSV file (UTF-8).

    Returns:
        The divisions in file order.
    """
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Division(
                code=row["code"].strip(),
                name=row["name"].strip(),
                level=row["level"].strip(),
                parent_code=(row.get("parent_code") or "").strip(),
                aliases=tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()),
            )
            for row in csv.DictReader(fh)
        ]


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> DivisionIndex:
    return DivisionIndex(read_divisions(path))


def load_divisions(path: Path | None = None) -> DivisionIndex:
    """Load (once per path) the division index.

    Args:
        path: a divisions CSV; the packaged ``routing/data/divisions.csv`` by default.

    Returns:
        The shared, read-only index.
    """
    return _load_cached(Path(path) if path is not None else DEFAULT_PATH)


def resolve(text: str) -> PlaceMatch | None:
    """Resolve a message against the default division data (see :meth:`DivisionIndex.resolve`)."""
    return load_divisions().resolve(text)
