"""every version of an agency's letter wording (who, when), for a diff and a rollback

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "letter_template_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("rolled_back_to", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("agency_id", "key", "version"),
    )
    # The wording in use today becomes version 1 of its letter (its earlier texts were not kept).
    op.execute(
        "INSERT INTO letter_template_version (agency_id, key, version, source, change, created_by_id, created_at) "
        "SELECT agency_id, key, 1, source, 'created', updated_by_id, COALESCE(updated_at, CURRENT_TIMESTAMP) FROM letter_template_override")


def downgrade():
    op.drop_table("letter_template_version")
