"""case search through an index: search tokens on each case (CJK unigrams and bigrams, ASCII
pieces and words), a GIN index on PostgreSQL, an FTS5 table kept by triggers on SQLite

Revision ID: 0020
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.domain.search import index_tokens

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BATCH = 5000
SEARCHED = ("applicant_name", "description", "number", "doc_number", "original_number")

# SQLite: an external-content FTS5 table over case.search_tokens (space-separated tokens; the
# ascii tokenizer splits on the spaces and keeps CJK and the whole-word mark "="). The triggers
# keep it in step with the case table inside the writing transaction.
FTS = """CREATE VIRTUAL TABLE case_search USING fts5(search_tokens, content='case', content_rowid='id',
         tokenize="ascii tokenchars '='", detail=none)"""
TRIGGERS = (
    """CREATE TRIGGER case_search_ai AFTER INSERT ON "case" BEGIN
         INSERT INTO case_search(rowid, search_tokens) VALUES (new.id, new.search_tokens); END""",
    """CREATE TRIGGER case_search_ad AFTER DELETE ON "case" BEGIN
         INSERT INTO case_search(case_search, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens); END""",
    """CREATE TRIGGER case_search_au AFTER UPDATE OF search_tokens ON "case" BEGIN
         INSERT INTO case_search(case_search, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens);
         INSERT INTO case_search(rowid, search_tokens) VALUES (new.id, new.search_tokens); END""",
)


def backfill(conn) -> int:
    """Tokens of every existing case, BATCH cases at a time (keyset on id); returns the count."""
    pg = conn.dialect.name == "postgresql"
    case = sa.table("case", sa.column("id", sa.Integer), *(sa.column(k, sa.Text) for k in SEARCHED))
    letter = sa.table("letter", sa.column("case_id", sa.Integer), sa.column("number", sa.Text))
    if pg:
        write = sa.text('UPDATE "case" AS c SET search_tokens = string_to_array(v.t, \' \') '
                        'FROM unnest(CAST(:ids AS integer[]), CAST(:toks AS text[])) AS v(id, t) WHERE c.id = v.id')
    else:
        write = sa.text('UPDATE "case" SET search_tokens = :t WHERE id = :id')
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
        toks = [" ".join(index_tokens(*r[1:], *sorted(numbers.get(r.id, ())))) for r in rows]
        if pg:
            conn.execute(write, {"ids": [r.id for r in rows], "toks": toks})
        else:
            conn.execute(write, [{"id": r.id, "t": t} for r, t in zip(rows, toks)])
        done += len(rows)


def upgrade():
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    op.add_column("case", sa.Column("search_tokens", postgresql.ARRAY(sa.Text()) if pg else sa.Text(), nullable=True))
    backfill(conn)
    if pg:
        # Built once after the backfill (faster than keeping it up to date row by row), with room
        # to sort its keys in memory (the default 64 MB spills a 2,000,000-case build to disk).
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        op.create_index("ix_case_search_tokens", "case", ["search_tokens"], postgresql_using="gin")
        # Enough token statistics that a token absent from them (a rare name) is estimated rare:
        # with the default 100, 婷 (no case at all) was estimated at 5,240 of 2,000,000 cases and the
        # first page walked ix_case_received through every case (seconds) instead of the GIN index.
        conn.exec_driver_sql('ALTER TABLE "case" ALTER COLUMN search_tokens SET STATISTICS 1000')
    else:
        conn.exec_driver_sql(FTS)
        conn.exec_driver_sql("INSERT INTO case_search(case_search) VALUES ('rebuild')")
        for sql in TRIGGERS:
            conn.exec_driver_sql(sql)
        # Without statistics SQLite takes "agency_id = ?" for a handful of rows and walks the whole
        # agency by ix_case_received instead of looking the FTS matches up by rowid (0.7 ms vs
        # 300 ms for a rare name at 200,000 cases). The statistics keep holding as the office grows.
        conn.exec_driver_sql('ANALYZE "case"')


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.drop_index("ix_case_search_tokens", table_name="case")
        op.drop_column("case", "search_tokens")
    else:
        for name in ("case_search_au", "case_search_ad", "case_search_ai"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS case_search")
        # SQLite ≥ 3.35 drops a column in place (no table rebuild: the case table is referenced by many).
        conn.exec_driver_sql('ALTER TABLE "case" DROP COLUMN search_tokens')
