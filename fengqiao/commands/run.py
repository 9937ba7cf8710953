"""`fengqiao run`: start Rasa, the action server and the web chat, print the URL."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from fengqiao.processes import MODEL, action_service, rasa_service, web_service
from fengqiao.settings import get_settings
from routing.persistence.db import REPO_ROOT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` verb."""
    parser = subparsers.add_parser("run", help="run the assistant (Rasa + actions + web chat)")
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--profile", choices=("single", "cluster"), default="single",
                        help="single: one process of each kind (SQLite works); cluster: several, on "
                             "PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    parser.add_argument("--rasa", type=int, default=2, help="cluster: Rasa processes")
    parser.add_argument("--actions", type=int, default=2, help="cluster: action servers")
    parser.add_argument("--gateways", type=int, default=2, help="cluster: gateways (web ports WEB_PORT, +1 …)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the three processes and keep them running until Ctrl-C."""
    settings = get_settings()
    if not MODEL.exists():
        print("No trained model: run `make run` (it trains one) or `make train`.", file=sys.stderr)
        return 2
    from fengqiao.migrate import upgrade

    upgrade(settings.database_url)  # idempotent: a database left behind by an older version is brought up to date
    if args.profile == "cluster":
        return run_cluster(args, settings)
    log_dir = REPO_ROOT / "var" / "log"
    services = [
        action_service(settings.action_port, log_dir, settings.database_url),
        rasa_service(args.rasa_port, settings.action_port, log_dir, REPO_ROOT / "var" / "tracker.db"),
        web_service(settings.web_port, args.rasa_port, log_dir, settings.database_url, settings.action_port),
    ]
    stop = _stop_on_signals()
    try:
        for service in services:
            print(f"starting {service.name} … (log: {service.log_path.relative_to(REPO_ROOT)})", flush=True)
            service.start()
        for service in services:
            service.wait_ready(180)
        print(f"\n枫桥助手 is ready: open http://{settings.web_host}:{settings.web_port}/ "
              "(web chat) — or chat in this terminal with `.venv/bin/fengqiao chat`.", flush=True)
        _telegram_notice()
        from fengqiao.scheduler import from_settings

        scheduler = from_settings(settings.database_url, settings.deadline_rules)
        if scheduler is not None:
            scheduler.start()  # the sweep runs by itself: once now, then on its interval
            print("sweep scheduler on (SWEEP_INTERVAL_MINUTES, default from routing/data/orgs/centre.yaml).",
                  flush=True)
        while not stop.is_set() and all(s.process and s.process.poll() is None for s in services):
            time.sleep(0.5)
    finally:
        for service in reversed(services):
            service.stop()
    return 0


def _telegram_notice() -> None:
    import os

    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        print("Telegram is off (no TELEGRAM_BOT_TOKEN); web chat and everything else run.", flush=True)
    else:
        mode = os.environ.get("TELEGRAM_MODE") or ("webhook" if os.environ.get("TELEGRAM_WEBHOOK_URL") else "polling")
        print(f"Telegram is on ({mode}); its log is in var/log/web.log.", flush=True)


def run_cluster(args: argparse.Namespace, settings) -> int:  # type: ignore[no-untyped-def]
    """Start the cluster profile and restart any process that dies, until Ctrl-C."""
    import os

    from fengqiao.cluster import (
        ClusterError,
        Layout,
        Supervisor,
        cluster_services,
        ensure_tracker_database,
        production_env,
    )

    layout = Layout(args.rasa, args.actions, args.gateways, args.rasa_port, settings.action_port,
                    settings.web_port)
    redis, tracker = os.environ.get("REDIS_URL", ""), os.environ.get("RASA_TRACKER_DATABASE_URL", "")
    try:
        services = cluster_services(layout, REPO_ROOT / "var" / "log", settings.database_url, redis, tracker)
        ensure_tracker_database(production_env(settings.database_url, redis, tracker))
    except ClusterError as exc:
        print(exc, file=sys.stderr)
        return 2
    supervisor = Supervisor(services)
    stop = _stop_on_signals()
    try:
        print(f"starting {len(services)} processes (logs in var/log/) …", flush=True)
        supervisor.start()
        for service in services:
            print(f"  {service.name}: ready ({service.ready_url})", flush=True)
        print(f"枫桥助手 cluster is ready: web chat on ports {settings.web_port}–{settings.web_port + args.gateways - 1}"
              " (put a load balancer in front); each gateway answers /health and /ready.", flush=True)
        while not stop.is_set():
            supervisor.check()
            time.sleep(0.5)
    finally:
        supervisor.stop()
    return 0


def _stop_on_signals() -> threading.Event:
    """Return an event that SIGINT or SIGTERM sets (the run loops poll it)."""
    stop = threading.Event()

    def handle(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop
