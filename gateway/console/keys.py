"""Typed state of the console sub-app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.orm import sessionmaker

from fengqiao.settings import Settings
from routing.cases.life import CaseLife
from routing.cases.service import CaseService

CONSOLE_SETTINGS = web.AppKey("console_settings", Settings)
SESSIONS = web.AppKey("console_sessions", sessionmaker)
CASES = web.AppKey("console_case_service", CaseService)
LIFE = web.AppKey("console_case_life", CaseLife)
TEMPLATES = web.AppKey("console_templates", Environment)
MAIN_APP = web.AppKey("console_main_app", web.Application)
STATE = web.AppKey("console_state", dict)  # engine and other objects to dispose
# the working date (China Standard Time); tests fix it
TODAY: web.AppKey[Callable[[], date]] = web.AppKey("console_today")
