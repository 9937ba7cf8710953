"""Typed application state keys (one place to see what the web app holds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

from fengqiao.settings import Settings

if TYPE_CHECKING:
    from gateway.inbox import Messaging

SETTINGS = web.AppKey("settings", Settings)
HTTP = web.AppKey("http", ClientSession)
# gateway.inbox.Messaging, named for the type checker only (gateway.inbox imports this module)
MESSAGING: web.AppKey[Messaging] = web.AppKey("messaging")
if TYPE_CHECKING:
    from gateway.leases import Leader
# gateway.leases.Leader: the election of the gateway that runs the singleton loops
LEADER: web.AppKey[Leader] = web.AppKey("leader")
