"""The sweep as one locked run: clocks, the centre's warnings, supervision, alert escalation.

``fengqiao sweep`` (cron) and the scheduler inside ``fengqiao run`` both call :func:`run_locked`;
a lease row in ``run_locks`` (taken with one conditional UPDATE, atomic on SQLite and
PostgreSQL) makes sure only one of them runs at a time. A holder that died leaves a lease that
expires after ``lock_minutes``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from routing.centre import supervision, warnings, watch
from routing.centre.config import CentreConfig, load_config
from routing.persistence.centre_tables import CentreAlert, RunLock, Supervision

LOCK_NAME = "sweep"


def holder_id() -> str:
    """Return who holds the lock (host and process)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(sessions: sessionmaker, name: str, holder: str, minutes: int, now: datetime) -> bool:
    """Take the lease ``name`` unless someone else holds an unexpired one."""
    expires = now + timedelta(minutes=minutes)
    with sessions.begin() as s:
        got = s.execute(update(RunLock).where(RunLock.name == name, RunLock.expires_at < now)
                        .values(holder=holder, expires_at=expires)).rowcount
        if got:
            return True
        if s.execute(select(RunLock.name).where(RunLock.name == name)).first() is not None:
            return False
    try:
        with sessions.begin() as s:
            s.execute(insert(RunLock).values(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False


def release(sessions: sessionmaker, name: str, holder: str, now: datetime) -> None:
    """Give the lease back (only if we still hold it) and stamp the run."""
    with sessions.begin() as s:
        s.execute(update(RunLock).where(RunLock.name == name, RunLock.holder == holder)
                  .values(expires_at=now, last_run_at=now))


@dataclass
class CentreSweep:
    """What the centre's part of a sweep did."""

    raised: dict[str, int] = field(default_factory=dict)
    supervision_overdue: int = 0
    escalated: int = 0
    closed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {"alerts_raised": self.raised, "supervision_overdue": self.supervision_overdue,
                "alerts_escalated": self.escalated, "alerts_closed": self.closed}


def centre_pass(sessions: sessionmaker, today: date, now: datetime, cfg: CentreConfig | None = None) -> CentreSweep:
    """Raise the sweep's warnings, mark overdue supervisions, escalate and close alerts."""
    cfg = cfg or load_config()
    out = CentreSweep()
    with sessions.begin() as s:
        out.raised = watch.scan_cases(s, today, now, cfg)
    with sessions.begin() as s:
        out.supervision_overdue = supervision.scan_overdue(s, today)
    with sessions.begin() as s:
        out.escalated = warnings.escalate_unacknowledged(s, now, cfg.ack_minutes, cfg.max_level)
    with sessions.begin() as s:
        for alert in s.execute(select(CentreAlert).where(CentreAlert.state.in_(("acknowledged", "assessed",
                                                                                  "assigned")))).scalars():
            if alert.kind == "supervision_overdue" and alert.case_id is None:
                out.closed += _close_supervision_alert(s, alert, now)
            else:
                out.closed += warnings.close_if_done(s, alert, now)
    return out


def _close_supervision_alert(s, alert: CentreAlert, now: datetime) -> int:  # type: ignore[no-untyped-def]
    sup_id = int(alert.key.split(":")[1].split("#")[0])
    sup = s.get(Supervision, sup_id)
    if sup is None or sup.state not in ("answered", "lifted"):
        return 0
    alert.state, alert.closed_at = "closed", now
    warnings.step(s, alert, "closed", "system", "被督办单位已反馈或督办已撤销", at=now)
    return 1


def run_locked(sessions: sessionmaker, case_sweep: Callable[[date], Any], today: date, now: datetime,
               cfg: CentreConfig | None = None) -> dict[str, Any] | None:
    """Run the whole sweep under the lease; return its summary, or None when another run holds it."""
    cfg = cfg or load_config()
    me = holder_id()
    if not acquire(sessions, LOCK_NAME, me, cfg.lock_minutes, now):
        return None
    try:
        report = case_sweep(today)
        centre = centre_pass(sessions, today, warnings.utcnow(), cfg)
        summary = report.to_dict() if hasattr(report, "to_dict") else {}
        summary["centre"] = centre.to_dict()
        return summary
    finally:
        release(sessions, LOCK_NAME, me, warnings.utcnow())
