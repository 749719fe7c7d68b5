"""idempotent ledger import (original number, row key), triage of imported open cases, stored
intake hints with indexed applicant keys

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

from app.domain.intake import applicant_key, phone_key

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("original_number", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("import_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("needs_triage", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("applicant_key", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("phone_key", sa.String(50), nullable=False, server_default=""))
        batch.add_column(sa.Column("hints_json", sa.Text(), nullable=True))
        batch.create_unique_constraint("uq_case_import_key", ["agency_id", "import_key"])
    op.create_index("ix_case_applicant_key", "case", ["agency_id", "applicant_key"])
    op.create_index("ix_case_phone_key", "case", ["agency_id", "phone_key"])
    op.create_index("ix_case_triage", "case", ["agency_id", "needs_triage"])

    # The keys of the cases already registered (same normalisation as at intake).
    conn = op.get_bind()
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("applicant_name", sa.String),
                    sa.column("contact_phone", sa.String), sa.column("applicant_key", sa.String),
                    sa.column("phone_key", sa.String))
    rows = conn.execute(sa.select(case.c.id, case.c.applicant_name, case.c.contact_phone)).all()
    stmt = (sa.update(case).where(case.c.id == sa.bindparam("cid"))
            .values(applicant_key=sa.bindparam("ak"), phone_key=sa.bindparam("pk")))
    for i in range(0, len(rows), 1000):
        batch_rows = [{"cid": r.id, "ak": applicant_key(r.applicant_name), "pk": phone_key(r.contact_phone or "")}
                      for r in rows[i:i + 1000]]
        conn.execute(stmt, batch_rows)


def downgrade():
    op.drop_index("ix_case_triage", table_name="case")
    op.drop_index("ix_case_phone_key", table_name="case")
    op.drop_index("ix_case_applicant_key", table_name="case")
    with op.batch_alter_table("case") as batch:
        batch.drop_constraint("uq_case_import_key", type_="unique")
        batch.drop_column("hints_json")
        batch.drop_column("phone_key")
        batch.drop_column("applicant_key")
        batch.drop_column("needs_triage")
        batch.drop_column("import_key")
        batch.drop_column("original_number")
