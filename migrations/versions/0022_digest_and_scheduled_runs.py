"""Scheduled work: each user's daily digest (今日提醒) and the record of scheduled runs

Revision ID: 0022
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items_json", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "day", name="uq_digest_user_day"),
    )
    op.create_index("ix_digest_agency_id", "digest", ["agency_id"])
    op.create_table(
        "scheduled_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("name", "slot", name="uq_scheduled_run_name_slot"),
    )


def downgrade():
    op.drop_table("scheduled_run")
    op.drop_index("ix_digest_agency_id", table_name="digest")
    op.drop_table("digest")
