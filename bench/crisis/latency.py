"""Latency of the danger check on messages of real length.

Usage: python -m bench.crisis.latency [--chars 400] [--messages 300]

Builds messages of ``--chars`` characters from the project's complaint corpus (consecutive
complaint details joined and cut), checks each once after a warm-up, and prints p50/p95 of
wall time and of CPU time per message (on a shared machine the wall time includes waiting for a
core; the CPU time is what the check costs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from routing.understanding.safety import check, model


def messages(chars: int, count: int) -> list[str]:
    """``count`` messages of ``chars`` characters from the complaint corpus."""
    details = [row["detail"] for row in model.complaint_rows()]
    out = []
    for i in range(count):
        text, j = "", i * 13
        while len(text) < chars:
            text += details[j % len(details)]
            j += 1
        out.append(text[:chars])
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures as JSON."""
    parser = argparse.ArgumentParser(description="Latency of routing.understanding.safety.check.")
    parser.add_argument("--chars", type=int, default=400)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args(argv)
    texts = messages(args.chars, args.messages)
    started = time.perf_counter()
    check("预热")
    first = time.perf_counter() - started
    wall, cpu = [], []
    for text in texts:
        t0, c0 = time.perf_counter(), time.process_time()
        check(text)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    cpu.sort()
    pick = lambda xs, q: round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)  # noqa: E731
    print(json.dumps({
        "messages": len(texts), "chars": args.chars, "first_call_ms": round(first * 1000, 1),
        "wall_ms": {"p50": pick(wall, 0.5), "p95": pick(wall, 0.95)},
        "cpu_ms": {"p50": pick(cpu, 0.5), "p95": pick(cpu, 0.95)},
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
