"""A step's reviewed notice: awaiting review, approved, issued (a fee notice takes effect when issued)

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("step") as batch:
        batch.add_column(sa.Column("notice_state", sa.String(20), nullable=False, server_default=""))
    op.create_index("ix_step_notice_state", "step", ["notice_state"])


def downgrade():
    op.drop_index("ix_step_notice_state", table_name="step")
    with op.batch_alter_table("step") as batch:
        batch.drop_column("notice_state")
