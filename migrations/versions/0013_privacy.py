"""privacy: personal data encrypted at rest, the phone's blind index, legal holds, purge marks

Revision ID: 0013_privacy
Revises: 0012_rates

Encrypts every personal-data column stored in clear by older versions (``routing.privacy.rotate``
lists them) with the active data key, fills ``cases.contact_phone_index``, and lets the retention
purge blank the personal fields of a case's events: the append-only triggers now allow exactly
that one update (reason set to NULL, payload marked ``purged``, every other column unchanged).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_privacy"
down_revision = "0012_rates"
branch_labels = None
depends_on = None

APPEND_ONLY = "case_events is append-only: the audit trail cannot be changed"
SAME = ("NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.seq = OLD.seq AND NEW.kind = OLD.kind "
        "AND NEW.actor = OLD.actor AND NEW.created_at = OLD.created_at AND NEW.reason IS NULL "
        "AND NEW.status_after IS {same} OLD.status_after")


def _triggers(sqlite: bool, allow_purge: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
        when = ""
        if allow_purge:
            same = SAME.format(same="")
            # coalesce: a NULL (no "purged" key) must refuse, not skip the trigger.
            when = f" WHEN NOT coalesce(({same} AND json_extract(NEW.payload, '$.purged') = 1), 0)"
        op.execute(f"CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events{when} "
                   f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
        return
    allow = ""
    if allow_purge:
        same = SAME.format(same="NOT DISTINCT FROM")
        allow = (f"IF TG_OP = 'UPDATE' AND {same} AND (NEW.payload::jsonb ->> 'purged') = 'true' "
                 "THEN RETURN NEW; END IF; ")
    op.execute("CREATE OR REPLACE FUNCTION case_events_append_only() RETURNS trigger AS $$ "
               f"BEGIN {allow}RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql")


WIDENED = (("cases", "contact_phone", "VARCHAR(32)", True), ("case_contacts", "party", "VARCHAR(128)", False))


def _widen(sqlite: bool) -> None:
    """Make the two short columns TEXT (ciphertext is longer than the clear value)."""
    if not sqlite:
        for table, column, old, nullable in WIDENED:
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(int(old[8:-1])),
                            existing_nullable=nullable)
        return
    # SQLite stores the declared type only as text and enforces no length: rewriting the
    # declaration keeps the table, its partial indexes and the desk-count triggers (a batch
    # copy of ``cases`` would drop the triggers).
    op.execute("PRAGMA writable_schema = ON")
    for table, column, old, _ in WIDENED:
        op.execute(f"UPDATE sqlite_master SET sql = replace(sql, '{column} {old}', '{column} TEXT') "
                   f"WHERE type = 'table' AND name = '{table}'")
    version = op.get_bind().execute(sa.text("PRAGMA schema_version")).scalar()
    op.execute(f"PRAGMA schema_version = {int(version or 0) + 1}")
    op.execute("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    from routing.privacy.fields import phone_index
    from routing.privacy.rotate import reencrypt_connection

    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    _widen(sqlite)
    op.add_column("cases", sa.Column("contact_phone_index", sa.String(32), nullable=True))
    op.add_column("cases", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_contact_phone_index", "cases", ["contact_phone_index"])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_legal_holds_case_id", "legal_holds", ["case_id"])
    _triggers(sqlite, allow_purge=True)

    def index(column: str, plain: str) -> dict[str, object]:
        return {"contact_phone_index": phone_index(plain)} if column == "contact_phone" else {}

    reencrypt_connection(bind, extra=index)


def downgrade() -> None:
    bind = op.get_bind()
    _triggers(bind.dialect.name == "sqlite", allow_purge=False)
    op.drop_index("ix_legal_holds_case_id", table_name="legal_holds")
    op.drop_table("legal_holds")
    op.drop_index("ix_cases_contact_phone_index", table_name="cases")
    op.drop_column("cases", "purged_at")
    op.drop_column("cases", "contact_phone_index")
    # Values stay encrypted: decrypt them with `fengqiao keys` tools before running older code.
