"""Who may open which page: a role matrix over every route of the UI, generated from the URL map
and, for the action forms, from the workflow's ACTIONS table; agencies are kept apart."""
from __future__ import annotations

import pytest

from app.domain.workflow import ACTIONS, AGENCY_ROLES, allowed
from app.cli import DEMO_PASSWORD, create_user
from app.letters.catalogue import TEMPLATES_DIR
from tests.factories import DEMO_USERNAMES, STAGES, build_case, other_agency, register
from tests.conftest import user

UI_BLUEPRINTS = ("auth", "cases", "admin", "account", "outbox", "online", "redaction", "letters", "casefile",
                 "supervision", "transfers", "requests")
PRINT = {"archivist", "head", "admin"}  # app/casefile/jobs.py PRINT_ROLES
EVERYONE = None
AGENCY = set(AGENCY_ROLES)  # every role but the platform's system administrator
# endpoint -> roles that may open it (None: every logged-in user). Action forms are checked below.
PAGE_ROLES = {
    "cases.queue": AGENCY,
    "cases.search": AGENCY,
    "cases.intake": {"clerk"},
    "cases.intake_hints": {"clerk"},
    "cases.detail": AGENCY,
    "admin.calendar": {"admin", "sysadmin"},
    "admin.users": {"admin"},
    "admin.security_log": {"admin", "sysadmin"},
    "admin.security_log_export": {"admin", "sysadmin"},
    "admin.user": {"admin"},
    "outbox.index": {"admin"},
    "account.token": EVERYONE,
    "account.password": EVERYONE,
    "online.pending": {"clerk"},  # confirming an online request registers it: intake's role
    "online.guide_settings": {"admin"},
    # 删除处理: the handler marks, legal review, the head and the archivist read (issue 14).
    "redaction.workspace": {"handler", "legal", "head", "archivist"},
    # The supervising office (issue 16 item 4); which agencies it may open: test_supervision_routes_… below.
    "supervision.overview": {"supervisor"},
    "supervision.cases": {"supervisor"},
    "supervision.annual_report": {"supervisor"},
    "supervision.annual_xlsx": {"supervisor"},
    "supervision.agency_report": {"supervisor"},
    # 分办 (issue 16 item 1): the sending agency's list of transferred requests.
    "transfers.sent": AGENCY,
    "letters.notice_preview": {"handler", "legal", "head", "clerk"},
    # Agency settings and letter wording: the administrator's (issue 15 item 3: the editor's preview).
    "letters.agency_settings": {"admin"},
    "letters.templates_index": {"admin"},
    "letters.template_edit": {"admin"},
    "letters.template_preview": {"admin"},
    # The archivist's pages (issue 15 item 5): the checklist, the batch page and its preview.
    "casefile.archive_list": PRINT,
    "casefile.archive_case": PRINT,
    "casefile.batches": PRINT,
    "casefile.batch_preview": PRINT,
}
SPECIAL = {"auth.login", "auth.logout", "cases.action",
           "admin.unlock_user",  # POST only: its roles are checked in test_auth.py
           "admin.calendar_request", "admin.calendar_decide",  # POST only: checked in test_duties.py
           "cases.refresh_hints",  # POST only: its roles are checked in test_hints.py
           "admin.reset_password", "admin.deactivate_user",
           "admin.reactivate_user",  # POST only: roles and agency checked in test_accounts.py
           "admin.user_contacts", "outbox.resend",  # POST only: checked in test_outbox.py
           # One online request and its files, confirm and reject: roles and agency in test_online_confirm.py
           "online.detail", "online.download", "online.confirm", "online.reject",
           # The workspace's JSON, a source document's pages, the box and document writes and the released
           # copy: roles, agency, CSRF and read-only states in test_redaction_pages.py
           "redaction.state", "redaction.releases_json", "redaction.page_png", "redaction.search", "redaction.suggestions", "redaction.add_boxes",
           "redaction.update_box", "redaction.remove_boxes", "redaction.upload", "redaction.remove_document",
           "redaction.start_release", "redaction.release_pdf",
           # A case's letters need a draft or an issued letter: roles in test_letters.py, test_preview_cache.py,
           # test_double_submit.py and test_duties.py
           "letters.reply_preview", "letters.issued", "letters.notice_op", "letters.notice_reissue",
           "letters.template_rollback",  # POST only: versions and their audit in test_template_versions.py
           # Attachments (any agency role; another agency's: 404) in tests/casefile/test_uploads.py; the case
           # file PDF in test_security_events.py and test_casefile_pdf.py; starting a batch and its job's
           # pages in test_jobs.py (test_batch_routes_roles, test_batch_routes_need_login_and_same_agency)
           "casefile.attachments", "casefile.download", "casefile.casefile_pdf", "casefile.batch_create",
           "casefile.job_page", "casefile.job_resubmit", "casefile.job_status", "casefile.job_result",
           # One transfer record and its letter: every role of the sending, answering and an unrelated
           # agency in tests/web/test_transfer.py
           "transfers.record", "transfers.letter",
           # A cross-agency 协办函/征求意见 and its answer steps: every role of the asking, the target and a
           # third agency in tests/web/test_agency_requests.py (test_request_routes_for_every_role_of_three_agencies)
           "requests.detail", "requests.act", "requests.letter"}
# A user without an agency role (the system administrator) is sent from the work queue to the calendar.
REDIRECTS = {"cases.queue": "/admin/calendar"}
# Asked for by POST (a long description does not fit in a URL).
POSTED = {"cases.intake_hints": {"applicant_name": "张三"}, "casefile.batch_preview": {"year": "2026"},
          "letters.template_preview": {"source": (TEMPLATES_DIR / "receipt/template.html.j2").read_text(encoding="utf-8")}}


def test_matrix_covers_every_ui_route(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in UI_BLUEPRINTS}
    assert endpoints == set(PAGE_ROLES) | SPECIAL


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_page_access_by_role(web, username):
    case_id = web.run(lambda: register().id)
    urls = {"cases.queue": "/", "cases.search": "/cases", "cases.intake": "/cases/new",
            "cases.intake_hints": "/cases/intake-hints", "cases.detail": f"/cases/{case_id}",
            "admin.calendar": "/admin/calendar", "admin.users": "/admin/users", "account.token": "/account/token",
            "admin.security_log": "/admin/security-log",
            "admin.security_log_export": "/admin/security-log/export.xlsx",
            "admin.user": f"/admin/users/{web.run(lambda: user('clerk').id)}", "account.password": "/account/password",
            "outbox.index": "/outbox",
            "online.pending": "/online", "online.guide_settings": "/admin/guide",
            "redaction.workspace": f"/cases/{case_id}/redaction",
            "letters.notice_preview": f"/cases/{case_id}/notices/receipt.pdf", "letters.agency_settings": "/admin/agency",
            "letters.templates_index": "/admin/letter-templates",
            "letters.template_edit": "/admin/letter-templates/receipt",
            "letters.template_preview": "/admin/letter-templates/receipt/preview",
            "casefile.archive_list": "/archive", "casefile.archive_case": f"/archive/{case_id}",
            "casefile.batches": "/casefiles", "casefile.batch_preview": "/casefiles/preview",
            "transfers.sent": "/transfers",
            **supervision_urls(web.run(lambda: user("clerk").agency_id))}
    roles = web.run(lambda: set(user(username).roles))
    web.as_user(username)
    for endpoint, need in PAGE_ROLES.items():
        expected = 200 if need is None or roles & need else 403
        if expected == 403 and endpoint in REDIRECTS:
            expected = 302
        if endpoint in POSTED:
            r = web.client.post(urls[endpoint], data=POSTED[endpoint])
        else:
            r = web.client.get(urls[endpoint])
        assert r.status_code == expected, (username, endpoint, r.status_code)
        if expected == 403:
            assert "无权访问" in r.get_data(as_text=True)
        if expected == 302:
            assert r.location == REDIRECTS[endpoint]
    # Logged in, the login page sends the user to the work queue.
    assert web.client.get("/login").location == "/"


def supervision_urls(agency_id: int) -> dict[str, str]:
    return {"supervision.overview": "/supervision",
            "supervision.cases": f"/supervision/agencies/{agency_id}/cases?status=open",
            "supervision.annual_report": "/supervision/annual-report?year=2025",
            "supervision.annual_xlsx": "/supervision/annual-report/export.xlsx?year=2026",
            "supervision.agency_report": f"/supervision/agencies/{agency_id}/annual-report?year=2025"}


SUPERVISED_ROUTES = ("supervision.cases", "supervision.agency_report")


def three_agencies() -> dict:
    """SUP supervises itself and DEMO; THIRD is unrelated (its own supervisor). Each has one user per
    agency role and a 公开主管部门 user; SUP also has one who handles cases as well."""
    from app.services.agency import set_supervisor
    sup, sup_users = other_agency("SUP")
    third, third_users = other_agency("THIRD")
    create_user(sup, "sup_supervisor", "吴主管", DEMO_PASSWORD, ["supervisor"])
    create_user(sup, "sup_both", "郑兼办", DEMO_PASSWORD, ["supervisor", "handler"])
    create_user(third, "third_supervisor", "钱主管", DEMO_PASSWORD, ["supervisor"])
    for code, by in (("SUP", "SUP"), ("DEMO", "SUP"), ("THIRD", "THIRD")):
        set_supervisor(code, by)
    make_case = lambda clerk: register(clerk=clerk).id  # noqa: E731
    return {"agencies": {"SUP": sup.id, "DEMO": user("clerk").agency_id, "THIRD": third.id},
            "cases": {"SUP": make_case(sup_users["clerk"]), "DEMO": make_case(user("clerk")),
                      "THIRD": make_case(third_users["clerk"])},
            "users": {"SUP": [u.username for u in sup_users.values()] + ["sup_supervisor", "sup_both"],
                      "DEMO": list(DEMO_USERNAMES),
                      "THIRD": [u.username for u in third_users.values()] + ["third_supervisor"]}}


def test_supervision_routes_for_every_role_of_three_agencies(web):
    """Only a 公开主管部门 user opens these pages, and only for the agencies its agency supervises
    (others: 404, as a foreign case); the role opens no case, of its own agency or another."""
    setup = web.run(three_agencies)
    supervises = {"SUP": {"SUP", "DEMO"}, "DEMO": set(), "THIRD": {"THIRD"}}
    checked = 0
    for home, usernames in setup["users"].items():
        for username in usernames:
            roles = web.run(lambda: set(user(username).roles))
            web.as_user(username)
            for target, agency_id in setup["agencies"].items():
                for endpoint, url in supervision_urls(agency_id).items():
                    if "supervisor" not in roles:
                        expected = 403
                    elif endpoint in SUPERVISED_ROUTES:
                        expected = 200 if target in supervises[home] else 404
                    else:
                        expected = 200 if endpoint != "supervision.annual_xlsx" or supervises[home] else 400
                    r = web.client.get(url)
                    assert r.status_code == expected, (username, endpoint, target, r.status_code)
                    checked += 1
                # The existing case routes: an agency role of the case's own agency only.
                case_id = setup["cases"][target]
                if not roles & AGENCY:
                    expected = 403
                else:
                    expected = 200 if target == home else 404
                assert web.client.get(f"/cases/{case_id}").status_code == expected, (username, target)
                if expected != 200:  # nothing of a foreign case opens, whatever the route's own roles
                    for url in (f"/cases/{case_id}/redaction", f"/cases/{case_id}/remedies",
                                f"/cases/{case_id}/action/start"):
                        assert web.client.get(url).status_code in (403, 404), (username, url)
            if roles == {"supervisor"}:
                assert web.client.get("/").location == "/supervision"  # no work queue of cases
    assert checked > 300


@pytest.mark.parametrize("stage", STAGES)
def test_action_forms_open_only_for_the_right_role_and_stage(web, stage):
    case_id = web.run(lambda: build_case(stage).id)
    for username in DEMO_USERNAMES:
        roles = web.run(lambda: set(user(username).roles))
        web.as_user(username)
        page = web.get(f"/cases/{case_id}")
        for name, act in ACTIONS.items():
            r = web.client.get(f"/cases/{case_id}/action/{name}")
            if not roles & act.roles:
                expected = 403
            elif allowed(name, stage, roles):
                expected = 200
            else:
                expected = 302  # right role, wrong stage: back to the case page with the reason
            assert r.status_code == expected, (stage, username, name, r.status_code)
            if expected == 302:
                assert r.location == f"/cases/{case_id}"
            # The case page offers exactly the actions of this role in this stage.
            offered = page.has_id(f"action-{name}") or page.has_id(f"action-{name}-unavailable")
            assert offered == allowed(name, stage, roles), (stage, username, name)


def test_unknown_action_is_404(web):
    case_id = web.run(lambda: register().id)
    web.as_user("handler")
    assert web.client.get(f"/cases/{case_id}/action/no_such_action").status_code == 404


def test_another_agencys_case_does_not_exist_here(web):
    def setup():
        _, others = other_agency("OTHER")
        return register(clerk=others["clerk"]).id
    foreign = web.run(setup)
    web.as_user("handler")
    r = web.client.get(f"/cases/{foreign}")
    assert r.status_code == 404 and "不存在" in r.get_data(as_text=True)
    assert web.client.get(f"/cases/{foreign}/action/start").status_code == 404
    assert web.client.post(f"/cases/{foreign}/action/start", data={"version": "1"}).status_code == 404
    web.as_user("clerk")
    hints = web.client.post("/cases/intake-hints", data={"applicant_name": "张三"}).get_json()
    assert hints["month_count"] == 0 and hints["possible_repeats"] == []  # not the other agency's request
    # The other agency's own user sees it.
    web.client.post("/logout")
    web.client.post("/login", data={"username": "other_handler", "password": "ogidesk-demo"})
    assert web.client.get(f"/cases/{foreign}").status_code == 200


def test_navigation_links_follow_roles(web):
    expected = {
        "clerk": {"nav-queue", "nav-intake", "nav-search"},
        "handler": {"nav-queue", "nav-search"},
        "admin": {"nav-queue", "nav-search", "nav-calendar", "nav-users"},
        "sysadmin": {"nav-calendar"},
    }
    for username, ids in expected.items():
        web.as_user(username)
        page = web.get("/", follow_redirects=True)  # the system administrator lands on the calendar
        present = {i for i in ("nav-queue", "nav-intake", "nav-search", "nav-calendar", "nav-users")
                   if page.has_id(i)}
        assert present == ids, username
        assert page.has_id("nav-token") and page.has_id("logout")
