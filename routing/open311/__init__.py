"""Data sharing: Open311 GeoReport v2 filing and reading, API keys and signed webhooks.

Framework-free like the rest of ``routing``: the HTTP layer lives in ``gateway/open311``.
"""
