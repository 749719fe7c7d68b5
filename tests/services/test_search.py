"""Case search (services.search): one path for the ledger and the API, through the token index
(GIN on PostgreSQL, FTS5 on SQLite), exact on substrings, scoped to the agency, and the tokens
kept current by every writer of the searched texts."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text, update

from app.extensions import db
from app.models import Case, Letter, User
from app.reports import ledger
from app.reports.importer import COLUMNS, import_ledger
from app.services import cases as S
from app.services.search import SEPARATOR, case_tokens
from tests.conftest import user
from tests.factories import build_case, other_agency, register, reload
from tests.reports.test_import import xlsx


def found(term: str, actor: User | None = None) -> set[str]:
    """Case numbers found for term, by the ledger and by the API's list: both must agree."""
    actor = actor or user("clerk")
    rows, total, _ = ledger.page(ledger.parse_filters(actor.agency_id, {"q": term, "per_page": 200}))
    by_ledger = {r["number"] for r in rows}
    api_rows, api_total = S.list_cases(actor, {"q": term, "per_page": 200})
    assert {c.number for c in api_rows} == by_ledger and api_total == total == len(by_ledger), term
    return by_ledger


@pytest.fixture
def cases(app, ctx):
    return {
        "wangwei": register(applicant_name="王伟", description="2025年示范区旧城改造项目的征收补偿方案",
                            doc_number="示政发〔2025〕3号"),
        "wangweiqiang": register(applicant_name="王伟强", description="国有土地使用权出让合同", doc_number=""),
        "liwei": register(applicant_name="李伟", description="旧城墙保护，城改办的意见，改造计划",
                          doc_number="示政发〔2024〕112号"),
        "company": register(applicant_type="business", applicant_name="示范建设有限公司", id_type="other", id_number="X-1",
                            description="Phase II 规划许可证", doc_number="GB-50086"),
    }


def nums(cases: dict, *keys: str) -> set[str]:
    return {cases[k].number for k in keys}


def test_one_two_and_longer_cjk_terms(cases):
    assert found("伟") == nums(cases, "wangwei", "wangweiqiang", "liwei")
    assert found("王伟") == nums(cases, "wangwei", "wangweiqiang")
    assert found("王伟强") == nums(cases, "wangweiqiang")
    assert found("旧城改造") == nums(cases, "wangwei")
    assert found("示范建设") == nums(cases, "company")
    assert found("不存在的内容") == set()


def test_bigrams_present_but_not_the_substring_is_no_match(cases):
    # 李伟's request holds 旧城, 城改 and 改造, but never 旧城改造 in one piece.
    assert {"旧城", "城改", "改造"} <= set(reload(cases["liwei"].id).search_tokens)
    assert found("旧城改造") == nums(cases, "wangwei")
    # "12" and "号" are in 李伟's 文号 (112号): "第12号" and "〔2024〕12号" are not.
    assert found("第12号") == set() and found("〔2024〕12号") == set()
    assert found("12号") == nums(cases, "liwei")


def test_case_numbers_and_their_pieces(cases):
    a = cases["wangwei"]
    code, year, seq = a.number.split("-")
    assert found(a.number) == {a.number}
    assert found(f"{year}-{seq}") == {a.number}
    assert found(seq) == {a.number}
    assert found(code.lower()) == {c.number for c in cases.values()}  # Latin letters: any case
    assert found(seq[1:]) == {a.number}  # a piece inside a word


def test_doc_numbers_and_mixed_terms(cases):
    assert found("示政发〔2025〕3号") == nums(cases, "wangwei")
    assert found("〔2025〕3号") == nums(cases, "wangwei")
    assert found("3号") == nums(cases, "wangwei")
    assert found("示政发") == nums(cases, "wangwei", "liwei")
    assert found("2025年示范区") == nums(cases, "wangwei")
    assert found("phase ii") == nums(cases, "company")
    assert found("GB-50086") == found("50086") == nums(cases, "company")
    assert found("100%") == set() and found("〔") == nums(cases, "wangwei", "liwei")  # no tokens: checked on all


def test_other_agencys_cases_are_never_returned(cases):
    _, others = other_agency("SZF")
    theirs = register(others["clerk"], applicant_name="王伟", description="旧城改造项目的征收补偿方案")
    assert theirs.number not in found("王伟") and theirs.number not in found("旧城改造")
    assert found("王伟", others["clerk"]) == {theirs.number}
    assert found(cases["wangwei"].number, others["clerk"]) == set()


def test_the_index_is_what_finds_the_case(cases):
    """Tokens lost (written around the session) hide the case: the search goes through the index."""
    c = cases["wangweiqiang"]
    db.session.execute(update(Case).where(Case.id == c.id).values(search_tokens=[]))
    db.session.commit()
    assert found("王伟强") == set()
    assert found("王伟") == nums(cases, "wangwei")


def test_tokens_follow_an_edit_of_the_applicant_name(cases):
    c = reload(cases["wangwei"].id)
    c.applicant_name = "赵敏"
    db.session.commit()
    assert found("赵敏") == {c.number}
    assert found("王伟") == nums(cases, "wangweiqiang")
    assert reload(c.id).search_tokens == case_tokens(reload(c.id))


def test_tokens_follow_a_letter_issued_with_a_doc_number(app, ctx):
    case = build_case("replied", applicant_name="孙立")
    letter = db.session.scalar(db.select(Letter).where(Letter.case_id == case.id, Letter.number.is_not(None)))
    assert letter is not None and letter.number
    assert found(letter.number) == {case.number}
    head, _, tail = letter.number.rpartition("〕")
    assert found("〕" + tail) == {case.number}  # e.g. 〕1号: the letter's sequence number
    assert set(case_tokens(reload(case.id))) == set(reload(case.id).search_tokens)


def test_tokens_follow_an_imported_and_reimported_ledger_row(app):
    row = ["周芷若", "自然人", "当面提交", date(2024, 3, 15), "2023年城市更新规划", "李承办", date(2024, 4, 2), "予以公开",
           "", "示政发〔2023〕8号"]
    row += [""] * (len(COLUMNS) - len(row))
    row[10] = "台-2024-17"
    with app.test_request_context():
        first = import_ledger(user("admin"), xlsx([row]))
        number = reload(first.case_ids[0]).number
        assert found("周芷若") == found("城市更新") == found("〔2023〕8号") == {number}
        assert found("台-2024-17") == {number}  # the old ledger's number (原编号) too
        changed = list(row)
        changed[0], changed[4] = "周若", "2023年城市更新规划（修订）及附图"
        import_ledger(user("admin"), xlsx([changed]), on_existing="update")
        assert found("周若") == found("及附图") == {number}
        assert found("周芷若") == set()


def test_migration_backfills_the_tokens_of_existing_cases(app, cases):
    """Downgrade below 0020 and up again: the backfill gives every case the tokens the services give."""
    from flask_migrate import downgrade, upgrade
    build_case("replied", applicant_name="孙立", description="学校布局规划")
    expected = {c.id: (case_tokens(c), c.search_text) for c in db.session.scalars(db.select(Case))}
    assert all(text for _, text in expected.values())
    db.session.remove()
    downgrade(revision="0018")
    with db.engine.connect() as conn:
        cols = [r[1] for r in conn.execute(text("PRAGMA table_info('case')"))] if not _pg() else \
            list(conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'case'")).scalars())
    assert "search_tokens" not in cols
    upgrade()
    got = {c.id: (c.search_tokens, c.search_text) for c in db.session.scalars(db.select(Case))}
    assert got == expected
    assert found("孙立") and found("旧城改造") == nums(cases, "wangwei")


def _pg() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_many_matches_come_from_the_list_order_with_the_same_rows(cases, monkeypatch):
    """A search first checks the first cases of the list: a common term fills the page from them
    (its total then "at least" what they hold); beyond them a dense term is walked in list order, a
    rarer one goes by the index. Always the same cases in the same order as the index gives."""
    agency = user("clerk").agency_id

    def page(term, n=1):
        f = ledger.parse_filters(agency, {"q": term, "page": str(n)})
        f.per_page = 1
        rows, total, capped = ledger.page(f)
        return [r["number"] for r in rows], total, capped

    assert page("伟")[1:] == (3, False)  # three matches: counted exactly, paged by the index
    by_index = [page("伟", n)[0] for n in (1, 2, 3)]
    assert by_index == [[cases[k].number] for k in ("liwei", "wangweiqiang", "wangwei")]
    # The first 3 cases of the list (company, liwei, wangweiqiang) hold pages 1 and 2: no count.
    monkeypatch.setattr(ledger, "SEARCH_PREFIX", 3)
    monkeypatch.setattr(ledger, "DENSE_EVERY", 2)  # 2 matches in 3 cases: dense
    assert page("伟", 1) == (by_index[0], 2, True)
    assert page("伟", 2) == (by_index[1], 2, True)
    # Page 3 lies beyond them; over the count cap a dense term is walked in list order.
    monkeypatch.setattr(ledger, "SEARCH_COUNT_CAP", 1)
    assert page("伟", 3) == (by_index[2], 1, True)
    # Not dense: the index, whatever the count.
    monkeypatch.setattr(ledger, "DENSE_EVERY", 1)
    assert [page("伟", n) for n in (1, 2, 3)] == [(by_index[n], 1, True) for n in range(3)]
    assert page("伟", 4) == ([], 1, True)


# ---------------------------------------------------------------- whatever number an applicant quotes

ID_X = "44030519850612004X"  # a valid 居民身份证 number whose check character is X


def rid(first17: str) -> str:
    from app.domain.intake import resident_id_check_digit
    return first17 + resident_id_check_digit(first17)


@pytest.fixture
def people(app, ctx):
    return {
        "chen": register(applicant_name="陈静", id_number=ID_X, contact_phone="138-2468-1357"),
        "liu": register(applicant_name="刘洋", id_number=rid("32010219700101123"), contact_phone="+86 139 1111 2222",
                        agent_name="赵律师", power_of_attorney="授权委托书一份", agent_id_number=rid("31010119800202456")),
        "firm": register(applicant_type="business", applicant_name="示范置业有限公司", id_type="other",
                         id_number="91440300MA5ABCDE1Q", contact_phone="0755 8888 1234"),
    }


def test_id_numbers_full_partial_and_with_a_lower_case_x(people):
    chen, liu, firm = (people[k].number for k in ("chen", "liu", "firm"))
    assert found(ID_X) == {chen}
    assert found(ID_X.lower()) == {chen}  # typed with x, stored with X
    assert found(ID_X[-6:]) == found(ID_X[-6:].lower()) == {chen}  # the last 6 characters
    assert found(people["liu"].id_number) == found(people["liu"].id_number[-6:]) == {liu}
    assert found(people["liu"].agent_id_number) == {liu}  # the agent's
    assert found("91440300ma5abcde1q") == found("MA5ABCDE") == {firm}  # other ID documents too
    assert found(ID_X[:-1] + "9") == set()


def test_phones_however_they_are_typed(people):
    chen, liu, firm = (people[k].number for k in ("chen", "liu", "firm"))
    for typed in ("13824681357", "138-2468-1357", "138 2468 1357", "+86 138 2468 1357", "+8613824681357",
                  "8613824681357", "0086-138-2468-1357", "2468-1357", "24681357", "１３８２４６８１３５７"):
        assert found(typed) == {chen}, typed
    assert found("13911112222") == found("139-1111-2222") == found("(139) 1111 2222") == {liu}
    assert found("0755-88881234") == found("075588881234") == found("8888 1234") == {firm}
    assert found("138-2468-1358") == set() and found("+86 139 1111 2223") == set()


def test_the_doc_number_of_every_issued_letter(app, ctx):
    """答复书, notices and a notice's re-issue: each numbered letter's 文号 finds its case."""
    from app.services import letters as L
    from app.services.time import today
    from tests.factories import to_correction
    replied = build_case("replied", applicant_name="孙立")
    noticed = to_correction(register(applicant_name="钱多"))
    ref = f"step-{reload(noticed.id).steps_of('correction')[0].id}"
    L.issue_notice(noticed.id, user("handler"), ref, today())
    L.reissue_notice(noticed.id, user("handler"), ref, today(), "更正补正事项")
    extended = build_case("handling", applicant_name="孔明")
    S.perform(extended.id, user("head"), "extend", {"days": 10, "reason": "需调取历史档案"})
    L.issue_notice(extended.id, user("handler"), "extension", today())
    issued = [(letter.key, letter.number, letter.case.number) for letter in db.session.scalars(
        db.select(Letter).where(Letter.number.is_not(None)).order_by(Letter.id))]
    assert [k for k, _, _ in issued] == ["reply_disclose", "correction_notice", "correction_notice",
                                         "extension_notice"]
    for key, number, case_number in issued:
        assert found(number) == {case_number}, key
        assert found(number.replace("〔", "(").replace("〕", ")")) == set(), key  # exact, not loose
    assert reload(noticed.id).search_tokens == case_tokens(reload(noticed.id))
    assert all(number in reload(noticed.id).search_text.split(SEPARATOR) for _, number, _ in issued[1:3])


def test_the_reply_number_of_an_imported_ledger_row(app):
    """The old ledger's 答复文号 is kept on the case (reply_number) and searched."""
    row = ["周芷若", "自然人", "当面提交", date(2024, 3, 15), "2023年城市更新规划", "李承办", date(2024, 4, 2), "予以公开",
           "示规复〔2024〕31号", "", "台-2024-18"]
    row += [""] * (len(COLUMNS) - len(row))
    with app.test_request_context():
        first = import_ledger(user("admin"), xlsx([row]))
        number = reload(first.case_ids[0]).number
        assert reload(first.case_ids[0]).reply_number == "示规复〔2024〕31号"
        assert found("示规复〔2024〕31号") == found("规复〔2024〕31") == {number}
        changed = list(row)
        changed[8] = "示规复〔2024〕32号"  # a corrected reply number alone is a change of the row
        second = import_ledger(user("admin"), xlsx([changed]), on_existing="update")
        assert [p.action for p in second.plan] == ["update"]
        assert found("示规复〔2024〕32号") == {number} and found("示规复〔2024〕31号") == set()
