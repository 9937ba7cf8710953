"""`fengqiao apikey` and `fengqiao webhook` against a real SQLite store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fengqiao import settings
from fengqiao.cli import main
from fengqiao.migrate import upgrade
from routing.open311.keys import authenticate, digest
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.open311_tables import ApiKey, WebhookEndpoint


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """A migrated store the settings point at."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(db)
    monkeypatch.setenv("DATABASE_URL", db)
    settings.get_settings.cache_clear()
    yield db
    settings.get_settings.cache_clear()


def test_apikey_add_list_revoke(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "add", "--name", "zhuji-12345", "--scopes", "read,geo", "--rate-limit", "90"]) == 0
    key = capsys.readouterr().out.splitlines()[1]
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as s:
        row = s.execute(select(ApiKey)).scalar_one()
        assert row.key_hash == digest(key) and key not in (row.prefix, row.key_hash)  # stored hashed
        client = authenticate(s, key)
        assert client is not None and client.scopes == {"read", "geo"} and client.rate_limit == 90
    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert "zhuji-12345" in listed and "geo,read" in listed and "last used 20" in listed and "90/min" in listed and key not in listed
    assert main(["apikey", "add", "--name", "x", "--scopes", "read,admin"]) == 1
    assert "scopes" in capsys.readouterr().out
    assert main(["apikey", "revoke", "--name", "zhuji-12345"]) == 0
    with sessions.begin() as s:
        assert authenticate(s, key) is None


def test_webhook_add_refuses_private_urls_and_shows_the_secret_once(url: str, monkeypatch,  # type: ignore[no-untyped-def]
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "add", "--name", "dept", "--scopes", "read"]) == 0
    capsys.readouterr()
    assert main(["webhook", "add", "--key", "dept", "--url", "https://192.168.10.4/hook", "--events", "*"]) == 1
    assert "private" in capsys.readouterr().out
    assert main(["webhook", "add", "--key", "dept", "--url", "http://127.0.0.1:9/h", "--events", "*"]) == 1
    capsys.readouterr()
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    settings.get_settings.cache_clear()
    assert main(["webhook", "add", "--key", "dept", "--url", "http://127.0.0.1:9/h",
                 "--events", "case.filed,case.closed"]) == 0
    secret = capsys.readouterr().out.splitlines()[1]
    assert secret.startswith("whsec_")
    assert main(["webhook", "list"]) == 0 and secret not in capsys.readouterr().out
    assert main(["webhook", "rotate", "1"]) == 0
    capsys.readouterr()
    with make_session_factory(make_engine(url))() as s:
        assert len(s.get(WebhookEndpoint, 1).secrets) == 2
    assert main(["webhook", "end-rotation", "1"]) == 0
    assert main(["webhook", "disable", "1"]) == 0 and main(["webhook", "replay", "1"]) == 0
    assert main(["webhook", "log", "1"]) == 0
    assert main(["webhook", "add", "--key", "dept", "--url", "https://x.example/h", "--events", "case.eaten"]) == 1
