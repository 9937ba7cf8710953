"""Typed application state keys (one place to see what the web app holds)."""

from __future__ import annotations

from aiohttp import ClientSession, web

from fengqiao.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
HTTP = web.AppKey("http", ClientSession)
MESSAGING = web.AppKey("messaging", object)  # gateway.inbox.Messaging (typed loosely: no import cycle)
