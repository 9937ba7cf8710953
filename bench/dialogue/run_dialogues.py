"""Play scripted dialogues with repairs over the real web chat and check the case store.

Starts Rasa, the action server and the gateway on loopback with a fresh SQLite database
(`bench/dialogue/stack.py`), then, for each dialogue of the YAML file, plays a citizen on the
web chat WebSocket:

1. "你好"; a scripted event ``at: consent`` is said here; then "同意".
2. The narrative.
3. Each bot question is recognised from its wording (subject, location, respondent, demand,
   phone, category_choice, summary). The next scripted event is said when its ``at`` is that
   question (``any``: the first question after the narrative); otherwise the scripted answer is
   given (``answers.<field>``; at a category choice the first offered button; at the summary
   "确认"). The dialogue ends with a case number, a cancellation, or after 24 turns.
4. ``expect`` is checked against the cases stored for that conversation: filed, cancelled,
   location_contains, phone, respondent_contains / respondent_not_contains, offered_reception.

    .venv/bin/python bench/dialogue/run_dialogues.py [--data FILE] [--only g01,g02] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from routing.persistence.case_tables import Case  # noqa: E402
from routing.persistence.db import make_engine, make_session_factory  # noqa: E402
from routing.understanding.text import normalise  # noqa: E402

DEFAULT = Path("/work/main/bench/dialogue/blind/dialogues.yml")
CASE_NUMBER = re.compile(r"FQ-\d{4}-\d{6}")
QUESTIONS = [  # checked on the last bot message that asks something, in this order
    ("summary", ("请核对登记内容", "要改哪一项", "还没有提交")),
    ("category_choice", ("属于哪一类", "请再用一两句话", "请点选上面")),
    ("phone", ("联系电话", "号码格式", "电话只用于", "在本对话里联系我")),
    ("location", ("发生在哪里", "行政区划里找到", "地点用来")),
    ("respondent", ("对方是谁",)),
    ("demand", ("希望怎么解决",)),
    ("subject", ("发生了什么", "有点短")),
]
MAX_TURNS = 24
# An event whose question never came (the narrative already answered it) is said at the
# summary instead of being dropped. Set after the first blind run (see README).
FIRE_LATE = True


class Citizen:
    """The web chat WebSocket, one message at a time (as tests/e2e/test_intake_e2e.py)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.count = 0
        self.transcript: list[str] = []
        self.buttons: list[dict[str, str]] = []

    async def say(self, text: str, timeout: float = 90) -> list[str]:
        """Send a message; return the bot texts that answer it."""
        self.count += 1
        client_id = f"c{self.count}"
        self.transcript.append(f"群众：{text}")
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        texts: list[str] = []
        self.buttons = []
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout if not texts else 2.0)
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data.get("type") == "bot" and data.get("reply_to") == client_id:
                texts.append(data["text"])
                self.buttons.extend(data.get("buttons") or [])
                self.transcript.append(f"助手：{data['text']}")
        return texts


def question_of(replies: list[str]) -> str | None:
    """Which form question the bot's replies end with."""
    for text in reversed(replies):
        plain = normalise(text)
        for name, cues in QUESTIONS:
            if any(cue in plain for cue in cues):
                return name
    return None


async def play(web_url: str, dialogue: dict) -> dict:
    """Play one dialogue; return what happened."""
    conversation = uuid.uuid4().hex[:16]
    events = list(dialogue.get("events") or [])
    answers = dialogue.get("answers") or {}
    said_all: list[str] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{web_url}/ws?conversation={conversation}")
        citizen = Citizen(ws)
        said_all += await citizen.say("你好")
        if events and events[0]["at"] == "consent":
            said_all += await citizen.say(events.pop(0)["say"])
        said_all += await citizen.say("同意")
        replies = await citizen.say(dialogue["narrative"])
        said_all += replies
        ended = None
        for _ in range(MAX_TURNS):
            joined = " ".join(replies)
            if CASE_NUMBER.search(joined):
                ended = "filed"
                break
            if "已取消" in joined or "不会提交" in joined:
                ended = "cancelled"
                break
            question = question_of(replies)
            if events and (events[0]["at"] in ("any", question) or (question == "summary" and FIRE_LATE)):
                text = events.pop(0)["say"]
            elif question == "summary":
                text = "确认"
            elif question == "category_choice":
                text = citizen.buttons[0]["payload"] if citizen.buttons else "都不是"
            elif question in answers and answers[question] is not None:
                text = str(answers[question])
            elif question == "phone":
                text = "在本对话里联系我"
            else:
                ended = f"stuck: {question}"
                break
            replies = await citizen.say(text)
            said_all += replies
        # a filing may be followed by offers (reception days): collect what is still coming
        await ws.close()
    return {"conversation": f"web:{conversation}", "ended": ended or "turn limit",
            "unused_events": events, "transcript": citizen.transcript, "bot": said_all}


def stored_cases(database_url: str, conversation: str) -> list[Case]:
    """The cases stored for one web conversation."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            query = select(Case).where(Case.conversation_id == conversation)
            return list(session.execute(query).scalars())
    finally:
        engine.dispose()


def check(expect: dict, cases: list[Case], run: dict) -> list[str]:
    """Return the expectations that failed (empty: the dialogue ended as the citizen wanted)."""
    failed = []
    if expect.get("filed") and len(cases) != 1:
        failed.append(f"filed: {len(cases)} cases")
    if not expect.get("filed") and cases:
        failed.append(f"not filed expected, {len(cases)} cases")
    if expect.get("cancelled") and run["ended"] != "cancelled":
        failed.append(f"cancelled expected, ended {run['ended']}")
    case = cases[0] if cases else None
    if case is not None:
        if "location_contains" in expect and expect["location_contains"] not in normalise(case.location_text or ""):
            failed.append(f"location {case.location_text!r} lacks {expect['location_contains']}")
        if "phone" in expect:
            want = expect["phone"]
            want = re.sub(r"[^0-9-]", "", normalise(want)) if want else None
            if (case.contact_phone or None) != want:
                failed.append(f"phone {case.contact_phone!r} != {want!r}")
        resp = normalise(case.respondent or "")
        if "respondent_contains" in expect and normalise(expect["respondent_contains"]) not in resp:
            failed.append(f"respondent {case.respondent!r} lacks {expect['respondent_contains']}")
        if "respondent_not_contains" in expect and normalise(expect["respondent_not_contains"]) in resp:
            failed.append(f"respondent {case.respondent!r} contains {expect['respondent_not_contains']}")
    if expect.get("offered_reception") and not any("接访" in t and "选择" in t or "接访日" in t for t in run["bot"]):
        failed.append("no reception days offered")
    return failed


async def run_all(dialogues: list[dict], out: Path | None) -> dict:
    """Start the stack, play every dialogue, check it."""
    from stack import stack

    results = []
    with stack(with_web=True, log_dir=out / "logs" if out else None) as running:
        for dialogue in dialogues:
            try:
                run = await play(running.web_url, dialogue)
            except Exception as exc:  # noqa: BLE001 - one broken dialogue must not stop the run
                run = {"conversation": "-", "ended": f"error {type(exc).__name__}: {exc}",
                       "unused_events": [], "transcript": [], "bot": []}
            cases = stored_cases(running.database_url, run["conversation"])
            failed = check(dialogue.get("expect") or {}, cases, run)
            results.append({"id": dialogue["id"], "script": dialogue.get("script"), "ok": not failed,
                            "failed": failed, "ended": run["ended"], "unused_events": run["unused_events"],
                            "transcript": run["transcript"]})
            print(json.dumps({k: results[-1][k] for k in ("id", "ok", "failed", "ended")}, ensure_ascii=False),
                  flush=True)
    passed = sum(r["ok"] for r in results)
    summary = {"passed": passed, "total": len(results),
               "by_script": {s: f"{sum(r['ok'] for r in results if r['script'] == s)}/"
                                f"{sum(r['script'] == s for r in results)}"
                             for s in sorted({str(r['script']) for r in results})}}
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    return summary


def main() -> None:
    """Run the dialogues and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--only", help="comma-separated dialogue ids")
    parser.add_argument("--out", type=Path, default=Path("results/dialogues"))
    parser.add_argument("--first-run-semantics", action="store_true",
                        help="drop events whose question never came (as in the first blind run)")
    args = parser.parse_args()
    global FIRE_LATE
    FIRE_LATE = not args.first_run_semantics
    dialogues = yaml.safe_load(args.data.read_text("utf-8"))
    if args.only:
        wanted = set(args.only.split(","))
        dialogues = [d for d in dialogues if d["id"] in wanted]
    print(json.dumps(asyncio.run(run_all(dialogues, args.out)), ensure_ascii=False))


if __name__ == "__main__":
    main()
