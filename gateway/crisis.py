"""The danger pre-check of every citizen message, before anything else (issue: never miss a person in danger).

Runs inside the transaction that stores an inbound message (`Inbox.store`), so it does not wait
for Rasa, the action server or any backlog, and works the same on every channel and in every
state: first message, narrative, form answer, after filing, during a human takeover.

When the check finds danger (or fails — never silent):
- the reply for that kind of danger goes into the outbox at once (the right number first, asks
  whether the person is safe and where), in the citizen's script;
- a red alert is stored with the place (when the text or the conversation names one) and the
  channel to reach the person, and the on-duty staff's Telegram chats are notified;
- the conversation enters the *crisis* state: the ordinary intake pauses, later messages are
  held (not lost) until the person says they are safe or asks to go on; then the grievance
  they wrote is sent on to the dialogue, without the danger sentences, so they need not tell
  it again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.outbox import Outgoing, add_outgoing, channel_of
from gateway.script import render
from routing.cases import alerts
from routing.persistence.case_tables import Alert
from routing.persistence.messaging_tables import ChatConversation, InboxMessage, OutboxMessage
from routing.understanding import safety
from routing.understanding.safety.verdict import DangerVerdict
from routing.understanding.text import mask_pii, normalise

log = logging.getLogger("fengqiao.crisis")

TEXTS = Path(__file__).resolve().parent / "templates" / "crisis.yml"
SCREENED_KINDS = ("text", "command")
_CLAUSE = re.compile(r"[^。！？!?；;，,\n]+")
_SAFE = re.compile(
    r"(我|现在|已经|暂时)?(很|挺|比较)?安全(了|的)?|没事了|我没事|没事的|我还好|好多了|好些了|冷静下来|"
    r"放心|不用担心|别担心|继续|接着|办事|说正事|先办|回到正题|警察(已经)?(来了|到了)|救护车(已经)?(来了|到了)|"
    r"已经(报警|送医|送到医院)|人(已经)?救(回来|下来)了|想开了|不会(做傻事|想不开)"
)
_NOT_SAFE = re.compile(
    r"不安全|没有安全|不太安全|我不好|一点都不好|不好了|没法继续|继续打|继续骂|接着打|"
    r"但是|但|可是|不过|还是想|还想|还在手|又来了|还要|等会|等下"
)
MIN_GRIEVANCE = 8


@lru_cache(maxsize=1)
def texts() -> dict[str, Any]:
    """Load the crisis replies (lines of a block are joined without spaces: Chinese text)."""
    data = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    join = lambda value: "".join(line.strip() for line in str(value).splitlines())  # noqa: E731
    return {"replies": {k: join(v) for k, v in data["replies"].items()},
            "staff": {k: str(v) for k, v in data["staff"].items()}}


def reply_key(verdict: DangerVerdict) -> str:
    """Return which reply fits the verdict."""
    kind = verdict.kind if not verdict.failed else "unknown"
    if kind == "self_harm":
        if verdict.third_party:
            return "self_harm_other"
        return "self_harm_imminent" if verdict.imminent else "self_harm"
    return kind if kind in texts()["replies"] else "unknown"


def danger_reply(verdict: DangerVerdict, script: str) -> str:
    """Return the reply for a danger message in the conversation's script."""
    return render(texts()["replies"][reply_key(verdict)], script)


def follow_up(numbers: tuple[str, ...], script: str) -> str:
    """Return the stay-with-them reply while the crisis is open."""
    return render(texts()["replies"]["follow_up"].format(numbers="、".join(numbers)), script)


def is_resume(text: str) -> bool:
    """Tell whether a message during a crisis says the person is safe or wants to go on."""
    plain = normalise(text)
    return bool(_SAFE.search(plain)) and not _NOT_SAFE.search(plain)


def _strong(verdict: DangerVerdict) -> bool:
    """A lexicon cue (not the model alone) found the danger, or the check failed."""
    return verdict.failed or any(not e.startswith("模型") for e in verdict.evidence)


def grievance_of(text: str) -> str:
    """Return the message without its danger clauses (what is sent on to the intake later)."""
    kept = [c.strip() for c in _CLAUSE.findall(text) if c.strip() and not safety.check(c).danger]
    joined = "，".join(kept)
    return joined if len(joined) >= MIN_GRIEVANCE else ""


def where_of(text: str, session: Session, conversation_id: str) -> alerts.Where:
    """Find the place: in this message, else in the conversation's earlier messages."""
    from routing.understanding.intake import resolve_place

    texts_to_try = [text]
    texts_to_try += list(session.execute(
        select(InboxMessage.text).where(InboxMessage.conversation_id == conversation_id)
        .order_by(InboxMessage.id.desc()).limit(20)
    ).scalars())
    for candidate in texts_to_try:
        try:
            match = resolve_place(candidate or "")
        except Exception:  # a place is a help, never a reason to fail the alert
            return alerts.Where()
        if match is not None:
            names = [d.name for d in match.path if d.level != "province"] or [match.division.name]
            return alerts.Where(match.division.code, "".join(names)[:200])
    return alerts.Where()


@dataclass
class Screened:
    """What the pre-check did with one stored message (read by the worker's `kick`)."""

    conversation_id: str
    alert_id: int | None
    verdict: DangerVerdict
    agent: str | None


class CrisisScreen:
    """The pre-check, called by `Inbox.store` inside the storing transaction."""

    def __init__(self, notify_chats: tuple[str, ...] = (), roster: tuple[tuple[str, ...], ...] = ()) -> None:
        """Args:
        notify_chats: Telegram chat ids of the on-duty staff (level 1, CRISIS_NOTIFY_TELEGRAM).
        roster: the chats of the duty roster's higher levels (CRISIS_NOTIFY_TELEGRAM_2, _3).
        """
        self.notify_chats = notify_chats
        self.levels = (notify_chats, *roster)

    def level_for(self, escalations: int) -> int:
        """The roster level (1-based) told at this step: 1 when raised, the next one at each
        escalation, or the highest configured level below it when that level has nobody."""
        for level in range(min(escalations, len(self.levels) - 1), -1, -1):
            if self.levels[level]:
                return level + 1
        return 1

    def chats_for(self, escalations: int) -> tuple[str, ...]:
        """The chats told at this step (see ``level_for``)."""
        return self.levels[self.level_for(escalations) - 1]

    @property
    def all_chats(self) -> tuple[str, ...]:
        """Every chat of the roster (the outbox push after an escalation)."""
        return tuple(dict.fromkeys(c for level in self.levels for c in level))

    def __call__(self, session: Session, row: InboxMessage, state: ChatConversation) -> Screened | None:
        """Check the message; on danger reply, alert and pause the intake. Returns None when safe."""
        button = row.text.startswith("/") and not (row.payload or {}).get("typed_payload")
        if row.kind not in SCREENED_KINDS or not row.text or button:
            return None
        verdict = safety.check(row.text)
        if not verdict.danger:
            return None
        if state.crisis_since is not None and not state.agent_id and not _strong(verdict):
            # Already in a crisis: the model alone (no lexicon cue) reads much of what a person
            # answers here as danger ("我在我妈家", "我把药扔了"). The message joins the alert and
            # the worker answers it (stay with them, or resume when they say they are safe).
            self._alert(session, row, state, verdict)
            return None
        if verdict.failed:
            log.error("danger check failed (%s): treated as danger", verdict.error)
        row.payload = {**(row.payload or {}), "danger": {"kind": verdict.kind, "failed": verdict.failed},
                       "grievance": grievance_of(row.text) if not verdict.failed else row.text}
        reply = danger_reply(verdict, state.script)
        if state.agent_id:  # a human owns the chat: the numbers still go out, the human is alerted
            reply = reply + "\n" + render(texts()["replies"]["takeover_note"].format(
                numbers="、".join(verdict.numbers)), state.script)
        add_outgoing(session, row.conversation_id,
                     [Outgoing(reply, reply_to=row.external_key, kind="crisis",
                               dedupe_key=f"crisis:{row.channel}:{row.external_key}")])
        alert_id = self._alert(session, row, state, verdict)
        if not state.agent_id and state.crisis_since is None:
            state.crisis_since = datetime.now(UTC)
        if alert_id is not None:
            state.crisis_alert_id = alert_id
        return Screened(row.conversation_id, alert_id, verdict, state.agent_id)

    def _alert(self, session: Session, row: InboxMessage, state: ChatConversation,
               verdict: DangerVerdict) -> int | None:
        """Raise (or add to) the conversation's crisis alert; failures never stop the reply."""
        try:
            with session.begin_nested():
                where = where_of(row.text, session, row.conversation_id)
                open_alert = session.get(Alert, state.crisis_alert_id) if state.crisis_alert_id else None
                if open_alert is not None and state.crisis_since is not None:
                    alerts.add_message(session, open_alert, row.text, verdict, where)
                    return open_alert.id
                alert = alerts.raise_crisis(session, row.conversation_id, channel_of(row.conversation_id),
                                            verdict, row.text, where)
                self._notify(session, alert, "raised")
                return alert.id
        except Exception as exc:
            log.error("crisis alert could not be stored: %s", type(exc).__name__)
            return None

    def _notify(self, session: Session, alert: Alert, step: str, minutes: float = 0) -> None:
        """Tell the roster level's Telegram chats (through the outbox: retried, never twice)."""
        chats = self.chats_for(alert.escalations or 0)
        if not chats:
            return
        template = texts()["staff"][step]
        text = template.format(kind=alerts.KIND_LABELS.get(alert.kind or "unknown", alert.kind),
                               place=alert.place or "未知（请通过对话询问）", channel=alert.channel or "",
                               conversation=mask_pii(alert.conversation_id)[-8:], excerpt=alert.excerpt[:300],
                               level=alert.escalations, minutes=int(minutes))
        for chat in chats:
            add_outgoing(session, f"tg:{chat}", [Outgoing(
                text, kind="staff_alert", dedupe_key=f"alert:{alert.id}:{step}:{alert.escalations}:{chat}")])
        alerts.record(session, alert, "notified", "system", None,
                      {"step": step, "chats": len(chats), "level": self.level_for(alert.escalations or 0)})

    def escalate_due(self, session: Session, now: datetime, minutes: float) -> list[Alert]:
        """Escalate unacknowledged red alerts older than `minutes`; notify the staff again."""
        due = alerts.due_for_escalation(session, now, minutes)
        for alert in due:
            alerts.escalate(session, alert, now)
            self._notify(session, alert, "escalated", minutes * alert.escalations)
        return due


def last_question(session: Session, conversation_id: str, before: datetime | None) -> Outgoing | None:
    """Return the bot's last ordinary reply before the crisis (to ask it again on resume)."""
    query = select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id,
                                        OutboxMessage.kind == "reply").order_by(OutboxMessage.id.desc()).limit(1)
    if before is not None:
        query = query.where(OutboxMessage.created_at <= before)
    row = session.execute(query).scalar()
    return Outgoing(row.text, list(row.buttons or []), kind="reply") if row is not None else None


class CrisisWatch:
    """Escalates crisis alerts nobody acknowledged in time (runs inside the gateway)."""

    def __init__(self, sessions, screen: CrisisScreen, minutes: float, deliver, interval: float = 20.0) -> None:  # type: ignore[no-untyped-def]
        """Args: the session factory, the screen (it notifies), the limit in minutes, the outbox push."""
        self.sessions, self.screen, self.minutes = sessions, screen, minutes
        self.deliver, self.interval = deliver, interval

    def tick(self, now: datetime | None = None) -> list[int]:
        """Escalate what is due now; return the escalated alert ids."""
        with self.sessions.begin() as session:
            due = self.screen.escalate_due(session, now or datetime.now(UTC), self.minutes)
            return [a.id for a in due]

    async def run(self) -> None:
        """Check every `interval` seconds until cancelled."""
        import asyncio

        while True:
            try:
                escalated = await asyncio.to_thread(self.tick)
                if escalated and self.screen.all_chats:
                    await self.deliver([f"tg:{c}" for c in self.screen.all_chats])
            except Exception as exc:
                log.error("crisis watch failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)
