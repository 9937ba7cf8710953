"""Personal data at rest (SQLite and PostgreSQL): ciphertext in the tables, clear in the app,
the phone's blind index, rotation under concurrent writes, and the migration of clear rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from fengqiao.migrate import upgrade
from routing.cases.service import CaseService
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.messaging_tables import InboxMessage
from routing.privacy import crypto
from routing.privacy.crypto import KeyRing, kid_of
from routing.privacy.fields import phone_index
from routing.privacy.rotate import activate_new_key, reencrypt, stale_count
from tests.integration.test_case_store import draft

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def own_keys(tmp_path, monkeypatch) -> Iterator[KeyRing]:
    """A key file of this test only, so rotating it touches nobody else's."""
    monkeypatch.delenv("FENGQIAO_DATA_KEYS", raising=False)
    monkeypatch.setenv("FENGQIAO_DATA_KEY_FILE", str(tmp_path / "keys.json"))
    ring = KeyRing()
    old = crypto.use_keyring(ring)
    yield ring
    crypto.use_keyring(old)


def test_personal_fields_are_ciphertext_in_the_tables_and_clear_in_the_app(service: CaseService,
                                                                          database_url: str) -> None:
    view = service.file_case(draft()).view
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT subject, narrative_original, narrative_normalised, location_text, "
                                    "respondent, demand, contact_phone, contact_phone_index FROM cases")).one()
            dump = " ".join(str(v) for v in conn.execute(text("SELECT * FROM cases")).one())
    finally:
        engine.dispose()
    assert all(v.startswith("enc:1:") for v in raw[:7])
    for clear in (PHONE, "楼上邻居", "半夜装修", "十点"):  # the place code and body name are not personal
        assert clear not in dump
    assert raw.contact_phone_index == phone_index("138-1234-5678")
    assert service.get_case(view.case_number, channel_user_id="web:abc12345").location_text.endswith("枫源村")
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            assert s.execute(select(Case.contact_phone, Case.respondent)).one() == (PHONE, "楼上邻居")
    finally:
        engine.dispose()


def _links(database_url: str, case_number: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            rows = s.execute(select(CaseEvent.payload).join(Case).where(
                Case.case_number == case_number, CaseEvent.kind == "repeat_linked")).scalars()
            return [p["linked_case"] for p in rows]
    finally:
        engine.dispose()


def test_the_same_phone_from_another_channel_links_the_earlier_petition(service: CaseService,
                                                                         database_url: str) -> None:
    first = service.file_case(draft(user="web:aaaa1111")).view
    again = service.file_case(draft(user="tg:99887766")).view  # same phone, same matter, another channel
    assert _links(database_url, again.case_number) == [first.case_number]
    other = service.file_case(replace(draft(user="tg:55554444"), contact_phone="13900001111")).view
    assert _links(database_url, other.case_number) == []


def test_rotation_under_concurrent_writes_loses_nothing(service: CaseService, database_url: str,
                                                        own_keys: KeyRing) -> None:
    case_number = service.file_case(draft()).view.case_number
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    old_kid = own_keys.material().active
    stop, errors, written, last = threading.Event(), [], [], {"n": -1}

    def write_messages() -> None:
        i = 0
        while not stop.is_set() or i < 30:
            try:
                with sessions.begin() as s:
                    s.add(InboxMessage(channel="web", external_key=f"k{i}", conversation_id="c1",
                                       text=f"我的电话{PHONE}第{i}条"))
                written.append(i)
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(repr(exc))
            i += 1

    def edit_case() -> None:
        n = 0
        while not stop.is_set() or n < 30:
            try:
                with sessions.begin() as s:
                    s.execute(update(Case).where(Case.case_number == case_number)
                              .values(demand=f"诉求第{n}版"))
                last["n"] = n
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            n += 1

    threads = [threading.Thread(target=write_messages), threading.Thread(target=edit_case)]
    for t in threads:
        t.start()
    try:
        new_kid = activate_new_key(own_keys)
        report = reencrypt(engine, size=7)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    try:
        final = reencrypt(engine, size=50)  # whatever the writers wrote since (already under the new key)
        assert errors == []
        assert new_kid != old_kid and report.to_dict()["total"] > 0
        assert final.left == 0 and stale_count(engine) == 0
        with sessions() as s:
            texts = {m.external_key: m.text for m in s.execute(select(InboxMessage)).scalars()}
            case = s.execute(select(Case).where(Case.case_number == case_number)).scalar_one()
        assert texts == {f"k{i}": f"我的电话{PHONE}第{i}条" for i in written}
        assert case.demand == f"诉求第{last['n']}版"  # the rotation never wrote back an older value
        with engine.connect() as conn:
            kids = {kid_of(v) for v in conn.execute(text("SELECT text FROM inbox_messages")).scalars()}
        assert kids == {new_kid}
    finally:
        engine.dispose()


def test_the_migration_encrypts_rows_stored_in_clear(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0011_desk_due_counts")
    engine = make_engine(url)
    now = datetime(2026, 4, 27, tzinfo=UTC).isoformat()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (case_number, idempotency_key, status, subject, narrative_original, "
            "narrative_normalised, script, channel, channel_user_id, conversation_id, contact_phone, respondent, "
            "risk_level, human_requested, confidential, hidden_from, created_at, updated_at) VALUES "
            "('FQ-2026-000001', 'k', 'accepted', '工资', '老板欠工资', '老板欠工资', 'simplified', 'web', 'web:x', "
            f"'web:x', '{PHONE}', '王老板', 'blue', 0, 0, '[]', '{now}', '{now}')"))
        conn.execute(text(
            "INSERT INTO inbox_messages (channel, external_key, conversation_id, kind, text, payload, status, "
            f"attempts, delay_notified, dispatched, created_at) VALUES ('web', 'e1', 'web:x', 'text', "
            f"'电话{PHONE}', '{{}}', 'done', 0, 0, 0, '{now}')"))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT contact_phone, respondent, contact_phone_index FROM cases")).one()
            inbox = conn.execute(text("SELECT text FROM inbox_messages")).scalar_one()
        assert raw.contact_phone.startswith("enc:1:") and raw.respondent.startswith("enc:1:")
        assert PHONE not in inbox and raw.contact_phone_index == phone_index(PHONE)
        with make_session_factory(engine)() as s:
            case = s.execute(select(Case)).scalar_one()
            assert (case.contact_phone, case.respondent) == (PHONE, "王老板")
            assert s.execute(select(InboxMessage.text)).scalar_one() == f"电话{PHONE}"
            assert s.execute(select(CaseEvent)).first() is None
    finally:
        engine.dispose()


def test_a_dump_of_the_database_holds_no_phone_or_name_in_clear(service: CaseService, database_url: str,
                                                                tmp_path) -> None:
    import shutil
    import subprocess

    from sqlalchemy.engine import make_url

    service.file_case(draft())
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as s:
            s.add(InboxMessage(channel="web", external_key="d1", conversation_id="web:abc12345",
                               text=f"我的电话{PHONE}，找楼上邻居"))
    finally:
        engine.dispose()
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        dump = b"".join(p.read_bytes() for p in tmp_path.iterdir() if str(p).startswith(str(path)))
    else:
        url = make_url(database_url)
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is part of the PostgreSQL client the tests use"
        dump = subprocess.run([pg_dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                               "-U", url.username or "postgres", url.database or ""],
                              check=True, capture_output=True, timeout=120).stdout
    assert b"INSERT" in dump or b"COPY" in dump or len(dump) > 10000
    for value in (PHONE, "楼上邻居", "半夜装修"):
        assert value.encode() not in dump, f"{value} in clear"
