"""cross-agency 协办 and Art. 34 consultation (issue 16 item 2): a request from one agency's case to
another agency on the platform, answered there with legal review

Revision ID: 0031
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_case_id", sa.Integer(), nullable=False),
        sa.Column("from_step_id", sa.Integer(), nullable=False),
        sa.Column("from_agency_id", sa.Integer(), nullable=False),
        sa.Column("to_agency_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("answer_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["from_case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["from_step_id"], ["step.id"]),
        sa.ForeignKeyConstraint(["from_agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["to_agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["approved_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["drafted_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["answered_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_step_id"),
    )
    with op.batch_alter_table("agency_request") as batch:
        batch.create_index("ix_agency_request_from_case_id", ["from_case_id"])
        batch.create_index("ix_agency_request_from_agency_id", ["from_agency_id"])
        batch.create_index("ix_agency_request_to_agency_id", ["to_agency_id"])
        batch.create_index("ix_agency_request_state", ["state"])


def downgrade():
    op.drop_table("agency_request")
