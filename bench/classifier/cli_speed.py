"""End-to-end speed of `fengqiao classify` on messages of real length, and per-message latency.

Run from the repository root::

    .venv/bin/python bench/classifier/cli_speed.py [--model DIR] [--repeat 20] [--python PY]

Texts: the messages of ``dev.csv`` (title + detail, average ≈ 400 characters), repeated
``--repeat`` times (20 → 8,940 messages) — used here as text of real length only, never for
training or tuning. The whole command (start, model load, classification, JSON out) runs pinned
to one core (``taskset -c 0`` when available); its wall and CPU times are reported with the
throughput. Then, in this process, each of the 447 messages is classified alone with
``Classifier.classify`` (what the live bot does) and p50 / p95 / max latency are printed.

The machine is shared: wall time includes waiting for the core when others use it, so the CPU
time (user + system) of the command, and each message's CPU time (``time.thread_time``), are
reported too; on an idle core wall and CPU agree.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent.parent / "shared" / "data" / "citizen-messages" / "dev.csv"
if not DEV.exists():
    DEV = Path("/work/shared/data/citizen-messages/dev.csv")
sys.path.insert(0, str(ROOT))


def dev_texts() -> list[str]:
    """Title + detail of every dev message, joined as the evaluation joins them."""
    from routing.understanding.classifier.data import join_text

    with DEV.open(newline="", encoding="utf-8") as f:
        return [join_text(r["title"], r["detail"]) for r in csv.DictReader(f)]


def end_to_end(texts: list[str], repeat: int, python: str, model: Path | None) -> dict[str, float]:
    """Time one `fengqiao classify` run over the texts repeated ``repeat`` times."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "messages.jsonl"
        with source.open("w", encoding="utf-8") as f:
            for k in range(repeat):
                for i, text in enumerate(texts):
                    f.write(json.dumps({"id": f"{k}-{i}", "text": text}, ensure_ascii=False) + "\n")
        command = [python, "-m", "fengqiao.cli", "classify"] + (["--model", str(model)] if model else [])
        if shutil.which("taskset"):
            command = ["taskset", "-c", "0", *command]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with source.open("rb") as stdin:
            out = subprocess.run(command, stdin=stdin, capture_output=True, cwd=ROOT, check=True).stdout
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = len(texts) * repeat
    assert out.count(b"\n") == n, "one answer per message"
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"messages": n, "wall_s": wall, "cpu_s": cpu, "msgs_per_s_wall": n / wall, "msgs_per_s_cpu": n / cpu}


def latency(texts: list[str], model: Path | None) -> dict[str, float]:
    """Single-message latency in this process, after one warm-up call."""
    from routing.understanding.classifier import load

    classifier = load(model)
    classifier.classify(texts[0])
    times, cpu = [], []
    for text in texts:
        t0, c0 = time.perf_counter(), time.thread_time()
        classifier.classify(text)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    times.sort()
    cpu.sort()
    q = int(0.95 * len(times)) - 1
    return {
        "p50_ms": times[len(times) // 2], "p95_ms": times[q], "max_ms": times[-1],
        "cpu_p50_ms": cpu[len(cpu) // 2], "cpu_p95_ms": cpu[q], "cpu_max_ms": cpu[-1],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs fengqiao (default: this one)")
    args = ap.parse_args()
    texts = dev_texts()
    mean = sum(map(len, texts)) / len(texts)
    print(f"dev messages: {len(texts)}, mean {mean:.0f} characters; load average {os.getloadavg()[0]:.1f}")
    e2e = end_to_end(texts, args.repeat, args.python, args.model)
    print(
        f"fengqiao classify, one core: {e2e['messages']} messages in {e2e['wall_s']:.1f} s wall "
        f"({e2e['msgs_per_s_wall']:.0f} msgs/s), CPU {e2e['cpu_s']:.1f} s ({e2e['msgs_per_s_cpu']:.0f} msgs/s)"
    )
    lat = latency(texts, args.model)
    print(f"single message, wall: p50 {lat['p50_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms, max {lat['max_ms']:.2f} ms")
    print(
        f"single message, CPU: p50 {lat['cpu_p50_ms']:.2f} ms, p95 {lat['cpu_p95_ms']:.2f} ms, "
        f"max {lat['cpu_max_ms']:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
