"""Evaluate routing.understanding.entities on the hand-annotated narratives and time it.

Prints precision / recall / F1 per entity type (micro, over set items), the county resolution
accuracy, the exact place-code accuracy, people-count accuracy and p50 / p95 latency of
``extract()``.

Run: ``.venv/bin/python bench/entities_eval.py [--json] [--show-errors] [--data PATH]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from routing.understanding.entities import Entities, extract  # noqa: E402
from routing.understanding.text import normalise  # noqa: E402

DATA = ROOT / "tests" / "data" / "entities_annotated.jsonl"
LIST_FIELDS = ("respondents", "amounts", "dates", "phones", "id_cards", "case_numbers")


@dataclass
class Counts:
    """True positives, false positives and false negatives for one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """All figures of one evaluation run."""

    n: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)
    county_correct: int = 0
    place_correct: int = 0
    people_correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    long_latencies_ms: list[float] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def county_accuracy(self) -> float:
        return self.county_correct / self.n if self.n else 0.0

    @property
    def place_accuracy(self) -> float:
        return self.place_correct / self.n if self.n else 0.0

    @property
    def people_accuracy(self) -> float:
        return self.people_correct / self.n if self.n else 0.0

    def percentile(self, q: float, long: bool = False) -> float:
        """Return the q-quantile (0–1) of latencies in milliseconds."""
        xs = sorted(self.long_latencies_ms if long else self.latencies_ms)
        if not xs:
            return 0.0
        return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "f1": {k: round(c.f1, 4) for k, c in self.counts.items()},
            "precision": {k: round(c.precision, 4) for k, c in self.counts.items()},
            "recall": {k: round(c.recall, 4) for k, c in self.counts.items()},
            "county_accuracy": round(self.county_accuracy, 4),
            "place_code_accuracy": round(self.place_accuracy, 4),
            "people_count_accuracy": round(self.people_accuracy, 4),
            "latency_ms": {"p50": round(self.percentile(0.5), 3), "p95": round(self.percentile(0.95), 3)},
            "long_latency_ms": {"p50": round(self.percentile(0.5, True), 3),
                                "p95": round(self.percentile(0.95, True), 3)},
        }


def load_examples(path: Path = DATA) -> list[dict[str, Any]]:
    """Read the annotated JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _gold_values(example: dict[str, Any], key: str) -> list[Any]:
    values = example.get(key) or []
    if key in ("respondents", "dates"):
        return [normalise(v) for v in values]
    return list(values)


def _predicted(entities: Entities, key: str) -> list[Any]:
    return list(getattr(entities, key))


def evaluate(examples: list[dict[str, Any]], repeats: int = 1) -> Report:
    """Run extract() on every example and compare with the gold labels.

    Args:
        examples: annotated examples.
        repeats: how many timed passes (the first, untimed, warms the pipeline).

    Returns:
        The report.
    """
    report = Report(n=len(examples), counts={k: Counts() for k in LIST_FIELDS})
    extract("预热")  # build the pipeline and load divisions outside the timing
    for example in examples:
        ents = extract(example["text"])
        for key in LIST_FIELDS:
            gold = Counter(_gold_values(example, key))
            pred = Counter(_predicted(ents, key))
            tp = sum((gold & pred).values())
            report.counts[key].tp += tp
            report.counts[key].fp += sum(pred.values()) - tp
            report.counts[key].fn += sum(gold.values()) - tp
            if gold != pred:
                report.errors.append(
                    {"text": example["text"], "field": key, "gold": list(gold.elements()),
                     "pred": list(pred.elements())}
                )
        county = ents.county
        if county == example.get("county"):
            report.county_correct += 1
        else:
            report.errors.append({"text": example["text"], "field": "county",
                                  "gold": example.get("county"), "pred": county})
        code = ents.place.division.code if ents.place else None
        if code == example.get("place_code"):
            report.place_correct += 1
        else:
            report.errors.append({"text": example["text"], "field": "place_code",
                                  "gold": example.get("place_code"), "pred": code})
        if ents.people_count == example.get("people_count"):
            report.people_correct += 1
        else:
            report.errors.append({"text": example["text"], "field": "people_count",
                                  "gold": example.get("people_count"), "pred": ents.people_count})
    for _ in range(repeats):
        for example in examples:
            start = time.perf_counter()
            extract(example["text"])
            report.latencies_ms.append((time.perf_counter() - start) * 1000)
    # longer messages (about 150–500 characters): several narratives joined
    texts = [e["text"] for e in examples]
    for _ in range(repeats):
        for i in range(len(texts)):
            joined = "".join(texts[i : i + 3 + i % 6])
            start = time.perf_counter()
            extract(joined)
            report.long_latencies_ms.append((time.perf_counter() - start) * 1000)
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the set")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    examples = load_examples(args.data)
    report = evaluate(examples, repeats=args.repeats)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    lengths = [len(e["text"]) for e in examples]
    print(f"examples: {report.n} (text length median {statistics.median(lengths):.0f}, "
          f"max {max(lengths)} chars)")
    print(f"{'type':<14}{'P':>8}{'R':>8}{'F1':>8}{'tp':>6}{'fp':>6}{'fn':>6}")
    for key, c in report.counts.items():
        print(f"{key:<14}{c.precision:>8.3f}{c.recall:>8.3f}{c.f1:>8.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}")
    print(f"county accuracy      {report.county_accuracy:.3f} ({report.county_correct}/{report.n})")
    print(f"place code accuracy  {report.place_accuracy:.3f} ({report.place_correct}/{report.n})")
    print(f"people_count accuracy {report.people_accuracy:.3f} ({report.people_correct}/{report.n})")
    print(f"extract() latency ms p50 {report.percentile(0.5):.2f}  p95 {report.percentile(0.95):.2f}  "
          f"({len(report.latencies_ms)} calls)")
    print(f"long messages (150–500 chars) p50 {report.percentile(0.5, True):.2f}  "
          f"p95 {report.percentile(0.95, True):.2f}  ({len(report.long_latencies_ms)} calls)")
    if args.show_errors:
        for err in report.errors:
            print(json.dumps(err, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
