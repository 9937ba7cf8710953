"""A department's webhook receiver for the tests: verifies every signature, logs JSON lines.

    python -m tests.open311.receiver PORT LOGFILE   (secret in WEBHOOK_SECRET)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from aiohttp import web

from routing.open311.webhooks import verify


def main() -> None:
    """Serve POST / until killed."""
    port, log_path = int(sys.argv[1]), sys.argv[2]
    secret = os.environ["WEBHOOK_SECRET"]

    delay = float(os.environ.get("RECEIVER_DELAY", "0"))

    async def hook(request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        if delay:
            await asyncio.sleep(delay)  # a slow department: deliveries are in flight when it dies
        headers = {k.lower(): v for k, v in request.headers.items()}
        ok = verify(secret, headers, body, int(time.time()))
        event = json.loads(body)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"id": headers.get("webhook-id"), "valid": ok, "type": event["type"],
                                  "seq": event["data"].get("event", {}).get("seq"),
                                  "case": event["data"].get("service_request_id")}) + "\n")
        return web.Response(status=204 if ok else 401)

    app = web.Application()
    app.router.add_post("/", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: print("ready", flush=True))


if __name__ == "__main__":
    main()
