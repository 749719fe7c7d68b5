"""covering indexes for the queue, the ledger's first pages, the dashboard and the annual report
(index-only paths at 2,000,000 cases)

Revision ID: 0021
Revises: 0018

Each of the three indexes gets the columns its readers filter, sort and count by, so that
PostgreSQL answers them from the index alone (Index Only Scan) instead of fetching a table row per
case (at 2,000,000 cases a year of one agency is ~290,000 rows: the heap fetches were most of the
dashboard's 819 ms and the annual report's 378 ms). The id column lets the queue and the ledger
pick a page's ids from the index and fetch only the rows of that page. Building them takes
seconds per million cases and blocks writes to "case" meanwhile: run the upgrade before the app.
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

NEW = {
    # work queue, dashboard stages/clocks/handler load: open cases by state, the clock's columns
    "ix_case_queue": ["agency_id", "state", "reply_due", "needs_triage", "paused_until", "handler_id", "id"],
    # ledger's default order (received_on desc, id desc), dashboard months, annual row 一 by applicant type
    "ix_case_received": ["agency_id", "received_on", "id", "applicant_type"],
    # annual rows 二/三/四, dashboard outcomes and reply times (on time needs reply_due), closed-date ledger
    "ix_case_closed": ["agency_id", "closed_on", "received_on", "applicant_type", "outcome_code", "reply_due", "id"],
}
OLD = {
    "ix_case_queue": ["agency_id", "state", "reply_due"],
    "ix_case_received": ["agency_id", "received_on"],
    "ix_case_closed": ["agency_id", "closed_on", "received_on", "applicant_type", "outcome_code"],
}


def _replace(columns: dict) -> None:
    for name, cols in columns.items():
        op.drop_index(name, table_name="case")
        op.create_index(name, "case", cols)
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ANALYZE "case"')


def upgrade():
    _replace(NEW)


def downgrade():
    _replace(OLD)
