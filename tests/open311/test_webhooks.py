"""Webhooks: signatures, the SSRF guard, the delivery rules, and a real receiver killed mid-run."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from fengqiao.bootstrap import units_of_work
from gateway.open311.delivery import GuardedResolver, WebhookSender
from routing.cases.filing_policy import make_policy
from routing.cases.service import CaseService
from routing.open311 import webhooks as wh
from routing.open311.keys import create_key
from routing.persistence.case_tables import Alert, utcnow
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.open311_tables import WebhookEndpoint, WebhookMessage
from tests.open311.conftest import TODAY, repo_root
from tests.web.console_helpers import draft


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(database_url: str) -> Iterator[sessionmaker]:
    """A migrated store (SQLite, then PostgreSQL) with an API key named dept."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        create_key(s, "dept", ["read"])
    yield sessions
    engine.dispose()


def _public(host: str, port: int) -> list[str]:
    """A stand-in DNS: the department's host is public, any other name is internal."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return ["93.184.216.34"] if host == "hooks.dept.example" else ["10.1.2.3"]


# ---------------------------------------------------------------------- signing
def test_signature_is_standard_webhooks_and_two_secrets_sign_during_rotation(store: sessionmaker) -> None:
    # The Standard Webhooks reference vector (standard-webhooks spec, "Signature scheme").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert wh.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    with store.begin() as s:
        made = wh.add_endpoint(s, "dept", "https://hooks.dept.example/in", ["case.filed"], resolve=_public)
        assert made.secret.startswith("whsec_")
        fresh = wh.rotate_secret(s, made.id)
        header = wh.signature_header(s.get(WebhookEndpoint, made.id).secrets, "msg_1", 1700000000, "{}")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": header}
    assert wh.verify(made.secret, headers, "{}", 1700000000) and wh.verify(fresh, headers, "{}", 1700000000)
    assert not wh.verify(made.secret, headers, "{}", 1700000000 + 301)  # too old: replay refused
    assert not wh.verify(made.secret, {**headers, "webhook-id": "msg_2"}, "{}", 1700000000)
    with store.begin() as s:
        wh.end_rotation(s, made.id)
        assert s.get(WebhookEndpoint, made.id).secrets == [fresh]


# ---------------------------------------------------------------------- the SSRF guard
@pytest.mark.parametrize("url", [
    "https://10.0.0.5/hook", "https://192.168.1.20/hook", "https://172.16.0.1/hook", "https://169.254.169.254/latest",
    "https://100.64.0.1/hook", "https://[fd00::1]/hook", "https://[::ffff:10.0.0.1]/hook", "https://0.0.0.0/hook",
    "https://127.0.0.1/hook", "http://hooks.dept.example/hook", "https://internal.dept.example/hook",
    "ftp://hooks.dept.example/x", "https://user:pw@hooks.dept.example/x",
])
def test_private_and_plain_http_urls_are_refused(store: sessionmaker, url: str) -> None:
    with store.begin() as s, pytest.raises(wh.WebhookError):
        wh.add_endpoint(s, "dept", url, ["case.filed"], resolve=_public)


def test_loopback_only_in_development() -> None:
    assert wh.check_url("http://127.0.0.1:8099/hook", allow_loopback=True)
    with pytest.raises(wh.WebhookError):
        wh.check_url("http://127.0.0.1:8099/hook", allow_loopback=False)
    with pytest.raises(wh.WebhookError):
        wh.check_url("http://10.0.0.2/hook", allow_loopback=True)


async def test_the_sender_never_connects_to_a_private_address() -> None:
    resolver = GuardedResolver(allow_loopback=False)
    with pytest.raises(OSError):
        await resolver.resolve("127.0.0.1", 443)
    await resolver.close()


# ---------------------------------------------------------------------- delivery rules
def _one_message(store: sessionmaker) -> int:
    with store.begin() as s:
        made = wh.add_endpoint(s, "dept", "https://hooks.dept.example/in", ["case.filed"], resolve=_public)
        ep = s.get(WebhookEndpoint, made.id)
        wh._queue(s, ep, "case-event:1", "case.filed", '{"type":"case.filed"}')
        return int(s.execute(select(WebhookMessage.id)).scalar_one())


def test_retry_after_410_and_giving_up(store: sessionmaker) -> None:
    msg = _one_message(store)
    now = utcnow()
    with store.begin() as s:
        assert wh.record_outcome(s, msg, wh.Outcome(503, "HTTP 503", retry_after=600), now=now) == "pending"
        row = s.get(WebhookMessage, msg)
        assert row.next_attempt_at.replace(tzinfo=now.tzinfo) >= now + timedelta(seconds=600)
    with store.begin() as s:
        assert wh.record_outcome(s, msg, wh.Outcome(410, "HTTP 410"), now=now) == "failed"
        ep = s.get(WebhookEndpoint, s.get(WebhookMessage, msg).endpoint_id)
        assert ep.status == "disabled" and "410" in ep.disabled_reason
        assert s.execute(select(Alert.level)).scalars().all() == ["yellow"]  # the centre is told
    with store.begin() as s:
        wh.set_enabled(s, ep.id, True)
        assert wh.replay(s, ep.id) == 1
        row = s.get(WebhookMessage, msg)
        assert row.status == "pending" and row.msg_id.startswith("msg_")


def test_about_three_days_of_retries_then_disabled(store: sessionmaker) -> None:
    total = sum(wh.SCHEDULE)
    assert 2.8 * 86400 < total < 3.2 * 86400
    msg = _one_message(store)
    now = utcnow()
    for attempt in range(1, len(wh.SCHEDULE) + 2):
        with store.begin() as s:
            status = wh.record_outcome(s, msg, wh.Outcome(None, "ConnectionRefused"), now=now)
            now = now + timedelta(seconds=wh.SCHEDULE[min(attempt, len(wh.SCHEDULE)) - 1])
        if status == "failed":
            break
    with store.begin() as s:
        ep = s.get(WebhookEndpoint, s.get(WebhookMessage, msg).endpoint_id)
        assert status == "failed" and ep.status == "disabled" and len(wh.delivery_log(s, ep.id)) == attempt


def test_jitter_stays_within_twenty_percent() -> None:
    assert wh.next_delay(2, rng=lambda: 0.0) == pytest.approx(300 * 0.8)
    assert wh.next_delay(2, rng=lambda: 1.0) == pytest.approx(300 * 1.2)
    assert wh.next_delay(len(wh.SCHEDULE) + 1) is None


# ---------------------------------------------------------------------- a real receiver
class Receiver:
    """The receiver process (tests/open311/receiver.py)."""

    def __init__(self, port: int, log: Path, secret: str, delay: float = 0.0) -> None:
        """Remember how to start it."""
        self.port, self.log, self.secret, self.delay = port, log, secret, delay
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until it listens."""
        env = {**os.environ, "WEBHOOK_SECRET": self.secret, "PYTHONPATH": str(repo_root()),
               "RECEIVER_DELAY": str(self.delay)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.open311.receiver", str(self.port), str(self.log)],
                                     cwd=repo_root(), env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("receiver did not start")

    def kill(self) -> None:
        """SIGKILL it (no goodbye)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def lines(self) -> list[dict[str, object]]:
        """Everything it received."""
        if not self.log.exists():
            return []
        return [json.loads(x) for x in self.log.read_text(encoding="utf-8").splitlines() if x.strip()]


async def _pump(sender: WebhookSender, until, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await sender.round()
        if until():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not finish in time")


async def test_receiver_killed_mid_run_gets_every_event_once(store: sessionmaker, tmp_path: Path) -> None:
    port = _free_port()
    with store.begin() as s:
        made = wh.add_endpoint(s, "dept", f"http://127.0.0.1:{port}/", list(wh.EVENT_TYPES), allow_loopback=True)
    receiver = Receiver(port, tmp_path / "received.jsonl", made.secret)
    receiver.start()
    service = CaseService(store, make_policy("stricter", store), lambda: TODAY, uows=units_of_work(store))
    sender = WebhookSender(store, allow_loopback=True, scale=0.0005)
    sender.scanner.SETTLE = 0.0
    await sender.start()
    try:
        await sender.round()  # places the cursors: history is not news
        for i in range(8):
            service.file_case(draft(f"楼上邻居第{i}次半夜装修，噪音太大了", f"web:hook-{i}"))
        await _pump(sender, lambda: _delivered(store) == _total(store))
        receiver.kill()
        for i in range(8, 16):  # filed while the receiver is down
            service.file_case(draft(f"楼上邻居第{i}次半夜装修，噪音太大了", f"web:hook-{i}"))
        for _ in range(5):
            await sender.round()
            await asyncio.sleep(0.05)
        assert _delivered(store) < _total(store)
        receiver.start()
        for i in range(16, 20):
            service.file_case(draft(f"楼上邻居第{i}次半夜装修，噪音太大了", f"web:hook-{i}"))
        await _pump(sender, lambda: _filed(store) == 20 and _delivered(store) == _total(store))
    finally:
        await sender.close()
        if receiver.proc and receiver.proc.poll() is None:
            receiver.kill()
    got = receiver.lines()
    assert got and all(line["valid"] for line in got)
    with store() as s:
        sent = {m.msg_id: (m.event_type, m.source_key) for m in s.execute(select(WebhookMessage)).scalars()}
    by_id = {line["id"] for line in got}
    assert by_id == set(sent)  # every event arrived
    assert len(got) == len(by_id)  # none twice
    filed = [line for line in got if line["type"] == "case.filed"]
    assert len(filed) == 20 and len({line["case"] for line in filed}) == 20
    assert {line["type"] for line in got} >= {"case.filed", "case.assigned"}


def _total(store: sessionmaker) -> int:
    with store() as s:
        return len(s.execute(select(WebhookMessage.id)).all())


def _delivered(store: sessionmaker) -> int:
    with store() as s:
        return len(s.execute(select(WebhookMessage.id).where(WebhookMessage.status == "delivered")).all())


def _filed(store: sessionmaker) -> int:
    with store() as s:
        return len(s.execute(select(WebhookMessage.id).where(WebhookMessage.event_type == "case.filed")).all())


def test_the_readme_receiver_example_verifies_a_delivery() -> None:
    readme = (repo_root() / "README.md").read_text(encoding="utf-8")
    block = readme.split("A department verifies a delivery")[1].split("```python\n")[1].split("```")[0]
    scope: dict[str, object] = {}
    exec(block, scope)  # noqa: S102 - the README's own example, run as a department would
    secret, body, stamp = wh.new_secret(), '{"type":"case.filed"}', int(time.time())
    headers = {"webhook-id": "msg_x", "webhook-timestamp": str(stamp),
               "webhook-signature": wh.signature_header([wh.new_secret(), secret], "msg_x", stamp, body)}
    verify = scope["verify"]
    assert verify(secret, headers, body.encode())  # type: ignore[operator]
    assert not verify(secret, headers, body.encode() + b" ")  # type: ignore[operator]


async def test_receiver_killed_with_deliveries_in_flight_loses_none(store: sessionmaker, tmp_path: Path) -> None:
    """At least once: a delivery cut off in flight is sent again under the same webhook-id."""
    port = _free_port()
    with store.begin() as s:
        made = wh.add_endpoint(s, "dept", f"http://127.0.0.1:{port}/", ["case.filed"], allow_loopback=True)
    receiver = Receiver(port, tmp_path / "received.jsonl", made.secret, delay=0.3)
    receiver.start()
    service = CaseService(store, make_policy("stricter", store), lambda: TODAY, uows=units_of_work(store))
    sender = WebhookSender(store, allow_loopback=True, scale=0.0005)
    sender.scanner.SETTLE = 0.0
    await sender.start()
    try:
        await sender.round()
        for i in range(12):
            service.file_case(draft(f"楼下饭店油烟第{i}次熏到家里，要求整改", f"web:slow-{i}"))
        in_flight = asyncio.create_task(sender.round())  # twelve posts, each answered after 0.3 s
        await asyncio.sleep(0.15)
        receiver.kill()  # none of them answered
        await in_flight
        receiver.start()
        await _pump(sender, lambda: _filed(store) == 12 and _delivered(store) == 12)
    finally:
        await sender.close()
        if receiver.proc and receiver.proc.poll() is None:
            receiver.kill()
    got = receiver.lines()
    assert all(line["valid"] for line in got)
    with store() as s:
        ids = set(s.execute(select(WebhookMessage.msg_id)).scalars())
    assert {line["id"] for line in got} == ids  # every event arrived
    cases = {}
    for line in got:  # a repeat is the same webhook-id, never a second id for one event
        cases.setdefault(line["case"], set()).add(line["id"])
    assert len(cases) == 12 and all(len(v) == 1 for v in cases.values())


def test_personal_scope_webhooks_carry_the_narrative_and_are_audited(store: sessionmaker) -> None:
    from routing.open311.keys import create_key
    from routing.persistence.console_tables import AuditEntry

    with store.begin() as s:
        create_key(s, "dept-personal", ["read", "personal"])
        public = wh.add_endpoint(s, "dept", "https://hooks.dept.example/a", ["case.filed"], resolve=_public)
        private = wh.add_endpoint(s, "dept-personal", "https://hooks.dept.example/b", ["case.filed"], resolve=_public)
    scanner = wh.WebhookScanner(store)
    scanner.SETTLE = 0.0
    scanner.scan()
    story = "楼上邻居每天半夜装修，噪音太大了，电话13812345678"
    CaseService(store, make_policy("stricter", store), lambda: TODAY, uows=units_of_work(store)).file_case(draft(story, "web:p-1"))
    assert scanner.scan() == 2
    with store() as s:
        bodies = {m.endpoint_id: json.loads(m.body) for m in s.execute(select(WebhookMessage)).scalars()}
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "webhook_personal")).scalars().all()
    assert bodies[public.id]["data"]["description"] == "" and "13812345678" not in json.dumps(bodies[public.id])
    assert bodies[private.id]["data"]["description"] == story
    assert [a.username for a in audit] == [f"webhook:{private.id}"]


@pytest.mark.parametrize(("kind", "payload", "expected"), [
    ("status_changed", {"action": "accept", "from": None, "to": "accepted"}, "case.filed"),
    ("assigned", {}, "case.assigned"),
    ("status_changed", {"action": "assign", "from": "accepted", "to": "assigned"}, "case.assigned"),
    ("status_changed", {"action": "escalate", "from": "handling", "to": "escalated"}, "case.escalated"),
    ("deadline_overdue", {}, "case.overdue"),
    ("status_changed", {"action": "book_reception", "from": "handling", "to": "reception_booked"}, "reception.booked"),
    ("status_changed", {"action": "resolve", "from": "handling", "to": "resolved"}, "case.closed"),
    ("status_changed", {"action": "follow_up", "from": "resolved", "to": "follow_up"}, "case.status_changed"),
    ("status_changed", {"action": "start_handling", "from": "assigned", "to": "handling"}, "case.status_changed"),
    ("routed", {}, None),
    ("department_update", {}, None),
])
def test_case_events_map_to_webhook_types(kind: str, payload: dict[str, str], expected: str | None) -> None:
    assert wh.event_type(kind, payload, payload.get("to")) == expected
