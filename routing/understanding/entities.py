"""Entity extraction from a citizen's narrative: place, respondents, money, dates, people, contacts.

Respondents (邻居, 物业, 房东, named companies …) come from the project's spaCy pipeline
(:mod:`routing.understanding.nlp.pipeline`: jieba tokens + an EntityRuler whose patterns are data). Numbers
with a fixed shape — phones, ID cards, case numbers, amounts, dates, head counts — are read
with regular expressions on the normalised text, which is both faster and more exact than
token patterns for them. The place comes from :mod:`routing.understanding.places`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from routing.understanding.places import PlaceMatch, load_divisions
from routing.understanding.text import normalise

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

T = TypeVar("T")

# ---------------------------------------------------------------- identifiers and contacts

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{16}[0-9Xx])(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?![\d])")
# The local number may be written in two groups (0571 8896 2305, 0573-8501 2276).
_LANDLINE = re.compile(r"(?<![\d])[(（]?(0\d{2,3})[)）]?[-\s]?([2-9]\d{2,3})[-\s]?(\d{4})(?![\d])")
_CASE_NO = re.compile(r"(?<![A-Za-z0-9])[Ff][Qq][-\s]?(\d{4})[-\s]?(\d{6})(?![0-9])")

# ---------------------------------------------------------------- numbers

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_ALL = _CN_DIGITS + "十百千万亿"
_AMOUNT = re.compile(
    rf"(?P<prefix>[¥$]|人民币)?\s*"
    rf"(?P<body>[0-9{_CN_DIGITS}十](?:[0-9.{_CN_ALL}]|(?<=[0-9]),(?=[0-9]{{3}}))*)"
    r"(?P<approx>多|余|来|几)?"
    r"(?P<scale>[万千亿](?![0-9一二两三四五六七八九十]))?\s*"
    r"(?P<unit>块钱|元钱|元|块|圆)?"
)
# A unit of things after a number (人, 户, 亩, 公斤 …); 只 is an adverb before a verb (九千只拿到三千).
_NON_MONEY_AFTER = re.compile(
    r"(?:[人户名个位家平亩米斤两字次年月天日号辆件条头栋套间层楼岁周分秒吨台所座根棵点%箱袋瓶盒组批车趟遍株张本把双对部页份顿场封]|公斤|公里|公顷|小时|"
    r"包(?!吃|住|食宿|船|车|来回|路费|运费|邮|工|料|饭|三餐)|只(?![肯拿给有退赔要收分是剩能付还好]))"
)
# 一 that starts the next word rather than ending the number (八百一直没给: 800).
_WORD_AFTER_YI = re.compile(r"[直共起下定些点样般再次边旦方]")
# Formal (capital) numerals on receipts and contracts: 贰万元整, 壹仟伍佰元.
_CAPITAL = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千")
_CAPITAL_RUN = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*[壹贰叁肆伍陆柒捌玖拾佰仟][零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*(?=元|圆)")
# 退一赔十 / 假一赔十: a ratio of refund to compensation, not a sum.
_RATIO = re.compile(r"[退假][一二三]赔[一二三四五六七八九十]+")
# 万把块 / 千把块: about ten thousand / a thousand (万把 reads as 一万).
_ROUGH = re.compile(r"(?<![0-9一二两三四五六七八九十])([万千百])把(?=块|元)")
# 一块八 / 三块五: 块 then a digit is yuan and jiao (1.8 yuan), not whole yuan.
_JIAO_AFTER_KUAI = re.compile(r"[一二三四五六七八九](?![十百千万亿块个])")
# 块 counting things (两块玻璃, 碎了两块) rather than yuan.
_THING_AFTER_KUAI = re.compile(r"(?:玻璃|砖|瓷砖|地|田|石|板|牌|表|肉|布|蛋糕|墙|屏|骨|疤|皮|手表|电池)")
# A money word shortly before a bare number: a verb of paying (收 / 付 / 赔 / 退 / 扣 / 出 / 要 …),
# a money noun (工钱 / 工资 / 押金 / …费 / 价 / 款 / 钱) or a unit price (一天 / 每亩 / 一张).
# Up to three characters may sit between it and the number (收了我两百八, 每个月说好的八百).
_MONEY_CONTEXT = re.compile(
    r"(?:花了?|花掉|值|给|交|付|赔|欠|收|罚|退|扣|补偿|补贴|补|分|拿到|拿了|要|出|卖|买|借|损失|"
    r"工资|工钱|房租|租金|押金|定金|订金|保证金|违约金|奖金|金额|货款|费|价|款|钱|每月|每个月|一共|共计|总共|合计|加起来|"
    r"(?:一|每)(?:个)?(?:户|人|月|年|天|亩|斤|张|次|根|件|晚|间|份|桌|平米|平方|吨|棵|只|套|台|辆|瓶|盒|箱|袋|包|碗|双|条|小时))"
    rf"[^0-9,.;:!?()\s。、{_CN_ALL}]{{0,3}}$"
)
_PEOPLE_NOUNS = (
    "农民工|民工|工人|工友|村民|业主|居民|住户|租户|商户|员工|职工|家长|学生|老人|小孩|孩子|"
    "师傅|群众|同事|老乡|乘客|消费者|会员|学员|家庭|投资人|受害人|人员|邻居|"
    "租客|房客|顾客|游客|客户|采茶工|临时工|小工|零工|杂工|农户|贫困户|困难户|病人|患者|车主|店主|摊主|"
    "老师|教师|医生|护士|司机|保安|保洁员|职员|股东|储户|债主|学徒|骑手|快递员|外卖员|环卫工|人"
)
# A word between the count and the people noun: 五十多个老员工, 十几个外地工人.
_PEOPLE_MODIFIER = "(?:老|新|小|外地|本地|外来|困难|年轻|退休|一线|临时)?"
_PEOPLE = re.compile(
    rf"(?P<num>[0-9]+|[{_CN_ALL}]+)(?P<approx>多|余|来|几)?"
    rf"(?:(?:个|名|位){_PEOPLE_MODIFIER}(?:{_PEOPLE_NOUNS})|户|人(?!民币|民|家|员|工|手|力|情|生|气|们|身|格))"
)

# The count after the people noun: 老员工有二十多个, 工人一共三十来个人.
_PEOPLE_AFTER = re.compile(
    rf"(?:{_PEOPLE_NOUNS})(?:有|一共|总共|共|大概有|差不多有)?(?P<num>[0-9]+|[{_CN_ALL}]+)(?P<approx>多|余|来|几)?"
    r"(?:个|名|位)人?(?=[,，。!！;；?？]|$|左右)"
)

# ---------------------------------------------------------------- dates

_CNN = "[0-9一二三四五六七八九十]{1,3}"
_YEAR = "(?:[0-9]{4}|[〇零一二三四五六七八九]{4})"
# A time of day stays with the day it belongs to (昨天晚上, 上周三晚上, 3月5号下午).
_TOD = "(?:早上|早晨|上午|中午|下午|傍晚|晚上|凌晨|半夜|夜里)"
# A part of a relative year stays with it (去年腊月, 去年夏天, 今年年底).
_YEAR_PART = (
    "(?:年底|年初|年中|底|初|上半年|下半年|春天|夏天|秋天|冬天|春季|夏季|秋季|冬季|暑假|寒假|"
    "正月|冬月|腊月|春节前|春节后|过年前|过年后|过年|国庆节|国庆|中秋节|中秋|端午节|端午|五一)"
)
_DATE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("ymd", rf"(?<![0-9])(?P<y>{_YEAR})\s*年\s*(?P<m>{_CNN})\s*月(?:\s*(?P<d>{_CNN})\s*[日号]{_TOD}?|份)?"
            r"(?:上旬|中旬|下旬|初|底|中)?"),
    # a two-digit year with a month (24年5月): always this century
    ("yymd", rf"(?<![0-9])(?P<y>[0-9]{{2}})年(?P<m>{_CNN})月(?:(?P<d>{_CNN})[日号]{_TOD}?|份)?"),
    ("iso", r"(?<![0-9])(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})(?![0-9])"),
    ("rel_md", rf"(?:今年|去年|前年|明年)(?:{_CNN})月(?:份)?(?:(?:{_CNN})[日号]{_TOD}?)?(?:上旬|中旬|下旬|初|底)?"),
    ("rel_year", rf"(?:今年|去年|前年|明年){_YEAR_PART}"),
    ("year", r"(?<![0-9])(?P<y>[0-9]{4})\s*年(?:底|初|上半年|下半年)?(?![0-9一二三四五六七八九十])"),
    ("md", rf"(?<![0-9年])(?P<m>{_CNN})月(?P<d>{_CNN})[日号]{_TOD}?"),
    ("month", rf"(?<![0-9年])(?:{_CNN})月份"),
    # a day of this month alone (今天都22号了, 15号之前), not a house or bus number
    ("day", rf"(?<![0-9年月号第])(?:[12]?[0-9]|3[01])号{_TOD}?(?=了|前|之前|以前|那天|当天|就|才|又|还)"),
    # a month alone when it is now (现在都8月了)
    ("month_now", r"(?<![0-9年个第])(?:1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月(?=了)"),
    ("ago", r"(?:[0-9]+|[一二两三四五六七八九十半几]+)(?:个)?(?:天|周|星期|礼拜|月|年)(?:前|以前|之前)"),
    ("weekday", rf"(?:上|这|本|下)?(?:个)?(?:周|星期|礼拜)[一二三四五六日天]{_TOD}?"),
    ("rel", rf"(?:大前天|前天|昨天|今天|明天|后天){_TOD}?|"
            r"昨晚|今晚|今早|前几天|上个礼拜|上个星期|这个礼拜|这个星期|下个礼拜|下个星期|上周|上星期|上礼拜|本周|这周|下周|上个月|这个月|本月|下个月|"
            r"年初|年底|月初|月底|今年|去年|前年|明年|"
            r"春节前|春节后|过年前|过年后|国庆节|中秋节|端午节|元旦"),
)
_DATE = re.compile("|".join(f"(?P<{name}>{pat.replace('(?P<', f'(?P<{name}_')})"
                            for name, pat in _DATE_PATTERNS))

# Generic respondents dropped when a named organisation of that kind is also present.
_GENERIC_BY_SUFFIX: dict[str, tuple[str, ...]] = {
    "公司": ("公司", "集团", "厂"),
    "医院": ("医院", "卫生院"),
    "学校": ("学校", "小学", "中学", "幼儿园"),
    "工厂": ("厂", "公司", "集团"),
    "物业": ("物业", "物业公司"),
    "超市": ("超市",),
    "银行": ("银行",),
    "驾校": ("驾校",),
    "装修公司": ("装修公司", "装饰公司", "装饰有限公司"),
    "开发商": ("房地产开发有限公司", "置业有限公司", "房地产公司"),
    "4S店": ("4S店",),
}


_FAMILY = frozenset({"丈夫", "妻子", "儿子", "女儿", "儿媳", "婆婆", "弟弟", "哥哥", "亲戚", "前夫", "前妻"})
# The citizen's relative whose phone is given, or who works somewhere (我老公在一家化纤厂开叉车).
_RELATIVE_AS_CONTACT_AFTER = re.compile(r"(?:的)?(?:电话|手机|号码|微信)")
_RELATIVE_AT_WORK_AFTER = re.compile(r"在(?:一|这|那)?[家个所间座]")
# A thing done to the citizen's relative: the relative is the victim (砸到我女儿, 打伤了我老公).
_VICTIM_BEFORE = re.compile(r"(?:砸到?|砸伤了?|撞到|撞伤了?|打到|打伤了?|骂了?|推了?|欺负)(?:我|我的|我家)$")
# Neighbours on the citizen's side (邻居都来找我, 邻居们也有意见).
_SUPPORTERS_AFTER = re.compile(r"们?(?:都|也)(?:来找我|找我|有意见|在骂|受不了|来投诉)")
# 楼上 / 楼下 as a direction (烟味往楼上窜) or as where a business is (楼下开了个棋牌室).
_DIRECTION_BEFORE = re.compile(r"(?:往|向|朝|到|从)$")
_BUSINESS_HERE_AFTER = re.compile(r"(?:新)?开(?:了|的)")
# The citizen's own job (我在物流公司做司机): 司机 after 做 / 当 / 是.
_OWN_JOB_BEFORE = re.compile(r"(?:做|当|是|干)(?:个|名|了)?$")
# 厂家 / 工厂 as maker behind a shop (寄厂家修, 本地工厂直销), not the other party.
_MAKER_BEFORE = re.compile(r"(?:寄|寄回|寄给|返|返回|送回|本地|原)$")
_MAKER_AFTER = re.compile(r"(?:直销|直供|直发|修|维修|出厂)")
# Speech glued into an organisation phrase by the tokenizer (书记|说厂, 时候|问过|物业).
_SPEECH_IN_ORG = re.compile(r"说|问过|问了|讲")
# Organisation words that only point back at one already named (原厂新件, 本厂).
_NOT_AN_ORG = frozenset({"原厂", "本厂", "该厂", "此厂", "全厂"})
# A factory named after 一家 / 开了个 that jieba glued to the next word (一家|水泵|厂干|了).
_FACTORY_AFTER_COUNTER = re.compile(r"(?:一家|一个|这家|那家|有个|有家|开了个|开了家)([\u4e00-\u9fff]{1,5}?厂)(?!里|家|方|长)")
# A neighbour by flat or floor (1502的业主, 一楼那户, 顶楼那户人家).
_NEIGHBOUR_BY_FLAT = re.compile(
    r"(?<![0-9])[0-9]{3,4}(?:室|号)?的(?:业主|住户)|(?:[一二三四五六七八九十0-9]+|顶)楼(?:那|的)户"
)
# A vehicle that hit the citizen or their things: its driver (一辆电瓶车把我撞倒了).
_VEHICLE_HIT = re.compile(
    r"(?:电瓶车|电动车|三轮车|摩托车|汽车|货车|轿车|小车|面包车|自行车)把我[^,，。!?；;]{0,10}?(?:撞|刮|碾|压)"
)
# The neighbour's own shop (隔壁开的小超市): the neighbour is named already.
_NEIGHBOURS_BUSINESS_BEFORE = re.compile(r"(?:隔壁|邻居|邻居家|对门)开的$")
# 隔壁 in a comparison (隔壁一样的房子评了八十万): not a party.
_COMPARISON_AFTER = re.compile(r"(?:一样|同样|差不多)")
# A site generic kept only when no operating company is named (采石场 run by 公司).
_SITE_UNDER: dict[str, tuple[str, ...]] = {"采石场": ("公司",)}
_SPOUSES = frozenset({"丈夫", "妻子"})
_EXES = frozenset({"前夫", "前妻"})
_CHILDREN = frozenset({"儿子", "女儿"})
_MODIFIERS = frozenset({"隔壁", "楼上", "楼下", "对门"})
_LOCATIVE_AFTER = re.compile(r"(?:门口|旁边|附近|边上|对面|隔壁)")
_VILLAGE_ACTOR = re.compile(
    r"村里(?=(?:现在|突然|一直|又|却|也|还|就|已经|后来|今年|去年)?"
    r"(?:说|要|不|没|把|收|拒|扣|搞|分|让|给|强|拆|征|占|卖|租|决定|通知|发))"
)
# Someone nearby who is not named: 有户人家 / 被一户人家 → 邻居.
_SOMEONE_NEARBY = re.compile(r"(?:有|被)一?户人家")
# The citizen's own child as pupil, patient or customer (我女儿在一所小学读书, 给儿子买的玩具).
_CHILD_AS_CLIENT_AFTER = re.compile(r"(?:在|去|上学|读|报|学|住院|被)")
_OBJECT_BEFORE = re.compile(r"(?:给|帮|替|为|带|陪|送|接|伤了?|咬了?|打了?|撞了?)(?:我|我的|我家)?$")
# The citizen's own business (我开了一家小超市, 跟人合伙开了个饭店).
_OWN_BUSINESS_BEFORE = re.compile(r"(?:我(?![家们])|合伙)[^,，。!?；;]*?(?:开|办)(?:了|的)?一?[家个间座]?[小大新]?$")
# A group counted by number (三十多个租客) is the citizen's side, not the other party.
_COUNTED_BEFORE = re.compile(r"(?:[0-9]+|[两三四五六七八九十几][一二两三四五六七八九十百几]*)(?:多|来|几)?(?:个|名|位|户)$")
# 工地 / 医院 as where something happened (在一个工地上干活, 去医院花了六百).
_SITE_BEFORE = re.compile(r"(?:在|去|到|别的|其他)(?:一个|这个|那个|的)?$")
_TREATMENT_AFTER = re.compile(r"(?:花|看病|治|检查|包扎|包了|缝|住院|打针|拍片)")
# Sent into hospital (打进医院, 住进医院, 送进诊所): where the citizen was treated.
_INTO_BEFORE = re.compile(r"(?:进|进了)$")
# Leading tokens that are not part of an organisation name: numbers, time words, adverbs,
# verbs, pronouns, place words (jieba's dictionary tags), and events (出了车祸公司说).
_NOT_NAME_TAGS = frozenset({"m", "q", "t", "d", "p", "c", "u", "r", "f", "s", "v"})
# Organisation words that need a word in front saying what kind (开发公司, 维修厂).
_BARE_SUFFIXES = frozenset({"公司", "有限公司", "集团", "厂", "工厂", "中心", "店"})
_TIME_TOKEN = re.compile(r"^[0-9一二三四五六七八九十]*(?:月份|月|年|号|日|天|周)$")
_EVENT_NOUNS = frozenset({"车祸", "事故", "意外", "问题", "事情", "纠纷", "矛盾", "工伤"})


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date or time expression.

    Attributes:
        text: the surface form in the normalised message.
        iso: ``YYYY-MM-DD`` / ``YYYY-MM`` / ``YYYY`` when the expression is absolute, else None.
    """

    text: str
    iso: str | None = None


@dataclass(slots=True)
class Entities:
    """Everything :func:`extract` finds in one message."""

    place: PlaceMatch | None = None
    respondents: list[str] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    date_mentions: list[DateMention] = field(default_factory=list)
    people_count: int | None = None
    phones: list[str] = field(default_factory=list)
    id_cards: list[str] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    # Bodies the citizen asks to act (希望城管来管一管): not the other party.
    bodies: list[str] = field(default_factory=list)

    @property
    def county(self) -> str | None:
        """Name of the county-level division of the place, if known."""
        if self.place is None or self.place.county is None:
            return None
        return self.place.county.name


def id_card_valid(number: str) -> bool:
    """Check an 18-character resident ID number against its GB 11643 checksum.

    Args:
        number: 17 digits plus a check character (digit or X, any case).

    Returns:
        True when the shape and the check character are right.
    """
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def find_id_cards(text: str) -> list[str]:
    """Return the valid ID-card numbers in the text (uppercased, in order, no duplicates)."""
    return _unique(m.group(1).upper() for m in _ID_CARD.finditer(text) if id_card_valid(m.group(1)))


def find_phones(text: str) -> list[str]:
    """Return mobile and landline numbers as plain digits (e.g. ``13812345678``, ``057587012345``)."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _MOBILE.finditer(text):
        found.append((m.start(), "".join(m.groups())))
        taken.append(m.span())
    for m in _LANDLINE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        found.append((m.start(), m.group(1) + m.group(2) + m.group(3)))
    return _unique(p for _, p in sorted(found))


def find_case_numbers(text: str) -> list[str]:
    """Return case numbers as ``FQ-YYYY-NNNNNN`` (uppercased), in order, no duplicates."""
    return _unique(f"FQ-{m.group(1)}-{m.group(2)}" for m in _CASE_NO.finditer(text))


def parse_chinese_number(body: str) -> float | None:
    """Parse ``35000``, ``3.5万``, ``三万五``, ``一万二``, ``两千``, ``1,200``, ``3万5千``.

    Args:
        body: digits, Chinese numerals and units, possibly mixed.

    Returns:
        The value, or None when the text is not a number.
    """
    import cn2an

    body = body.replace(",", "").strip(".")
    if not body:
        return None
    if body.replace(".", "", 1).isdigit():
        return float(body)
    # a range such as 两三千 / 三四万: keep the lower bound
    body = re.sub(r"([一二两三四五六七八九])[一二两三四五六七八九](?=[十百千万亿])", r"\1", body)
    try:
        value = cn2an.cn2an(body, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return float(value)


def find_amounts(text: str) -> list[int]:
    """Return money amounts in yuan, in order of appearance, without duplicates.

    A number counts as money when it carries a currency word (元 / 块 / 块钱 / ¥ / 人民币),
    when it is scaled by 万 / 千 / 亿 (``3.5万``, ``一万二``, ``二十多万``) and is not followed by
    a non-money unit (人, 户, 平, 亩, 个, 年 …), or when a money word comes just before it
    (``多收了我两百八``, ``一亩八百``, ``扣了2000``). Approximate sums keep their stated part:
    ``四百多`` → 400, ``十几万`` → 100000. ``块`` counting things (``两块玻璃``) is not money.
    """
    text = _CAPITAL_RUN.sub(lambda m: m.group(0).translate(_CAPITAL), text)
    text = _RATIO.sub(lambda m: " " * len(m.group(0)), text)
    text = _ROUGH.sub(lambda m: "一" + m.group(1), text)
    amounts: list[int] = []
    for m in _AMOUNT.finditer(text):
        body = m.group("body").rstrip(",.")
        if (
            len(body) >= 3
            and body[-1] == "一"
            and body[-2] in "十百千万"
            and m.end("body") == m.end()
            and _WORD_AFTER_YI.match(text, m.end())
        ):
            body = body[:-1]
        unit, prefix, scale = m.group("unit"), m.group("prefix"), m.group("scale")
        end_body = m.start("body") + len(body)
        tail = text[m.end("approx") if m.group("approx") else end_body :]
        if scale:
            tail = text[m.end("scale") :]
        if text.endswith("分之", 0, m.start("body")) or (len(body) > 1 and all(ch in _CN_DIGITS for ch in body)):
            continue  # 百分之六十 is a share; 三两 is a weight
        value = parse_chinese_number(body)
        if value is None or value <= 0:
            continue
        if text.endswith("几", 0, m.start("body")) and body[0] in "十百千":
            continue  # 几十块 / 几百块: no figure was given
        if (
            unit == "块"
            and _JIAO_AFTER_KUAI.match(text, m.end("unit"))
            and not _NON_MONEY_AFTER.match(text, m.end("unit") + 1)  # 二十八块一斤: a price per unit
        ):
            continue  # 一块八 is 1.8 yuan: amounts are whole yuan, so a sub-yuan price is left out
        if unit == "块" and (
            _THING_AFTER_KUAI.match(text, m.end("unit"))
            or (value < 10 and not _money_context(text, m.start("body")))
        ):
            continue
        if not (unit or prefix):
            if _NON_MONEY_AFTER.match(text, end_body) or _NON_MONEY_AFTER.match(tail):
                continue
            scaled = scale is not None or any(ch in body for ch in "万千亿")
            if not scaled and not _bare_money(text, m.start("body"), value):
                continue
        if scale:
            value *= {"万": 10_000, "千": 1_000, "亿": 100_000_000}[scale]
        amounts.append(round(value))
    return _unique(amounts)


def _bare_money(text: str, start: int, value: float) -> bool:
    """Tell whether a bare number (no 元 / 万) is money: 10 or more, after a money word."""
    return value >= 10 and _money_context(text, start)


def _money_context(text: str, start: int) -> bool:
    """Tell whether a money word comes in the few characters before ``start``."""
    return _MONEY_CONTEXT.search(text, max(0, start - 8), start) is not None


def find_people_count(text: str) -> int | None:
    """Return the largest head count of two or more (二十多个工人 → 20, 30多户 → 30, 5人 → 5)."""
    best: int | None = None
    for m in (*_PEOPLE.finditer(text), *_PEOPLE_AFTER.finditer(text)):
        num = m.group("num")
        if num[0] in "百千万亿":
            continue
        value = parse_chinese_number(num)
        if value is None or value < 2 or value != int(value):
            continue
        if best is None or value > best:
            best = int(value)
    return best


def _cn_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if all(ch in "〇零一二三四五六七八九" for ch in text) and len(text) == 4:
        return int("".join(str("〇一二三四五六七八九".index(ch.replace("零", "〇"))) for ch in text))
    value = parse_chinese_number(text)
    return int(value) if value is not None else None


def _iso(kind: str, m: re.Match[str]) -> str | None:
    if kind not in ("ymd", "yymd", "iso", "year"):
        return None
    year = _cn_int(m.group(f"{kind}_y"))
    if kind == "yymd" and year is not None:
        year += 2000
    if year is None or not 1900 <= year <= 2100:
        return None
    if kind == "year":
        return f"{year:04d}" if m.group(0).endswith("年") else None
    month = _cn_int(m.group(f"{kind}_m"))
    day_text = m.group(f"{kind}_d")
    if month is None or not 1 <= month <= 12:
        return None
    if not day_text:
        return f"{year:04d}-{month:02d}" if m.group(0).endswith(("月", "月份")) else None
    day = _cn_int(day_text)
    try:
        return dt.date(year, month, day or 0).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[DateMention]:
    """Return date expressions in order; absolute ones carry an ISO form."""
    mentions: list[DateMention] = []
    for m in _DATE.finditer(text):
        kind = m.lastgroup or ""
        mentions.append(DateMention(m.group(0), _iso(kind, m)))
    return mentions


def find_respondents(text: str, nlp: Language | None = None) -> list[str]:
    """Return the parties complained about, canonical lexicon names or full organisation names.

    Lexicon hits (``物业公司`` → ``物业``) carry their canonical name as the ruler's pattern id;
    organisation phrases (``宏达建筑公司``) keep their text, cleaned of glued-on words
    (``1月份公司`` → ``公司``, ``才发现有银行`` → ``银行``). A generic name is dropped when a
    named organisation of that kind is present. Not the other party: the citizen's own family
    on their side (``我和老公``, ``我女儿在学校``, ``给儿子买的``), the other party's relatives
    who benefited (``村干部的亲戚``), the citizen's own business (``我开了一家超市``), a counted
    group of fellow victims (``三十多个租客``) and a place used as a location (``学校门口``,
    ``在工地上``, ``去医院花了``).

    Args:
        text: normalised (Simplified) text.
        nlp: a pipeline from :mod:`routing.understanding.nlp.pipeline`; the shared one by default.
    """
    if nlp is None:
        from routing.understanding.nlp.pipeline import get_pipeline

        nlp = get_pipeline()
    doc = nlp(text)
    lexicon = _lexicon(nlp)
    found: list[tuple[int, str, bool]] = []  # (start, value, named)
    treated_at: list[tuple[int, str, bool]] = []
    near: list[tuple[int, str, bool]] = []  # a factory named only as where a field lies
    own: list[str] = []  # the citizen's own business
    starts = {ent.start_char for ent in doc.ents}
    for ent in doc.ents:
        before = text[max(0, ent.start_char - 8) : ent.start_char]
        after = text[ent.end_char : ent.end_char + 6]
        if _LOCATIVE_AFTER.match(after):
            if ent.label_ == "ORG" and ent.text.endswith("厂"):
                start, name = _clean_org(ent, text, lexicon)
                near.append((start, lexicon.get(name, name), name not in lexicon))
            continue  # 学校门口: a place, unless a factory beside the field is all there is
        if _OWN_BUSINESS_BEFORE.search(text, _clause_start(text, ent.start_char), ent.start_char):
            own.append(ent.text)  # 我和哥哥合伙开的印刷厂: its 厂里 is the citizen's too
            continue
        if _NEIGHBOURS_BUSINESS_BEFORE.search(before):
            continue  # 隔壁开的小超市: the neighbour is the party
        if ent.label_ == "ORG":
            if _SPEECH_IN_ORG.search(ent.text):
                continue  # 书记说厂 / 时候问过物业: not a name
            if ent[0].text.endswith("进") and lexicon.get(ent.text[len(ent[0].text) :]) == "医院":
                treated_at.append((ent.start_char, "医院", False))
                continue  # 打进医院: where the citizen was treated
            start, name = _clean_org(ent, text, lexicon)
            if name in _NOT_AN_ORG:
                continue
            if name in lexicon:
                found.append((start, lexicon[name], False))
            elif len(name) >= 2:
                found.append((start, name, True))
        elif ent.label_ == "RESPONDENT":
            value = ent.ent_id_ or ent.text
            if value in _FAMILY and _not_other_party(value, before, after, found):
                continue
            if value == "邻居" and _SUPPORTERS_AFTER.match(after):
                continue  # 邻居都来找我: on the citizen's side
            if ent.text in ("楼上", "楼下") and (
                _DIRECTION_BEFORE.search(before) or _BUSINESS_HERE_AFTER.match(after)
                or after.startswith(("楼上", "楼下"))
            ):
                continue  # 往楼上窜 / 楼下开了个棋牌室 / 楼上楼下都有意见
            if ent.text == "司机" and _OWN_JOB_BEFORE.search(before):
                continue  # 我在物流公司做司机: the citizen's job
            if value == "工厂" and (_MAKER_BEFORE.search(before) or _MAKER_AFTER.match(after)):
                continue  # 寄厂家修 / 本地工厂直销: the maker behind a shop
            if ent.text == "厂里" and after.startswith("老板"):
                continue  # 厂里老板: the boss is the party
            if ent.text == "工地" and (_SITE_BEFORE.search(before) or after.startswith(("上", "里"))):
                continue  # 在工地摔伤 / 在一个工地上干活: a location
            if value == "医院" and (
                (_SITE_BEFORE.search(before) and _TREATMENT_AFTER.match(after)) or _INTO_BEFORE.search(before)
            ):
                treated_at.append((ent.start_char, value, False))
                continue  # 去医院花了六百: where the citizen was treated, unless nobody else is named
            if ent.text == "隔壁" and (after.startswith(("村", "镇", "乡", "县", "市")) or (
                after.startswith("的") and ent.end_char + 1 in starts
            )):
                continue  # 隔壁村的人 / 隔壁的加工厂: 隔壁 only says where the party is
            if ent.text == "隔壁" and _COMPARISON_AFTER.match(after):
                continue  # 隔壁一样的房子: a comparison
            if ent.text in _MODIFIERS and ent.end_char in starts:
                continue  # 隔壁工地: 隔壁 only says where the next party is
            if _COUNTED_BEFORE.search(before):
                continue  # 三十多个租客: a group on the citizen's side
            found.append((ent.start_char, value, False))
    for m in _VILLAGE_ACTOR.finditer(text):
        found.append((m.start(), "村委会", False))
    for m in _SOMEONE_NEARBY.finditer(text):
        found.append((m.start(), "邻居", False))
    for m in _NEIGHBOUR_BY_FLAT.finditer(text):
        found.append((m.start(), "邻居", False))
    for m in _VEHICLE_HIT.finditer(text):
        found.append((m.start(), "对方司机", False))
    for m in _FACTORY_AFTER_COUNTER.finditer(text):
        name = m.group(1)
        if name not in _NOT_AN_ORG and not _OWN_BUSINESS_BEFORE.search(text, _clause_start(text, m.start()), m.start(1)):
            found.append((m.start(1), lexicon.get(name, name), name not in lexicon))
    if not found:
        found = near or treated_at
    present = {v for _, v, _ in found}
    found = [f for f in found if not any(p in present for p in _SITE_UNDER.get(f[1], ()))]
    named = [v for _, v, is_named in found if is_named] + own
    kept = [
        (start, v)
        for start, v, is_named in found
        if is_named or not any(n.endswith(sfx) for n in named for sfx in _GENERIC_BY_SUFFIX.get(v, ()))
    ]
    return _unique(v for _, v in sorted(kept))


def _not_other_party(value: str, before: str, after: str, found: list[tuple[int, str, bool]]) -> bool:
    """Tell whether a family word names the citizen's side or a beneficiary, not the other party."""
    if "被" in after[:4]:
        return True  # 我女儿被咬了: the victim
    if _VICTIM_BEFORE.search(before) or (value not in _EXES and before.endswith(("和我", "跟我", "同我"))):
        return True  # 砸到我女儿 / 分给我和我弟弟: the victim, the citizen's side
    if before.endswith(("我", "我的", "我家")) and (
        _RELATIVE_AS_CONTACT_AFTER.match(after) or _RELATIVE_AT_WORK_AFTER.match(after)
    ):
        return True  # 我老公的电话 / 我老公在一家化纤厂开叉车: contact or worker
    if value in _SPOUSES and re.search(r"(?:和|跟|同)我?$", before):
        return True  # 我和老公 / 我跟我老婆: the citizen's side
    if value in _CHILDREN and before.endswith(("我", "我的", "我家")) and _CHILD_AS_CLIENT_AFTER.match(after):
        return True  # 我女儿在一所小学读书: the child is the pupil / customer
    if value in _CHILDREN and _OBJECT_BEFORE.search(before):
        return True  # 给儿子买的 / 咬伤了我儿子: the one something was done for or to
    # 村干部的亲戚 / 自己亲戚: the other party's relatives who benefited
    return bool(found) and before.endswith(("的", "自己", "自家"))


@lru_cache(maxsize=4)
def _lexicon(nlp: Language) -> dict[str, str]:
    """Plain-text ruler patterns → canonical respondent (``小学`` → ``学校``)."""
    ruler = nlp.get_pipe("entity_ruler") if "entity_ruler" in nlp.pipe_names else None
    patterns = getattr(ruler, "patterns", []) if ruler is not None else []
    return {
        p["pattern"]: p.get("id") or p["pattern"]
        for p in patterns
        if p.get("label") == "RESPONDENT" and isinstance(p.get("pattern"), str)
    }


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    """jieba's dictionary part-of-speech tags (loaded once, on first use)."""
    import jieba.posseg

    return jieba.posseg.dt.word_tag_tab  # type: ignore[no-any-return]


def _clean_org(ent: Span, text: str, lexicon: dict[str, str]) -> tuple[int, str]:
    """Return the start and name of an organisation phrase without the words glued in front.

    Numbers, time words, adverbs, verbs and place words before the name go (``两次家政公司``
    → ``家政公司``, ``才发现有银行`` → ``银行``, ``海边酒店`` → ``酒店``); jieba's ``在家|电厂``
    is read back as ``在|家电厂``.
    """
    tokens = [t.text for t in ent]
    start = ent.start_char
    if ent.start_char >= 2 and text.endswith("在家", 0, ent.start_char):
        tokens[0] = "家" + tokens[0]  # 我在家电厂做了七年: 家电厂, not 电厂
        start -= 1
    tags = _word_tags()
    # cut after the last word that cannot be part of a name (才发现有|银行, 两次|家政公司)
    for i in range(len(tokens) - 1, 0, -1):
        if "".join(tokens[i - 1 :]) in lexicon:
            continue
        tok, tag = tokens[i - 1], tags.get(tokens[i - 1])
        if tag == "v" and len(tok) >= 2 and i == len(tokens) - 1 and tokens[-1] in _BARE_SUFFIXES:
            continue  # 开发|公司, 维修|厂: the verb says what the business does
        if tok.isdigit() or tok in _EVENT_NOUNS or _TIME_TOKEN.match(tok) or tag in _NOT_NAME_TAGS:
            start += sum(len(t) for t in tokens[:i])
            tokens = tokens[i:]
            break
    name = "".join(tokens)
    if len(name) > 4 and name.startswith(("一家家", "这家家", "那家家")):
        name, start = name[2:], start + 2  # 一家家纺公司: 家纺公司
    trimmed = _trim_org(name)
    return start + len(name) - len(trimmed), trimmed


def _clause_start(text: str, pos: int) -> int:
    """Index just after the last clause punctuation before ``pos`` (0 when none)."""
    return max(text.rfind(ch, 0, pos) for ch in ",，。!?；;") + 1


def _trim_org(name: str) -> str:
    """Cut a verb phrase glued in front of an organisation name (``新开了个石料厂`` → ``石料厂``)."""
    cut = max(name.rfind(ch) for ch in "的了个在是把被给和跟与向从")
    return name[cut + 1 :] if cut >= 0 else name


def extract(text: str, nlp: Language | None = None) -> Entities:
    """Extract every entity the intake form needs from one message.

    Args:
        text: the citizen's message, Simplified or Traditional, any width.
        nlp: optional pipeline (e.g. one loaded with ``load_pipeline``); the shared one by default.

    Returns:
        The entities; empty lists / None where nothing was found.
    """
    from routing.understanding.roles import split_roles

    norm = normalise(text)
    dates = find_dates(norm)
    respondents, bodies = split_roles(norm, find_respondents(norm, nlp))
    return Entities(
        place=load_divisions().resolve(norm),
        respondents=respondents,
        bodies=bodies,
        amounts=find_amounts(_blank_identifiers(norm)),
        dates=[d.text for d in dates],
        date_mentions=dates,
        people_count=find_people_count(_blank_identifiers(norm)),
        phones=find_phones(norm),
        id_cards=find_id_cards(norm),
        case_numbers=find_case_numbers(norm),
    )


def _blank_identifiers(text: str) -> str:
    """Replace phone, ID and case numbers by spaces so their digits are not read as amounts."""
    for pattern in (_CASE_NO, _ID_CARD, _MOBILE, _LANDLINE):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _unique(items: Iterable[T]) -> list[T]:
    seen: set[T] = set()
    out: list[T] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
