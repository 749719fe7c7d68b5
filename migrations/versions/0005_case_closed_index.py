"""index for counting by closing date (annual report, dashboard, ledger filter)

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_case_closed", "case",
                    ["agency_id", "closed_on", "received_on", "applicant_type", "outcome_code"])


def downgrade():
    op.drop_index("ix_case_closed", table_name="case")
