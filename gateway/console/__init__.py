"""The mediator console: an aiohttp sub-app mounted at ``/console`` (see :func:`mount`)."""

from gateway.console.app import create_console, mount

__all__ = ["create_console", "mount"]
