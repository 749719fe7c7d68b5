"""Demo cases for `make run`: a few requests at every stage, made through the real services."""
from __future__ import annotations

from datetime import date, timedelta

from .extensions import db
from .models import User
from .services import cases as S
from .services.calendar import load_calendar
from .services.time import today

def _rid(first17: str) -> str:
    from .domain.intake import resident_id_check_digit
    return first17 + resident_id_check_digit(first17)


APPLICANTS = [
    ("natural", "张三", "11010519491231002X", "2025年示范区旧城改造项目的征收补偿方案", "示政发〔2025〕3号"),
    ("natural", "李四", _rid("11010519800312002"), "本区2026年第三季度建设用地供应计划", ""),
    ("business", "示范市恒远建设有限公司", "91110105MA00000000", "本公司所在地块的土地出让合同及规划条件", ""),
    ("legal_service", "示范市明德律师事务所", "31110000E00000000X", "2024年度行政处罚决定书目录", ""),
    ("research", "示范大学城市规划研究院", "12100000400000000X", "2025年度国土空间规划年度体检报告", ""),
    ("natural", "王五", _rid("11010519751105004"), "示范区人民路拓宽工程的环境影响评价批复", "示环审〔2024〕8号"),
    ("natural", "赵六", _rid("11010519900716005"), "示范区2026年耕地保护目标责任书", ""),
    ("public_interest", "示范市绿色家园环保协会", "51110000MJ0000000X", "示范河沿岸违法建设查处情况", ""),
]


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def seed_demo_cases() -> int:
    cal = load_calendar()
    t = today()
    clerk, handler, legal, head = (_user(u) for u in ("clerk", "handler", "legal", "head"))

    def received(days_ago: int) -> str:
        d = t - timedelta(days=days_ago)
        return cal.next_workday(d).isoformat() if cal.next_workday(d) <= t else d.isoformat()

    made = []
    for i, (atype, name, idn, desc, doc) in enumerate(APPLICANTS):
        raw = {"channel": ["in_person", "registered_post", "online", "in_person"][i % 4],
               "arrived_on": received([30, 26, 21, 18, 12, 8, 5, 1][i]), "applicant_type": atype,
               "applicant_name": name, "id_type": "resident_id" if atype == "natural" else "business_license",
               "id_number": idn, "contact_phone": f"1380000{i:04d}", "contact_address": "示范市人民路100号",
               "description": desc, "doc_number": doc, "requested_form": "paper", "requested_route": "post",
               "handler_id": handler.id}
        if raw["channel"] == "online":
            raw["confirmed_on"] = raw["arrived_on"]
        made.append(S.register_case(clerk, raw))
    a, b, c, d, e, f, g, h = made
    # a: replied and delivered
    S.perform(a.id, handler, "start")
    S.perform(a.id, handler, "save_draft", {"outcome": "disclose", "form": "纸质复印件",
                                            "obtain": "随本答复书邮寄提供复印件一份（共12页）"})
    S.perform(a.id, handler, "submit_draft")
    S.perform(a.id, legal, "approve", {"secrecy_reviewed": True, "secrecy_note": "经审查不涉及国家秘密"})
    S.perform(a.id, head, "sign_off")
    S.perform(a.id, handler, "issue")
    S.perform(a.id, clerk, "deliver", {"method": "post", "proof": "EMS1100000000CN"})
    # b: awaiting legal review
    S.perform(b.id, handler, "start")
    S.perform(b.id, handler, "save_draft", {"outcome": "not_exist",
                                            "search": "本机关检索了2026年收文、发文系统及档案，未找到该计划。"})
    S.perform(b.id, handler, "submit_draft")
    # c: third-party consultation open (clock paused)
    S.perform(c.id, handler, "start")
    S.perform(c.id, handler, "consult", {"kind": "third_party", "party": "示范市恒远建设有限公司",
                                         "matter": "合同含该公司商业信息，公开可能损害其合法权益"})
    # d: awaiting sign-off
    S.perform(d.id, handler, "start")
    S.perform(d.id, handler, "save_draft", {"outcome": "disclose", "form": "电子文档",
                                            "obtain": "相关文件已通过电子邮件发送至您登记的电子邮箱"})
    S.perform(d.id, handler, "submit_draft")
    S.perform(d.id, legal, "approve", {"secrecy_reviewed": True})
    # e: awaiting correction
    S.perform(e.id, handler, "request_correction", {"items": "请明确所需报告的具体名称或文号", "notice_date": e.received_on.isoformat()})
    # f, g: being handled; h: just registered
    S.perform(f.id, handler, "start")
    S.perform(g.id, handler, "start")
    seed_demo_online()
    return len(made)


DEMO_GUIDE = {
    "office": "示范市自然资源和规划局办公室（政府信息公开工作机构）", "address": "示范市人民路1号", "postcode": "100000",
    "hours": "工作日上午 9:00—12:00，下午 13:30—17:00", "phone": "0000-12345678", "fax": "0000-12345679",
    "email": "gongkai@demo.example.cn", "website": "http://127.0.0.1:5000/gk/DEMO/",
    "fees": "依申请提供政府信息不收费。申请数量、频次明显超过合理范围的，按规定收取信息处理费，收费前书面告知。",
    "other": "申请获取与本人相关的不动产登记资料的，请向不动产登记中心申请查询，不按政府信息公开申请办理。",
}


def seed_demo_online() -> None:
    """The public guide filled in and two online requests waiting for the clerk (make run only:
    the tests' demo agency has no pending requests)."""
    import io

    from PIL import Image

    from .applicant import online as O

    O.save_guide(_user("admin"), DEMO_GUIDE, True)
    agency = _user("clerk").agency
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), (235, 235, 225)).save(buf, "PNG")
    O.submit(agency, {"applicant_type": "natural", "applicant_name": "钱七", "id_type": "resident_id",
                      "id_number": _rid("11010519850620003"), "contact_phone": "13900001111",
                      "contact_email": "qianqi@example.cn", "contact_address": "示范市东风路20号",
                      "description": "示范区东风路片区2026年控制性详细规划调整的批复文件",
                      "requested_form": "electronic", "requested_route": "email"},
             [O.Upload("identity", "身份证复印件.png", buf.getvalue())], "127.0.0.1")
    O.submit(agency, {"applicant_type": "other_org", "applicant_name": "示范市东风路社区居民委员会",
                      "id_type": "business_license", "id_number": "55110000MJ0000001X",
                      "contact_phone": "0000-87654321", "contact_address": "示范市东风路1号",
                      "description": "东风路拓宽工程征收范围图及征收决定", "doc_number": "",
                      "requested_form": "paper", "requested_route": "post"}, [], "127.0.0.1")


# The supervising office (issue 16 item 4): the city government's office supervises itself, the demo
# bureau and a second department whose cases are late, so that its overview has something to show.
SUPERVISOR = ("SZF", "示范市人民政府办公室")
SECOND = ("SJY", "示范市教育局")
SUPERVISION_USERS = [  # (agency code, username, name, roles)
    ("SZF", "supervisor", "吴主管", ["supervisor"]),
    # The office and the second department each answer requests and cross-agency letters (issue 16
    # item 5): a clerk, a handler, a legal adviser (reviews 协办意见) and a head.
    ("SZF", "szf_clerk", "蒋登记", ["clerk"]),
    ("SZF", "szf_handler", "沈承办", ["handler"]),
    ("SZF", "szf_legal", "韩法务", ["legal"]),
    ("SZF", "szf_head", "杨主任", ["head"]),
    ("SJY", "jy_clerk", "郑登记", ["clerk"]),
    ("SJY", "jy_handler", "冯承办", ["handler"]),
    ("SJY", "jy_legal", "朱法务", ["legal"]),
    ("SJY", "jy_head", "秦局长", ["head"]),
]


def seed_demo_supervision(must_change: bool = True) -> list[tuple[str, str, str]]:
    from .domain.workflow import ROLES
    from .services.agency import create_agency, set_supervisor
    from .services.clocks import clock_bounds
    from .services.views import new_user

    # Their public guides are not filled in: no online form on the demo's public pages.
    made = {code: create_agency(code, name, online_enabled=False) for code, name in (SUPERVISOR, SECOND)}
    out = []
    for code, username, name, roles in SUPERVISION_USERS:
        new_user(made[code].id, username, name, "ogidesk-demo", roles, seed=True, must_change=must_change)
        out.append((username, f"{name}，{made[code].name}", "、".join(ROLES[r] for r in roles)))
    for code in ("SZF", "DEMO", "SJY"):
        set_supervisor(code, "SZF")

    cal, t = load_calendar(), today()
    clerk, handler = _user("jy_clerk"), _user("jy_handler")

    def arrival(days_ago: int) -> date:
        return cal.next_workday(t - timedelta(days=days_ago))

    bound = clock_bounds(t)
    # Received so that 20 working days end within the next three: 即将到期.
    soon = next((arrival(n) for n in range(20, 40) if t <= cal.add_working_days(arrival(n), 20).due < bound),
                arrival(26))
    plan = [(arrival(45), "本市2025年义务教育阶段学校划片方案", None), (arrival(38), "2025年度民办学校年检结果", None),
            (soon, "本区新建学校选址论证报告", None), (arrival(12), "2026年教育经费执行情况", arrival(10)),
            (arrival(3), "示范中学校园改造工程招标文件", None)]
    for i, (on, desc, cohandle_on) in enumerate(plan):
        if on > t:
            continue
        c = S.register_case(clerk, {
            "channel": "in_person", "arrived_on": on.isoformat(), "applicant_type": "natural",
            "applicant_name": ["孙一", "周二", "吴三", "郑四", "王五"][i], "id_type": "resident_id",
            "id_number": _rid(f"11010519800115{i + 1:03d}"), "contact_phone": f"1390000{i:04d}",
            "contact_address": "示范市学府路8号", "description": desc, "doc_number": "",
            "requested_form": "paper", "requested_route": "post", "handler_id": handler.id})
        S.perform(c.id, handler, "start")
        if cohandle_on is not None and cohandle_on >= on:
            S.perform(c.id, handler, "cohandle", {"party": "示范市财政局", "matter": "提供2026年教育经费拨付明细",
                                                  "sent_on": cohandle_on.isoformat()})
    seed_demo_cross_agency(arrival)
    return out


def seed_demo_cross_agency(arrival) -> None:
    """Requests addressed to the district (the office, SZF), being handled by the office: one whose
    协办函 already waits in the bureau's (DEMO) queue, one to try 协办 with the education bureau."""
    from .models import Agency

    clerk, handler = _user("szf_clerk"), _user("szf_handler")
    bureau = db.session.scalar(db.select(Agency).where(Agency.code == "DEMO"))
    for i, (desc, days_ago) in enumerate((("示范区2026年城市更新项目清单及用地规划条件", 6),
                                          ("示范区2026年新建中小学校建设计划及选址意见", 2))):
        c = S.register_case(clerk, {
            "channel": "in_person", "arrived_on": arrival(days_ago).isoformat(), "applicant_type": "natural",
            "applicant_name": ["褚一", "卫二"][i], "id_type": "resident_id",
            "id_number": _rid(f"11010519850301{i + 1:03d}"), "contact_phone": f"1370000{i:04d}",
            "contact_address": "示范市府前路1号", "description": desc, "doc_number": "",
            "requested_form": "paper", "requested_route": "post", "handler_id": handler.id})
        S.perform(c.id, handler, "start")
        if i == 0:
            S.perform(c.id, handler, "cohandle", {"to_agency_id": bureau.id, "sent_on": arrival(5).isoformat(),
                                                  "matter": "请就城市更新项目的用地规划条件提供书面协办意见"})
