from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.intake import APPLICANT_TYPES, CHANNELS
from ..domain.outcomes import OUTCOME_BY_CODE
from ..domain.workflow import STATES
from ..extensions import db


class SearchTokens(TypeDecorator):
    """The search tokens of a case (app.domain.search), a sorted list in Python. PostgreSQL keeps a
    text[] under a GIN index; SQLite a space-separated text that the FTS5 table case_search
    indexes (migration 0020; docs/decisions.md says why)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else " ".join(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else value.split()


class Case(db.Model):
    """A request for government information (政府信息公开申请) and its handling."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", "seq"),
        # Covering indexes (migration 0021): the queue, the ledger's pages, the dashboard and the
        # annual report are answered from the index alone, even with millions of cases.
        Index("ix_case_queue", "agency_id", "state", "reply_due", "needs_triage", "paused_until", "handler_id", "id"),
        Index("ix_case_received", "agency_id", "received_on", "id", "applicant_type"),
        Index("ix_case_closed", "agency_id", "closed_on", "received_on", "applicant_type", "outcome_code",
              "reply_due", "id"),
        # Earlier requests of an applicant (intake hints) and imported history awaiting triage.
        Index("ix_case_applicant_key", "agency_id", "applicant_key"),
        Index("ix_case_phone_key", "agency_id", "phone_key"),
        Index("ix_case_triage", "agency_id", "needs_triage"),
        # Case search (services.search): GIN over the tokens on PostgreSQL; SQLite uses FTS5 instead.
        Index("ix_case_search_tokens", "search_tokens", postgresql_using="gin").ddl_if(dialect="postgresql"),
        # One case per row of an old ledger: re-importing the same row is refused, even concurrently.
        UniqueConstraint("agency_id", "import_key", name="uq_case_import_key"),
        CheckConstraint("extension_days BETWEEN 0 AND 20", name="extension_range"),
        CheckConstraint("state NOT IN ('closed','replied','delivered','archived') OR outcome_code IS NOT NULL",
                        name="finished_has_outcome"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    year: Mapped[int]
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="registered")
    version: Mapped[int] = mapped_column(default=1)

    # Intake (Art. 29, 31)
    channel: Mapped[str] = mapped_column(String(20))
    arrived_on: Mapped[date]
    confirmed_on: Mapped[date | None]
    received_on: Mapped[date]  # the Art. 31 date every deadline starts from
    receipt_basis: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    applicant_type: Mapped[str] = mapped_column(String(20))
    applicant_name: Mapped[str] = mapped_column(String(200), index=True)
    id_type: Mapped[str] = mapped_column(String(30), default="")
    id_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_address: Mapped[str] = mapped_column(String(300), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    agent_name: Mapped[str] = mapped_column(String(100), default="")
    agent_id_number: Mapped[str] = mapped_column(String(64), default="")
    power_of_attorney: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text)
    doc_number: Mapped[str] = mapped_column(String(100), default="", index=True)
    requested_form: Mapped[str] = mapped_column(String(20), default="paper")
    requested_route: Mapped[str] = mapped_column(String(20), default="post")
    # The applicant's status lookup (services.applicant): the hash of the query code given at
    # confirmation or with the 登记回执; None until one is issued.
    query_code_hash: Mapped[str | None] = mapped_column(String(64))

    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # Clock inputs and the cached result (recomputed on every change and calendar edit).
    clock_start: Mapped[date]
    extension_days: Mapped[int] = mapped_column(default=0)
    override_due: Mapped[date | None]
    reply_due: Mapped[date | None]  # assuming open pauses run to their limit: never depends on today
    paused_until: Mapped[date | None]  # last day of the open pauses; the clock is paused until then
    due_provisional: Mapped[bool] = mapped_column(default=False)
    calendar_version: Mapped[str] = mapped_column(Text, default="")  # one tag per year touched

    outcome_code: Mapped[str | None] = mapped_column(String(30))
    closed_on: Mapped[date | None]
    imported: Mapped[bool] = mapped_column(default=False)  # historical case from an Excel ledger
    original_number: Mapped[str] = mapped_column(String(100), default="")  # 原编号 in the old ledger
    reply_number: Mapped[str] = mapped_column(String(100), default="")  # 答复文号 in the old ledger (searched)
    import_key: Mapped[str | None] = mapped_column(String(120))  # identity of the ledger row (importer)
    needs_triage: Mapped[bool] = mapped_column(default=False)  # imported open case not yet triaged
    # Tokens of the searched fields and the letters' 文号, kept by services.search on every flush.
    # Deferred: only searches and the flush hook use it (loading the array with every case cost a
    # head's queue page a third of its CPU).
    search_tokens: Mapped[list[str] | None] = mapped_column(SearchTokens(), deferred=True)
    # The same texts as they are, joined by a separator no search term holds: the exact check on
    # the candidates reads this one column instead of nine and the letter table (same hook).
    search_text: Mapped[str | None] = mapped_column(Text, deferred=True)

    # Intake hints: normalised applicant keys (indexed) and the hints computed at intake.
    applicant_key: Mapped[str] = mapped_column(String(200), default="")
    phone_key: Mapped[str] = mapped_column(String(50), default="")
    hints_json: Mapped[str | None] = mapped_column(Text)  # None: not computed (history, older cases)
    archived_on: Mapped[date | None]
    archive_number: Mapped[str] = mapped_column(String(60), default="")
    retention: Mapped[str] = mapped_column(String(20), default="")
    current_draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id", use_alter=True))
    issued_draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id", use_alter=True))

    agency = relationship("Agency")
    handler = relationship("User", foreign_keys=[handler_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    steps: Mapped[list[Step]] = relationship(back_populates="case", order_by="Step.id")
    drafts: Mapped[list[Draft]] = relationship(back_populates="case", foreign_keys="Draft.case_id",
                                               order_by="Draft.revision")
    current_draft = relationship("Draft", foreign_keys=[current_draft_id], post_update=True)
    issued_draft = relationship("Draft", foreign_keys=[issued_draft_id], post_update=True)
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="case", order_by="Delivery.id")
    events = relationship("Event", order_by="Event.id", viewonly=True)
    letters = relationship("Letter", back_populates="case", order_by="Letter.id")
    remedies = relationship("Remedy", back_populates="case", order_by="Remedy.id")
    attachments = relationship("Attachment", back_populates="case", order_by="Attachment.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def applicant_type_label(self) -> str:
        return APPLICANT_TYPES.get(self.applicant_type, self.applicant_type)

    @property
    def outcome(self):
        return OUTCOME_BY_CODE.get(self.outcome_code) if self.outcome_code else None

    @property
    def hints(self) -> dict | None:
        return json.loads(self.hints_json) if self.hints_json else None

    def steps_of(self, *kinds: str) -> list[Step]:
        return [s for s in self.steps if s.kind in kinds]


STEP_KINDS = {
    "correction": "补正",
    "consultation_third_party": "征求第三方意见",
    "consultation_agency": "征求其他机关意见",
    "reasons": "说明理由（第三十五条）",
    "fee": "收费",
    "cohandle": "协办",
    "extension_request": "延期申请",
}
CONSULTATION_RESULTS = {"agree": "同意公开", "object": "不同意公开", "no_answer": "逾期未答复"}
# What became of the other steps (services/cases.py sets these), in words.
STEP_RESULTS = {"received": "已补正", "paid": "已缴费", "replied": "已回复", "reasonable": "理由合理",
                "unreasonable": "理由不合理", "lapsed": "逾期"}
_KIND_RESULTS = {("correction", "lapsed"): "逾期未补正", ("fee", "lapsed"): "逾期未缴费",
                 ("reasons", "no_answer"): "逾期未说明理由"}


class CaseTally(db.Model):
    """How many cases an agency has per month received, month closed (0: open), applicant type and
    outcome ('' none), with how many of the closed ones had a due date (measured) and met it.
    Kept by triggers on the case table in the writing transaction (migration 0023), so no write
    path can forget it; the annual report and the dashboard read it instead of a year of cases,
    and `flask verify` compares it with the cases."""

    __tablename__ = "case_tally"
    __table_args__ = (Index("ix_case_tally_closed", "agency_id", "closed_ym"),)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    received_ym: Mapped[int] = mapped_column(primary_key=True)  # yyyymm
    closed_ym: Mapped[int] = mapped_column(primary_key=True)
    applicant_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    outcome_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    n: Mapped[int]
    measured: Mapped[int]
    on_time: Mapped[int]


UNISSUED = ("review", "approved")  # Step.notice_state of a notice not yet issued


class Step(db.Model):
    """A sub-procedure with its own period: correction, consultation, reasons, fee, co-handling."""

    __tablename__ = "step"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    party: Mapped[str] = mapped_column(String(200), default="")  # third party, agency, unit
    started_on: Mapped[date]  # notice/letter sent
    received_on: Mapped[date | None]  # the other side received it (consultation period runs from here)
    due_on: Mapped[date | None]
    # How due_on was set (services.clocks.classify_step): due_days working days from the step's base
    # day (recomputed when a calendar year is entered), or None for a date entered by hand.
    due_days: Mapped[int | None]
    due_provisional: Mapped[bool] = mapped_column(default=False)
    calendar_version: Mapped[str] = mapped_column(Text, default="")  # "": not yet classified
    answered_on: Mapped[date | None]
    result: Mapped[str] = mapped_column(String(40), default="")
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The step's letter when it needs legal review (收费通知书, the public-interest disclosure notice):
    # "review" awaiting the legal adviser, "approved" awaiting issue, "issued"; "" none needed. A fee
    # step takes effect (pause, payment) only once its notice is issued.
    notice_state: Mapped[str] = mapped_column(String(20), default="", server_default="", index=True)

    case: Mapped[Case] = relationship(back_populates="steps")

    @property
    def details(self) -> dict:
        return json.loads(self.details_json)

    @details.setter
    def details(self, value: dict) -> None:
        self.details_json = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def in_effect(self) -> bool:
        """False while the step's notice waits for review or issue: nothing runs from it yet."""
        return self.notice_state not in UNISSUED

    @property
    def is_open(self) -> bool:
        return self.answered_on is None and not self.result and self.in_effect

    @property
    def printed_letter(self):
        """The issued letter that states this step's deadline: its date is kept as printed."""
        return next((x for x in self.case.letters if x.notice_ref == f"step-{self.id}"), None)

    @property
    def kind_label(self) -> str:
        return STEP_KINDS.get(self.kind, self.kind)

    @property
    def result_label(self) -> str:
        if not self.result:
            return ""
        return (_KIND_RESULTS.get((self.kind, self.result)) or CONSULTATION_RESULTS.get(self.result)
                or STEP_RESULTS.get(self.result, self.result))


class Draft(db.Model):
    """One immutable revision of a reply draft; approval and sign-off attach to a revision."""

    __tablename__ = "draft"
    __table_args__ = (
        UniqueConstraint("case_id", "revision"),
        CheckConstraint(
            "(approved_by_id IS NULL AND approved_at IS NULL AND approved_hash IS NULL) OR "
            "(approved_by_id IS NOT NULL AND approved_at IS NOT NULL AND approved_hash IS NOT NULL)",
            name="approval_complete"),
        CheckConstraint(
            "(signed_by_id IS NULL AND signed_at IS NULL AND signed_hash IS NULL) OR "
            "(signed_by_id IS NOT NULL AND signed_at IS NOT NULL AND signed_hash IS NOT NULL "
            "AND approved_hash IS NOT NULL)",
            name="signoff_complete"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    revision: Mapped[int]
    outcome_code: Mapped[str] = mapped_column(String(30))
    fields_json: Mapped[str] = mapped_column(Text, default="{}")
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None]
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    secrecy_note: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_at: Mapped[datetime | None]
    signed_hash: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="drafts", foreign_keys=[case_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    signed_by = relationship("User", foreign_keys=[signed_by_id])

    @property
    def fields(self) -> dict:
        return json.loads(self.fields_json)

    @property
    def outcome(self):
        return OUTCOME_BY_CODE[self.outcome_code]

    @staticmethod
    def hash_content(outcome_code: str, fields: dict) -> str:
        canonical = json.dumps({"outcome": outcome_code, "fields": fields}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def recomputed_hash(self) -> str:
        return self.hash_content(self.outcome_code, self.fields)


DELIVERY_METHODS = {
    "in_person": "直接送达",
    "post": "邮寄送达",
    "email": "电子邮件送达",
    "online": "网上平台送达",
    "fax": "传真送达",
    "public_notice": "公告送达",
}


class Delivery(db.Model):
    """Service of the reply (送达), with its proof."""

    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    delivered_on: Mapped[date]
    proof: Mapped[str] = mapped_column(String(300), default="")  # tracking number, platform log id
    recipient: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship(back_populates="deliveries")

    @property
    def method_label(self) -> str:
        return DELIVERY_METHODS.get(self.method, self.method)
