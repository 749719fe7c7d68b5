"""calendar_version as text (a clock may touch many years)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite does not enforce VARCHAR lengths; only PostgreSQL needs the change.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("case", "calendar_version", type_=sa.Text(), existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("case", "calendar_version", type_=sa.String(100), existing_nullable=False)
