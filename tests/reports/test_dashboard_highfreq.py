"""Dashboard figures and the high-frequency request analysis."""
from __future__ import annotations

import re
from html import unescape

from app.reports import highfreq
from tests.conftest import user

from .support import make_case


def test_dashboard_figures(app, client, auth):
    with app.app_context():
        # Replies in November 2026 (no holidays): 5, 10 and 4 working days -> median 5.
        make_case(received="2026-11-02", closed="2026-11-09", outcome="disclose", reply_due="2026-11-30")
        make_case(received="2026-11-02", closed="2026-11-16", outcome="not_exist", reply_due="2026-11-10")  # late
        make_case(received="2026-11-02", closed="2026-11-06", outcome="partial", imported=True)  # no due date kept
        make_case(received="2026-11-03", closed="2026-11-20", outcome="withdrawn")  # not a reply
        make_case(received="2025-11-28", closed="2025-12-05", outcome="disclose", reply_due="2025-12-26")
        make_case(received="2026-10-26", reply_due="2026-11-20", handler="handler")  # overdue
        make_case(received="2026-10-29", reply_due="2026-11-26", handler="handler")  # due soon
        make_case(received="2026-11-05", reply_due="2026-12-03", handler="handler2")
        make_case(received="2026-11-06", state="correction")
    auth.login("head")
    resp = client.get("/dashboard")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    text = unescape(html)
    assert re.search(r'id="open-total">4<', html) and re.search(r'id="overdue-total">1<', html)
    assert re.search(r'id="soon-total">1<', html)
    # 2025-12-05 reply is inside the 12-month window (from 2025-12-01): 5,10,4,5 working days -> median 5.
    assert 'id="median">5 个工作日<' in text
    assert 'id="on-time">66.7%<' in text and "2/3 件按期" in text  # the imported reply has no due date
    months = re.findall(r"<td class=\"num\">(\d+)</td>", html.split('id="months"')[1].split("</table>")[0])
    assert len(months) == 12 and months[-1] == "6" and months[0] == "0"
    assert html.count('<svg class="chart"') == 3
    load = html.split('id="load"')[1].split("</table>")[0]
    assert re.search(r"李承办</td>\s*<td class=\"num\"><a [^>]+>2</a>", load)
    assert "未分派" in load


def test_dashboard_refuses_unknown_parameters(client, auth):
    auth.login("head")
    assert client.get("/dashboard?x=1").status_code == 400


def test_doc_number_normalisation():
    n = highfreq.normalise_doc_number
    assert n("示政发〔2025〕3号") == n("示政发[2025]3号") == n("示政发（2025）第03号") == n(" 示政发【2025】3号 ")
    assert n("示政发〔2025〕3号") != n("示政发〔2025〕13号")


def test_high_frequency_groups(app, client, auth):
    with app.app_context():
        for i, doc in enumerate(["示政发〔2025〕3号", "示政发[2025]3号", "示政发（2025）第3号"]):
            make_case(received=f"2026-0{i + 2}-10", doc_number=doc, name=f"申请人{i}",
                      description=f"请提供示政发2025年3号文件{i}")
        topic = ["申请公开2025年示范区旧城改造项目的征收补偿方案",
                 "请求公开示范区旧城改造项目征收补偿方案（2025年）",
                 "关于2025年示范区旧城改造项目征收补偿方案的信息公开申请"]
        for i, t in enumerate(topic):
            make_case(received=f"2026-05-1{i}", description=t, name="同一人")
        make_case(received="2026-06-01", description="环境影响评价报告", name="别人")
        make_case(received="2026-06-02", description="学校布局规划图", name="别人")
        make_case(received="2025-06-02", description="申请公开2025年示范区旧城改造项目的征收补偿方案", name="去年")
        r = highfreq.analyse(user("head").agency_id, 2026, 3)
    assert [g.count for g in r["documents"]] == [3]
    # The requests for the same document also read alike: they form a topic of their own.
    assert sorted(g.count for g in r["topics"]) == [3, 3]
    renewal = next(g for g in r["topics"] if "旧城改造项目" in g.key)
    assert renewal.applicants == {"同一人"} and renewal.first.isoformat() == "2026-05-10"
    auth.login("legal")
    html = client.get("/high-frequency?year=2026&min=3").get_data(as_text=True)
    assert "按文号（1 个文件）" in html and "按申请内容（2 个事项）" in html
    assert "同一申请人反复申请" in html
    links = re.findall(r'<a href="(/ledger\?ids=[^"]+)">3 件申请</a>', html)
    assert len(links) == 2
    for link in links:
        assert 'id="ledger-total">3<' in client.get(unescape(link)).get_data(as_text=True)
    assert client.get("/high-frequency?min=1").status_code == 400


def test_busy_year_compares_only_recent_texts_but_all_doc_numbers(app, monkeypatch):
    monkeypatch.setattr(highfreq, "MAX_CASES", 4)
    with app.app_context():
        for day in range(1, 7):  # six requests for the same document, similar texts
            make_case(received=f"2026-03-0{day}", doc_number="示政发〔2024〕9号", description="示政发2024年9号文件全文")
        r = highfreq.analyse(user("head").agency_id, 2026, 3)
    assert r["total"] == 6 and r["compared"] == 4 and r["truncated"]
    assert [g.count for g in r["documents"]] == [6]
    assert [g.count for g in r["topics"]] == [4]
