"""The applicant's side: online requests and their files, correction answers sent online, SMS
codes, the message outbox; the agency's public guide, staff contact addresses, the case's query code

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table rebuild on SQLite): these tables carry triggers and foreign keys.
    op.add_column("agency", sa.Column("guide_json", sa.Text(), nullable=False, server_default="{}"))
    op.add_column("agency", sa.Column("online_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("user", sa.Column("email", sa.String(200), nullable=False, server_default=""))
    op.add_column("user", sa.Column("mobile", sa.String(30), nullable=False, server_default=""))
    op.add_column("case", sa.Column("query_code_hash", sa.String(64), nullable=True))

    op.create_table(
        "online_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False, unique=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=True),
    )
    op.create_index("ix_online_request_queue", "online_request", ["agency_id", "status", "submitted_at"])
    op.create_index("ix_online_request_case_id", "online_request", ["case_id"])
    op.create_table(
        "online_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("online_request.id"), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
    )
    op.create_index("ix_online_file_request_id", "online_file", ["request_id"])
    op.create_table(
        "correction_reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=False),
        sa.Column("step_id", sa.Integer(), sa.ForeignKey("step.id"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment_ids_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
    )
    op.create_index("ix_correction_reply_case_id", "correction_reply", ["case_id"])
    op.create_table(
        "sms_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone_key", sa.String(50), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_sms_code_phone", "sms_code", ["phone_key", "created_at"])
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_message_status", "message", ["status", "next_attempt_at"])
    op.create_index("ix_message_agency_id", "message", ["agency_id"])
    op.create_index("ix_message_case_id", "message", ["case_id"])


def downgrade():
    for t in ("message", "sms_code", "correction_reply", "online_file", "online_request"):
        op.drop_table(t)
    op.drop_column("case", "query_code_hash")
    with op.batch_alter_table("user") as b:
        b.drop_column("mobile")
        b.drop_column("email")
    with op.batch_alter_table("agency") as b:
        b.drop_column("online_enabled")
        b.drop_column("guide_json")
