"""Console accounts and case work: users, roles, regions, sessions, audit, notes, agreements.

Framework-free (SQLAlchemy only); the aiohttp console in ``gateway/console`` calls these.
"""
