"""status events in one form: legacy 'filed' / 'assigned' / 'withdrawn' rows become status_changed

Before this revision, filing and the chat's first actions wrote some status changes under their
own kinds (``filed``, ``assigned``, ``withdrawn``) without the lifecycle's from/to/action, and
the reader translated them. Every status change is now a ``status_changed`` event written by the
one event writer. This revision rewrites the old rows into that form once, keeping the kind they
were recorded as in ``payload.recorded_as``; nothing else in the trail changes. The append-only
triggers are lifted for this one statement and restored in the same transaction.

Revision ID: 0006_status_events
Revises: 0005_case_life
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_status_events"
down_revision = "0005_case_life"
branch_labels = None
depends_on = None

LEGACY = {"filed": ("accept", "accepted"), "assigned": ("assign", "assigned"), "withdrawn": ("withdraw", "withdrawn")}
APPEND_ONLY = "case_events is append-only: the audit trail cannot be changed"


def _lift_triggers(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    else:
        op.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")


def _restore_triggers(sqlite: bool) -> None:
    if sqlite:
        op.execute(
            "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    else:
        op.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")


def _payload(value: object) -> dict:
    if isinstance(value, str):
        return json.loads(value) if value else {}
    return dict(value or {})  # type: ignore[call-overload]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    events = sa.table("case_events", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                      sa.column("seq", sa.Integer), sa.column("kind", sa.String),
                      sa.column("status_after", sa.String), sa.column("payload", sa.JSON))
    rows = bind.execute(sa.select(events.c.id, events.c.case_id, events.c.kind, events.c.status_after,
                                  events.c.payload).order_by(events.c.case_id, events.c.seq)).all()
    changes = []
    status: dict[int, str | None] = {}
    for row in rows:
        payload = _payload(row.payload)
        if row.kind in LEGACY and "action" not in payload:
            action, to = LEGACY[row.kind]
            payload.update({"from": status.get(row.case_id), "to": to, "action": action, "recorded_as": row.kind})
            changes.append({"row_id": row.id, "payload": payload})
            status[row.case_id] = to
        elif row.kind == "status_changed":
            status[row.case_id] = payload.get("to")
    if not changes:
        return
    _lift_triggers(sqlite)
    bind.execute(events.update().where(events.c.id == sa.bindparam("row_id"))
                 .values(kind="status_changed", payload=sa.bindparam("payload")), changes)
    _restore_triggers(sqlite)


def downgrade() -> None:
    pass  # the rewritten rows stay readable by older code as status_changed events
