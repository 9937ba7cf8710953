"""Bench what hotspot detection adds to a filing, side by side: the same filings with and without it.

    .venv/bin/python bench/centre/hotspot_filing.py --url postgresql+psycopg://postgres@127.0.0.1/fq_deskapi \
        --region 330681 --rounds 40

Every filing goes the whole write path (``CaseService.file_case``: routing policy, clocks, events,
the centre's on-filing warnings) into the bench database (1,000,000 cases, see ``bench_desk.py``).
Each round files, in alternation with detection on and off (``routing.centre.hotspots.detect``
replaced by a no-op), two kinds of filing:

- ``new_hotspot``: three complaints of a problem nobody reported before in one township; the
  third opens a new hotspot (alert, members, steps) — the expensive path;
- ``common_problem``: one wage-arrears complaint (the commonest level-2 category) in a township
  drawn at random: the candidate query reads the last window of that category, and the filing
  raises, joins or leaves alone the township's cluster as the data decide.

Reported per kind: p50/p95 of the whole filing with and without detection, and of the time spent
inside ``detect`` (with the flush of what it wrote) on the filings that had it — wall clock, and
this process's CPU time (the rest is waiting on PostgreSQL, which on a loaded machine is mostly
waiting for a core). The target is p95 of the latter (and of the difference) ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fengqiao.bootstrap import units_of_work
from routing.cases.filing_policy import make_policy  # noqa: E402
from routing.cases.service import CaseService  # noqa: E402
from routing.centre import hotspots, places  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402
from tests.integration.centre_support import LABOUR, draft  # noqa: E402

REAL_DETECT = hotspots.detect


def _stats(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"n": len(s), "p50_ms": round(statistics.median(s), 2),
            "p95_ms": round(s[max(0, math.ceil(len(s) * 0.95) - 1)], 2)}


def main() -> int:
    """File the rounds; print one JSON document."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--region", default="330681", help="county whose townships receive the filings")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    engine = make_engine(args.url)
    sessions = make_session_factory(engine)
    service = CaseService(sessions, make_policy("stricter", sessions), lambda: datetime.now(UTC).date(),
                          uows=units_of_work(sessions))
    towns = [d for d in places.index().children(args.region) if d.level == "township"]
    inside: list[float] = []
    inside_cpu: list[float] = []

    def timed_detect(session, case, *a, **kw):  # type: ignore[no-untyped-def]
        start, cpu = time.perf_counter(), time.process_time()
        alert = REAL_DETECT(session, case, *a, **kw)
        session.flush()  # what detect wrote is part of its cost
        inside.append((time.perf_counter() - start) * 1000)
        inside_cpu.append((time.process_time() - cpu) * 1000)  # this process only: the rest is waiting on PostgreSQL
        return alert

    def off(session, case, *a, **kw):  # type: ignore[no-untyped-def]
        return None

    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    stamp = time.time_ns() % 10**10

    def file(kind: str, d, on: bool) -> None:  # type: ignore[no-untyped-def]
        hotspots.detect = timed_detect if on else off  # type: ignore[assignment]
        before = len(inside)
        start = time.perf_counter()
        service.file_case(d)
        took = (time.perf_counter() - start) * 1000
        samples[kind]["filing_with" if on else "filing_without"].append(took)
        if on:
            samples[kind]["detect_only"].extend(inside[before:])
            samples[kind]["detect_only_cpu"].extend(inside_cpu[before:])

    for r in range(args.rounds):
        for on in ((True, False) if r % 2 == 0 else (False, True)):
            town = rng.choice(towns)
            label = places.label(town.code)
            token = f"bench{stamp}r{r}{'a' if on else 'b'}"
            fresh = (LABOUR[0], token, token)
            tag = "on" if on else "off"
            for i in range(3):
                d = draft(f"工地老板拖欠工资不发{token}{i}", label, fresh, user=f"web:hs{stamp}{r}{tag}{i}")
                file("new_hotspot" if i == 2 else "new_hotspot_first_two", d, on)
            d = draft(f"公司拖欠我们工资半年{token}", places.label(rng.choice(towns).code), LABOUR,
                      user=f"web:hc{stamp}{r}{tag}")
            file("common_problem", d, on)
    hotspots.detect = REAL_DETECT  # type: ignore[assignment]
    out: dict[str, dict[str, object]] = {}
    for kind, series in samples.items():
        res: dict[str, object] = {name: _stats(v) for name, v in series.items()}
        w, wo = res["filing_with"], res["filing_without"]
        res["added_p50_ms"] = round(w["p50_ms"] - wo["p50_ms"], 2)  # type: ignore[index]
        res["added_p95_ms"] = round(w["p95_ms"] - wo["p95_ms"], 2)  # type: ignore[index]
        out[kind] = res
    print(json.dumps({"region": args.region, "rounds": args.rounds, "load_avg": round(os.getloadavg()[0], 1),
                      "kinds": out}, ensure_ascii=False, indent=1))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
