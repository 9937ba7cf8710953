"""Build the console sub-app and mount it on the gateway at ``/console``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fengqiao.bootstrap import build_services
from fengqiao.settings import Settings
from gateway.console import alerts, centre, live, reception, reports, views
from gateway.console.keys import (
    CASES,
    CONSOLE_SETTINGS,
    LIFE,
    MAIN_APP,
    SESSIONS,
    STATE,
    TEMPLATES,
    TODAY,
)
from gateway.console.security import console_middleware
from routing.cases.service import utc_today
from routing.persistence.db import make_engine, make_session_factory

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def template_env() -> Environment:
    """Return the Jinja2 environment: autoescaping on for every template (citizen text is text)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = views.format_datetime
    return env


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONSOLE_SETTINGS]
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    app[STATE]["engine"] = engine
    app[SESSIONS] = sessions
    services = build_services(settings, sessions, app[TODAY])
    app[CASES] = services.cases
    app[LIFE] = services.life
    yield
    engine.dispose()


def create_console(settings: Settings, main_app: web.Application | None = None, today=utc_today) -> web.Application:  # type: ignore[no-untyped-def]
    """Create the console sub-app.

    Args:
        settings: process settings (database URL, cookie Secure flag, allowed origins).
        main_app: the gateway app (the handoff relay keeps its state there).
        today: the clock for deadlines (tests fix it).
    """
    console = web.Application(middlewares=[console_middleware], client_max_size=512 * 1024)
    console[CONSOLE_SETTINGS] = settings
    console[TEMPLATES] = template_env()
    console[STATE] = {}
    console[TODAY] = today
    if main_app is not None:
        console[MAIN_APP] = main_app
    console.cleanup_ctx.append(_database)
    views.setup(console)
    alerts.setup(console)
    live.setup(console)
    reception.setup(console)
    centre.setup(console)
    reports.setup(console)
    return console


def mount(app: web.Application, settings: Settings) -> None:
    """Mount the console on the gateway app at ``/console``."""
    app.add_subapp("/console", create_console(settings, app))
