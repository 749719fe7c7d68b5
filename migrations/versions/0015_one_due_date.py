"""one stored due date that does not depend on today (open pauses assumed to run to their limit,
and the day until which the clock is paused); step deadlines as clocks (how each was set, the
calendar version, provisional); every calendar revision kept

Revision ID: 0015
Revises: 0013
"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

from app.domain.calendar import WorkCalendar, YearSchedule
from app.domain.clock import ClockInput, Pause, stored_clock

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

PAUSING_KINDS = ("consultation_third_party", "consultation_agency", "fee", "reasons")
FINISHED = ("replied", "delivered", "closed", "archived")


def _d(v):
    return date.fromisoformat(v) if isinstance(v, str) else v


def upgrade():
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("paused_until", sa.Date(), nullable=True))
    with op.batch_alter_table("step") as batch:
        batch.add_column(sa.Column("due_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("due_provisional", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("calendar_version", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "calendar_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("holidays_json", sa.Text(), nullable=False),
        sa.Column("makeup_json", sa.Text(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entered_by_id"], ["user.id"], name="fk_calendar_revision_entered_by_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_revision"),
        sa.UniqueConstraint("year", "revision", name="uq_calendar_revision"),
    )
    # The revisions in force are the only ones known so far (earlier ones were overwritten).
    op.execute("INSERT INTO calendar_revision (year, revision, holidays_json, makeup_json, source, "
               "entered_by_id, entered_at) SELECT year, revision, holidays_json, makeup_json, source, "
               "updated_by_id, updated_at FROM calendar_year")

    # Store every open case's due date the way services.clocks.refresh_clock now does: before,
    # a case with an open pause had no due date at all and never got one until its next step.
    conn = op.get_bind()
    cy = sa.table("calendar_year", sa.column("year", sa.Integer), sa.column("holidays_json", sa.Text),
                  sa.column("makeup_json", sa.Text), sa.column("revision", sa.Integer))
    cal = WorkCalendar(YearSchedule(r.year, frozenset(map(_d, json.loads(r.holidays_json))),
                                    frozenset(map(_d, json.loads(r.makeup_json))), r.revision)
                       for r in conn.execute(sa.select(cy)))
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("state", sa.String),
                    sa.column("clock_start", sa.Date), sa.column("extension_days", sa.Integer),
                    sa.column("override_due", sa.Date), sa.column("reply_due", sa.Date),
                    sa.column("paused_until", sa.Date), sa.column("due_provisional", sa.Boolean),
                    sa.column("calendar_version", sa.Text))
    step = sa.table("step", sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("started_on", sa.Date), sa.column("answered_on", sa.Date),
                    sa.column("due_on", sa.Date), sa.column("result", sa.String))
    pauses: dict[int, list] = {}
    for s in conn.execute(sa.select(step).where(step.c.kind.in_(PAUSING_KINDS)).order_by(step.c.case_id)):
        if s.result != "withdrawn":
            pauses.setdefault(s.case_id, []).append(
                Pause(s.kind, _d(s.started_on), _d(s.answered_on), _d(s.due_on)))
    q = sa.select(case).where(case.c.state.not_in(FINISHED + ("correction",)))
    for c in conn.execute(q).all():
        inp = ClockInput(_d(c.clock_start), c.extension_days, tuple(pauses.get(c.id, ())), _d(c.override_due))
        sc = stored_clock(cal, inp)
        conn.execute(sa.update(case).where(case.c.id == c.id).values(
            reply_due=sc.due, paused_until=sc.paused_until, due_provisional=sc.provisional,
            calendar_version=sc.calendar_version))


def downgrade():
    op.drop_table("calendar_revision")
    with op.batch_alter_table("step") as batch:
        batch.drop_column("calendar_version")
        batch.drop_column("due_provisional")
        batch.drop_column("due_days")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("paused_until")
