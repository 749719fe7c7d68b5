"""accounts: forced password change, password age and history; server-side sign-in sessions

Revision ID: 0008
Revises: 0007
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    # Existing passwords start their age now, so the upgrade does not expire every account at once.
    op.execute(sa.text('UPDATE "user" SET password_changed_at = :now').bindparams(now=datetime.utcnow()))

    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session") as batch:
        batch.create_index(batch.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_password_history_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    with op.batch_alter_table("password_history") as batch:
        batch.create_index(batch.f("ix_password_history_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("password_history") as batch:
        batch.drop_index(batch.f("ix_password_history_user_id"))
    op.drop_table("password_history")
    with op.batch_alter_table("user_session") as batch:
        batch.drop_index(batch.f("ix_user_session_user_id"))
    op.drop_table("user_session")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
