"""Measure the danger check on a danger set and an everyday set.

Usage:
    python -m bench.crisis.run --danger FILE --everyday FILE [--json OUT] [--misses]

Both files are JSONL with at least ``text``; danger rows carry ``kind`` and may carry
``script`` (simplified / traditional), ``embedded`` (bool) and ``third_party`` (bool). Missing
``script`` is read from the text, missing ``embedded`` means longer than 150 characters.

Prints recall overall, per kind, per script and per embedded/short; the share of danger rows
whose labelled kind is among the kinds found; third-party agreement; the false-alarm rate on the
everyday set; and the latency of ``routing.understanding.safety.check`` per message (p50/p95 ms of wall
time and of CPU time — on a shared machine the wall time includes waiting for a core — after
the first call, whose load time is reported separately).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from routing.understanding.safety import check
from routing.understanding.text import is_traditional


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _script(row: dict) -> str:
    script = str(row.get("script") or "")
    if script.startswith("trad") or script in ("zh-Hant", "hant"):
        return "traditional"
    if script:
        return "simplified"
    return "traditional" if is_traditional(row["text"]) else "simplified"


def _embedded(row: dict) -> bool:
    value = row.get("embedded")
    return bool(value) if value is not None else len(row["text"]) > 150


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(danger: list[dict], everyday: list[dict]) -> dict:
    """Run the check on every row and return the figures (and the misses, false alarms)."""
    started = time.perf_counter()
    check("预热")  # first call: loads the lexicon and the model
    load_ms = (time.perf_counter() - started) * 1000
    latencies: list[float] = []
    cpu: list[float] = []

    def run(row: dict):
        t0, c0 = time.perf_counter(), time.process_time()
        verdict = check(row["text"])
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        return verdict

    d_results = [(row, run(row)) for row in danger]
    e_results = [(row, run(row)) for row in everyday]
    groups: dict[str, list[bool]] = {}
    for row, verdict in d_results:
        for key in (f"kind={row.get('kind', '?')}", f"script={_script(row)}",
                    f"embedded={_embedded(row)}"):
            groups.setdefault(key, []).append(verdict.danger)
    kind_ok = [row.get("kind") in v.kinds for row, v in d_results if v.danger and row.get("kind")]
    tp_rows = [(row, v) for row, v in d_results if v.danger and "third_party" in row]
    fa = [row for row, v in e_results if v.danger]
    return {
        "danger_rows": len(danger),
        "everyday_rows": len(everyday),
        "recall": round(sum(v.danger for _, v in d_results) / max(len(danger), 1), 4),
        "recall_by": {k: {"n": len(v), "recall": round(sum(v) / len(v), 4)} for k, v in sorted(groups.items())},
        "kind_found": round(sum(kind_ok) / max(len(kind_ok), 1), 4),
        "third_party_agreement": round(
            sum(bool(row["third_party"]) == v.third_party for row, v in tp_rows) / max(len(tp_rows), 1), 4
        ),
        "false_alarm_rate": round(len(fa) / max(len(everyday), 1), 4),
        "false_alarms": len(fa),
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.50), 3),
            "p95": round(_percentile(latencies, 0.95), 3),
            "max": round(max(latencies), 3) if latencies else 0.0,
            "cpu_p50": round(_percentile(cpu, 0.50), 3),
            "cpu_p95": round(_percentile(cpu, 0.95), 3),
            "mean_chars": round(statistics.mean(len(r["text"]) for r in danger + everyday), 1),
        },
        "first_call_ms": round(load_ms, 1),
        "_misses": [{"id": r.get("id"), "kind": r.get("kind"), "text": r["text"]} for r, v in d_results if not v.danger],
        "_false_alarms": [{"id": r.get("id"), "text": r["text"], "kinds": list(v.kinds), "evidence": list(v.evidence)}
                          for r, v in e_results if v.danger],
    }


def print_table(figures: dict) -> None:
    """Print the figures as a plain table."""
    print(f"{'measure':<32} {'n':>6} {'value':>8}")
    print(f"{'recall (danger)':<32} {figures['danger_rows']:>6} {figures['recall']:>8.4f}")
    for key, value in figures["recall_by"].items():
        print(f"{'  recall ' + key:<32} {value['n']:>6} {value['recall']:>8.4f}")
    print(f"{'labelled kind among kinds found':<32} {'':>6} {figures['kind_found']:>8.4f}")
    print(f"{'third-party flag agreement':<32} {'':>6} {figures['third_party_agreement']:>8.4f}")
    print(f"{'false alarms (everyday)':<32} {figures['everyday_rows']:>6} {figures['false_alarm_rate']:>8.4f}")
    lat = figures["latency_ms"]
    print(f"{'latency p50 / p95 / max ms':<32} {'':>6} {lat['p50']:.2f} / {lat['p95']:.2f} / {lat['max']:.2f}")
    print(f"{'CPU time p50 / p95 ms':<32} {'':>6} {lat['cpu_p50']:.2f} / {lat['cpu_p95']:.2f}")
    print(f"{'first call (load) ms':<32} {'':>6} {figures['first_call_ms']:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    """Measure and print; ``--misses`` also lists missed danger rows and false alarms."""
    parser = argparse.ArgumentParser(description="Measure the danger check.")
    parser.add_argument("--danger", type=Path, required=True)
    parser.add_argument("--everyday", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--misses", action="store_true", help="print misses and false alarms")
    args = parser.parse_args(argv)
    figures = measure(read_jsonl(args.danger), read_jsonl(args.everyday))
    print_table(figures)
    public = {k: v for k, v in figures.items() if not k.startswith("_")}
    print(json.dumps(public, ensure_ascii=False, indent=2))
    if args.misses:
        for row in figures["_misses"]:
            print("MISS", json.dumps(row, ensure_ascii=False))
        for row in figures["_false_alarms"]:
            print("FALSE ALARM", json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(public, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
