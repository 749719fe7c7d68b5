"""flask CLI: agencies, users, tokens, calendar and demo data."""
from __future__ import annotations

import click
from flask import Flask

from .extensions import db
from .models import Agency, User
from .domain.workflow import ROLES

DEMO_PASSWORD = "ogidesk-demo"
DEMO_USERS = [
    ("clerk", "王登记", ["clerk"]),
    ("handler", "李承办", ["handler"]),
    ("handler2", "赵承办", ["handler"]),
    ("legal", "陈法审", ["legal"]),
    ("head", "张主任", ["head"]),
    ("archivist", "刘档案", ["archivist"]),
    ("admin", "孙管理", ["admin"]),
    ("sysadmin", "周系统", ["sysadmin"]),
]


def create_agency(code: str, name: str, **kw) -> Agency:
    from .services.agency import create_agency as create

    return _service(create, code, name, **kw)


def create_user(agency: Agency, username: str, name: str, password: str, roles: list[str],
                must_change: bool = False) -> User:
    """A user for demo data and tests (no password policy, no first-login change); people's accounts
    are made by ``flask create-user`` or an administrator, under the policy."""
    from .services.errors import ServiceError
    from .services.views import new_user

    try:
        return new_user(agency.id, username, name, password, roles, seed=True, must_change=must_change)
    except ServiceError as e:
        raise click.ClickException(e.message) from None


def _service(fn, *args, **kw):
    """Run an account service for a CLI command; its refusal is the command's error message."""
    from .services.errors import ServiceError

    try:
        return fn(*args, **kw)
    except ServiceError as e:
        raise click.ClickException(e.message) from None


def seed_demo(must_change: bool = False) -> list[tuple[str, str, str]]:
    """A demo agency and one user per role, only on an empty database (so demo accounts exist only
    in a database made for the demo). ``must_change``: the users must replace the published
    password at their first login (``flask seed-demo``; the tests log in with it unchanged)."""
    from .services.calendar import seed_calendar

    seed_calendar()
    if db.session.scalar(db.select(Agency).limit(1)):
        return []
    agency = create_agency(
        "DEMO", "示范市自然资源和规划局", doc_code="示自然资规公开",
        reconsideration_body="示范市人民政府", court="示范市示范区人民法院",
        address="示范市人民路1号", phone="0000-12345678")
    out = []
    for username, name, roles in DEMO_USERS:
        create_user(agency, username, name, DEMO_PASSWORD, roles, must_change=must_change)
        out.append((username, name, "、".join(ROLES[r] for r in roles)))
    return out


def seed_demo_with_cases(must_change: bool = True) -> list[tuple[str, str, str]]:
    """Demo users and, on a fresh database, a handful of cases at every stage."""
    from flask import current_app

    from .demo import seed_demo_cases, seed_demo_supervision

    users = seed_demo(must_change)
    if users:
        with current_app.test_request_context():
            seed_demo_cases()
            users += seed_demo_supervision(must_change)
    return users


def load_job_kinds() -> None:
    """Import every module that declares queue work (each registers its task or job kind)."""
    from .casefile import jobs, ocr, redaction  # noqa: F401
    from .reports import ledger_export  # noqa: F401
    from .services import calendar, jobs as background  # noqa: F401


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-calendar")
    def seed_calendar_cmd():
        """Seed the working-day calendar 2019–2026 from chinesecalendar."""
        from .services.calendar import seed_calendar
        added = seed_calendar()
        click.echo(f"已导入 {len(added)} 个年度：{added}" if added else "工作日历已存在，未修改")

    @app.cli.command("seed-demo")
    def seed_demo_cmd():
        """Seed a demo agency, one user per role and demo cases when the database is empty."""
        users = seed_demo_with_cases(must_change=True)
        if not users:
            click.echo("数据库已有机关，未创建演示数据。")
            return
        click.echo("演示账号（初始密码均为 %s，首次登录须设置新密码）：" % DEMO_PASSWORD)
        for username, name, roles in users:
            click.echo(f"  {username:<10} {name}（{roles}）")

    @app.cli.command("create-agency")
    @click.argument("code")
    @click.argument("name")
    @click.option("--reconsideration-body", default="")
    @click.option("--court", default="")
    def create_agency_cmd(code, name, reconsideration_body, court):
        """Create an agency (行政机关)."""
        a = create_agency(code, name, reconsideration_body=reconsideration_body, court=court)
        click.echo(f"已创建机关 {a.code} {a.name}")

    @app.cli.command("set-supervisor")
    @click.argument("agency_code")
    @click.argument("supervisor_code", required=False)
    def set_supervisor_cmd(agency_code, supervisor_code):
        """Set the agency's supervising office (政府信息公开工作主管部门); without SUPERVISOR_CODE, remove it."""
        from .services.agency import set_supervisor
        a = _service(set_supervisor, agency_code, supervisor_code)
        if a.supervisor_id:
            sup = db.session.get(Agency, a.supervisor_id)
            click.echo(f"{a.code} {a.name} 的公开主管部门：{sup.code} {sup.name}")
        else:
            click.echo(f"{a.code} {a.name} 没有公开主管部门")

    @app.cli.command("create-user")
    @click.argument("agency_code")
    @click.argument("username")
    @click.argument("name")
    @click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
    @click.password_option()
    def create_user_cmd(agency_code, username, name, roles, password):
        """Create a user of an agency with one or more roles."""
        agency = db.session.scalar(db.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.ClickException(f"机关 {agency_code} 不存在")
        from .services.views import new_user
        u = _service(new_user, agency.id, username, name, password, list(roles))
        click.echo(f"已创建用户 {u.username}（{u.role_labels}），首次登录须设置新密码")

    @app.cli.command("list-users")
    @click.argument("agency_code", required=False)
    def list_users_cmd(agency_code):
        """List users with their roles and account state (locked, deactivated, password to change)."""
        from .services.accounts import password_change_reason
        from .services.auth import is_locked

        q = db.select(User).join(Agency).order_by(Agency.code, User.username)
        if agency_code:
            q = q.where(Agency.code == agency_code)
        for u in db.session.scalars(q):
            state = ["在用" if u.active else "停用"]
            if is_locked(u):
                state.append("锁定")
            reason = password_change_reason(u)
            if reason:
                state.append({"must_change": "须修改密码", "expired": "密码已过期"}[reason])
            click.echo(f"{u.agency.code:<8} {u.username:<16} {u.name}（{u.role_labels}）{'、'.join(state)}")

    @app.cli.command("change-password")
    @click.argument("username")
    @click.option("--current-password", prompt="当前密码", hide_input=True)
    @click.option("--new-password", prompt="新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    def change_password_cmd(username, current_password, new_password):
        """Change a user's password, knowing the current one (the same rules as the account page)."""
        from .services import accounts
        u = _service(accounts.by_username, username)
        _service(accounts.change_password, u, current_password, new_password, via="cli")
        click.echo(f"已修改 {u.username} 的密码；其他会话和 API 令牌已失效")

    @app.cli.command("reset-password")
    @click.argument("username")
    def reset_password_cmd(username):
        """Give a user a one-time password (printed once) to be changed at the next login."""
        from .services import accounts
        u = _service(accounts.by_username, username)
        u, otp = _service(accounts.reset_password, None, u.id)
        click.echo(f"已重置 {u.username} 的密码。一次性密码（只显示这一次，首次登录须修改）：")
        click.echo(otp)

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_cmd(username):
        """Deactivate an account: its sessions and API token stop working at once."""
        from .services import accounts
        u = _service(accounts.deactivate, None, _service(accounts.by_username, username).id)
        click.echo(f"已停用账号 {u.username}（{u.name}）")

    @app.cli.command("reactivate-user")
    @click.argument("username")
    def reactivate_user_cmd(username):
        """Reactivate a deactivated account."""
        from .services import accounts
        u = _service(accounts.reactivate, None, _service(accounts.by_username, username).id)
        click.echo(f"已启用账号 {u.username}（{u.name}）")

    @app.cli.command("set-roles")
    @click.argument("username")
    @click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
    def set_roles_cmd(username, roles):
        """Replace a user's roles."""
        from .services import accounts
        u = _service(accounts.set_roles, None, _service(accounts.by_username, username).id, list(roles))
        click.echo(f"{u.username} 的角色已改为：{u.role_labels}")

    @app.cli.command("issue-token")
    @click.argument("username")
    def issue_token_cmd(username):
        """Issue a new API token for a user (the previous one stops working)."""
        from .services.views import issue_api_token
        u = db.session.scalar(db.select(User).where(User.username == username))
        if u is None:
            raise click.ClickException(f"用户 {username} 不存在")
        click.echo(issue_api_token(u, via="cli"))

    @app.cli.command("verify")
    def verify_cmd():
        """Check every stored letter, attachment and case-file result against its SHA-256."""
        from .services.integrity import verify_all

        report = verify_all()
        for p in report.problems:
            click.echo("  " + p.describe(), err=True)
        click.echo(report.summary())
        if not report.ok:
            raise SystemExit(1)

    @app.cli.command("tally-rebuild")
    def tally_rebuild_cmd():
        """Rebuild the case tally of the annual report and the dashboard from the cases."""
        from .services.tally import rebuild

        rows = rebuild()
        click.echo(f"统计汇总已按申请重建：{rows} 项")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup_cmd(path):
        """Write one backup archive: database dump, stored files, manifest of SHA-256s."""
        from .services.backup import backup
        from .services.errors import ServiceError

        try:
            r = backup(path)
        except ServiceError as e:
            raise click.ClickException(e.message) from None
        click.echo(f"已备份到 {r.path}（{r.size} 字节，{sum(r.tables.values())} 行数据，{r.files} 个文件）")
        click.echo(f"备份文件 SHA-256：{r.sha256}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False))
    def restore_cmd(path):
        """Restore a backup archive into an empty database and empty file directories."""
        from .services.backup import restore
        from .services.errors import ServiceError

        try:
            r = restore(path)
        except ServiceError as e:
            raise click.ClickException(e.message) from None
        click.echo(f"已恢复：{sum(r.tables.values())} 行数据，{r.files} 个文件，{r.letters} 份文书，"
                   "行数与文书校验值均与备份清单一致。")

    @app.cli.command("run-jobs")
    def run_jobs_cmd():
        """Run the queued background jobs in this process, oldest first, then exit (without a worker)."""
        from .services import jobs as background

        load_job_kinds()
        background.sweep()  # jobs a killed worker left running are queued again first
        n = background.run_pending()
        click.echo(f"已执行 {n} 个后台任务")

    @app.cli.command("worker")
    @click.option("--threads", type=int, default=None, help="tasks run at once (default WORKER_THREADS)")
    def worker_cmd(threads):
        """Run the task queue's worker (Huey consumer) until SIGINT/SIGTERM: OCR of scans, the
        background jobs (batch printing, large exports...), the morning digest (DIGEST_AT), the
        nightly sweep and verification (NIGHTLY_AT)."""
        import logging

        load_job_kinds()
        from .services import queue, schedule  # noqa: F401  (schedule registers the scheduled work)

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        huey = queue.huey(app)
        consumer = huey.create_consumer(workers=threads or app.config["WORKER_THREADS"], worker_type="thread")
        with app.app_context():
            queue.run_startup()  # jobs left by a killed worker or a failed enqueue (then every few minutes)
        click.echo(f"worker: {type(huey).__name__} {huey.name}, {consumer.workers} threads", err=True)
        consumer.run()
