"""letters have an identity: the notice they belong to and a re-issue sequence; unnumbered types

Revision ID: 0010
Revises: 0009

Each letter gets ``notice_ref`` (receipt, step-12, step-12-applicant, extension, delivery-3, reply …)
and ``reissue_no``; (case_id, notice_ref, reissue_no) is unique. ``number`` and ``seq`` become
nullable for letter types without a 文号. Letters issued before are given the notice they were
issued for where the case says so unambiguously; several letters for one notice (the duplicates
this fixes) become its re-issues in issue order; a letter that cannot be attributed keeps a ref of
its own (``legacy-<id>``) and stays listed as issued.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Copied, not imported: a migration must keep meaning what it meant when it was written.
STEP_LETTERS = {
    "correction_notice": ("correction",),
    "consult_third_party": ("consultation_third_party",),
    "consult_agency": ("consultation_agency",),
    "reasons_notice": ("reasons",),
    "fee_notice": ("fee",),
    "cohandle": ("cohandle",),
}


def _candidates(conn, case_id: int, key: str) -> list[str] | None:
    if key == "receipt":
        return ["receipt"]
    if key == "extension_notice":
        return ["extension"]
    steps = conn.execute(sa.text("SELECT id, kind, details_json FROM step WHERE case_id = :c ORDER BY id"),
                         {"c": case_id}).all()
    if key in STEP_LETTERS:
        return [f"step-{s.id}" for s in steps if s.kind in STEP_LETTERS[key]]
    if key == "consult_applicant_notice":
        return [f"step-{s.id}-applicant" for s in steps
                if s.kind in ("consultation_third_party", "consultation_agency")]
    if key == "consult_confirmation":
        return [f"step-{s.id}-confirmation" for s in steps if s.kind == "consultation_third_party"]
    if key == "disclosure_notice_third_party":
        return [f"step-{s.id}-override" for s in steps if s.kind == "consultation_third_party"
                and json.loads(s.details_json or "{}").get("public_interest_override")]
    if key == "service_record":
        return [f"delivery-{d.id}" for d in conn.execute(
            sa.text("SELECT id FROM delivery WHERE case_id = :c ORDER BY id"), {"c": case_id})]
    return None


def _backfill(conn) -> None:
    rows = conn.execute(sa.text("SELECT id, case_id, key, draft_id FROM letter ORDER BY id")).all()
    groups: dict[tuple[int, str], list] = {}
    for r in rows:
        groups.setdefault((r.case_id, "reply" if r.draft_id else r.key), []).append(r)
    for (case_id, key), letters in groups.items():
        refs = ["reply"] if key == "reply" else _candidates(conn, case_id, key)
        if refs and len(refs) == 1:
            plan = [(r.id, refs[0], n) for n, r in enumerate(letters)]
        elif refs and len(refs) == len(letters):
            plan = [(r.id, ref, 0) for r, ref in zip(letters, refs)]
        else:
            plan = [(r.id, f"legacy-{r.id}", 0) for r in letters]
        for letter_id, ref, n in plan:
            conn.execute(sa.text("UPDATE letter SET notice_ref = :ref, reissue_no = :n WHERE id = :id"),
                         {"ref": ref, "n": n, "id": letter_id})


def upgrade():
    with op.batch_alter_table("letter") as batch:
        batch.add_column(sa.Column("notice_ref", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("reissue_no", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reissue_reason", sa.Text(), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("letter") as batch:
        batch.alter_column("notice_ref", existing_type=sa.String(length=60), nullable=False)
        batch.alter_column("number", existing_type=sa.String(length=100), nullable=True)
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=True)
        batch.create_unique_constraint("uq_letter_notice", ["case_id", "notice_ref", "reissue_no"])
        batch.create_check_constraint(op.f("ck_letter_number_seq"), "(number IS NULL) = (seq IS NULL)")


def downgrade():
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM letter WHERE number IS NULL")).scalar():
        raise RuntimeError("unnumbered letters exist; they cannot be kept by the older schema")
    with op.batch_alter_table("letter") as batch:
        batch.drop_constraint(op.f("ck_letter_number_seq"), type_="check")
        batch.drop_constraint("uq_letter_notice", type_="unique")
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("number", existing_type=sa.String(length=100), nullable=False)
        batch.drop_column("reissue_reason")
        batch.drop_column("reissue_no")
        batch.drop_column("notice_ref")
