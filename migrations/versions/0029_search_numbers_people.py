"""case search finds any number an applicant quotes: the ID numbers, the phone (as digits) and the
答复文号 of an imported ledger (a new column, from the import events) join the search tokens,
recomputed for every case; the searched texts joined in one column for the exact check

Revision ID: 0029
Revises: 0028
"""
import json

import sqlalchemy as sa
from alembic import op

from app.domain.search import index_tokens

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

BATCH = 5000
# The searched fields of services.search at this revision and at the one before (written out: the
# service's list may grow again later, this migration must not).
SEARCHED = ("applicant_name", "description", "number", "doc_number", "original_number", "reply_number",
            "id_number", "agent_id_number", "phone_key")
SEARCHED_BEFORE = ("applicant_name", "description", "number", "doc_number", "original_number")
SEPARATOR = "\x1f"  # joins the texts in case.search_text (services.search)
IMPORT_ACTIONS = ("import", "import_update")  # their data carries the ledger's 答复文号 (reply_number)

# SQLite: the FTS5 table's update trigger (migration 0020), set aside while every row is rewritten.
SQLITE_AU = """CREATE TRIGGER case_search_au AFTER UPDATE OF search_tokens ON "case" BEGIN
         INSERT INTO case_search(case_search, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens);
         INSERT INTO case_search(rowid, search_tokens) VALUES (new.id, new.search_tokens); END"""


def recompute(conn, fields: tuple[str, ...], reply_numbers: bool) -> int:
    """Every case's tokens from ``fields`` and its letters' 文号, BATCH cases at a time (keyset on
    id); with ``reply_numbers`` (the upgrade), also its reply_number from its latest import event
    and its search_text. Returns the count of cases."""
    pg = conn.dialect.name == "postgresql"
    read = tuple(k for k in fields if k != "reply_number")
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("imported", sa.Boolean),
                    *(sa.column(k, sa.Text) for k in read))
    letter = sa.table("letter", sa.column("case_id", sa.Integer), sa.column("number", sa.Text))
    event = sa.table("event", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                     sa.column("action", sa.Text), sa.column("data_json", sa.Text))
    if pg:
        write = sa.text('UPDATE "case" AS c SET search_tokens = string_to_array(v.t, \' \')'
                        + (', reply_number = v.r, search_text = v.s' if reply_numbers else '')
                        + ' FROM unnest(CAST(:ids AS integer[]), CAST(:toks AS text[]), CAST(:reps AS text[]),'
                        ' CAST(:texts AS text[])) AS v(id, t, r, s) WHERE c.id = v.id')
    else:
        write = sa.text('UPDATE "case" SET search_tokens = :t'
                        + (', reply_number = :r, search_text = :s' if reply_numbers else '') + ' WHERE id = :id')
    last, done = 0, 0
    while True:
        rows = conn.execute(sa.select(case).where(case.c.id > last).order_by(case.c.id).limit(BATCH)).all()
        if not rows:
            return done
        lo, last = rows[0].id, rows[-1].id
        numbers: dict[int, list[str]] = {}
        for cid, number in conn.execute(sa.select(letter.c.case_id, letter.c.number).where(
                letter.c.case_id.between(lo, last), letter.c.number.is_not(None))):
            numbers.setdefault(cid, []).append(number)
        replies: dict[int, str] = {}
        if reply_numbers and any(r.imported for r in rows):
            for cid, data in conn.execute(sa.select(event.c.case_id, event.c.data_json).where(
                    event.c.case_id.between(lo, last), event.c.action.in_(IMPORT_ACTIONS)).order_by(event.c.id)):
                replies[cid] = (json.loads(data or "{}").get("reply_number") or "")[:100]  # the latest wins
        toks, reps, texts = [], [], []
        for r in rows:
            values = [getattr(r, k) if k != "reply_number" else replies.get(r.id, "") for k in fields]
            values += sorted(numbers.get(r.id, ()))
            toks.append(" ".join(index_tokens(*values)))
            reps.append(replies.get(r.id, ""))
            texts.append(SEPARATOR.join(v for v in values if v))
        if pg:
            conn.execute(write, {"ids": [r.id for r in rows], "toks": toks, "reps": reps, "texts": texts})
        else:
            conn.execute(write, [{"id": r.id, "t": t, "r": rep, "s": x} for r, t, rep, x in zip(rows, toks, reps, texts)])
        done += len(rows)


def _rewrite(conn, fields: tuple[str, ...], reply_numbers: bool) -> None:
    """Recompute every case's tokens with the index set aside and rebuilt once after: faster than
    keeping the GIN index or the FTS5 table current row by row (200,000 cases × ~80 tokens)."""
    if conn.dialect.name == "postgresql":
        # The app's statement timeout (DB_STATEMENT_TIMEOUT_MS) is for requests: the index build on
        # a large office may take longer, and must not fail the upgrade half-way.
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        op.drop_index("ix_case_search_tokens", table_name="case")
        recompute(conn, fields, reply_numbers)
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        op.create_index("ix_case_search_tokens", "case", ["search_tokens"], postgresql_using="gin")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS case_search_au")
        recompute(conn, fields, reply_numbers)
        conn.exec_driver_sql("INSERT INTO case_search(case_search) VALUES ('rebuild')")
        conn.exec_driver_sql(SQLITE_AU)
    # The tokens' frequencies changed (digits of every ID number and phone): fresh statistics, so
    # that a rare token is still estimated rare (see migration 0020).
    conn.exec_driver_sql('ANALYZE "case"')


def upgrade():
    conn = op.get_bind()
    op.add_column("case", sa.Column("reply_number", sa.String(100), nullable=False, server_default=""))
    op.add_column("case", sa.Column("search_text", sa.Text(), nullable=True))
    _rewrite(conn, SEARCHED, reply_numbers=True)


def downgrade():
    conn = op.get_bind()
    _rewrite(conn, SEARCHED_BEFORE, reply_numbers=False)
    for column in ("search_text", "reply_number"):
        if conn.dialect.name == "postgresql":
            op.drop_column("case", column)
        else:  # SQLite ≥ 3.35 drops a column in place (no table rebuild: the case table is referenced by many)
            conn.exec_driver_sql(f'ALTER TABLE "case" DROP COLUMN {column}')
