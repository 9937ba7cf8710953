"""The sweep never double-runs: cron and the built-in scheduler share a database lease."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from fengqiao.scheduler import SweepScheduler
from routing.centre.sweep import LOCK_NAME, acquire, release, run_locked
from routing.persistence.db import make_engine, make_session_factory


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


class Report:
    def to_dict(self) -> dict:
        return {}


def test_two_sweeps_at_once_run_one(sessions) -> None:
    running, results = [], []

    def slow_case_sweep(_day: date) -> Report:
        running.append(1)
        time.sleep(1.0)
        return Report()

    def go() -> None:
        results.append(run_locked(sessions, slow_case_sweep, date(2026, 4, 27), datetime.now(UTC)))

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(running) == 1 and sum(r is None for r in results) == 2
    # released: the next run goes ahead
    assert run_locked(sessions, lambda d: Report(), date(2026, 4, 27), datetime.now(UTC)) is not None


def test_a_dead_holders_lease_expires(sessions) -> None:
    now = datetime.now(UTC)
    assert acquire(sessions, LOCK_NAME, "dead:1", 20, now)
    assert not acquire(sessions, LOCK_NAME, "me:2", 20, now + timedelta(minutes=5))
    assert acquire(sessions, LOCK_NAME, "me:2", 20, now + timedelta(minutes=21))
    release(sessions, LOCK_NAME, "me:2", now + timedelta(minutes=22))


def test_the_scheduler_runs_at_start_and_then_on_its_interval() -> None:
    calls: list[float] = []
    scheduler = SweepScheduler(lambda: calls.append(time.monotonic()), 0.2)
    scheduler.start()
    time.sleep(0.5)
    scheduler.stop()
    assert len(calls) >= 2 and scheduler.runs == len(calls)
