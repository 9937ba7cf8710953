"""Read what a citizen does to the conversation itself: cancel, decline, ask why, correct,
confirm — and the wishes a narrative carries (see a leader, stay anonymous, urgent, court).

Framework-free: the dialogue layer asks these functions, then decides what to say. The word
lists favour precision: a message counts as a repair only when it says so in words a citizen
uses; anything else stays an answer (and is still validated as one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.understanding.intake import find_phone
from routing.understanding.text import normalise

# Form fields a correction can name, with the words citizens use for them.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "complaint_location": ("地点", "地方", "地址", "位置", "在哪", "哪个镇", "哪个村", "乡镇", "村名"),
    "complaint_respondent": ("对方", "被投诉", "被反映", "投诉对象", "反映对象", "当事人", "那个人", "那家"),
    "complaint_demand": ("诉求", "要求", "想要", "解决办法", "希望"),
    "contact_phone": ("电话", "号码", "手机", "联系方式"),
    "complaint_subject": ("事由", "事情经过", "内容", "情况说", "问题写"),
}
FIELD_LABELS = {
    "complaint_subject": "事由",
    "complaint_location": "地点",
    "complaint_respondent": "对方",
    "complaint_demand": "诉求",
    "contact_phone": "电话",
}

_CANCEL = (
    "算了", "不办了", "不弄了", "不想弄了", "不想办了", "不登记了", "不反映了", "不投诉了", "不用了",
    "不要了", "取消登记", "取消吧", "先不办", "先不弄", "不搞了", "别弄了", "别办了", "放弃",
    "不想反映了", "不想投诉了", "撤销登记", "退出", "不需要了", "不了了", "不提交", "不报了", "不要报了",
    "先不报", "不想报了", "不登了", "先不登记", "懒得弄", "懒得报", "懒得填", "拉倒", "勿要报",
    "勿报了", "弗弄了", "弗办了", "不办啦", "取消提交", "取消反映", "取消掉", "全部取消",
)
# Whole messages that give up the registration although their words alone are too short to list.
# "不填了" alone gives up the form, while "这项不填了" declines one item.
_CANCEL_EXACT = {"取消", "停", "不弄", "不办", "不报", "不填了", "不填了不填了", "qx", "sl", "bbl"}
_DECLINE = (
    "不想留", "不愿意留", "不愿留", "不方便留", "不想给", "不愿意给", "不给", "不想说", "不愿意说",
    "不方便说", "不想告诉", "不告诉", "不留电话", "不留号码", "不留了", "保密", "不想透露", "不愿透露",
    "不便透露", "没有电话", "没电话", "没有手机", "没手机", "不想写", "不提供", "不想提供", "不愿提供",
    "跳过", "这个不填", "不填", "免了", "弗留", "勿留", "不想答", "不想回答", "不方便",
)
# Not knowing the answer declines it only in a short message: "不知道对方叫啥" declines, while
# "不知道叫什么，是个开挖机的" still answers.
_UNKNOWN = ("不晓得", "不知道", "不清楚", "说不上来", "说不好", "讲不清", "记不清", "记不得", "不记得", "弗晓得", "勿晓得")
_UNKNOWN_MAX = 10
_ASK_WHY = (
    "为什么", "为啥", "干嘛要", "干什么用", "干啥用", "有什么用", "做什么用", "用来干", "凭什么",
    "一定要", "必须要", "非要", "必须留", "必须给", "为何", "用途",
)
_NONE_OF_THESE = ("都不是", "都不对", "没有一个", "都不符合", "不是这些", "都不太对", "我再说说", "都没有", "以上都不")
_CONFIRM = {
    "确认", "确认提交", "确定", "确定提交", "提交", "提交吧", "对", "对的", "对了", "没错", "没问题",
    "是的", "是", "好", "好的", "可以", "行", "正确", "无误", "确认无误", "没有问题", "就这样",
    "就这样提交", "ok", "okay", "对没错", "都对", "都对的", "没错提交吧", "是的没错",
    "确认没问题", "好的提交", "可以提交", "提交吧没问题", "没问题提交", "对的提交吧", "对，提交",
}
_CHANGE = ("修改", "改一下", "要改", "改改", "有错", "不对", "错了", "不正确", "更改", "改动", "写错", "说错", "弄错", "搞错")
_CORRECTION_MARK = re.compile(r"(?:应该是|其实是|正确的是|实际是|改成|改为|换成|更正为|是)(.+)$")
_ORG_MARKS = ("公司", "厂", "店", "集团", "有限", "物业", "中心", "医院", "学校", "合作社", "酒店", "超市")
_SPLIT = re.compile(r"[，,。；;！!？?\s]+")

WISH_WORDS: dict[str, tuple[str, ...]] = {
    "leader": ("见领导", "县领导", "镇领导", "找领导", "领导接访", "当面反映", "面见", "接访日", "见见领导", "市领导"),
    "anonymous": ("匿名", "不要透露我", "不想让他知道是我", "别说是我", "不要说是我", "替我保密", "保护我的身份", "不想暴露"),
    "urgent": ("很急", "紧急", "急需", "十万火急", "马上处理", "尽快处理", "刻不容缓", "火烧眉毛", "等不了", "越快越好"),
    "litigation": ("起诉", "法院", "判决", "仲裁", "诉讼", "打官司", "行政复议", "上诉", "立案了"),
}


def _plain(text: str) -> str:
    return normalise(text).lower().strip(" 。.!！~～，,")


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def is_explicit_confirmation(text: str) -> bool:
    """Tell whether `text` confirms a summary outright (确认 / 对 / 没问题 / the button).

    Only short, unambiguous answers count: "对，但地点错了" or "确认一下地点" do not.
    """
    raw = normalise(text).lower().strip()
    if raw in ("/affirm", "/confirm_summary"):
        return True
    if any(mark in raw for mark in ("...", "…", "?", "？", "吗", "呢", "吧?")):
        return False  # hesitation or a question is not a confirmation
    plain = re.sub(r"[，,。.!！~～\s]", "", raw)
    if plain in _CONFIRM:
        return True
    return plain in {w + "的" for w in _CONFIRM} or plain in {w + "吧" for w in _CONFIRM}


def wants_change(text: str) -> bool:
    """Tell whether `text` says something in the summary is wrong, without saying what."""
    plain = _plain(text)
    return plain in ("/deny", "/change_summary") or _has(plain, _CHANGE) or plain in ("不", "不是", "否")


def is_cancel(text: str) -> bool:
    """Tell whether `text` gives up the registration (算了 / 不办了 / 不想弄了)."""
    plain = _plain(text)
    if "撤回" in plain and ("案" in plain or "FQ" in plain.upper()):
        return False  # withdrawing a filed case is its own action
    return _has(plain, _CANCEL) or plain in _CANCEL_EXACT


def opens_with_cancel(text: str) -> bool:
    """Tell whether a message's first clause gives up ("先不提交了，他说明天给钱，我等等看").

    A long message is an answer unless it opens with the cancellation: "邻居说算了" told inside
    a story does not open with it.
    """
    clauses = [c for c in _SPLIT.split(normalise(text).strip()) if c]
    if not clauses or "说" in clauses[0]:
        return False
    return len(clauses[0]) <= 10 and is_cancel(clauses[0])


def is_decline(text: str) -> bool:
    """Tell whether `text` refuses to give the asked item (不想留电话 / 不方便说)."""
    plain = _plain(text)
    return _has(plain, _DECLINE) or (len(plain) <= _UNKNOWN_MAX and _has(plain, _UNKNOWN))


def is_ask_why(text: str) -> bool:
    """Tell whether `text` asks why an item is needed."""
    return _has(_plain(text), _ASK_WHY)


def is_none_of_these(text: str) -> bool:
    """Tell whether `text` rejects every offered choice (都不是 / 我再说说)."""
    return _has(_plain(text), _NONE_OF_THESE) or _plain(text) in ("/none_of_these", "不是", "没有")


def after_none_of_these(text: str) -> str:
    """The sentence a citizen adds after 都不是 in the same message ("都不是，我再说说：是…")."""
    plain = normalise(text)
    for word in (*_NONE_OF_THESE, "我再说一下", "我补充"):
        plain = plain.replace(word, " ")
    return re.sub(r"^[\s，,。:：；;!！]+", "", plain).strip()


def is_leader_request(text: str) -> bool:
    """Tell whether `text` asks for a leader's reception day."""
    plain = _plain(text)
    return "领导" in plain and _has(plain, ("见", "找", "接访", "预约", "当面", "约"))


def is_human_request(text: str) -> bool:
    """Tell whether `text` asks for a person instead of the bot."""
    return _has(_plain(text), ("转人工", "人工客服", "真人", "找人工", "人工服务", "找工作人员", "接人工"))


@dataclass(frozen=True)
class Correction:
    """A one-sentence correction: which field (None when only the value tells) and the new value."""

    field: str | None
    value: str


def named_field(text: str) -> str | None:
    """Return the form field a message names (地点 / 对方 / 诉求 / 电话 / 事由), if exactly one."""
    plain = _plain(text)
    found = [name for name, words in FIELD_WORDS.items() if _has(plain, words)]
    return found[0] if len(found) == 1 else (found[0] if found and "contact_phone" in found else None)


def parse_correction(text: str) -> Correction | None:
    """Read "地点说错了，是诸暨市店口镇" / "对方不是他，是物业公司" / "电话改成139…".

    Returns:
        The field named (or None) and the corrected value, or None when no new value is given.
    """
    plain = normalise(text).strip()
    field = named_field(plain)
    phone = find_phone(plain)
    if phone and (field in (None, "contact_phone")) and _has(plain, ("错", "改", "是", "换", "不对")):
        return Correction("contact_phone", phone)
    clauses = [c for c in _SPLIT.split(plain) if c]
    # "对方不是他，是装修公司，…是他们动手拆的": the value follows the clause that says what
    # was wrong; only without such a clause is the last "是…" taken.
    for index, clause in enumerate(clauses[:-1]):
        if clause.startswith(("不是", "不对")) or "不是" in clause or "错" in clause:
            found = _CORRECTION_MARK.search(clauses[index + 1])
            if found and len(found.group(1).strip(" 的")) >= 2:
                value = re.sub(r"^(?:在|位于)", "", found.group(1).strip(" 的"))
                after = clauses[index + 2] if index + 2 < len(clauses) else ""
                if after.startswith(("叫", "名叫", "名字叫", "就是")) or (
                        len(after) <= 20 and "是" not in after and _has(after, _ORG_MARKS)):
                    value = f"{value}（{after}）"  # 装修公司（叫美家装饰） / 厂里（宏达铜业有限公司）
                return Correction(field, value)
    for clause in reversed(clauses):
        if clause.startswith(("不是", "不对")):
            continue
        found = _CORRECTION_MARK.search(clause)
        if not found:
            continue
        value = found.group(1).strip(" 的")
        value = re.sub(r"^(?:在|位于)", "", value)
        if len(value) >= 2 and not _has(value, ("错", "不对")):
            return Correction(field, value)
    return None


def is_correction(text: str) -> bool:
    """Tell whether `text` corrects an earlier answer and gives the new value."""
    plain = _plain(text)
    cue = _has(plain, ("错", "不是", "改成", "改为", "换成", "更正", "应该是", "其实是", "不对"))
    return cue and parse_correction(text) is not None


def repair_kind(text: str) -> str | None:
    """Classify a message as a repair by its words: cancel, decline, ask_why, correct,
    none_of_these, request_leader, request_human — or None when it is an ordinary answer."""
    if not text or text.startswith("/") and text not in ("/none_of_these",):
        return None
    if is_human_request(text):
        return "request_human"
    if is_correction(text):
        return "correct"
    if is_cancel(text) or opens_with_cancel(text):
        return "cancel"
    if is_ask_why(text):
        return "ask_why"
    if is_decline(text):
        return "decline"
    if is_leader_request(text):
        return "request_leader"
    return None


def wishes_in(text: str) -> tuple[str, ...]:
    """Return the wishes a narrative states: leader, anonymous, urgent, litigation."""
    plain = normalise(text)
    return tuple(code for code, words in WISH_WORDS.items() if _has(plain, words))


# Dispute types that may be reported without a name (reports about a public matter); a
# dispute between parties needs someone the mediator can call back (routing/data/dispute_types.csv).
ANONYMOUS_OK = frozenset({
    "environment_noise", "telecom_fraud", "food_drug_safety", "campus_safety",
    "crowded_places_safety", "livelihood_supplies",
})


def anonymity_allowed(dispute_type: str | None) -> bool:
    """Tell whether a matter of this dispute type may be reported anonymously."""
    return dispute_type in ANONYMOUS_OK
