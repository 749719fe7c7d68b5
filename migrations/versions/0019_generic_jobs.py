"""One table for every kind of background job; batch case-file printing moves into it

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result_path", sa.String(300), nullable=False),
        sa.Column("result_name", sa.String(200), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_job_agency_id_agency")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_job_requested_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_agency_id", "job", ["agency_id"])
    op.create_index("ix_job_requested_by_id", "job", ["requested_by_id"])
    op.create_index("ix_job_status", "job", ["status"])
    pg = op.get_bind().dialect.name == "postgresql"
    # Same ids, so links to /casefiles/jobs/<id> and recorded audit events keep pointing at them.
    # Results made before keep no expiry: an upgrade deletes nobody's file.
    op.execute(
        "INSERT INTO job (id, kind, agency_id, requested_by_id, status, total, done, params, created_at, "
        "heartbeat_at, started_at, finished_at, attempts, error, result_path, result_name, result_sha256) "
        f"SELECT id, 'casefile_print', agency_id, requested_by_id, status, total, done, "
        f"{'CAST(case_ids_json AS JSON)' if pg else 'case_ids_json'}, created_at, heartbeat_at, NULL, finished_at, "
        "CASE WHEN status = 'queued' THEN 0 ELSE 1 END, error, result_path, '', result_sha256 FROM case_file_job")
    if pg:
        op.execute("SELECT setval(pg_get_serial_sequence('job', 'id'), COALESCE((SELECT MAX(id) FROM job), 0) + 1, false)")
    op.drop_table("case_file_job")


def downgrade():
    op.create_table(
        "case_file_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("case_ids_json", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result_path", sa.String(length=300), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("result_sha256", sa.String(length=64), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_case_file_job_agency_id_agency")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_case_file_job_requested_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file_job")),
    )
    pg = op.get_bind().dialect.name == "postgresql"
    # Only case-file printing existed before; jobs of other kinds (and expired results) are dropped.
    op.execute(
        "INSERT INTO case_file_job (id, agency_id, requested_by_id, created_at, finished_at, status, case_ids_json, "
        "total, done, error, result_path, heartbeat_at, result_sha256) "
        f"SELECT id, agency_id, requested_by_id, created_at, finished_at, status, "
        f"{'CAST(params AS TEXT)' if pg else 'params'}, total, done, error, result_path, heartbeat_at, result_sha256 "
        "FROM job WHERE kind = 'casefile_print' AND agency_id IS NOT NULL")
    if pg:
        op.execute("SELECT setval(pg_get_serial_sequence('case_file_job', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM case_file_job), 0) + 1, false)")
    op.drop_index("ix_job_status", table_name="job")
    op.drop_index("ix_job_requested_by_id", table_name="job")
    op.drop_index("ix_job_agency_id", table_name="job")
    op.drop_table("job")
