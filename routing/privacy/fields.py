"""Column types that keep personal data encrypted in the database and clear in Python.

``EncryptedText("cases.contact_phone")`` stores ``routing.privacy.crypto`` ciphertext in a TEXT
column; reads (ORM objects and ``select(Case.subject)`` alike) decrypt. Equality in SQL on such a
column never matches: look up through a blind index column instead (``phone_index``).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from routing.privacy.crypto import keyring

PHONE_INDEX_CONTEXT = "phone"


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with AES-GCM under the active data key; the column name is the context."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        """Bind the type to its column (``table.column``), the associated data of every value."""
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Encrypt a value on its way to the database (None and '' stay as they are)."""
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Decrypt a stored value (legacy clear values are returned unchanged)."""
        if value is None or value == "":
            return value
        return keyring().decrypt(str(value), self.context)


def phone_index(phone: str | None) -> str | None:
    """Return the blind index of a phone number (its digits; a leading +86/86 dropped)."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 7:
        return None
    return keyring().blind_index(digits, PHONE_INDEX_CONTEXT)
