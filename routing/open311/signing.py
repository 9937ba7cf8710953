"""Standard Webhooks signing and the SSRF guard for subscriber URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit


class WebhookError(ValueError):
    """A subscription cannot be made as asked; the message says why."""


def new_secret() -> str:
    """Return a new signing secret (``whsec_`` + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """Return ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(secrets_: Iterable[str], msg_id: str, timestamp: int, body: str) -> str:
    """Sign with every live secret (two during a rotation), space-separated."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def verify(secret: str, headers: dict[str, str], body: str, now: int, tolerance: int = 300) -> bool:
    """Check a delivery's signature and timestamp as a receiver would (the README's example)."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(stamp), body).split(",", 1)[1]
    given = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, g) for g in given)


# ---------------------------------------------------------------------- the SSRF guard
def address_allowed(ip: str, allow_loopback: bool) -> bool:
    """Tell whether the sender may connect to `ip`: public addresses, loopback in development."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return allow_loopback
    return addr.is_global and not addr.is_multicast


def check_url(url: str, allow_loopback: bool = False,
              resolve: Callable[[str, int], list[str]] | None = None) -> str:
    """Check a subscriber URL: https only (http only to loopback in development), and every
    address the host resolves to must be public (never private, link-local, CGNAT, reserved).

    Raises:
        WebhookError: the URL is refused, with the reason.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("a webhook URL must be https://host/…")
    if parts.username or parts.password:
        raise WebhookError("a webhook URL may not carry credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = (resolve or _resolve)(parts.hostname, port)
    if not addresses:
        raise WebhookError(f"{parts.hostname} does not resolve")
    for ip in addresses:
        if not address_allowed(ip, allow_loopback):
            raise WebhookError(f"{parts.hostname} resolves to {ip}, a private or reserved address")
    loopback = all(ipaddress.ip_address(ip.split("%", 1)[0]).is_loopback for ip in addresses)
    if parts.scheme == "http" and not (allow_loopback and loopback):
        raise WebhookError("a webhook URL must use https (plain http only to loopback in development)")
    return parts.geturl()


def _resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except OSError:
        return []
