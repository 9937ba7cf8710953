"""Throughput and latency of the shipped classifier on one core.

Run from the repository root::

    taskset -c 0 .venv/bin/python bench/classifier/speed.py [--model DIR]

Texts: the project's own corpus (titles + details, mixed lengths). Prints batch throughput
(``classify_many`` in batches of 256, what ``fengqiao classify`` does) and single-message
latency p50 / p95 / max (``classify``, what the live bot does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from routing.understanding.classifier import load  # noqa: E402
from routing.understanding.classifier.data import project_examples  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    texts = [e.text for e in project_examples()][: args.n]
    model = load(args.model)
    model.classify_many(texts[:50])  # warm up jieba and OpenCC
    started = time.perf_counter()
    for i in range(0, len(texts), 256):
        model.classify_many(texts[i : i + 256])
    batch_seconds = time.perf_counter() - started
    latencies = []
    for text in texts[:500]:
        t0 = time.perf_counter()
        model.classify(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    mean_len = statistics.mean(len(t) for t in texts)
    print(f"texts={len(texts)} mean_chars={mean_len:.0f}")
    print(f"batch throughput={len(texts) / batch_seconds:.0f} msgs/s")
    print(f"single latency p50={latencies[len(latencies) // 2]:.2f} ms p95={p95:.2f} ms max={latencies[-1]:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
