"""The annual report's entered parts (table 二, written sections, submission) and the 档号 rule

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

ARCHIVE_PATTERN = "{fonds}-{year}-{period}-{seq:04d}"


def upgrade():
    op.create_table(
        "annual_report_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("section2_json", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("texts_json", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("submitted_json", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("agency_id", "year", name="uq_annual_report_entry_year"),
    )
    op.create_index("ix_annual_report_entry_agency_id", "annual_report_entry", ["agency_id"])
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("archive_pattern", sa.String(100), nullable=False, server_default=ARCHIVE_PATTERN))
        batch.add_column(sa.Column("fonds_code", sa.String(32), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("fonds_code")
        batch.drop_column("archive_pattern")
    op.drop_index("ix_annual_report_entry_agency_id", table_name="annual_report_entry")
    op.drop_table("annual_report_entry")
