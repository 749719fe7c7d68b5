"""case tally: counts of cases per agency, month received, month closed, applicant type and outcome,
kept by triggers on the case table (the annual report and the dashboard read it at 2,000,000 cases)

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

KEY = ("agency_id", "received_ym", "closed_ym", "applicant_type", "outcome_code")
WATCHED = ("agency_id", "received_on", "closed_on", "applicant_type", "outcome_code", "reply_due")


def _row(pg: bool, r: str) -> dict[str, str]:
    """SQL expressions of one case row's tally key and flags; r is the row (NEW/OLD, new/old, c)."""
    if pg:
        ym = "(extract(year from {d})::integer * 100 + extract(month from {d})::integer)"
    else:
        ym = "CAST(strftime('%Y%m', {d}) AS INTEGER)"
    measured = f"{r}.reply_due IS NOT NULL AND {r}.closed_on >= {r}.received_on"
    return {
        "agency_id": f"{r}.agency_id",
        "received_ym": ym.format(d=f"{r}.received_on"),
        "closed_ym": f"coalesce({ym.format(d=f'{r}.closed_on')}, 0)",
        "applicant_type": f"{r}.applicant_type",
        "outcome_code": f"coalesce({r}.outcome_code, '')",
        "measured": f"CASE WHEN {measured} THEN 1 ELSE 0 END",
        "on_time": f"CASE WHEN {measured} AND {r}.closed_on <= {r}.reply_due THEN 1 ELSE 0 END",
    }


def _upsert(pg: bool, r: str, sign: int) -> str:
    """Add (sign 1) or take away (sign -1) one case row's contribution."""
    e = _row(pg, r)
    cols = ", ".join(KEY + ("n", "measured", "on_time"))
    vals = ", ".join([e[k] for k in KEY] + [str(sign), f"{sign} * ({e['measured']})", f"{sign} * ({e['on_time']})"])
    return (f"INSERT INTO case_tally ({cols}) VALUES ({vals}) ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
            "n = case_tally.n + excluded.n, measured = case_tally.measured + excluded.measured, "
            "on_time = case_tally.on_time + excluded.on_time")


def _changed(pg: bool) -> str:
    """An update that moves a case between tally rows or changes its on-time flags."""
    o, n = ("OLD", "NEW") if pg else ("old", "new")
    key = " OR ".join(f"{o}.{c} IS DISTINCT FROM {n}.{c}" if pg else f"{o}.{c} IS NOT {n}.{c}"
                      for c in WATCHED if c != "reply_due")
    due = (f"{o}.reply_due IS DISTINCT FROM {n}.reply_due" if pg else f"{o}.reply_due IS NOT {n}.reply_due")
    return f"({key} OR ({n}.closed_on IS NOT NULL AND {due}))"


PG_FUNCTION = f"""CREATE FUNCTION case_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {_upsert(True, 'OLD', -1)};
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    {_upsert(True, 'NEW', 1)};
  END IF;
  RETURN NULL;
END $$"""
PG_TRIGGERS = (
    'CREATE TRIGGER case_tally_insert_delete AFTER INSERT OR DELETE ON "case" '
    "FOR EACH ROW EXECUTE FUNCTION case_tally_keep()",
    f'CREATE TRIGGER case_tally_update AFTER UPDATE OF {", ".join(WATCHED)} ON "case" '
    f"FOR EACH ROW WHEN {_changed(True)} EXECUTE FUNCTION case_tally_keep()",
)
SQLITE_TRIGGERS = (
    f'CREATE TRIGGER case_tally_ai AFTER INSERT ON "case" BEGIN {_upsert(False, "new", 1)}; END',
    f'CREATE TRIGGER case_tally_ad AFTER DELETE ON "case" BEGIN {_upsert(False, "old", -1)}; END',
    f'CREATE TRIGGER case_tally_au AFTER UPDATE OF {", ".join(WATCHED)} ON "case" WHEN {_changed(False)} '
    f'BEGIN {_upsert(False, "old", -1)}; {_upsert(False, "new", 1)}; END',
)


def fill_sql(pg: bool) -> str:
    """The whole tally from the case table (the backfill; also what `flask verify` compares with)."""
    e = _row(pg, "c")
    keys = ", ".join(f"{e[k]} AS {k}" for k in KEY)
    return (f"SELECT {keys}, count(*) AS n, sum({e['measured']}) AS measured, sum({e['on_time']}) AS on_time "
            f'FROM "case" AS c GROUP BY {", ".join(e[k] for k in KEY)}')


def upgrade():
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    op.create_table(
        "case_tally",
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("received_ym", sa.Integer(), nullable=False),
        sa.Column("closed_ym", sa.Integer(), nullable=False),
        sa.Column("applicant_type", sa.String(20), nullable=False),
        sa.Column("outcome_code", sa.String(30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("measured", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_case_tally"),
    )
    op.create_index("ix_case_tally_closed", "case_tally", ["agency_id", "closed_ym"])
    conn.exec_driver_sql(f"INSERT INTO case_tally ({', '.join(KEY)}, n, measured, on_time) {fill_sql(pg)}")
    if pg:
        conn.exec_driver_sql(PG_FUNCTION)
        for sql in PG_TRIGGERS:
            conn.exec_driver_sql(sql)
    else:
        for sql in SQLITE_TRIGGERS:
            conn.exec_driver_sql(sql)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql('DROP TRIGGER IF EXISTS case_tally_update ON "case"')
        conn.exec_driver_sql('DROP TRIGGER IF EXISTS case_tally_insert_delete ON "case"')
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS case_tally_keep()")
    else:
        for name in ("case_tally_au", "case_tally_ad", "case_tally_ai"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_case_tally_closed", table_name="case_tally")
    op.drop_table("case_tally")
