"""Run every reproducible benchmark of the project, one after the other (`make bench`).

Each benchmark prints its own figures; heavy ones (1,000,000-case sweep, 200 concurrent
conversations) only run with --heavy. Figures and their interpretation: bench/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")

LIGHT = [
    ["bench/routing_bench.py"],
    ["bench/entities_eval.py"],
    ["bench/classifier/speed.py"],
    ["bench/chat_latency.py", "--turns", "200"],
]
HEAVY = [
    ["bench/sweep_bench.py"],
    ["bench/chat_load.py"],
    ["bench/console_queue_bench.py"],
    ["bench/open311_bench.py", "--cases", "1000000", "--runs", "40"],
]


def main() -> int:
    """Run the benchmarks that exist; report which failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heavy", action="store_true", help="also run the long benchmarks")
    args = parser.parse_args()
    failed = []
    for command in LIGHT + (HEAVY if args.heavy else []):
        script = ROOT / command[0]
        if not script.exists():
            continue
        print(f"\n=== {' '.join(command)}", flush=True)
        if subprocess.run([PY, *command], cwd=ROOT).returncode != 0:
            failed.append(command[0])
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
