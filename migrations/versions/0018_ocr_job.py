"""OCR jobs: the text layer of each uploaded scan, recognised in the background

Revision ID: 0018
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocr_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attachment_id", sa.Integer(), sa.ForeignKey("attachment.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("languages", sa.String(50), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.String(4000), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
    )
    op.create_index("ix_ocr_job_attachment_id", "ocr_job", ["attachment_id"])


def downgrade():
    op.drop_index("ix_ocr_job_attachment_id", table_name="ocr_job")
    op.drop_table("ocr_job")
