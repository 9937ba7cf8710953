"""Re-encrypt stored personal data under the active key, in small batches, while the app runs.

Used by ``fengqiao keys rotate`` (after a new active key is written) and by the migration that
encrypts rows stored in clear by older versions. Each batch is its own short transaction and
updates a row only if its value is still the one read (``WHERE id = :id AND col = :old``): a
concurrent writer's newer value is never overwritten, and the next pass looks at it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from routing.privacy.crypto import PREFIX, KeyRing, keyring

# Every encrypted column: (table, column). The column's EncryptedText context is "table.column".
ENCRYPTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("cases", "subject"), ("cases", "narrative_original"), ("cases", "narrative_normalised"),
    ("cases", "location_text"), ("cases", "respondent"), ("cases", "demand"), ("cases", "contact_phone"),
    ("alerts", "excerpt"),
    ("inbox_messages", "text"), ("outbox_messages", "text"),
    ("case_contacts", "party"), ("case_contacts", "summary"), ("case_notes", "body"),
)


@dataclass
class RotationReport:
    """Rows re-encrypted per column, rows skipped because a writer changed them, passes made."""

    rewritten: dict[str, int] = field(default_factory=dict)
    raced: int = 0
    passes: int = 0
    left: int = 0

    def to_dict(self) -> dict[str, object]:
        """Counts only (never a value)."""
        return {"rewritten": self.rewritten, "total": sum(self.rewritten.values()), "raced": self.raced,
                "passes": self.passes, "left": self.left}


def _stale(col: sa.ColumnClause, active: str) -> sa.ColumnElement[bool]:
    return sa.and_(col.is_not(None), col != "", sa.not_(col.startswith(f"{PREFIX}{active}:")))


def _one_batch(conn: Connection, table: str, column: str, ring: KeyRing, after: int, size: int,
               extra: Callable[[str, str], dict[str, object]] | None) -> tuple[int, int, int]:
    """Re-encrypt up to ``size`` stale rows with id > ``after``; return (last id, rewritten, raced)."""
    t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
    col = t.c[column]
    active = ring.material().active
    rows = conn.execute(sa.select(t.c.id, col).where(t.c.id > after, _stale(col, active))
                        .order_by(t.c.id).limit(size)).all()
    if not rows:
        return -1, 0, 0
    context = f"{table}.{column}"
    done = raced = 0
    for row_id, old in rows:
        plain = ring.decrypt(old, context)
        values: dict[str, object] = {column: ring.encrypt(plain, context)}
        if extra is not None:
            values.update(extra(column, plain))
        target = sa.table(table, sa.column("id"), *(sa.column(k) for k in values))
        changed = conn.execute(sa.update(target).where(target.c.id == row_id, target.c[column] == old)
                               .values(**values)).rowcount
        done += changed
        raced += 1 - changed
    return rows[-1][0], done, raced


def reencrypt_connection(conn: Connection, ring: KeyRing | None = None, size: int = 500,
                         extra: Callable[[str, str], dict[str, object]] | None = None) -> RotationReport:
    """One pass over every encrypted column on an open connection (the migration's transaction)."""
    ring = ring or keyring()
    report = RotationReport(passes=1)
    for table, column in ENCRYPTED_COLUMNS:
        after = 0
        while after >= 0:
            after, done, raced = _one_batch(conn, table, column, ring, after, size, extra)
            report.rewritten[f"{table}.{column}"] = report.rewritten.get(f"{table}.{column}", 0) + done
            report.raced += raced
    return report


def stale_count(engine: Engine, ring: KeyRing | None = None) -> int:
    """Return how many stored values are not under the active key (clear or an older key)."""
    ring = ring or keyring()
    active = ring.material().active
    total = 0
    with engine.connect() as conn:
        for table, column in ENCRYPTED_COLUMNS:
            t = sa.table(table, sa.column(column, sa.Text))
            total += int(conn.execute(sa.select(sa.func.count()).select_from(t)
                                      .where(_stale(t.c[column], active))).scalar() or 0)
    return total


def reencrypt(engine: Engine, ring: KeyRing | None = None, size: int = 200, max_passes: int = 5) -> RotationReport:
    """Re-encrypt every stale value, one short transaction per batch, until none is left."""
    ring = ring or keyring()
    report = RotationReport()
    for _ in range(max_passes):
        report.passes += 1
        before = sum(report.rewritten.values())
        for table, column in ENCRYPTED_COLUMNS:
            after = 0
            while after >= 0:
                with engine.begin() as conn:
                    after, done, raced = _one_batch(conn, table, column, ring, after, size, None)
                key = f"{table}.{column}"
                report.rewritten[key] = report.rewritten.get(key, 0) + done
                report.raced += raced
        report.left = stale_count(engine, ring)
        if report.left == 0 or sum(report.rewritten.values()) == before:
            break
    return report


def activate_new_key(ring: KeyRing | None = None) -> str:
    """Write a new data key into the key file as the active one (old keys kept); return its id.

    Processes that share the file pick it up within seconds, or at once when they meet a value
    under it. With ``FENGQIAO_DATA_KEYS`` the operator puts the new key first in every process's
    environment instead and runs only the re-encryption.
    """
    import os

    from routing.privacy.crypto import KeyMaterial, key_file, new_key, new_kid, write_key_file

    if os.environ.get("FENGQIAO_DATA_KEYS", "").strip():
        raise RuntimeError("keys come from FENGQIAO_DATA_KEYS: put the new key first there in every process, "
                           "then run `fengqiao keys rotate --reencrypt-only`")
    ring = ring or keyring()
    current = ring.material(force=True)
    kid = new_kid()
    while kid in current.keys:
        kid = new_kid()
    write_key_file(key_file(), KeyMaterial(active=kid, keys={**current.keys, kid: new_key()}, index=current.index))
    ring.material(force=True)
    return kid
