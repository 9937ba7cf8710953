"""Start the real assistant for a bench run: Rasa (+ action server + web gateway) on loopback,
with a fresh SQLite case database, as the end-to-end tests do."""

from __future__ import annotations

import contextlib
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fengqiao.migrate import upgrade  # noqa: E402
from fengqiao.processes import action_service, rasa_service, web_service  # noqa: E402
from fengqiao.settings import rasa_api_token  # noqa: E402


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    """Ports and database of a running stack."""

    rasa_url: str
    web_url: str | None
    database_url: str
    token: str


@contextlib.contextmanager
def stack(with_web: bool = True, log_dir: Path | None = None) -> Iterator[Running]:
    """Start Rasa (and, with `with_web`, the action server and gateway); stop them after."""
    tmp = Path(tempfile.mkdtemp(prefix="fq-bench-"))
    logs = log_dir or tmp / "logs"
    url = f"sqlite:///{tmp / 'cases.db'}"
    upgrade(url)
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    services = [rasa_service(rasa_port, action_port, logs, tmp / "tracker.db")]
    if with_web:
        services += [action_service(action_port, logs, url), web_service(web_port, rasa_port, logs, url)]
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(900)  # a loaded machine needs minutes to load a model
        yield Running(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{web_port}" if with_web else None,
                      url, rasa_api_token())
    finally:
        for service in reversed(services):
            service.stop()
