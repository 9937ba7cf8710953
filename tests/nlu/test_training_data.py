"""Consistency checks for the Rasa NLU training data in ``nlu_data/``.

The checks mirror what the Rasa pipeline does with the data: the text is normalised
(NFKC, then OpenCC t2s) and tokenised with jieba plus the user dictionaries in
``nlu_data/jieba/``; an entity whose span does not start and end on a token boundary
cannot be learnt by DIET, so it is reported here instead of as a training-time warning.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import pytest
import yaml

from routing.understanding.text import is_traditional, normalise

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "nlu_data"
JIEBA_DIR = NLU_DIR / "jieba"
HELDOUT_SIMPLIFIED = Path(__file__).with_name("heldout_simplified.yml")
HELDOUT_TRADITIONAL = Path(__file__).with_name("heldout_traditional.yml")

ALLOWED_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thank",
        "consent",
        "tell_complaint",
        "inform",
        "ask_status",
        "add_material",
        "urge",
        "withdraw",
        "rate_satisfaction",
        "request_review",
        "request_leader",
        "request_human",
        "crisis",
        "out_of_scope",
        "bot_challenge",
        "ask_service",
        "cancel_reception",
        "reschedule_reception",
        "cancel",
        "decline",
        "correct",
        "ask_why",
        "none_of_these",
        "view_my_data",
        "delete_my_data",
        "withdraw_consent",
    }
)
ALLOWED_ENTITIES = frozenset(
    {
        "location",
        "respondent",
        "amount",
        "date",
        "people_count",
        "phone",
        "case_number",
        "id_card",
        "satisfaction",
    }
)
SATISFACTION_VALUES = frozenset({"满意", "基本满意", "不满意"})
MIN_EXAMPLES = 30
MIN_EXAMPLES_BY_INTENT = {"tell_complaint": 150, "out_of_scope": 150, "inform": 80}
REGEX_ENTITIES = ("phone", "id_card", "case_number")
TRADITIONAL_SHARE = (0.10, 0.25)

# Same grammar as Rasa's entity annotation: [text](entity) or [text]{"entity": ..., "value": ...}.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\](?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<dict>\{[^}]+?\}))"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Span:
    """One annotated entity inside an example."""

    start: int
    end: int
    entity: str
    value: str | None


@dataclass
class Example:
    """One training example with its annotations removed."""

    intent: str
    raw: str
    text: str
    source: str
    spans: list[Span] = field(default_factory=list)


def parse_example(raw: str, intent: str, source: str) -> Example:
    """Strip Rasa entity markup from ``raw`` and record the spans in the plain text."""
    parts: list[str] = []
    spans: list[Span] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[cursor : match.start()]
        parts.append(before)
        length += len(before)
        span_text = match.group("text")
        if match.group("dict"):
            spec = json.loads(match.group("dict"))
            entity, value = spec["entity"], spec.get("value")
        else:
            entity, value = match.group("entity"), match.group("value")
        spans.append(Span(length, length + len(span_text), entity, value))
        parts.append(span_text)
        length += len(span_text)
        cursor = match.end()
    parts.append(raw[cursor:])
    return Example(intent, raw, "".join(parts), source, spans)


def _examples_of(block: str) -> list[str]:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    assert all(line.startswith("- ") for line in lines), block
    return [line[2:].strip() for line in lines]


def load_nlu(path: Path) -> dict:
    """Read one Rasa NLU YAML file."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def training_files() -> list[Path]:
    """Every YAML file of the training data (lookups included)."""
    return sorted(NLU_DIR.rglob("*.yml"))


def intent_examples(paths: list[Path]) -> list[Example]:
    """Every intent example found in ``paths``."""
    out: list[Example] = []
    for path in paths:
        for item in load_nlu(path).get("nlu", []) or []:
            if "intent" in item:
                for raw in _examples_of(item["examples"]):
                    out.append(parse_example(raw, item["intent"], path.name))
    return out


def items_of(kind: str) -> list[dict]:
    """Every ``nlu`` item of the given kind (``regex``, ``synonym``, ``lookup``)."""
    return [
        item
        for path in training_files()
        for item in load_nlu(path).get("nlu", []) or []
        if kind in item
    ]


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    found = intent_examples(training_files())
    assert found, "no training examples found"
    return found


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with the project's user dictionaries, as Rasa's JiebaTokenizer loads them."""
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    files = sorted(JIEBA_DIR.glob("*"))
    assert files and all(f.suffix == ".txt" for f in files), files
    for path in files:
        with path.open("rb") as handle:  # jieba leaves a file it opened itself unclosed
            tok.load_userdict(handle)
    return tok


def boundaries(tok: jieba.Tokenizer, text: str) -> tuple[set[int], set[int]]:
    """Start and end offsets of every jieba token of ``text``."""
    starts, ends = set(), set()
    for _word, start, end in tok.tokenize(text):
        starts.add(start)
        ends.add(end)
    return starts, ends


def id_card_valid(number: str) -> bool:
    """Check the ISO 7064 MOD 11-2 checksum of an 18-digit resident ID number."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


# --------------------------------------------------------------------------- structure


def test_every_file_is_rasa_3_1_nlu() -> None:
    files = training_files()
    assert len(files) >= 5
    for path in files:
        data = load_nlu(path)
        assert str(data.get("version")) == "3.1", path
        assert isinstance(data.get("nlu"), list) and data["nlu"], path
        for item in data["nlu"]:
            kinds = {"intent", "synonym", "regex", "lookup"} & item.keys()
            assert len(kinds) == 1, (path, item)
            assert isinstance(item["examples"], str), (path, item)


def test_jieba_folder_holds_only_valid_dictionary_lines() -> None:
    for path in JIEBA_DIR.glob("*"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            assert len(parts) == 3 and parts[1].isdigit(), (path.name, number, line)


def test_intents_are_exactly_the_agreed_set(examples: list[Example]) -> None:
    assert {e.intent for e in examples} == ALLOWED_INTENTS


def test_enough_examples_per_intent(examples: list[Example]) -> None:
    counts = Counter(e.intent for e in examples)
    for intent in ALLOWED_INTENTS:
        wanted = MIN_EXAMPLES_BY_INTENT.get(intent, MIN_EXAMPLES)
        assert counts[intent] >= wanted, (intent, counts[intent], wanted)


def test_no_duplicate_example_within_or_across_intents(examples: list[Example]) -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for e in examples:
        seen[normalise(e.text)].append(e.intent)
    duplicates = {text: intents for text, intents in seen.items() if len(intents) > 1}
    assert not duplicates


def test_traditional_share_per_intent(examples: list[Example]) -> None:
    low, high = TRADITIONAL_SHARE
    by_intent: dict[str, list[bool]] = defaultdict(list)
    for e in examples:
        by_intent[e.intent].append(is_traditional(e.text))
    for intent, flags in by_intent.items():
        share = sum(flags) / len(flags)
        assert low <= share <= high, (intent, round(share, 3))


def test_full_width_digits_are_present(examples: list[Example]) -> None:
    full_width = [e for e in examples if re.search("[０-９]", e.text)]
    assert len(full_width) >= 10
    assert any(s.entity == "phone" for e in full_width for s in e.spans)


# --------------------------------------------------------------------------- entities


def test_entity_names_are_the_agreed_set(examples: list[Example]) -> None:
    used = {s.entity for e in examples for s in e.spans}
    assert used <= ALLOWED_ENTITIES, used - ALLOWED_ENTITIES
    assert used == ALLOWED_ENTITIES, ALLOWED_ENTITIES - used


def test_satisfaction_values_are_canonical(examples: list[Example]) -> None:
    for e in examples:
        for s in e.spans:
            if s.entity == "satisfaction":
                value = s.value or e.text[s.start : s.end]
                assert value in SATISFACTION_VALUES, (e.raw, value)
            else:
                assert s.value in (None, normalise(e.text[s.start : s.end])), e.raw


def test_spans_changed_by_normalisation_carry_the_normalised_value(
    examples: list[Example],
) -> None:
    # The tokenizer normalises the training text; Rasa's EntitySynonymMapper then turns every
    # span whose text differs from its value into a synonym. Without an explicit Simplified /
    # ASCII value, "貨車" or "１３８…" would become the value extracted from "货车" or "138…".
    changed = 0
    for e in examples:
        for s in e.spans:
            span = e.text[s.start : s.end]
            if normalise(span) != span:
                changed += 1
                assert s.value is not None, e.raw
                assert normalise(s.value) == s.value, e.raw
    assert changed >= 50


def test_satisfaction_synonyms_map_to_canonical_values() -> None:
    mapped: dict[str, str] = {}
    for item in items_of("synonym"):
        for variant in _examples_of(item["examples"]):
            assert variant not in mapped, variant
            mapped[variant] = item["synonym"]
    assert {"非常满意": "满意", "还行": "基本满意", "很不满意": "不满意"}.items() <= mapped.items()


def test_rate_satisfaction_examples_carry_the_level(examples: list[Example]) -> None:
    rated = [e for e in examples if e.intent == "rate_satisfaction"]
    with_level = [e for e in rated if any(s.entity == "satisfaction" for s in e.spans)]
    assert len(with_level) >= 0.8 * len(rated)
    levels = {s.value or e.text[s.start : s.end] for e in with_level for s in e.spans}
    assert levels >= SATISFACTION_VALUES


def test_normalisation_keeps_offsets(examples: list[Example]) -> None:
    # NFKC maps full-width digits to ASCII one-for-one and OpenCC t2s maps character for
    # character, so offsets computed on the raw text are valid on the normalised text.
    assert len(normalise("１３８１２３４５６７８")) == 11
    for e in examples:
        assert len(normalise(e.text)) == len(e.text), e.raw


def test_entity_spans_align_with_jieba_tokens(
    examples: list[Example], tokenizer: jieba.Tokenizer
) -> None:
    misaligned = []
    for e in examples:
        if not e.spans:
            continue
        text = normalise(e.text)
        starts, ends = boundaries(tokenizer, text)
        for s in e.spans:
            if s.start not in starts or s.end not in ends:
                tokens = [w for w, _, _ in tokenizer.tokenize(text)]
                misaligned.append((e.source, text[s.start : s.end], s.entity, "/".join(tokens)))
    assert not misaligned, "\n".join(map(str, misaligned))


def test_spans_have_no_surrounding_blanks_or_punctuation(examples: list[Example]) -> None:
    for e in examples:
        for s in e.spans:
            value = e.text[s.start : s.end]
            assert value == value.strip(" ，。,.!？?") and value, e.raw


def test_id_cards_have_valid_checksums(examples: list[Example]) -> None:
    cards = [
        normalise(e.text[s.start : s.end])
        for e in examples
        for s in e.spans
        if s.entity == "id_card"
    ]
    assert len(cards) >= 5
    for card in cards:
        assert id_card_valid(card), card
    assert not id_card_valid("330681199003071235")  # the check itself can fail


def test_pure_digit_examples_are_enough_for_every_regex_entity(examples: list[Example]) -> None:
    counts = Counter(s.entity for e in examples for s in e.spans)
    for entity in REGEX_ENTITIES:
        assert counts[entity] >= 10, (entity, counts[entity])


# --------------------------------------------------------------------------- regexes


@pytest.fixture(scope="module")
def patterns() -> dict[str, list[re.Pattern[str]]]:
    found: dict[str, list[re.Pattern[str]]] = defaultdict(list)
    for item in items_of("regex"):
        for pattern in _examples_of(item["examples"]):
            found[item["regex"]].append(re.compile(pattern, re.IGNORECASE))
    return found


def test_regex_names_equal_entity_names(patterns: dict[str, list[re.Pattern[str]]]) -> None:
    assert set(patterns) == set(REGEX_ENTITIES)


def test_every_annotated_regex_entity_is_found_by_its_regex(
    examples: list[Example], patterns: dict[str, list[re.Pattern[str]]]
) -> None:
    for e in examples:
        for text in (e.text, normalise(e.text)):
            for s in e.spans:
                if s.entity not in patterns:
                    continue
                found = {(m.start(), m.end()) for p in patterns[s.entity] for m in p.finditer(text)}
                assert (s.start, s.end) in found, (e.raw, s.entity)


def test_regexes_find_nothing_unannotated(
    examples: list[Example], patterns: dict[str, list[re.Pattern[str]]]
) -> None:
    # e.g. a mobile-number pattern must not fire inside an 18-digit ID card number.
    for e in examples:
        annotated = {(s.start, s.end, s.entity) for s in e.spans}
        for entity, compiled in patterns.items():
            for p in compiled:
                for m in p.finditer(e.text):
                    assert (m.start(), m.end(), entity) in annotated, (e.raw, entity, m.group())


def test_regexes_reject_near_misses(patterns: dict[str, list[re.Pattern[str]]]) -> None:
    def hits(entity: str, text: str) -> bool:
        return any(p.search(text) for p in patterns[entity])

    assert hits("phone", "电话13812345678") and hits("phone", "０５７５－８７６５４３２１")
    assert not hits("phone", "12345热线") and not hits("phone", "138123456789")
    assert hits("case_number", "fq-2026-000123") and hits(
        "case_number", "ＦＱ－２０２６－０００１２３"
    )
    assert not hits("case_number", "FQ-2026-00012")
    assert hits("id_card", "33068119900307123X") and not hits("id_card", "3306811990030712")


# --------------------------------------------------------------------------- held-out set


@pytest.fixture(scope="module")
def heldout() -> tuple[list[Example], list[Example]]:
    simplified = intent_examples([HELDOUT_SIMPLIFIED])
    traditional = intent_examples([HELDOUT_TRADITIONAL])
    return simplified, traditional


def test_heldout_sets_are_the_same_examples_in_two_scripts(
    heldout: tuple[list[Example], list[Example]],
) -> None:
    simplified, traditional = heldout
    assert len(simplified) == len(traditional) >= 100
    for s, t in zip(simplified, traditional, strict=True):
        assert s.intent == t.intent
        assert [(x.start, x.end, x.entity, x.value) for x in s.spans] == [
            (x.start, x.end, x.entity, x.value) for x in t.spans
        ], t.raw
        assert normalise(t.text) == normalise(s.text), (s.text, t.text)
        assert not is_traditional(s.text), s.text
    share = sum(is_traditional(t.text) for t in traditional) / len(traditional)
    assert share >= 0.9, share


def test_heldout_covers_every_intent_and_is_not_in_training(
    heldout: tuple[list[Example], list[Example]], examples: list[Example]
) -> None:
    simplified, _ = heldout
    assert {e.intent for e in simplified} == ALLOWED_INTENTS
    training = {normalise(e.text) for e in examples}
    leaked = [e.text for e in simplified if normalise(e.text) in training]
    assert not leaked
    assert {s.entity for e in simplified for s in e.spans} >= {"location", "respondent", "amount"}


def test_heldout_spans_align_with_jieba_tokens(
    heldout: tuple[list[Example], list[Example]], tokenizer: jieba.Tokenizer
) -> None:
    for example_set in heldout:
        for e in example_set:
            text = normalise(e.text)
            assert len(text) == len(e.text), e.raw
            starts, ends = boundaries(tokenizer, text)
            for s in e.spans:
                assert s.start in starts and s.end in ends, (e.raw, text[s.start : s.end])


# --------------------------------------------------------------------------- lookups


def test_lookup_entries_are_whole_jieba_words(tokenizer: jieba.Tokenizer) -> None:
    lookups = items_of("lookup")
    assert lookups
    for item in lookups:
        assert item["lookup"] in ALLOWED_ENTITIES
        for entry in _examples_of(item["examples"]):
            assert [w for w, _, _ in tokenizer.tokenize(entry)] == [entry], entry


# --------------------------------------------------------------------------- the checker itself


def test_parse_example_recovers_plain_text_and_offsets() -> None:
    e = parse_example(
        '[楼上](respondent)欠我[两千块](amount)，[還行]{"entity": "satisfaction", "value": "基本满意"}',
        "tell_complaint",
        "x.yml",
    )
    assert e.text == "楼上欠我两千块，還行"
    assert [(s.start, s.end, s.entity, s.value) for s in e.spans] == [
        (0, 2, "respondent", None),
        (4, 7, "amount", None),
        (8, 10, "satisfaction", "基本满意"),
    ]


def test_boundary_check_detects_a_misaligned_span(tokenizer: jieba.Tokenizer) -> None:
    # jieba keeps "邻居家" as one word, so an entity "邻居" inside it cannot be learnt.
    starts, ends = boundaries(tokenizer, "邻居家的狗天天叫")
    assert 0 in starts and 2 not in ends
    # The user dictionary keeps place names whole.
    starts, ends = boundaries(tokenizer, "我住诸暨市枫桥镇栎桥村")
    assert {2, 5, 8} <= starts and {5, 8, 11} <= ends
