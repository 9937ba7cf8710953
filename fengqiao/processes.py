"""Start and stop the assistant's processes (used by `fengqiao run` and the end-to-end tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from fengqiao.settings import rasa_api_token
from routing.persistence.db import REPO_ROOT

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
MODEL = REPO_ROOT / "models" / "fengqiao.tar.gz"


@dataclass
class Service:
    """A child process with the URL that tells it is ready."""

    name: str
    args: list[str]
    ready_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the process, its output going to `log_path`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the fd
            self.process = subprocess.Popen(
                self.args, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float) -> None:
        """Poll `ready_url` until it answers 200.

        Raises:
            RuntimeError: the process died or did not get ready in time.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Stop the process group (SIGKILL after `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def base_env(**overrides: str) -> dict[str, str]:
    """Return the environment every child gets."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(overrides)
    return env


def rasa_service(port: int, action_port: int, log_dir: Path, tracker_db: Path | None, model: Path = MODEL,
                 name: str = "rasa", production: dict[str, str] | None = None) -> Service:
    """Describe the Rasa server (REST channel on loopback).

    Args:
        tracker_db: the SQLite tracker file (one process), or None with `production`.
        production: the variables of `deploy/endpoints.production.yml` (PostgreSQL tracker
            store, Redis lock store: several Rasa processes share conversations).
    """
    env = base_env(ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook")
    endpoints = "endpoints.yml"
    if production is not None:
        env.update(production)
        endpoints = "deploy/endpoints.production.yml"
    else:
        env["RASA_TRACKER_DB"] = str(tracker_db)
    # The HTTP API (token-protected, loopback) lets the gateway ask whether a turn it sent just
    # before a crash reached the tracker, so that turn is not sent twice.
    args = [
        str(RASA_BIN), "run", "--model", str(model), "--endpoints", endpoints,
        "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(port),
        "--enable-api", "--auth-token", rasa_api_token(),
    ]
    return Service(name, args, f"http://127.0.0.1:{port}/", env, log_dir / f"{name}.log")


def action_service(port: int, log_dir: Path, database_url: str, name: str = "actions") -> Service:
    """Describe the action server (rasa-sdk, on loopback; it keeps no state of its own)."""
    env = base_env(DATABASE_URL=database_url)
    args = [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    # rasa-sdk binds every interface and has no flag for it; the port is only for Rasa.
    return Service(name, args, f"http://127.0.0.1:{port}/health", env, log_dir / f"{name}.log")


def web_service(
    port: int, rasa_port: int, log_dir: Path, database_url: str, action_port: int | None = None,
    **extra_env: str,
) -> Service:
    """Describe the gateway web app (web chat, Telegram when a token is set, relays).

    Args:
        port: the web port.
        rasa_port: Rasa's REST port on loopback.
        log_dir: where `web.log` goes.
        database_url: the case database (inbox and outbox live there too).
        action_port: when given, each turn first checks the action server is up, so a turn
            whose actions would fail waits in the inbox instead.
        extra_env: more variables (``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE_URL`` …).
    """
    env = base_env(
        DATABASE_URL=database_url, RASA_URL=f"http://127.0.0.1:{rasa_port}", WEB_PORT=str(port),
        WEB_HOST="127.0.0.1",
    )
    if action_port is not None:
        env["ACTION_HEALTH_URL"] = f"http://127.0.0.1:{action_port}/health"
    env.update(extra_env)
    args = [str(APP_PYTHON), "-m", "gateway"]
    name = extra_env.get("FENGQIAO_PROCESS_NAME", "web")
    ready = "ready" if "RASA_URLS" in extra_env else "health"
    return Service(name, args, f"http://127.0.0.1:{port}/{ready}", env, log_dir / f"{name}.log")
