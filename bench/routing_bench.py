"""Benchmark: risk + routing + deadline computation per case (target p95 ≤ 5 ms).

Run: .venv/bin/python bench/routing_bench.py [--cases 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.cases.deadlines import compute_due  # noqa: E402
from routing.orgs.ladder import CaseFacts, route  # noqa: E402
from routing.orgs.registry import load_orgs  # noqa: E402
from routing.understanding.places import load_divisions  # noqa: E402
from routing.understanding.risk import assess  # noqa: E402

PLACES = ["330681104801", "330681104001", "330681104201", "330681102000", "330726106001",
          "330726001201", "330726101001", "330726", "330681"]
TYPES = ["neighbour", "marriage_family", "labour_wage", "property_mgmt", "land_housing", "medical",
         "traffic_accident", "telecom_fraud", "environment_noise", "lending", "consumer_contract"]
TEXTS = ["邻居装修太吵影响休息", "老板拖欠我们二十多个工人工资十几万元", "物业乱收停车费还不开发票",
         "宅基地边界和隔壁有争议，吵了好几年了", "手术后出现并发症医院不承认", "我不想活了，没人管我们",
         "对方说要去法院起诉我"]


class Loads:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def open_case_counts(self, ids):
        return {i: self.rng.randint(0, 12) for i in ids}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(7)
    orgs, places, loads = load_orgs(), load_divisions(), Loads(rng)
    start = date(2026, 1, 5)
    samples = []
    for i in range(args.cases + 100):
        facts = CaseFacts(f"B{i}", rng.choice(PLACES), rng.choice(TEXTS), dispute_type=rng.choice(TYPES))
        received = start + timedelta(days=rng.randint(0, 300))
        t0 = time.perf_counter()
        risk = assess(facts.text, dispute_type=facts.dispute_type)
        decision = route(facts, orgs, risk, places=places, workload=loads, received_on=received)
        compute_due("petition_register", received)
        compute_due("petition_handle", received)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= 100:  # warm-up (lazy loads, regex compile, calendar cache)
            samples.append(elapsed)
        assert decision.body_id
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    result = {"cases": len(samples), "p50_ms": round(p(0.50), 3), "p95_ms": round(p(0.95), 3),
              "p99_ms": round(p(0.99), 3), "mean_ms": round(statistics.mean(samples), 3),
              "target_p95_ms": 5.0}
    print(json.dumps(result))
    return 0 if result["p95_ms"] <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
