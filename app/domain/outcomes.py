"""Outcomes of a request: one row of the annual report table 三 each (handbook §3.2, §8.10).

The outcome drives the letter chosen, the legal basis printed and the annual statistics.
"""
from __future__ import annotations

from dataclasses import dataclass

REG = "《中华人民共和国政府信息公开条例》"


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str


# Table 三, 25 data rows with their exact labels (handbook §3.2).
REPORT_ROWS: tuple[ReportRow, ...] = (
    ReportRow("一", "一、本年新收政府信息公开申请数量"),
    ReportRow("二", "二、上年结转政府信息公开申请数量"),
    ReportRow("三(一)", "（一）予以公开"),
    ReportRow("三(二)", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ReportRow("三(三)1", "1.属于国家秘密"),
    ReportRow("三(三)2", "2.其他法律行政法规禁止公开"),
    ReportRow("三(三)3", "3.危及“三安全一稳定”"),
    ReportRow("三(三)4", "4.保护第三方合法权益"),
    ReportRow("三(三)5", "5.属于三类内部事务信息"),
    ReportRow("三(三)6", "6.属于四类过程性信息"),
    ReportRow("三(三)7", "7.属于行政执法案卷"),
    ReportRow("三(三)8", "8.属于行政查询事项"),
    ReportRow("三(四)1", "1.本机关不掌握相关政府信息"),
    ReportRow("三(四)2", "2.没有现成信息需要另行制作"),
    ReportRow("三(四)3", "3.补正后申请内容仍不明确"),
    ReportRow("三(五)1", "1.信访举报投诉类申请"),
    ReportRow("三(五)2", "2.重复申请"),
    ReportRow("三(五)3", "3.要求提供公开出版物"),
    ReportRow("三(五)4", "4.无正当理由大量反复申请"),
    ReportRow("三(五)5", "5.要求行政机关确认或重新出具已获取信息"),
    ReportRow("三(六)1", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ReportRow("三(六)2", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ReportRow("三(六)3", "3.其他"),
    ReportRow("三(七)", "（七）总计"),
    ReportRow("四", "四、结转下年度继续办理"),
)
ROW_LABELS = {r.key: r.label for r in REPORT_ROWS}


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    row: str  # key of REPORT_ROWS
    basis: str  # legal basis with article and item, as printed
    letter: str  # letter type (letters issue) that carries this outcome
    refusal: bool = False  # 不予公开 (also the withheld part of 部分公开): 复议前置
    needs_reasons: bool = False
    # Reasons written per withheld part (the reply's 不予公开的部分 rows), not as one 理由 (Art. 37).
    reasons_per_part: bool = False
    drafted: bool = True  # False: reached by a lapse/withdrawal, not by a drafted reply


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("disclose", "予以公开", "三(一)", f"{REG}第三十六条第（二）项", "予以公开"),
    Outcome("already_public", "已主动公开", "三(一)", f"{REG}第三十六条第（一）项", "已主动公开"),
    Outcome("partial", "部分公开", "三(二)", f"{REG}第三十七条", "部分公开", refusal=True, needs_reasons=True,
            reasons_per_part=True),
    Outcome("refuse_secret", "不予公开（属于国家秘密）", "三(三)1", f"{REG}第十四条、第三十六条第（三）项",
            "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_law", "不予公开（其他法律行政法规禁止公开）", "三(三)2", f"{REG}第十四条、第三十六条第（三）项",
            "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_security", "不予公开（危及“三安全一稳定”）", "三(三)3", f"{REG}第十四条、第三十六条第（三）项",
            "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_third_party", "不予公开（保护第三方合法权益）", "三(三)4",
            f"{REG}第十五条、第三十二条、第三十六条第（三）项", "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_internal", "不予公开（属于三类内部事务信息）", "三(三)5",
            f"{REG}第十六条第一款、第三十六条第（三）项", "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_process", "不予公开（属于四类过程性信息）", "三(三)6",
            f"{REG}第十六条第二款、第三十六条第（三）项", "不予公开", refusal=True, needs_reasons=True),
    Outcome("refuse_enforcement", "不予公开（属于行政执法案卷）", "三(三)7",
            f"{REG}第十六条第二款、第三十六条第（三）项", "不予公开", refusal=True, needs_reasons=True),
    Outcome("special_statute", "按特别规定办理（行政查询事项）", "三(三)8", f"{REG}第三十六条第（七）项",
            "特别规定/行政查询"),
    Outcome("not_exist", "信息不存在", "三(四)1", f"{REG}第三十六条第（四）项", "信息不存在"),
    Outcome("not_ours", "非本机关负责公开", "三(四)1", f"{REG}第三十六条第（五）项", "非本机关负责",
            needs_reasons=True),
    Outcome("needs_creation", "需另行制作或加工分析", "三(四)2", f"{REG}第三十八条", "需加工分析", needs_reasons=True),
    Outcome("still_unclear", "补正后申请内容仍不明确", "三(四)3", f"{REG}第三十条", "不再处理"),
    Outcome("petition", "信访举报投诉类申请", "三(五)1", f"{REG}第三十九条第一款", "信访类"),
    Outcome("repeat", "重复申请", "三(五)2", f"{REG}第三十六条第（六）项", "重复申请"),
    Outcome("publication", "要求提供公开出版物", "三(五)3", f"{REG}第三十九条第二款", "公开出版物"),
    Outcome("unreasonable", "无正当理由大量反复申请", "三(五)4", f"{REG}第三十五条", "不合理申请",
            needs_reasons=True),
    Outcome("reissue", "要求确认或重新出具已获取信息", "三(五)5", f"{REG}第三十九条", "非政府信息"),
    Outcome("correction_lapsed", "逾期不补正，不再处理", "三(六)1", f"{REG}第三十条", "不再处理", drafted=False),
    Outcome("fee_unpaid", "逾期未缴费，不再处理", "三(六)2",
            f"{REG}第四十二条、《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）", "不再处理", drafted=False),
    Outcome("withdrawn", "申请人撤回申请", "三(六)3", "申请人主动撤回申请", "—", drafted=False),
    Outcome("not_gov_info", "不属于政府信息", "三(六)3", f"{REG}第二条", "非政府信息", needs_reasons=True),
    Outcome("record_correction", "更正个人信息记录答复", "三(六)3", f"{REG}第四十一条", "更正答复"),
)
OUTCOME_BY_CODE = {o.code: o for o in OUTCOMES}
DRAFTABLE = tuple(o for o in OUTCOMES if o.drafted)


def outcome(code: str) -> Outcome:
    try:
        return OUTCOME_BY_CODE[code]
    except KeyError:
        raise ValueError(f"未知的办理结果：{code}") from None


@dataclass(frozen=True)
class WithholdingBasis:
    """A provision a withheld part of a 部分公开 reply may rest on (Art. 37 with the exemption)."""
    articles: str  # the exemption, e.g. "第十五条"
    ground: str  # what it covers, in words a reviewer checks against the reason

    @property
    def text(self) -> str:
        """As printed in the letter and stored in the draft."""
        return f"{REG}{self.articles}、第三十七条"


# Arts. 14–16 (the refusal grounds of the outcomes above) and Art. 2 (not government information),
# each with Art. 37 (separation). One entry per provision: the reason says which clause applies.
WITHHOLDING_BASES: tuple[WithholdingBasis, ...] = (
    WithholdingBasis("第十四条", "国家秘密；法律、行政法规禁止公开；公开后可能危及“三安全一稳定”"),
    WithholdingBasis("第十五条", "商业秘密、个人隐私等，公开会对第三方合法权益造成损害"),
    WithholdingBasis("第十六条第一款", "人事管理、后勤管理、内部工作流程等内部事务信息"),
    WithholdingBasis("第十六条第二款", "讨论记录、过程稿、磋商信函、请示报告等过程性信息，行政执法案卷信息"),
    WithholdingBasis("第二条", "不属于政府信息"),
)
WITHHOLDING_BY_TEXT = {b.text: b for b in WITHHOLDING_BASES}
