"""AES-GCM field encryption with key ids, and a keyed HMAC blind index for equality lookups.

Keys come from ``FENGQIAO_DATA_KEYS`` (``kid:base64,kid:base64,index:base64``; the first data key
is the active one), else from the JSON file ``FENGQIAO_DATA_KEY_FILE``, else from
``var/data_keys.json``, generated on first use for development and tests (never committed).
The file is ``{"active": kid, "keys": {kid: base64}, "index": base64}``.

A stored value is ``enc:1:<kid>:<base64(nonce ‖ ciphertext ‖ tag)>``; the column's name is the
associated data, so a value copied into another column does not decrypt. The blind index is
HMAC-SHA256 under its own key, which rotation of the data keys leaves alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from routing.persistence.db import REPO_ROOT

PREFIX = "enc:1:"
_NONCE = 12
_RELOAD_SECONDS = 5.0


class KeyError_(LookupError):
    """A value was encrypted under a key this process does not have."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_key() -> bytes:
    """Return 32 random bytes (AES-256)."""
    return secrets.token_bytes(32)


def new_kid() -> str:
    """Return a fresh key id: the date and four random hex digits."""
    return time.strftime("%Y%m%d", time.gmtime()) + secrets.token_hex(2)


@dataclass(frozen=True, eq=False)
class KeyMaterial:
    """The keys of one configuration: data keys by id, the active id, the index key."""

    active: str
    keys: dict[str, bytes]
    index: bytes

    def cipher(self, kid: str) -> AESGCM:
        """Return the AES-GCM object of a key (built once per key)."""
        cache = self.__dict__.setdefault("_ciphers", {})
        if kid not in cache:
            cache[kid] = AESGCM(self.keys[kid])
        return cache[kid]  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """Serialise for the key file."""
        return json.dumps({"active": self.active, "keys": {k: _b64(v) for k, v in self.keys.items()},
                           "index": _b64(self.index)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> KeyMaterial:
        """Parse a key file."""
        raw = json.loads(text)
        keys = {str(k): _unb64(v) for k, v in raw["keys"].items()}
        if raw["active"] not in keys:
            raise ValueError("the active key id is not among the keys")
        return cls(active=raw["active"], keys=keys, index=_unb64(raw["index"]))

    @classmethod
    def from_env_value(cls, text: str) -> KeyMaterial:
        """Parse ``FENGQIAO_DATA_KEYS`` (``kid:b64,…,index:b64``; the first data key is active)."""
        keys: dict[str, bytes] = {}
        index = b""
        for part in (p.strip() for p in text.split(",") if p.strip()):
            kid, _, value = part.partition(":")
            if kid == "index":
                index = _unb64(value)
            else:
                keys[kid] = _unb64(value)
        if not keys or not index:
            raise ValueError("FENGQIAO_DATA_KEYS needs at least one data key and an index key")
        return cls(active=next(iter(keys)), keys=keys, index=index)


def key_file() -> Path:
    """Return the key file's path (``FENGQIAO_DATA_KEY_FILE`` or ``var/data_keys.json``)."""
    return Path(os.environ.get("FENGQIAO_DATA_KEY_FILE") or REPO_ROOT / "var" / "data_keys.json")


def write_key_file(path: Path, material: KeyMaterial) -> None:
    """Replace the key file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(material.to_json())
    os.replace(tmp, path)


def _load_or_create(path: Path) -> KeyMaterial:
    if not path.exists():
        kid = new_kid()
        fresh = KeyMaterial(active=kid, keys={kid: new_key()}, index=new_key())
        try:  # two processes starting at once: the first file wins, the other reads it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return _load_or_create(path)
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(fresh.to_json())
            return fresh
    for _ in range(50):  # a file being written by another process's O_EXCL create
        text = path.read_text()
        if text.strip():
            return KeyMaterial.from_json(text)
        time.sleep(0.02)
    raise ValueError(f"empty key file {path}")


class KeyRing:
    """The process's keys; re-reads the key file when it changes (rotation without downtime)."""

    def __init__(self, material: KeyMaterial | None = None) -> None:
        """Use ``material``, or load from the environment / key file on first use."""
        self._lock = threading.Lock()
        self._material = material
        self._fixed = material is not None
        self._checked = 0.0
        self._mtime = 0.0

    def _source(self) -> KeyMaterial:
        env = os.environ.get("FENGQIAO_DATA_KEYS", "").strip()
        if env:
            return KeyMaterial.from_env_value(env)
        path = key_file()
        material = _load_or_create(path)
        self._mtime = path.stat().st_mtime
        return material

    def material(self, *, force: bool = False) -> KeyMaterial:
        """Return the keys, re-reading the source when forced or when the key file changed."""
        if self._fixed and self._material is not None:
            return self._material
        now = time.monotonic()
        with self._lock:
            if self._material is None or force:
                self._material = self._source()
                self._checked = now
            elif now - self._checked > _RELOAD_SECONDS and not os.environ.get("FENGQIAO_DATA_KEYS"):
                self._checked = now
                try:
                    if key_file().stat().st_mtime != self._mtime:
                        self._material = self._source()
                except OSError:
                    pass
            return self._material

    def encrypt(self, plain: str, context: str) -> str:
        """Encrypt ``plain`` under the active key; ``context`` (the column) is bound as associated data."""
        m = self.material()
        nonce = secrets.token_bytes(_NONCE)
        sealed = m.cipher(m.active).encrypt(nonce, plain.encode("utf-8"), context.encode("utf-8"))
        return f"{PREFIX}{m.active}:{_b64(nonce + sealed)}"

    def decrypt(self, stored: str, context: str) -> str:
        """Return the clear text of a stored value (a value without the prefix is returned as is)."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX):].partition(":")
        m = self.material()
        if kid not in m.keys:
            m = self.material(force=True)
            if kid not in m.keys:
                raise KeyError_(f"no data key {kid!r}")
        raw = _unb64(body)
        return m.cipher(kid).decrypt(raw[:_NONCE], raw[_NONCE:], context.encode("utf-8")).decode("utf-8")

    def blind_index(self, value: str, context: str) -> str:
        """Return the keyed HMAC of a normalised value (hex, 32 characters)."""
        msg = f"{context}\x00{value}".encode()
        return hmac.new(self.material().index, msg, hashlib.sha256).hexdigest()[:32]


def kid_of(stored: str | None) -> str | None:
    """Return the key id a stored value is under (None for clear or empty values)."""
    if not stored or not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX):].partition(":")[0]


_RING = KeyRing()


def keyring() -> KeyRing:
    """Return the process's key ring."""
    return _RING


def use_keyring(ring: KeyRing) -> KeyRing:
    """Replace the process's key ring (tests; ``fengqiao keys``); return the previous one."""
    global _RING
    old, _RING = _RING, ring
    return old
