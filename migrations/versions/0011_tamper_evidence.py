"""issued letters and audit events are immutable in the database (TRUNCATE included); case-file
results carry their SHA-256

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Every column of an issued letter is fixed at issue: nothing in the application changes a letter
# afterwards (a correction is a new letter that refers to the old one by supersedes_id). Columns
# added later are not covered unless added here, so a migration may still fill a new column.
LETTER_COLUMNS = ("id", "agency_id", "case_id", "draft_id", "key", "title", "number", "year", "seq",
                  "content_hash", "pdf", "sha256", "pages", "issued_at", "issued_by_id", "supersedes_id",
                  "notice_ref", "reissue_no", "reissue_reason")


def upgrade():
    with op.batch_alter_table("case_file_job") as batch:
        batch.add_column(sa.Column("result_sha256", sa.String(length=64), nullable=False, server_default=""))

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in LETTER_COLUMNS)
        op.execute(f"""
            CREATE TRIGGER letter_no_update BEFORE UPDATE ON letter WHEN {changed}
            BEGIN SELECT RAISE(ABORT, 'issued letters are immutable'); END""")
        op.execute("""
            CREATE TRIGGER letter_no_delete BEFORE DELETE ON letter
            BEGIN SELECT RAISE(ABORT, 'issued letters are immutable'); END""")
        # SQLite has no TRUNCATE: DELETE without WHERE runs the row triggers above.
        return

    changed = " OR ".join(f'OLD."{c}" IS DISTINCT FROM NEW."{c}"' for c in LETTER_COLUMNS)
    op.execute(f"""
        CREATE FUNCTION letter_immutable() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN RETURN NEW; END IF;
          RAISE EXCEPTION 'issued letters are immutable';
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER letter_immutable BEFORE UPDATE OR DELETE ON letter
        FOR EACH ROW EXECUTE FUNCTION letter_immutable()""")
    # TRUNCATE skips row triggers: a statement trigger refuses it on both tables.
    op.execute("""
        CREATE TRIGGER letter_no_truncate BEFORE TRUNCATE ON letter
        FOR EACH STATEMENT EXECUTE FUNCTION letter_immutable()""")
    op.execute("""
        CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
        FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()""")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS letter_no_update")
        op.execute("DROP TRIGGER IF EXISTS letter_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS event_no_truncate ON event")
        op.execute("DROP TRIGGER IF EXISTS letter_no_truncate ON letter")
        op.execute("DROP TRIGGER IF EXISTS letter_immutable ON letter")
        op.execute("DROP FUNCTION IF EXISTS letter_immutable()")
    with op.batch_alter_table("case_file_job") as batch:
        batch.drop_column("result_sha256")
