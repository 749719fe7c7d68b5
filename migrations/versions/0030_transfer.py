"""分办 (issue 16 item 1): the record of a request transferred to the agency that answers it

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_agency_id", sa.Integer(), nullable=False),
        sa.Column("to_agency_id", sa.Integer(), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name="fk_case_transfer_case_id_case"),
        sa.ForeignKeyConstraint(["from_agency_id"], ["agency.id"], name="fk_case_transfer_from_agency_id_agency"),
        sa.ForeignKeyConstraint(["to_agency_id"], ["agency.id"], name="fk_case_transfer_to_agency_id_agency"),
        sa.ForeignKeyConstraint(["by_id"], ["user.id"], name="fk_case_transfer_by_id_user"),
        sa.ForeignKeyConstraint(["letter_id"], ["letter.id"], name="fk_case_transfer_letter_id_letter"),
        sa.PrimaryKeyConstraint("id", name="pk_case_transfer"),
    )
    op.create_index("ix_case_transfer_case_id", "case_transfer", ["case_id"])
    op.create_index("ix_case_transfer_from_agency_id", "case_transfer", ["from_agency_id"])
    op.create_index("ix_case_transfer_to_agency_id", "case_transfer", ["to_agency_id"])


def downgrade():
    op.drop_index("ix_case_transfer_to_agency_id", "case_transfer")
    op.drop_index("ix_case_transfer_from_agency_id", "case_transfer")
    op.drop_index("ix_case_transfer_case_id", "case_transfer")
    op.drop_table("case_transfer")
