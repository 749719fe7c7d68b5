"""Letter wording keeps every version (who, when): a diff between versions on the template page,
and a rollback to an earlier version, audited as template_changed."""
from __future__ import annotations

from app.extensions import db
from app.letters import get_letter
from app.letters.catalogue import TEMPLATES_DIR
from app.models import LetterTemplateOverride, LetterTemplateVersion
from tests.web.test_security_events import events

KEY = "reply_disclose"
URL = f"/admin/letter-templates/{KEY}"


def _default() -> str:
    return (TEMPLATES_DIR / get_letter(KEY).template_name).read_text(encoding="utf-8")


def _wording(web) -> str | None:
    return web.run(lambda: db.session.scalar(db.select(LetterTemplateOverride.source)
                                             .where(LetterTemplateOverride.key == KEY)))


def _versions(web) -> list[tuple]:
    return web.run(lambda: [(v.version, v.change, v.rolled_back_to, v.source, v.created_by.username)
                            for v in db.session.scalars(db.select(LetterTemplateVersion)
                                                        .order_by(LetterTemplateVersion.version))])


def _two_versions(web) -> tuple[str, str]:
    one = _default() + "\n{# 第一次修改的段落 #}\n"
    two = _default() + "\n{# 第二次修改的段落 #}\n"
    assert web.client.post(URL, data={"source": one}).status_code == 302
    assert web.client.post(URL, data={"source": two}).status_code == 302
    return one, two


def test_every_saved_wording_is_a_version_with_who_and_a_chinese_diff(web):
    web.as_user("admin")
    one, two = _two_versions(web)
    assert _versions(web) == [(1, "created", None, one, "admin"), (2, "saved", None, two, "admin")]
    page = web.get(URL).text
    assert "第2版（当前）" in page and "孙管理" in page
    assert "--- 第1版" in page and "+++ 第2版" in page  # version 2 against version 1
    assert "--- 系统默认措辞" in page and "+++ 第1版" in page  # version 1 against the system wording
    assert "-{# 第一次修改的段落 #}" in page and "+{# 第二次修改的段落 #}" in page
    assert [e["data"]["version"] for e in events(web, "template_changed")] == [1, 2]


def test_saving_the_same_wording_is_no_version(web):
    web.as_user("admin")
    one, _two = _two_versions(web)
    web.client.post(URL, data={"source": _wording(web)})
    assert len(_versions(web)) == 2 and len(events(web, "template_changed")) == 2


def test_rollback_restores_an_earlier_version_as_a_new_one(web):
    web.as_user("admin")
    one, two = _two_versions(web)
    r = web.client.post(URL + "/rollback", data={"version": "1"})
    assert r.status_code == 302
    assert _wording(web) == one
    assert _versions(web)[-1] == (3, "rollback", 1, one, "admin")
    ev = events(web, "template_changed")[-1]
    assert ev["actor"] == "admin"
    assert ev["data"]["change"] == "rollback" and ev["data"]["rolled_back_to"] == 1 and ev["data"]["version"] == 3
    assert ev["data"]["summary"] == "增加 1 行，删除 1 行"
    assert "回滚到第1版" in web.get(URL).text
    assert "回滚到早先版本" in web.get("/admin/security-log?category=templates").text


def test_rollback_past_a_reset_and_back_to_the_system_wording(web):
    web.as_user("admin")
    one, _two = _two_versions(web)
    assert web.client.post(URL, data={"reset": "1"}).status_code == 302
    assert _wording(web) is None and _versions(web)[-1][:2] == (3, "reset")
    assert web.client.post(URL + "/rollback", data={"version": "1"}).status_code == 302
    assert _wording(web) == one
    assert web.client.post(URL + "/rollback", data={"version": "3"}).status_code == 302  # the reset
    assert _wording(web) is None
    assert [v[:3] for v in _versions(web)[3:]] == [(4, "rollback", 1), (5, "rollback", 3)]


def test_a_refused_rollback_changes_nothing(web):
    web.as_user("admin")
    _one, two = _two_versions(web)
    r = web.client.post(URL + "/rollback", data={"version": "2"})  # the wording in use
    assert r.status_code == 400 and "当前措辞与第2版相同" in r.get_data(as_text=True)
    assert web.client.post(URL + "/rollback", data={"version": "9"}).status_code == 404
    assert web.client.post(URL + "/rollback", data={"version": "x"}).status_code == 400
    assert _wording(web) == two and len(_versions(web)) == 2 and len(events(web, "template_changed")) == 2


def test_only_the_administrator_rolls_back(web):
    web.as_user("admin")
    _two_versions(web)
    web.as_user("handler")
    assert web.client.post(URL + "/rollback", data={"version": "1"}).status_code == 403
    assert len(_versions(web)) == 2
