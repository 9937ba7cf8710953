"""`fengqiao chat`: talk to the running assistant from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid

from fengqiao.settings import get_settings
from gateway.crisis import danger_reply
from gateway.script import script_of
from routing.understanding import safety


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `chat` verb."""
    parser = subparsers.add_parser("chat", help="chat with the running assistant in the terminal")
    parser.add_argument("--sender", help="conversation id (default: a new one)")
    parser.set_defaults(func=run)


def _turn(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def run(args: argparse.Namespace) -> int:
    """Read lines, send each as a turn, print replies; a number picks a button."""
    url = get_settings().rasa_url
    sender = args.sender or f"cli:{uuid.uuid4()}"
    buttons: list[dict] = []
    print("枫桥助手 (Ctrl-D to quit). 输入数字可选择按钮。")
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        else:  # the danger check comes first here too (the gateway does it for web and Telegram)
            verdict = safety.check(text)
            if verdict.danger:
                print(f"助手：{danger_reply(verdict, script_of(text))}")
        try:
            replies = _turn(url, sender, text)
        except (urllib.error.URLError, OSError) as exc:
            print(f"[助手暂时无法连接：{exc}]")
            continue
        buttons = []
        for reply in replies:
            if reply.get("text"):
                print(f"助手：{reply['text']}")
            for button in reply.get("buttons") or []:
                buttons.append(button)
                print(f"  [{len(buttons)}] {button['title']}")
    return 0
