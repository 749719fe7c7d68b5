"""separation of duties (agency setting) and calendar change requests to the system administrator

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("separation_relaxed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "calendar_change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("dates", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"],
                                name=op.f("fk_calendar_change_request_agency_id_agency")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"],
                                name=op.f("fk_calendar_change_request_requested_by_id_user")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"],
                                name=op.f("fk_calendar_change_request_decided_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_change_request")),
    )
    with op.batch_alter_table("calendar_change_request") as batch:
        batch.create_index(batch.f("ix_calendar_change_request_agency_id"), ["agency_id"], unique=False)
        batch.create_index(batch.f("ix_calendar_change_request_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("calendar_change_request") as batch:
        batch.drop_index(batch.f("ix_calendar_change_request_status"))
        batch.drop_index(batch.f("ix_calendar_change_request_agency_id"))
    op.drop_table("calendar_change_request")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("separation_relaxed")
