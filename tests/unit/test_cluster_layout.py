"""The cluster profile's wiring and the deploy files an operator installs (issue 15)."""

from __future__ import annotations

import configparser
import re
from collections import Counter
from pathlib import Path

import pytest

from fengqiao.cluster import ClusterError, Layout, cluster_services, production_env
from fengqiao.settings import Settings, SettingsError
from gateway.rasa_client import Backend, backends_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_production_env_fills_every_variable_of_the_production_endpoints() -> None:
    env = production_env("postgresql+psycopg://postgres@127.0.0.1:5432/fq", "redis://127.0.0.1:6379/3")
    wanted = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "endpoints.production.yml").read_text()))
    assert wanted - set(env) == {"ACTION_ENDPOINT_URL"}  # set per Rasa process: its own action server
    assert env["RASA_TRACKER_PG_DB"] == "fq_tracker" and env["REDIS_LOCK_DB"] == "3"
    with pytest.raises(ClusterError):
        production_env("sqlite:///var/fengqiao.db", "redis://127.0.0.1:6379/3")
    with pytest.raises(ClusterError):
        production_env("postgresql://postgres@127.0.0.1/fq", "")


def test_cluster_pairs_each_rasa_with_an_action_server_and_tells_every_gateway_all_of_them(tmp_path) -> None:
    layout = Layout(rasa=3, actions=2, gateways=2, rasa_port=7005, action_port=7055, web_port=7080)
    services = cluster_services(layout, tmp_path, "postgresql://postgres@127.0.0.1/fq", "redis://127.0.0.1/2")
    names = [s.name for s in services]
    assert names == ["actions-1", "actions-2", "rasa-1", "rasa-2", "rasa-3", "gateway-1", "gateway-2"]
    rasa = [s for s in services if s.name.startswith("rasa")]
    assert [s.env["ACTION_ENDPOINT_URL"] for s in rasa] == [
        "http://127.0.0.1:7055/webhook", "http://127.0.0.1:7056/webhook", "http://127.0.0.1:7055/webhook"]
    assert all("deploy/endpoints.production.yml" in s.args for s in rasa)
    gateway = services[-1]
    assert gateway.env["RASA_URLS"].split(",") == layout.rasa_urls()
    assert gateway.env["ACTION_HEALTH_URLS"].split(",")[2] == "http://127.0.0.1:7055/health"
    assert gateway.env["WEB_PORT"] == "7081" and gateway.ready_url.endswith("/ready")
    with pytest.raises(ClusterError):
        cluster_services(Layout(rasa=0), tmp_path, "postgresql://postgres@127.0.0.1/fq", "redis://127.0.0.1/2")


def test_conversations_stick_to_one_rasa_and_spread_evenly() -> None:
    pool = [Backend(f"http://10.0.0.{i}:5005") for i in range(1, 5)]
    firsts = Counter(backends_for(f"web:c{n}", pool)[0].rasa_url for n in range(4000))
    assert min(firsts.values()) > 800  # about a quarter each
    assert backends_for("tg:42", pool) == backends_for("tg:42", list(reversed(pool)))  # stable
    smaller = [b for b in pool if b.rasa_url != backends_for("tg:42", pool)[0].rasa_url]
    assert backends_for("tg:42", smaller)[0] == backends_for("tg:42", pool)[1]  # fail-over: the next in line
    moved = sum(backends_for(f"web:c{n}", pool[:3])[0] != backends_for(f"web:c{n}", pool)[0] for n in range(4000))
    assert moved == firsts[pool[3].rasa_url]  # adding a process moves only its own share


def test_rasa_urls_and_health_urls_must_pair(monkeypatch) -> None:
    monkeypatch.setenv("RASA_URLS", "http://a:5005,http://b:5005/")
    monkeypatch.setenv("ACTION_HEALTH_URLS", "http://a:5055/health")
    with pytest.raises(SettingsError):
        Settings.from_env()
    monkeypatch.setenv("ACTION_HEALTH_URLS", "http://a:5055/health,http://b:5055/health")
    monkeypatch.setenv("LEASE_TTL_SECONDS", "4")
    settings = Settings.from_env()
    assert settings.rasa_urls == ("http://a:5005", "http://b:5005") and settings.lease_ttl == 4.0


@pytest.mark.parametrize("role", ["rasa", "actions", "gateway"])
def test_each_role_has_a_restarting_unit_and_an_environment_file(role: str) -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / f"fengqiao-{role}@.service")
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == f"/etc/fengqiao/{role}.env"
    assert "%i" in service["ExecStart"] + service.get("Environment", "")  # the instance is the port
    example = (DEPLOY / "env" / f"{role}.env.example").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", service["ExecStart"]))
    if role == "rasa":
        used |= set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "endpoints.production.yml").read_text()))
    defined = set(re.findall(r"^(\w+)=", example, re.M))
    assert used <= defined, used - defined
