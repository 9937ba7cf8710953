"""The retention purge on SQLite and PostgreSQL: exactly the expired, unheld cases lose their
personal data everywhere; the centre's figures and every event's kind and status stay."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from routing.centre.reconcile import reconcile
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.centre_tables import Supervision
from routing.persistence.console_tables import AuditEntry, CaseNote, ConsoleUser, ContactLog
from routing.persistence.db import make_engine
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage
from routing.persistence.privacy_tables import LegalHold
from routing.privacy.retention import PURGED, load_policy, purge
from tests.integration.case_life_support import Stack, make_stack

PHONE = "13800001111"  # case_life_support's drafts
STORY = "王建国"
MATTERS = {"A": "楼上邻居每天半夜装修，吵得孩子没法睡觉，说了也不听。", "B": "隔壁饭店油烟直排进我家窗户，熏得没法开窗。",
           "C": "小区门口的路灯坏了三个月，晚上老人走路摔倒过。", "D": "承包的鱼塘被上游工厂排污，鱼死了一大半。",
           "E": "公司拖欠我们十几个人半年工资，老板躲着不见。"}
PLACE = "诸暨市枫桥镇枫源村"


def _figures(session: Session, county: str) -> dict[str, Any]:
    cases = session.execute(select(Case.case_number, Case.status, Case.category, Case.category_l2,
                                   Case.location_code, Case.county_code, Case.body_id, Case.tier,
                                   Case.risk_level, Case.satisfaction, Case.due_date, Case.created_at)
                            .order_by(Case.id)).all()
    events = session.execute(select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.kind, CaseEvent.actor,
                                    CaseEvent.status_after, CaseEvent.created_at).order_by(CaseEvent.id)).all()
    return {"cases": [tuple(r) for r in cases], "events": [tuple(r) for r in events],
            "desk": reconcile(session, county, date(2026, 4, 27)).to_dict()}


def _setup(stack: Stack) -> dict[str, str]:
    user = lambda k: f"web:ret{k}0000"  # noqa: E731
    numbers = {k: stack.file(f"{STORY}：{m}", PLACE, user=user(k)) for k, m in MATTERS.items()}
    for k in "ADE":
        stack.life.withdraw(numbers[k], "citizen", f"不想办了，王建国已经道歉（{k}）")
    with Session(stack.engine) as s, s.begin():  # type: ignore[arg-type]
        ids = {k: s.execute(select(Case.id).where(Case.case_number == n)).scalar_one() for k, n in numbers.items()}
        s.add(ConsoleUser(id=900, username="m900", display_name="调解员", role="mediator", person_id="p-900",
                          password_hash="x"))
        s.flush()
        for k in "AB":
            s.add(ContactLog(case_id=ids[k], author_id=900, author_name="调解员", method="phone",
                             party=f"王建国 {PHONE}", summary="电话沟通，对方同意整改"))
            s.add(CaseNote(case_id=ids[k], author_id=900, author_name="调解员", body=f"当事人电话{PHONE}"))
        s.add(LegalHold(case_id=ids["D"], reason="诉讼保全", placed_by="legal"))
        s.add(Supervision(target_kind="case", case_id=ids["E"], reason="挂牌督办", deadline=date(2027, 1, 1),
                          state="open", created_by="centre"))
        old = datetime.now(UTC)
        for k in "AC":
            s.add(InboxMessage(channel="web", external_key=f"{k}1", conversation_id=user(k), text=f"电话{PHONE}",
                               status="done", processed_at=old))
            s.add(InboxMessage(channel="web", external_key=f"{k}2", conversation_id=user(k), text="还在吗",
                               status="pending"))
            s.add(OutboxMessage(channel="web", conversation_id=user(k), text="您的诉求已登记", status="stored"))
    return numbers


def test_purge_removes_exactly_the_expired_data_and_keeps_the_figures(database_url: str, tmp_path) -> None:
    stack = make_stack(database_url)
    tracker = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        numbers = _setup(stack)
        county = "330681"
        now = datetime.now(UTC) + timedelta(days=load_policy().after_end_days["withdrawn"] + 1)
        with tracker.begin() as conn:
            conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                              "type_name VARCHAR(255), timestamp FLOAT, data TEXT)"))
            for sender, at in (("web:retA0000", datetime.now(UTC)), ("web:fresh", now)):
                conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                                  f"('{sender}', 'user', {at.timestamp()}, '{{\"text\": \"电话{PHONE}\"}}')"))
        with Session(stack.engine) as s:  # type: ignore[arg-type]
            before = _figures(s, county)
            clear_before = s.execute(select(Case.narrative_original).order_by(Case.id)).scalars().all()

        dry = purge(stack.service._sessions, now, dry_run=True, tracker=tracker)  # type: ignore[arg-type]
        assert (dry.cases, dry.held, dry.by_status) == (1, 2, {"withdrawn": 1})
        with Session(stack.engine) as s:  # type: ignore[arg-type]
            assert s.execute(select(Case.narrative_original).order_by(Case.id)).scalars().all() == clear_before

        report = purge(stack.service._sessions, now, tracker=tracker)  # type: ignore[arg-type]
        assert (report.cases, report.held, report.contacts, report.notes, report.trackers) == (1, 2, 1, 1, 1)
        assert report.events >= 1
        with Session(stack.engine) as s:  # type: ignore[arg-type]
            assert _figures(s, county) == before  # the centre's figures and the audit trail's shape
            cases = {c.case_number: c for c in s.execute(select(Case)).scalars()}
            a = cases[numbers["A"]]
            assert (a.narrative_original, a.contact_phone, a.respondent, a.location_text) == (PURGED, None, None, None)
            assert a.channel_user_id == f"purged:{a.id}" and a.purged_at is not None
            for k in "BCDE":  # open (B, C) or held (D: legal hold, E: 挂牌督办)
                assert cases[numbers[k]].narrative_original.startswith(STORY), k
                assert cases[numbers[k]].contact_phone == PHONE, k
            reasons = {c: [e.reason for e in s.execute(select(CaseEvent).where(CaseEvent.case_id == cases[n].id))
                           .scalars()] for c, n in numbers.items()}
            assert all(r is None for r in reasons["A"])
            assert any(r and "王建国" in r for r in reasons["D"]) and any(r and "王建国" in r for r in reasons["E"])
            contacts = {c.case_id: c for c in s.execute(select(ContactLog)).scalars()}
            assert contacts[a.id].party == PURGED and PHONE in contacts[cases[numbers["B"]].id].party
            inbox = {(m.conversation_id, m.status) for m in s.execute(select(InboxMessage)).scalars()}
            assert inbox == {("web:retA0000", "pending"), ("web:retC0000", "pending")}  # pending never touched
            audit = s.execute(select(AuditEntry).where(AuditEntry.action == "retention_purge")).scalar_one()
            assert audit.detail["cases"] == 1
            assert PHONE not in json.dumps(audit.detail, ensure_ascii=False) and "王建国" not in json.dumps(audit.detail)
        with stack.engine.connect() as conn:  # type: ignore[attr-defined]
            dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM case_events")) for v in row)
        assert "（A）" not in dump and "（D）" in dump
        with tracker.connect() as conn:
            assert conn.execute(text("SELECT DISTINCT sender_id FROM events")).scalars().all() == ["web:fresh"]

        again = purge(stack.service._sessions, now, tracker=tracker)  # type: ignore[arg-type]
        assert (again.cases, again.events, again.contacts) == (0, 0, 0)
    finally:
        tracker.dispose()
        stack.engine.dispose()  # type: ignore[attr-defined]


def test_the_append_only_trail_still_refuses_any_other_change(database_url: str) -> None:
    stack = make_stack(database_url)
    try:
        stack.file(STORY, PLACE)
        for statement in ("UPDATE case_events SET reason = NULL",
                          "UPDATE case_events SET kind = 'x', reason = NULL",
                          "DELETE FROM case_events"):
            try:
                with stack.engine.begin() as conn:  # type: ignore[attr-defined]
                    conn.execute(text(statement))
            except Exception as exc:  # noqa: BLE001 — the database refuses
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")
    finally:
        stack.engine.dispose()  # type: ignore[attr-defined]


def test_a_legal_hold_is_placed_and_released_from_the_command_line(database_url: str, capsys) -> None:
    from fengqiao.cli import main

    stack = make_stack(database_url)
    try:
        number = stack.file(f"{STORY}：{MATTERS['A']}", PLACE)
        assert main(["retention", "hold", "--case", number, "--url", database_url]) == 2  # a reason is required
        assert main(["retention", "hold", "--case", number, "--reason", "诉讼保全", "--url", database_url]) == 0
        with Session(stack.engine) as s:  # type: ignore[arg-type]
            hold = s.execute(select(LegalHold)).scalar_one()
            assert hold.released_at is None and hold.reason == "诉讼保全"
        assert main(["retention", "release", "--case", number, "--url", database_url]) == 0
        with Session(stack.engine) as s:  # type: ignore[arg-type]
            assert s.execute(select(LegalHold)).scalar_one().released_at is not None
        assert '"released": 1' in capsys.readouterr().out
    finally:
        stack.engine.dispose()  # type: ignore[attr-defined]
