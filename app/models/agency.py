from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..domain.workflow import ROLES


class Agency(db.Model):
    """行政机关: every case, user and number sequence belongs to one."""

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    doc_code: Mapped[str] = mapped_column(String(50), default="")  # 文号代字, letters issue
    reconsideration_body: Mapped[str] = mapped_column(String(200), default="")
    court: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    number_pattern: Mapped[str] = mapped_column(String(100), default="{code}〔{year}〕{seq}号")
    # 档号 rule (DA/T 13): {fonds} 全宗号 (the code when blank), {year}, {period} Y/D30/D10, {seq}
    archive_pattern: Mapped[str] = mapped_column(String(100), default="{fonds}-{year}-{period}-{seq:04d}",
                                                 server_default="{fonds}-{year}-{period}-{seq:04d}")
    fonds_code: Mapped[str] = mapped_column(String(32), default="", server_default="")
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    # One-person offices: the same user may draft, approve and sign one reply (each such step is
    # recorded as done under the relaxed rule). Off by default: separation of duties applies.
    separation_relaxed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The public pages (issue 13): the 政府信息公开指南 as its administrator keeps it (JSON of the
    # fields in applicant.online.GUIDE_FIELDS) and whether the online form takes requests.
    guide_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    online_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The agency whose 公开主管部门 users oversee this one (issue 16: the district's 政府办 supervises
    # its departments and may supervise itself); set by the operator (flask set-supervisor).
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)

    users: Mapped[list[User]] = relationship(back_populates="agency")


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    roles_csv: Mapped[str] = mapped_column("roles", String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    # Failed logins in a row, and the lock they caused (services/auth.py).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Set by an administrator's reset and for demo accounts: the password must be changed at the next
    # login before anything else (services/accounts.py); the age counts from password_changed_at.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]
    # Where the staff notifications go (services.notify): a new online request, the daily digest.
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    mobile: Mapped[str] = mapped_column(String(30), default="", server_default="")

    agency: Mapped[Agency] = relationship(back_populates="users")

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r for r in self.roles_csv.split(",") if r)

    @roles.setter
    def roles(self, values) -> None:
        bad = set(values) - set(ROLES)
        if bad:
            raise ValueError(f"未知角色：{', '.join(sorted(bad))}")
        self.roles_csv = ",".join(sorted(set(values)))

    @property
    def role_labels(self) -> str:
        return "、".join(ROLES[r] for r in sorted(self.roles))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        if len(password) < 8:
            raise ValueError("密码至少8位")
        from flask import current_app
        # Tests use a cheaper method; production keeps Werkzeug's default (scrypt).
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def new_api_token(self) -> str:
        """Issue a fresh API token; only its hash is stored."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hashlib.sha256(token.encode()).hexdigest()
        return token

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class Sequence(db.Model):
    """A number sequence per agency, kind and year, allocated under a row lock."""

    __tablename__ = "sequence"
    __table_args__ = (UniqueConstraint("agency_id", "kind", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)
