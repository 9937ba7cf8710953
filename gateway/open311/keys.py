"""Typed state of the /open311/v2 sub-application."""

from __future__ import annotations

from aiohttp import web

from gateway.open311.limits import RateLimiter
from routing.cases.life import CaseLife
from routing.open311.requests import Open311

API = web.AppKey("open311", Open311)
LIFE = web.AppKey("open311_case_life", CaseLife)
LIMITER = web.AppKey("open311_limiter", RateLimiter)
