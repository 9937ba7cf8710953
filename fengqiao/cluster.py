"""The cluster profile: N Rasa processes, N action servers and N gateways on one machine (issue 15).

Rasa runs on its documented scale-out (`deploy/endpoints.production.yml`): a PostgreSQL tracker
store shared by every Rasa process and a Redis lock store, so any process can continue any
conversation and its turns stay one at a time. Action server *i* serves Rasa process *i mod N*
(Rasa takes one action URL; on several machines a load balancer takes this place). Every
gateway knows every Rasa process (`RASA_URLS`) with its action server's health URL, and shares
the inbox with the other gateways through leases. The supervisor restarts a process that dies.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from fengqiao.processes import MODEL, Service, action_service, rasa_service, web_service

log = logging.getLogger("fengqiao.cluster")


class ClusterError(ValueError):
    """The cluster cannot run with these settings."""


def production_env(database_url: str, redis_url: str, tracker_url: str = "") -> dict[str, str]:
    """Return the variables `deploy/endpoints.production.yml` reads.

    Args:
        database_url: the case database (PostgreSQL); the tracker store defaults to a
            database beside it named ``<name>_tracker`` (Rasa creates it on first start).
        redis_url: ``redis://host:port/db`` for the lock store.
        tracker_url: another PostgreSQL URL for the tracker store (optional).

    Raises:
        ClusterError: the URLs are not PostgreSQL and Redis.
    """
    case = make_url(database_url)
    if not case.drivername.startswith("postgres"):
        raise ClusterError("the cluster profile needs DATABASE_URL on PostgreSQL (several processes share it)")
    tracker = make_url(tracker_url) if tracker_url else case.set(database=f"{case.database}_tracker")
    redis = make_url(redis_url) if redis_url else None
    if redis is None or redis.drivername not in ("redis", "rediss"):
        raise ClusterError("the cluster profile needs REDIS_URL (redis://host:port/db) for Rasa's lock store")
    return {
        "RASA_TRACKER_PG_HOST": tracker.host or "127.0.0.1",
        "RASA_TRACKER_PG_PORT": str(tracker.port or 5432),
        "RASA_TRACKER_PG_DB": str(tracker.database),
        "RASA_TRACKER_PG_USER": tracker.username or "postgres",
        "RASA_TRACKER_PG_PASSWORD": tracker.password or "",
        "REDIS_HOST": redis.host or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_LOCK_DB": str(redis.database or "0"),
    }


def ensure_tracker_database(env: dict[str, str]) -> bool:
    """Create Rasa's tracker database if it is missing; return whether it was created.

    Needed: Rasa 3.6 does not create it when several processes start together, and when it
    cannot reach it, it falls back to an in-memory tracker store per process with only an ERROR
    in its log — conversations would then silently split between processes.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import URL

    admin = URL.create("postgresql+psycopg", username=env["RASA_TRACKER_PG_USER"],
                       password=env["RASA_TRACKER_PG_PASSWORD"] or None, host=env["RASA_TRACKER_PG_HOST"],
                       port=int(env["RASA_TRACKER_PG_PORT"]), database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            name = env["RASA_TRACKER_PG_DB"]
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                return False
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Layout:
    """How many processes of each kind, and their first ports (then +1, +2 …)."""

    rasa: int = 2
    actions: int = 2
    gateways: int = 2
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8080

    def rasa_urls(self) -> list[str]:
        """Return every Rasa process's base URL."""
        return [f"http://127.0.0.1:{self.rasa_port + i}" for i in range(self.rasa)]

    def action_of(self, rasa_index: int) -> int:
        """Return the port of the action server Rasa process `rasa_index` calls."""
        return self.action_port + rasa_index % self.actions


def cluster_services(layout: Layout, log_dir: Path, database_url: str, redis_url: str, tracker_url: str = "",
                     model: Path = MODEL, **gateway_env: str) -> list[Service]:
    """Describe every process of the cluster, action servers first (Rasa calls them).

    Raises:
        ClusterError: a count is below 1, or the URLs are not PostgreSQL and Redis.
    """
    if min(layout.rasa, layout.actions, layout.gateways) < 1:
        raise ClusterError("--rasa, --actions and --gateways must be at least 1")
    env = production_env(database_url, redis_url, tracker_url)
    services = [action_service(layout.action_port + i, log_dir, database_url, name=f"actions-{i + 1}")
                for i in range(layout.actions)]
    services += [rasa_service(layout.rasa_port + i, layout.action_of(i), log_dir, None, model,
                              name=f"rasa-{i + 1}", production=env) for i in range(layout.rasa)]
    health = ",".join(f"http://127.0.0.1:{layout.action_of(i)}/health" for i in range(layout.rasa))
    for i in range(layout.gateways):
        services.append(web_service(
            layout.web_port + i, layout.rasa_port, log_dir, database_url, None,
            RASA_URLS=",".join(layout.rasa_urls()), ACTION_HEALTH_URLS=health,
            FENGQIAO_PROCESS_NAME=f"gateway-{i + 1}", **gateway_env))
    return services


@dataclass
class Supervisor:
    """Starts the services, waits until each is ready, and restarts one that dies."""

    services: list[Service]
    restart_delay: float = 2.0
    restarts: dict[str, int] = field(default_factory=dict)

    def start(self, ready_timeout: float = 600) -> None:
        """Start every service, then wait for each to be ready (Rasa loads its model for minutes)."""
        for service in self.services:
            service.start()
        for service in self.services:
            service.wait_ready(ready_timeout)

    def check(self) -> list[str]:
        """Restart every service whose process has exited; return their names."""
        restarted = []
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                log.warning("%s exited with %s: restarting", service.name, service.process.returncode)
                time.sleep(self.restart_delay)
                service.start()
                self.restarts[service.name] = self.restarts.get(service.name, 0) + 1
                restarted.append(service.name)
        return restarted

    def stop(self) -> None:
        """Stop every service, gateways first."""
        for service in reversed(self.services):
            service.stop()


def tracker_fallbacks(services: list[Service]) -> int:
    """Count the turns on which a Rasa process fell back to an in-memory tracker (must be 0)."""
    count = 0
    for service in services:
        if service.name.startswith("rasa") and service.log_path.exists():
            count += service.log_path.read_text(errors="replace").count("Falling back to use the 'InMemoryTrackerStore'")
    return count
