"""The supervising office (issue 16 item 4): the agency that supervises another (政府信息公开工作主管部门)

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite adds a column with its foreign key by copying the table.
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("supervisor_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_agency_supervisor_id_agency", "agency", ["supervisor_id"], ["id"])
        batch.create_index("ix_agency_supervisor_id", ["supervisor_id"])


def downgrade():
    with op.batch_alter_table("agency") as batch:
        batch.drop_index("ix_agency_supervisor_id")
        batch.drop_constraint("fk_agency_supervisor_id_agency", type_="foreignkey")
        batch.drop_column("supervisor_id")
