"""API keys: created once (the key is shown once), stored as SHA-256, scoped and revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.persistence.case_tables import utcnow
from routing.persistence.open311_tables import ApiKey

SCOPES = ("read", "write", "personal", "geo")
KEY_PREFIX = "fq_"
# last_used_at is written at most this often per key, so reads do not turn into writes.
LAST_USED_EVERY = timedelta(seconds=60)


class KeyError_(ValueError):
    """A key cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Client:
    """An authenticated API client."""

    id: int
    name: str
    scopes: frozenset[str]
    rate_limit: int

    def can(self, scope: str) -> bool:
        """Tell whether the key carries `scope`."""
        return scope in self.scopes


def digest(key: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> list[str]:
    """Parse a comma list of scopes, refusing unknown ones."""
    scopes = sorted({s.strip() for s in text.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise KeyError_(f"scopes must be a comma list of {', '.join(SCOPES)}; got {text!r}")
    return scopes


def create_key(session: Session, name: str, scopes: list[str], rate_limit: int = 60) -> str:
    """Create a key and return it (the only time it is visible).

    Raises:
        KeyError_: the name is taken or the rate limit is not positive.
    """
    if session.execute(select(ApiKey.id).where(ApiKey.name == name)).scalar() is not None:
        raise KeyError_(f"an API key named {name!r} exists")
    if rate_limit < 1:
        raise KeyError_("the rate limit must be at least 1 request per minute")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, prefix=key[:10], key_hash=digest(key), scopes=scopes, rate_limit=rate_limit))
    session.flush()
    return key


def revoke_key(session: Session, name: str) -> None:
    """Revoke a key by name.

    Raises:
        KeyError_: no such key.
    """
    row = session.execute(select(ApiKey).where(ApiKey.name == name)).scalar()
    if row is None:
        raise KeyError_(f"no API key named {name!r}")
    row.revoked_at = row.revoked_at or utcnow()


def list_keys(session: Session) -> list[ApiKey]:
    """Return every key, oldest first."""
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def authenticate(session: Session, key: str, now: datetime | None = None) -> Client | None:
    """Return the client of a live key (and note its use), or None."""
    if not key or len(key) > 200:
        return None
    row = session.execute(select(ApiKey).where(ApiKey.key_hash == digest(key))).scalar()
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last >= LAST_USED_EVERY:
        row.last_used_at = now
    return Client(row.id, row.name, frozenset(row.scopes), row.rate_limit)
