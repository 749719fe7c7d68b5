"""Registration (登记) through services.cases.register_case: Art. 29 content, Art. 31 receipt date."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Case, Event
from app.services import cases as S
from app.services.errors import ServiceError
from tests.conftest import INTAKE, set_today, user
from tests.factories import d, events, register, reload


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.mark.parametrize("channel,arrived,confirmed,received,item", [
    ("in_person", "2026-11-02", None, "2026-11-02", "第（一）项"),
    ("registered_post", "2026-11-03", None, "2026-11-03", "第（二）项"),
    ("ordinary_post", "2026-11-03", "2026-11-03", "2026-11-03", "第（二）项"),
    ("online", "2026-11-03", "2026-11-04", "2026-11-04", "第（三）项"),
    ("fax", "2026-11-05", "2026-11-05", "2026-11-05", "第（三）项"),
])
def test_receipt_date_and_basis_for_every_channel(app, ctx, channel, arrived, confirmed, received, item):
    params = {"channel": channel, "arrived_on": arrived}
    if confirmed:
        params["confirmed_on"] = confirmed
    case = reload(register(**params))
    assert case.channel == channel
    assert case.arrived_on == d(arrived)
    assert case.received_on == d(received) == case.clock_start
    assert "第三十一条" in case.receipt_basis and item in case.receipt_basis
    assert case.logged_at is not None
    ev = events(case.id)[0]
    assert (ev.action, ev.from_state, ev.to_state) == ("register", None, "registered")
    assert ev.data["received_on"] == received and ev.data["receipt_basis"] == case.receipt_basis
    assert ev.data["channel"] == channel


def test_ordinary_post_confirmed_later_is_noted(app, ctx):
    case = reload(register(channel="ordinary_post", arrived_on="2026-11-03", confirmed_on="2026-11-05"))
    assert case.received_on == d("2026-11-05")
    assert "未于信函到达当日确认" in case.receipt_basis


@pytest.mark.parametrize("channel", ["online", "fax"])
def test_confirmation_on_a_holiday_saturday_rolls_to_the_next_working_day(app, ctx, channel):
    set_today(app, "2026-10-09")
    case = reload(register(channel=channel, arrived_on="2026-10-02", confirmed_on="2026-10-03"))
    assert case.confirmed_on == d("2026-10-03")
    assert case.received_on == d("2026-10-08")  # 3 Oct is a Saturday inside the National Day break
    assert "顺延至2026年10月8日" in case.receipt_basis
    # 9 Oct, Sat 10 Oct (make-up working day), 12–16, 19–23, 26–30 Oct, 2–4 Nov: 20 working days.
    assert case.reply_due == d("2026-11-04")


@pytest.mark.parametrize("channel", ["ordinary_post", "online", "fax"])
def test_confirmation_date_required_and_not_before_arrival(app, ctx, channel):
    for extra in ({}, {"confirmed_on": "2026-11-01"}):
        with pytest.raises(ServiceError) as e:
            register(channel=channel, arrived_on="2026-11-02", **extra)
        assert e.value.field == "confirmed_on"
    assert _count(Case) == 0


@pytest.mark.parametrize("over,field", [
    ({"id_number": "110105194912310021"}, "id_number"),  # check digit should be X
    ({"id_number": "11010519491331002X"}, "id_number"),  # month 13
    ({"id_number": "1101051949123100"}, "id_number"),
    ({"agent_name": "赵律师", "agent_id_number": "11010519491231002X"}, "power_of_attorney"),
    ({"agent_name": "赵律师", "power_of_attorney": "授权委托书原件一份"}, "agent_id_number"),
    ({"agent_name": "赵律师", "power_of_attorney": "授权委托书", "agent_id_number": "110105194912310021"},
     "agent_id_number"),
    ({"contact_phone": "", "contact_address": "", "contact_email": ""}, "contact_phone"),
    ({"contact_email": "not-an-email"}, "contact_email"),
    ({"arrived_on": "2026-11-24"}, "arrived_on"),
    ({"channel": "online", "arrived_on": "2026-11-20", "confirmed_on": "2026-11-24"}, "confirmed_on"),
    ({"arrived_on": "2026-13-01"}, "arrived_on"),
    ({"applicant_name": ""}, "applicant_name"),
    ({"description": "  "}, "description"),
    ({"channel": "carrier_pigeon"}, "channel"),
    ({"applicant_type": "alien"}, "applicant_type"),
])
def test_invalid_intake_is_refused_and_nothing_is_stored(app, ctx, over, field):
    with pytest.raises(ServiceError) as e:
        register(**over)
    assert e.value.field == field, e.value.message
    assert e.value.status == 400
    db.session.rollback()
    assert (_count(Case), _count(Event)) == (0, 0)


def test_bad_check_digit_message_is_chinese(app, ctx):
    with pytest.raises(ServiceError) as e:
        register(id_number="110105194912310021")
    assert "校验位" in e.value.message


def test_agent_with_power_of_attorney_is_accepted(app, ctx):
    case = reload(register(agent_name="赵律师", agent_id_number="11010519491231002x",
                           power_of_attorney="授权委托书原件一份，委托权限：代为申请"))
    assert case.agent_id_number == "11010519491231002X"
    assert case.power_of_attorney.startswith("授权委托书")


def test_other_id_types_are_not_checked_as_resident_ids(app, ctx):
    case = reload(register(id_type="passport", id_number="E12345678"))
    assert case.id_number == "E12345678"


def test_one_contact_channel_is_enough(app, ctx):
    case = reload(register(contact_phone="", contact_address="", contact_email="zhang@example.cn"))
    assert case.contact_email == "zhang@example.cn"


def test_only_a_clerk_registers(app, ctx):
    for name in ("handler", "legal", "head", "archivist", "admin"):
        with pytest.raises(ServiceError):
            S.register_case(user(name), dict(INTAKE))
    assert _count(Case) == 0


def test_handler_at_intake_must_be_an_active_handler(app, ctx):
    with pytest.raises(ServiceError) as e:
        register(handler_id=user("legal").id)
    assert e.value.field == "handler_id"
    case = reload(register(handler_id=user("handler2").id))
    assert case.handler_id == user("handler2").id


# ------------------------------------------------------------------ intake hints

def test_intake_hints_count_this_month_and_flag_repeats(app, ctx):
    register(arrived_on="2026-10-30", description="2024年城市更新项目清单", doc_number="")
    register(arrived_on="2026-11-02", description="示范区2025年土地出让收入明细", doc_number="")
    register(arrived_on="2026-11-05", description="示范区2025年旧城改造项目的征收补偿方案",
             doc_number="示政发〔2025〕3号")
    register(arrived_on="2026-11-06", description="某街道办事处2026年工作要点", doc_number="示政发〔2024〕9号")
    register(applicant_name="李四", id_number="110105194912310011", arrived_on="2026-11-06")

    hints = S.intake_hints(user("clerk"), "张三", "11010519491231002x", "关于行道树养护合同的信息", "",
                           on=d("2026-11-23"))
    assert hints["month_count"] == 3  # 2, 5 and 6 Nov; 30 Oct is last month; 李四 is someone else
    assert [c["received_on"] for c in hints["month_cases"]] == ["2026-11-02", "2026-11-05", "2026-11-06"]
    assert hints["possible_repeats"] == []

    by_doc = S.intake_hints(user("clerk"), "张三", "", "完全不同的描述", "示政发〔2025〕3号", on=d("2026-11-23"))
    assert [(r["same_doc_number"], r["received_on"]) for r in by_doc["possible_repeats"]] == [
        (True, "2026-11-05")]

    similar = S.intake_hints(user("clerk"), "张三", "", "示范区2025年旧城改造项目征收补偿方案", "",
                             on=d("2026-11-23"))
    assert [r["received_on"] for r in similar["possible_repeats"]] == ["2026-11-05"]
    assert similar["possible_repeats"][0]["similarity"] >= 0.6
    assert similar["possible_repeats"][0]["same_doc_number"] is False

    december = S.intake_hints(user("clerk"), "张三", "", "", "", on=d("2026-12-01"))
    assert december["month_count"] == 0


def test_intake_hints_match_by_id_number_or_name_and_can_exclude_the_case_itself(app, ctx):
    c = register()
    by_id = S.intake_hints(user("clerk"), "", " 11010519491231002x ", INTAKE["description"], "")
    assert by_id["month_count"] == 1 and [r["id"] for r in by_id["possible_repeats"]] == [c.id]
    by_name = S.intake_hints(user("clerk"), "张三", "", "", "")
    assert by_name["month_count"] == 1
    excluded = S.intake_hints(user("clerk"), "张三", "", INTAKE["description"], "", exclude_id=c.id)
    assert excluded["month_count"] == 0 and excluded["possible_repeats"] == []
    nobody = S.intake_hints(user("clerk"), "", "", INTAKE["description"], "")
    assert nobody == {"month_count": 0, "month_cases": [], "possible_repeats": []}
