"""The second stage of the danger check: the frame a risky word is said in.

The lexicon and the model read a sentence's words; everyday complaints use the same words in
frames that make them harmless: a question about which office handles something (想问问…找哪个部门),
an incident that is over or that hurt nobody (幸好人没事, 已经出院了, 去年…), a hazard reported as a
hazard (万一…, 有安全隐患), a wish denied (他没有什么极端的想法), someone else's story (新闻, 听说, 直播),
a consumer complaint (商家, 退款, 售后). Each frame found raises the score the
first stage must reach before its finding counts: the model's threshold for a sentence, the
support threshold for a weak cue, the veto for a strong cue. It never removes a finding the
first stage is very sure of (``CAP``): a person in danger who also asks a question still gets the
numbers when the sentence itself is clear.

The frames read the prepared text (``lexicon.Lexicon.prepare``: Simplified, hyperbole masked).
The amounts were chosen on the leave-one-writer-out check and the exposed development sets
(``bench/crisis/by_writer.py``, ``bench/crisis/README.md``).
"""

from __future__ import annotations

import re

# A message that asks about procedure: which office, whether it is allowed, how to claim.
ASK = re.compile(
    "想问|请问|问一下|问问|问下|咨询|想了解|哪个部门|哪个单位|找哪|应该去哪|该去哪|去边度|"
    "能不能|可不可以|可唔可以|可以吗|有没有(规定|人管)|合法吗|违法吗|算不算|怎么处理|怎么办理|"
    "如何处理|有冇得|得唔得"
)
# The incident is over, or nobody was hurt.
SETTLED = re.compile(
    "已经好了|已经没事|没事了|没什么事|没有大碍|没大碍|幸好|还好|好在|幸亏|没出事|没有出事|没出过事|"
    "没受伤|没有受伤|没伤着|没砸着|没烫着|人没事|没有人受伤|抢救过来|出院|过去了|走出来|"
    "去世|过世|往生|已经还清|还清了|认了错"
)
# A hazard reported as a hazard: it may happen, it has not.
HAZARD = re.compile(
    "万一|隐患|容易出事|容易|担心|不放心|害怕会|怕出事|怕会|以防|防止|还没(出|发生)|目前.{0,6}没|暂时.{0,6}没|"
    "会不会|可能会|心里发毛"
)
# The time of the event is past.
PAST = re.compile(
    "以前|曾经|去年|前年|那年|那次|上次|当年|当时|\\d+年前|几年前|多年前|上个月|上个?礼拜|上周|"
    "上星期|前几年|小时候|早年|那时候|年轻时"
)
# The writer says the feared thing is not there.
DENIED = re.compile(
    "没有.{0,8}(想法|念头)|没什么.{0,4}(想法|念头)|没想过(自杀|轻生|寻死|不活)|不会想不开|没那么严重|不严重"
)
# Someone else's story: the news, a rumour, a video, a game.
REPORT = re.compile("新闻|报道|听说|据说|谣言|辟谣|疯传|传言|传闻|网上(说|传)|视频里|电视上|电视剧|小说|游戏里|直播")
# A consumer complaint about a product or a service.
CONSUMER = re.compile("商家|客服|退款|退货|质量问题|保修|售后|假货|差评|发票|检测报告")
# A lawful step the writer takes or plans (petitioning, the press, a lawsuit, posting online): read
# only for a sentence the model alone finds dangerous, whose readiness words (我已经…明天就去…)
# the model learned from danger sentences. A cue of the lexicon in such a sentence keeps its weight.
RECOURSE = re.compile("上访|信访|记者|媒体|曝光|起诉|诉讼|举报|网上|微博|抖音|头条|横幅|大字报|鉴定|维权|讨说法|要个说法")
FRAMES: dict[str, re.Pattern[str]] = {
    "settled": SETTLED, "hazard": HAZARD, "past": PAST, "denied": DENIED, "report": REPORT,
    "consumer": CONSUMER,
}
# How much each frame raises the score a finding needs. Chosen on the leave-one-writer-out check
# and the exposed development sets (bench/crisis/README.md, third round).
WEIGHTS: dict[str, float] = {"ask": 0.3, "settled": 0.3, "hazard": 0.225, "past": 0.15, "denied": 0.3,
                             "report": 0.3, "consumer": 0.225, "short": 0.45, "recourse": 0.2}
# A sentence this short is too little for the model alone to judge ("在不在", "筭了"): the
# dialogue's own turns must not alarm, and the rules know the short cries (救命, 不想活了).
SHORT = 3
# A cue in an everyday frame counts only when the words around it, with the cue blanked out,
# still read as danger to the model at least this much (raised by the frames).
CONTEXT_VETO = 0.3
# No frame lifts the needed score above this: the first stage's surest findings always count.
CAP = 0.97


def message_frames(prepared: str, sentence: str = "") -> frozenset[str]:
    """Frames read from the message: ``ask`` when, from the finding's sentence on, it asks about
    procedure — a message that ends on such a question tells its risky words as background; one
    that asks first and then speaks of danger ("想问一下押金的事…我昨天已经买了木炭") does not."""
    start = max(prepared.find(sentence), 0) if sentence else 0
    return frozenset({"ask"}) if ASK.search(prepared, start) else frozenset()


def window_frames(window: str) -> frozenset[str]:
    """Frames read from the words around a finding (a sentence and its neighbour)."""
    return frozenset(name for name, pattern in FRAMES.items() if pattern.search(window))


def sentence_frames(sentence: str) -> frozenset[str]:
    """Frames of a sentence the model alone finds dangerous: its own, ``recourse`` and ``short``."""
    found = window_frames(sentence) | ({"recourse"} if RECOURSE.search(sentence) else frozenset())
    return found | {"short"} if len(sentence) <= SHORT else found


def lift(frames: frozenset[str]) -> float:
    """How much the frames raise the score a finding needs."""
    return sum(WEIGHTS.get(name, 0.0) for name in frames)


def needed(base: float, frames: frozenset[str]) -> float:
    """The score a finding needs in these frames (``base`` without any; at most ``CAP``)."""
    return max(base, min(CAP, base + lift(frames)))
