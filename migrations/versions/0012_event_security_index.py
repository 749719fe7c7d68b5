"""security log: events without a case, by agency and time

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # case_id IS NULL AND agency_id = ? ORDER BY at DESC: one range of this index, newest first.
    op.create_index("ix_event_security", "event", ["case_id", "agency_id", "at"])


def downgrade():
    op.drop_index("ix_event_security", table_name="event")
