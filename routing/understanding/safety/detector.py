"""The danger detector: lexicon rules with guards, OR the model above its threshold.

Steps for one message:
1. prepare the text (``lexicon.Lexicon.prepare``) and cut it into sentence windows;
2. look for every lexicon rule in every window; a rule's guard (``unless``) found in the same
   window cancels it there (a consumer complaint about pesticide, a fall years ago, a report
   from the news). Strong rules fire alone; weak cues (a means named, a place, 走投无路 …) fire
   when two different ones meet or when the model's score reaches ``model.SUPPORT_THRESHOLD``;
3. score every sentence with the model; a sentence counts when above ``model.THRESHOLD``;
4. the second stage (``context``) reads the frame of each finding — a question about procedure,
   an incident that is over or hurt nobody, a hazard, a past time, a denial — and raises the
   score the finding needs (the model's threshold, the support threshold, the veto);
5. the message is dangerous when a finding of step 2 or 3 still counts. Kinds come from the rules (or, model only,
   from the kind model), ordered by ``KINDS``; evidence lists the cues found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.understanding.safety import context, lexicon, model
from routing.understanding.safety.verdict import KINDS, DangerVerdict

MAX_EVIDENCE = 6
MAX_CUE_CHARS = 24
_BLANK = re.compile(lexicon.MASK_CHAR + "+")


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule found in one window."""

    rule: lexicon.Rule
    window: str
    start: int
    cue: str


def find_hits(lex: lexicon.Lexicon, parts: list[str]) -> list[Hit]:
    """Return the rule matches over the windows: the first per strong rule and window, every
    distinct cue of a weak rule (two different weak cues make a finding)."""
    hits = []
    whole = "。".join(parts)
    # One search over the whole text first: most rules find nothing and are skipped.
    rules = [rule for rule in lex.rules if rule.pattern.search(whole)]
    for window in parts:
        for rule in rules:
            if rule.strong:
                match = rule.find(window)
                matches = [match] if match is not None else []
            elif rule.unless is not None and rule.unless.search(window):
                matches = []
            else:
                matches = list(rule.pattern.finditer(window))
            for match in matches:
                cue = _BLANK.sub("", match.group(0))[:MAX_CUE_CHARS]
                hits.append(Hit(rule, window, match.start(), cue))
    return hits


def firing(hits: list[Hit], score: float = 0.0, prepared: str = "") -> list[Hit]:
    """Strong hits, plus weak ones when the model, below its own threshold, still finds the
    message rather dangerous (``model.SUPPORT_THRESHOLD``, raised by the frames of the first weak
    cue: a weak cue and a moderate score support each other), or when two different weak cues
    (not support-only ones) were found."""
    strong = [h for h in hits if h.rule.strong]
    weak = [h for h in hits if not h.rule.strong]
    if weak:
        sentence = _cue_sentence(weak[0])
        frames = context.message_frames(prepared, sentence) | context.window_frames(sentence)
        if score >= context.needed(model.SUPPORT_THRESHOLD, frames):
            return strong + weak
    # Two weak cues support each other only outside an everyday frame (去年…喘不过气…已经好了).
    paired = [h for h in weak if not h.rule.support_only
              and context.lift(context.window_frames(_cue_sentence(h))) <= 0]
    if len({h.cue for h in paired}) >= 2:
        return strong + paired
    return strong


def _cue_sentence(hit: Hit, reach: int = 20) -> str:
    """The words around the cue within its sentence (a window may be two sentences; a
    sentence may be a whole grievance told in one breath, whose past words are not the cue's)."""
    start = max(hit.window.rfind("。", 0, hit.start) + 1, hit.start - reach)
    end = hit.window.find("。", hit.start + len(hit.cue))
    end = min(end if end >= 0 else len(hit.window), hit.start + len(hit.cue) + reach)
    return hit.window[start:end]


def _vetoed(bundle: dict, hit: Hit, reach: int = 20) -> bool:
    """The model, reading the words around a cue, finds them ordinary (a past event, news, a
    joke); the frames of the cue's own sentence raise the score it needs. (The message's
    question about procedure does not: an explicit cue in a message that also asks stays.)"""
    if model.VETO <= 0:
        return False
    frames = context.window_frames(_cue_sentence(hit))
    start, end = max(0, hit.start - reach), hit.start + len(hit.cue)
    local = hit.window[start: end + reach]
    if model.sentence_probability(bundle, local) < context.needed(model.VETO, frames):
        return True
    if context.lift(frames) <= 0:
        return False
    # In an everyday frame the cue's own words do not decide: the model reads the words around
    # it with the cue blanked out (洒农药 … 幸好人没事 → ordinary; □□ 已经买好了，今晚就喝 → not).
    blanked = hit.window[start: hit.start] + lexicon.MASK_CHAR * len(hit.cue) + hit.window[end: end + reach]
    return model.sentence_probability(bundle, blanked) < context.needed(context.CONTEXT_VETO, frames)


def _model_finding(prepared: str, sentences: list[str], found: list[float]) -> int:
    """The sentence the model finds dangerous in its frame (-1 when none): each sentence needs
    ``model.THRESHOLD`` raised by its own frames and the message's from it on."""
    best = -1
    for i, probability in enumerate(found):
        if probability < model.THRESHOLD or (best >= 0 and probability <= found[best]):
            continue
        frames = context.message_frames(prepared, sentences[i]) | context.sentence_frames(sentences[i])
        if probability >= context.needed(model.THRESHOLD, frames):
            best = i
    return best


def is_third_party(lex: lexicon.Lexicon, hit: Hit) -> bool:
    """Tell whether the person in danger (or acting) is someone other than the writer.

    The last person named before the cue decides (``我爸…要上吊`` → someone else; ``我…跳下去`` →
    the writer); bare 他/她 do not count (they are usually the other side of a grievance). For
    violence, threats and detention the writer named as the victim (``打我``, ``我被``) wins.
    """
    if hit.rule.kind != "self_harm" and lex.first_person_victim.search(hit.window):
        return False
    before = hit.window[: hit.start] or hit.window[: hit.start + len(hit.cue)]
    third = [m.start() for m in lex.third_person.finditer(before)]
    first = [m.start() for m in lex.first_person.finditer(before)]
    return bool(third) and (not first or third[-1] >= first[-1])


def _kinds(hits: list[Hit]) -> tuple[str, ...]:
    found = {h.rule.kind for h in hits}
    return tuple(k for k in KINDS if k in found)


def _evidence(hits: list[Hit]) -> tuple[str, ...]:
    cues = dict.fromkeys(h.cue for h in hits if h.cue)
    return tuple(cues)[:MAX_EVIDENCE]


def _imminent(lex: lexicon.Lexicon, hits: list[Hit]) -> bool:
    if any(h.rule.imminent for h in hits):
        return True
    return any(h.rule.kind in ("self_harm", "harm_others") and lex.now.search(h.window) for h in hits)


def detect(text: str) -> DangerVerdict:
    """Return the danger verdict for one message (raises if the lexicon or model cannot load).

    Args:
        text: the message as written (Simplified or Traditional, any length).

    Returns:
        ``danger`` with kinds in priority order, the model's best window score, the cues found,
        whether the person in danger is someone else, and whether it is happening now.
    """
    lex = lexicon.load()
    bundle = model.load()
    prepared = lex.prepare(text)
    parts = lexicon.windows(prepared)
    sentences = lexicon.sentences(prepared)
    found = model.probabilities(bundle, sentences)
    score = max(found, default=0.0)
    hits = [h for h in firing(find_hits(lex, parts), score, prepared) if not _vetoed(bundle, h)]
    best = _model_finding(prepared, sentences, found) if not hits else -1
    if not hits and best < 0:
        return DangerVerdict.safe(score)
    if hits:
        kinds = _kinds(hits)
        evidence = _evidence(hits)
        third = any(is_third_party(lex, h) for h in hits if h.rule.kind == kinds[0])
        imminent = _imminent(lex, hits)
    else:
        window = sentences[best]
        kinds = (model.guess_kind(bundle, window),)
        evidence = ("模型:" + _BLANK.sub("", window)[:MAX_CUE_CHARS],)
        third = bool(lex.third_person.search(window)) and not lex.first_person_victim.search(window)
        imminent = kinds[0] in ("violence_now", "medical") or bool(lex.now.search(window))
    return DangerVerdict(
        danger=True, kinds=kinds, score=score, evidence=evidence, third_party=third, imminent=imminent
    )
