"""Accounts, sessions, login throttling and the audit log (service functions on a Session).

Passwords are argon2id hashes (argon2-cffi); sessions live in the database and the cookie
carries only a random token whose SHA-256 is the key, so logout (deleting the row) revokes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.console.accounts.access import PERMISSION_NAMES, ROLE_LABELS, TOTP_ROLES, Principal
from routing.persistence.console_tables import (
    AuditEntry,
    ConsoleSession,
    ConsoleUser,
    ConsoleUserRegion,
    LoginAttempt,
)
from routing.understanding.places import load_divisions

SESSION_LIFETIME = timedelta(hours=10)
SESSION_IDLE = timedelta(minutes=60)
TOTP_STAGE_LIFETIME = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20


class AccountError(ValueError):
    """A user cannot be created or changed as asked."""


@dataclass(frozen=True)
class LoginRefused:
    """A login that does not succeed: ``reason`` is a code, ``message`` Chinese for the page."""

    reason: str
    message: str


@dataclass(frozen=True)
class LoginResult:
    """A session just opened: the cookie token, its CSRF token and whether TOTP is pending."""

    token: str
    csrf_token: str
    needs_totp: bool


def now_utc() -> datetime:
    """Return the current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """Return ``value`` as aware UTC (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher  # lazy: nothing happens at import time

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Tell whether ``password`` matches ``stored_hash`` (argon2id)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


# A fixed hash verified when the username is unknown, so timing does not tell which names exist.
_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def token_hash(token: str) -> str:
    """Return the key a session token is stored under."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_totp_secret() -> str:
    """Return a new base32 TOTP secret."""
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """Return the otpauth:// URI an authenticator app scans."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="枫桥助手工作台")


def verify_totp(secret: str, code: str, at: datetime | None = None) -> bool:
    """Check a six-digit TOTP code (one 30-second step of drift allowed)."""
    import pyotp

    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    return bool(pyotp.TOTP(secret).verify(code, for_time=at or now_utc(), valid_window=1))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    regions: Iterable[str],
    display_name: str | None = None,
    person_id: str | None = None,
    permissions: Iterable[str] = (),
    totp_secret: str | None = None,
) -> ConsoleUser:
    """Create a console user.

    Args:
        session: open database session (the caller commits).
        username: login name (letters, digits, ``._-``).
        password: at least 10 characters.
        role: a key of :data:`ROLE_LABELS`.
        regions: division codes (must exist in ``routing/data/divisions.csv``).
        display_name: the name shown (default: the username).
        person_id: the id routing assigns cases to (people.csv); default ``u:<username>``.
        permissions: extra permissions on top of the role's.
        totp_secret: the TOTP secret; a new one is made for roles that need two factors.

    Raises:
        AccountError: a value is invalid or the username is taken.
    """
    if role not in ROLE_LABELS:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLE_LABELS)}")
    if not username or not all(ch.isalnum() or ch in "._-" for ch in username) or len(username) > 64:
        raise AccountError("username: 1-64 letters, digits, '.', '_' or '-'")
    if len(password) < 10:
        raise AccountError("password must have at least 10 characters")
    regions = [r.strip() for r in regions if r.strip()]
    if not regions:
        raise AccountError("at least one region (division code) is needed")
    index = load_divisions()
    unknown = [r for r in regions if r not in index]
    if unknown:
        raise AccountError(f"unknown division code(s): {', '.join(unknown)}")
    bad = set(permissions) - PERMISSION_NAMES
    if bad:
        raise AccountError(f"unknown permission(s): {', '.join(sorted(bad))}")
    if session.execute(select(ConsoleUser.id).where(ConsoleUser.username == username)).first():
        raise AccountError(f"user {username!r} exists")
    if totp_secret is None and role in TOTP_ROLES:
        totp_secret = new_totp_secret()
    user = ConsoleUser(
        username=username,
        display_name=display_name or username,
        role=role,
        person_id=person_id or f"u:{username}",
        password_hash=hash_password(password),
        totp_secret=totp_secret,
        extra_permissions=sorted(set(permissions)),
        active=True,
    )
    session.add(user)
    session.flush()
    for code in dict.fromkeys(regions):
        session.add(ConsoleUserRegion(user_id=user.id, division_code=code))
    session.flush()
    return user


def principal_of(session: Session, user: ConsoleUser) -> Principal:
    """Build the access-rule view of a user."""
    regions = session.execute(
        select(ConsoleUserRegion.division_code).where(ConsoleUserRegion.user_id == user.id)
    ).scalars()
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        person_id=user.person_id,
        regions=tuple(sorted(regions)),
        extra_permissions=frozenset(user.extra_permissions or ()),
    )


def _failures(session: Session, since: datetime, username: str | None = None, ip: str | None = None) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return int(session.execute(query).scalar() or 0)


def _last_success(session: Session, username: str) -> datetime | None:
    value = session.execute(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.success.is_(True))
    ).scalar()
    return aware(value) if value else None


def is_throttled(session: Session, username: str, ip: str, now: datetime | None = None) -> bool:
    """Tell whether the account or the address has failed too often in the window.

    Failures before the account's last successful login do not count against the account.
    """
    now = now or now_utc()
    since = now - THROTTLE_WINDOW
    if _failures(session, since, ip=ip) >= MAX_FAILURES_PER_IP:
        return True
    last_ok = _last_success(session, username)
    account_since = max(since, last_ok) if last_ok else since
    return _failures(session, account_since, username=username) >= MAX_FAILURES_PER_ACCOUNT


def _open_session(session: Session, user: ConsoleUser, ip: str, stage: str, now: datetime) -> LoginResult:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    lifetime = TOTP_STAGE_LIFETIME if stage == "totp" else SESSION_LIFETIME
    session.add(
        ConsoleSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            stage=stage,
            ip=ip[:64],
            created_at=now,
            last_seen=now,
            expires_at=now + lifetime,
        )
    )
    return LoginResult(token=token, csrf_token=csrf, needs_totp=stage == "totp")


def login(
    session: Session, username: str, password: str, ip: str, now: datetime | None = None
) -> LoginResult | LoginRefused:
    """Check a password and open a session (pending TOTP for supervisors and administrators).

    Every attempt is recorded for throttling and in the audit log; a refusal is *returned*
    (not raised) so the caller commits those records.

    Returns:
        The new session, or a :class:`LoginRefused` (throttled, wrong credentials, inactive,
        TOTP not enrolled).
    """
    now = now or now_utc()
    username = username.strip()[:64]
    if is_throttled(session, username, ip, now):
        session.add(LoginAttempt(username=username, ip=ip[:64], success=False, at=now))
        audit(session, None, username, "login_throttled", ip=ip)
        return LoginRefused("throttled", "登录失败次数过多，请15分钟后再试。")
    user = session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar()
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        session.add(LoginAttempt(username=username, ip=ip[:64], success=False, at=now))
        audit(session, user.id if user else None, username, "login_failed", ip=ip)
        return LoginRefused("credentials", "用户名或密码不正确。")
    if user.role in TOTP_ROLES and not user.totp_secret:
        audit(session, user.id, username, "login_failed", {"why": "totp_not_enrolled"}, ip=ip)
        return LoginRefused("totp_missing", "该账号须先设置两步验证，请联系管理员。")
    needs_totp = user.role in TOTP_ROLES or bool(user.totp_secret)
    if not needs_totp:
        session.add(LoginAttempt(username=username, ip=ip[:64], success=True, at=now))
        audit(session, user.id, username, "login", ip=ip)
    return _open_session(session, user, ip, "totp" if needs_totp else "full", now)


def complete_totp(
    session: Session, token: str, code: str, ip: str, now: datetime | None = None
) -> LoginResult | LoginRefused:
    """Finish a two-factor login: check the code and replace the pending session by a full one.

    Returns:
        The full session, or a :class:`LoginRefused` (no pending session, throttled, wrong code),
        returned so the caller commits the recorded attempt.
    """
    now = now or now_utc()
    pending = session.get(ConsoleSession, token_hash(token))
    if pending is None or pending.stage != "totp" or aware(pending.expires_at) <= now:
        return LoginRefused("expired", "验证已过期，请重新登录。")
    user = session.get(ConsoleUser, pending.user_id)
    assert user is not None
    if is_throttled(session, user.username, ip, now):
        session.delete(pending)
        return LoginRefused("throttled", "登录失败次数过多，请15分钟后再试。")
    if not user.totp_secret or not verify_totp(user.totp_secret, code, now):
        session.add(LoginAttempt(username=user.username, ip=ip[:64], success=False, at=now))
        audit(session, user.id, user.username, "login_failed", {"why": "totp"}, ip=ip)
        return LoginRefused("totp", "动态验证码不正确。")
    session.delete(pending)
    session.add(LoginAttempt(username=user.username, ip=ip[:64], success=True, at=now))
    audit(session, user.id, user.username, "login", {"totp": True}, ip=ip)
    return _open_session(session, user, ip, "full", now)


@dataclass(frozen=True)
class ActiveSession:
    """A valid session and its user."""

    principal: Principal
    csrf_token: str
    stage: str


def resolve_session(session: Session, token: str, now: datetime | None = None) -> ActiveSession | None:
    """Return the session a cookie token names, or None when unknown, expired or idle.

    Touches ``last_seen`` at most once a minute.
    """
    if not token or len(token) > 128:
        return None
    now = now or now_utc()
    row = session.get(ConsoleSession, token_hash(token))
    if row is None:
        return None
    if aware(row.expires_at) <= now or aware(row.last_seen) + SESSION_IDLE <= now:
        session.delete(row)
        return None
    user = session.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    if now - aware(row.last_seen) > timedelta(minutes=1):
        row.last_seen = now
    return ActiveSession(principal_of(session, user), row.csrf_token, row.stage)


def logout(session: Session, token: str) -> bool:
    """Delete the session row (the cookie is useless afterwards); True if one existed."""
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token)))
    return bool(getattr(result, "rowcount", 0))


def csrf_ok(expected: str, given: str | None) -> bool:
    """Compare a CSRF token in constant time."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def audit(
    session: Session,
    user_id: int | None,
    username: str,
    action: str,
    detail: dict[str, Any] | None = None,
    *,
    case_number: str | None = None,
    ip: str = "",
) -> None:
    """Append an audit entry (view, reveal, export, edit, login ...)."""
    session.add(
        AuditEntry(
            user_id=user_id,
            username=username[:64],
            action=action,
            case_number=case_number,
            detail=detail or {},
            ip=ip[:64],
            at=now_utc(),
        )
    )


def set_password(session: Session, username: str, password: str) -> None:
    """Replace a user's password and end their sessions.

    Raises:
        AccountError: no such user, or the password is too short.
    """
    if len(password) < 10:
        raise AccountError("password must have at least 10 characters")
    user = session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar()
    if user is None:
        raise AccountError(f"no user {username!r}")
    user.password_hash = hash_password(password)
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))


def set_active(session: Session, username: str, active: bool) -> None:
    """Enable or disable a user; disabling ends their sessions.

    Raises:
        AccountError: no such user.
    """
    user = session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar()
    if user is None:
        raise AccountError(f"no user {username!r}")
    user.active = active
    if not active:
        session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
