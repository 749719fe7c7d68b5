"""Password rules (pure functions), the lock-out under parallel guessing (both databases), and the
account commands of the `flask` CLI with their audit events."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from app.domain import passwords as P
from app.extensions import db
from app.models import Agency, Event
from app.services.auth import WRONG, LoginRefused, authenticate
from tests.conftest import IS_PG, user

# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("password,username,problem", [
    ("Abcdef-123", "clerk", None),
    ("abcdefgh12!", "clerk", None),  # lower, digit, symbol
    ("ABCDEFGH12x", "clerk", None),
    ("密码很长的中文Abc1", "clerk", None),  # CJK counts as a symbol
    ("Abc-12345", "clerk", "密码至少10位"),
    ("abcdefghijk", "clerk", "至少3类"),
    ("abcdefghij1", "clerk", "至少3类"),
    ("ABCDEFGHIJ!", "clerk", "至少3类"),
    ("Clerk-12345", "clerk", "不能包含用户名"),
    ("x-KRELC-123", "clerk", "不能包含用户名"),  # backwards, any case
    ("A" * 150 + "a1" + "-" * 60, "clerk", "不能超过200位"),
])
def test_policy(password, username, problem):
    got = P.policy_problem(password, username)
    assert (got is None) if problem is None else (problem in (got or "")), got


def test_character_classes():
    assert [P.character_classes(p) for p in ("abc", "aB", "aB1", "aB1-", "中文")] == [1, 2, 3, 4, 1]


def test_expiry():
    t = datetime(2026, 1, 1, 8, 0)
    assert not P.is_expired(t, t + timedelta(days=89, hours=23), 90)
    assert P.is_expired(t, t + timedelta(days=90), 90)
    assert not P.is_expired(t, t + timedelta(days=900), 0)  # 0: never


def test_one_time_passwords_meet_the_rules_and_differ():
    seen = {P.one_time_password() for _ in range(200)}
    assert len(seen) == 200
    for pw in seen:
        assert P.policy_problem(pw, "nobody") is None and len(pw) == 14
        assert not set(pw) & set("0O1lI")


# ---------------------------------------------------------------- the lock-out under load

def test_parallel_wrong_passwords_check_at_most_the_limit(app):
    """40 guesses at once: exactly LOGIN_MAX_FAILURES passwords are compared; the rest are refused by
    the lock before any hashing, on SQLite and on PostgreSQL alike."""
    n = 40
    barrier = threading.Barrier(n)
    messages: list[str] = []
    errors: list[BaseException] = []

    def guess():
        try:
            with app.app_context():
                try:
                    barrier.wait(60)
                    authenticate("legal", "wrong-password")
                except LoginRefused as e:
                    messages.append(e.message)
                finally:
                    db.session.remove()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(messages) == n
    limit = app.config.get("LOGIN_MAX_FAILURES", 5)
    checked = [m for m in messages if not m.startswith("连续登录失败次数过多")]
    assert len(checked) == limit
    assert checked.count(WRONG) == limit - 1
    assert sum(m.startswith(f"连续 {limit} 次登录失败") for m in checked) == 1
    with app.app_context():
        reasons = [e.data["reason"] for e in db.session.scalars(db.select(Event).where(Event.action == "login_failed"))]
        assert reasons.count("wrong_password") == limit and reasons.count("locked") == n - limit
        assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "login_locked")) == 1
        u = user("legal")
        assert u.locked_until and u.locked_until > datetime.utcnow() + timedelta(minutes=14)
    print(f"{'PostgreSQL' if IS_PG else 'SQLite'}: {len(checked)} of {n} parallel guesses checked")


# ---------------------------------------------------------------- the CLI

def run(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def security(app, action: str) -> list[tuple]:
    with app.app_context():
        return [(e.actor.username if e.actor else None, e.data.get("username"))
                for e in db.session.scalars(db.select(Event).where(Event.action == action).order_by(Event.id))]


def test_cli_create_user_applies_the_policy_and_requires_a_change(app):
    r = run(app, "create-user", "DEMO", "newbie", "新人", "--role", "clerk", "--password", "weakpassword")
    assert r.exit_code != 0 and "至少3类" in r.output
    r = run(app, "create-user", "DEMO", "newbie", "新人", "--role", "clerk", "--password", "Strong-pass-1")
    assert r.exit_code == 0, r.output
    with app.app_context():
        assert user("newbie").must_change_password and user("newbie").roles == {"clerk"}
    assert security(app, "user_created") == [(None, "newbie")]


def test_cli_reset_deactivate_reactivate_and_roles(app):
    r = run(app, "reset-password", "legal")
    assert r.exit_code == 0, r.output
    otp = r.output.strip().splitlines()[-1]
    with app.app_context():
        u = user("legal")
        assert u.check_password(otp) and u.must_change_password
    assert security(app, "password_reset") == [(None, "legal")]

    assert run(app, "deactivate-user", "legal").exit_code == 0
    with app.app_context():
        assert not user("legal").active
    r = run(app, "deactivate-user", "legal")
    assert r.exit_code != 0 and "已是停用状态" in r.output
    assert run(app, "reactivate-user", "legal").exit_code == 0
    assert security(app, "user_deactivated") == security(app, "user_reactivated") == [(None, "legal")]

    r = run(app, "set-roles", "legal", "--role", "legal", "--role", "archivist")
    assert r.exit_code == 0 and "档案员、法律顾问" in r.output
    with app.app_context():
        assert user("legal").roles == {"legal", "archivist"}
        ev = db.session.scalar(db.select(Event).where(Event.action == "roles_changed"))
        assert (ev.actor_id, ev.data["old"], ev.data["new"]) == (None, ["legal"], ["archivist", "legal"])
    r = run(app, "set-roles", "nobody", "--role", "clerk")
    assert r.exit_code != 0 and "不存在" in r.output

    r = run(app, "list-users", "DEMO")
    assert r.exit_code == 0
    line = next(x for x in r.output.splitlines() if " legal " in x)
    assert "须修改密码" in line and "在用" in line


def test_cli_change_password(app):
    from app.cli import DEMO_PASSWORD
    r = run(app, "change-password", "head", input=f"wrong-password\nBrand-New-pass1\nBrand-New-pass1\n")
    assert r.exit_code != 0 and "用户名或密码不正确" in r.output
    r = run(app, "change-password", "head", input=f"{DEMO_PASSWORD}\nshort\nshort\n")
    assert r.exit_code != 0 and "密码至少10位" in r.output
    r = run(app, "change-password", "head", input=f"{DEMO_PASSWORD}\nBrand-New-pass1\nBrand-New-pass1\n")
    assert r.exit_code == 0, r.output
    with app.app_context():
        assert user("head").check_password("Brand-New-pass1")
        ev = db.session.scalar(db.select(Event).where(Event.action == "password_changed"))
        assert ev.actor.username == "head" and ev.data["via"] == "cli"


def test_create_agency_refuses_a_code_in_use(app):
    from app.services.agency import create_agency
    from app.services.errors import ServiceError

    with app.app_context():
        create_agency("DUPCODE", "甲机关")
        with pytest.raises(ServiceError, match="DUPCODE 已存在"):
            create_agency("DUPCODE", "乙机关")
        assert db.session.scalar(db.select(db.func.count()).select_from(Agency).where(Agency.code == "DUPCODE")) == 1
