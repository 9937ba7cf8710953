"""`fengqiao webhook add|list|log|replay|rotate|end-rotation|disable|enable`: signed event push.

    fengqiao webhook add --key zhuji-12345 --url https://dept.example/hooks --events case.filed,case.closed

The signing secret (``whsec_…``) is printed once. Deliveries follow Standard Webhooks; see the
README's "Data sharing" section for a receiver that verifies them.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from fengqiao.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `webhook` verb."""
    parser = subparsers.add_parser("webhook", help="manage webhook subscriptions and deliveries")
    parser.add_argument("--db", help="database URL (default: DATABASE_URL or var/fengqiao.db)")
    sub = parser.add_subparsers(dest="hook_action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="subscribe a URL (the secret is printed once)")
    add.add_argument("--key", required=True, help="the API key name the subscription belongs to")
    add.add_argument("--url", required=True, help="https URL (http://127.0.0.1 only with WEBHOOK_ALLOW_LOOPBACK=1)")
    add.add_argument("--events", required=True, help="comma list of event types, or *")
    sub.add_parser("list", help="list endpoints")
    log = sub.add_parser("log", help="an endpoint's latest delivery attempts")
    log.add_argument("id", type=int)
    log.add_argument("--limit", type=int, default=30)
    replay = sub.add_parser("replay", help="send an endpoint's messages again (same webhook-id)")
    replay.add_argument("id", type=int)
    replay.add_argument("--since", help="ISO date-time; default: every failed or pending message")
    replay.add_argument("--msg", action="append", help="one webhook-id (repeatable)")
    for verb, text in (("rotate", "add a new secret; old and new both sign until end-rotation"),
                       ("end-rotation", "drop the old secret"), ("disable", "stop deliveries"),
                       ("enable", "resume deliveries")):
        p = sub.add_parser(verb, help=text)
        p.add_argument("id", type=int)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out one webhook action."""
    from sqlalchemy import select

    from routing.open311 import webhooks as wh
    from routing.persistence.db import make_engine, make_session_factory
    from routing.persistence.open311_tables import ApiKey, WebhookEndpoint

    settings = get_settings()
    engine = make_engine(args.db or settings.database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            action = args.hook_action
            if action == "add":
                made = wh.add_endpoint(session, args.key, args.url, wh.parse_events(args.events),
                                       settings.webhook_allow_loopback)
                print(f"endpoint {made.id} subscribed; signing secret (shown once):")
                print(made.secret)
            elif action == "list":
                rows = session.execute(select(WebhookEndpoint, ApiKey.name)
                                       .join(ApiKey, ApiKey.id == WebhookEndpoint.api_key_id)).all()
                for ep, name in rows:
                    note = f" ({ep.disabled_reason})" if ep.disabled_reason else ""
                    print(f"{ep.id}\t{name}\t{ep.url}\t{','.join(ep.events)}\t{ep.status}{note}"
                          f"\t{len(ep.secrets)} secret(s)")
            elif action == "log":
                for a in wh.delivery_log(session, args.id, args.limit):
                    print(f"{a.at:%Y-%m-%d %H:%M:%S}\tmessage {a.message_id}\t{a.status_code or '-'}\t"
                          f"{a.duration_ms} ms\t{a.error or ''}")
            elif action == "replay":
                since = datetime.fromisoformat(args.since) if args.since else None
                print(f"{wh.replay(session, args.id, since, args.msg)} message(s) queued again")
            elif action == "rotate":
                print("new signing secret (shown once; the old one keeps signing until end-rotation):")
                print(wh.rotate_secret(session, args.id))
            elif action == "end-rotation":
                wh.end_rotation(session, args.id)
                print(f"endpoint {args.id}: only the newest secret signs now")
            else:
                wh.set_enabled(session, args.id, action == "enable")
                print(f"endpoint {args.id} {action}d")
    except wh.WebhookError as exc:
        print(f"error: {exc}")
        return 1
    finally:
        engine.dispose()
    return 0
