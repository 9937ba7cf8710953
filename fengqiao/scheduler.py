"""The sweep's scheduler inside `fengqiao run`: once at start, then every interval.

A county that never set up cron still gets its near-due, overdue and early-warning alerts.
Cron may run `fengqiao sweep` as well: both take the database lease (``routing.centre.sweep``),
so the two never run at the same time; a run that finds the lease held is skipped.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger("fengqiao.scheduler")


class SweepScheduler:
    """Run ``job`` now and then every ``interval_s`` seconds on a daemon thread until stopped."""

    def __init__(self, job: Callable[[], object], interval_s: float) -> None:
        """Keep the job and its interval (seconds)."""
        self._job = job
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweep-scheduler", daemon=True)
        self.runs = 0

    def start(self) -> None:
        """Start the thread (the first run happens at once)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait a little for it."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = self._job()
                self.runs += 1
                log.info("sweep: %s", "skipped (another run holds the lock)" if result is None else "done")
            except Exception:  # noqa: BLE001 — a failed sweep must not stop the next one
                log.exception("sweep failed")
            self._stop.wait(self._interval)


def from_settings(database_url: str, rules: str) -> SweepScheduler | None:
    """Build the scheduler for the running product (None when SWEEP_INTERVAL_MINUTES is 0)."""
    from fengqiao.commands.sweep import sweep_once
    from fengqiao.settings import get_settings
    from routing.centre.config import load_config
    from routing.persistence.db import make_engine, make_session_factory

    raw = os.environ.get("SWEEP_INTERVAL_MINUTES", "").strip()
    minutes = float(raw) if raw else float(load_config().sweep_interval_minutes)
    if minutes <= 0:
        return None
    sessions = make_session_factory(make_engine(database_url))
    settings = get_settings()
    return SweepScheduler(lambda: sweep_once(sessions, settings), minutes * 60)
