"""playbooks: CTAs, tasks, audit events, trigger firings, outbox, deliveries, suppressions

Revision ID: 0004_playbooks
Revises: 0003_health
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_playbooks"
down_revision = "0003_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool", sa.String(length=100), nullable=False),
        sa.Column("last_member_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_cursors")),
        sa.UniqueConstraint("pool", name=op.f("uq_assignment_cursors_pool")),
    )
    op.create_table(
        "ctas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("first_triggered_on", sa.Date(), nullable=False),
        sa.Column("last_triggered_on", sa.Date(), nullable=False),
        sa.Column("trigger_count", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ctas_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["team_members.id"], name=op.f("fk_ctas_owner_id_team_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctas")),
    )
    with op.batch_alter_table("ctas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ctas_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ctas_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ctas_playbook"), ["playbook"], unique=False)
        batch_op.create_index(batch_op.f("ix_ctas_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_ctas_open_reason",
            ["account_id", "playbook", "reason"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("trigger_day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=2000), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_outbox_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "playbook_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=True),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_playbook_firings_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_firings")),
        sa.UniqueConstraint(
            "playbook",
            "account_id",
            "day",
            name=op.f("uq_playbook_firings_playbook_account_id_day"),
        ),
    )
    with op.batch_alter_table("playbook_firings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playbook_firings_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_playbook_firings_day"), ["day"], unique=False)

    op.create_table(
        "cta_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cta_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cta_id"], ["ctas.id"], name=op.f("fk_cta_events_cta_id_ctas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cta_events")),
    )
    with op.batch_alter_table("cta_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cta_events_cta_id"), ["cta_id"], unique=False)

    op.create_table(
        "cta_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cta_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["cta_id"], ["ctas.id"], name=op.f("fk_cta_tasks_cta_id_ctas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cta_tasks")),
    )
    with op.batch_alter_table("cta_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cta_tasks_cta_id"), ["cta_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_deliveries_outbox_id_outbox_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_outbox_id"), ["outbox_id"], unique=False)

    op.create_table(
        "email_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_email_suppressions_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_suppressions")),
        sa.UniqueConstraint("email", name=op.f("uq_email_suppressions_email")),
    )


def downgrade() -> None:
    op.drop_table("email_suppressions")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_outbox_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_domain"))

    op.drop_table("deliveries")
    with op.batch_alter_table("cta_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cta_tasks_cta_id"))

    op.drop_table("cta_tasks")
    with op.batch_alter_table("cta_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cta_events_cta_id"))

    op.drop_table("cta_events")
    with op.batch_alter_table("playbook_firings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_firings_day"))
        batch_op.drop_index(batch_op.f("ix_playbook_firings_account_id"))

    op.drop_table("playbook_firings")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_account_id"))

    op.drop_table("outbox_messages")
    with op.batch_alter_table("ctas", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ctas_open_reason",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_ctas_status"))
        batch_op.drop_index(batch_op.f("ix_ctas_playbook"))
        batch_op.drop_index(batch_op.f("ix_ctas_owner_id"))
        batch_op.drop_index(batch_op.f("ix_ctas_account_id"))

    op.drop_table("ctas")
    op.drop_table("assignment_cursors")
