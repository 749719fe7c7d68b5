"""Render letters from plain values: HTML through a sandboxed Jinja2, PDF through WeasyPrint.

Nothing here reads the database: the caller passes a context of plain values (dicts, str,
``date``, bytes), described per letter type in ``letter_templates/<key>/meta.json``.
Per-agency wording is a template source passed in ``overrides``; it runs in Jinja's sandbox
with autoescaping, so an agency template can neither run code nor inject markup.
"""
from __future__ import annotations

import base64
import hashlib
import re
import sys
import threading
from collections import OrderedDict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateNotFound, TemplateRuntimeError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from ..domain.clock import format_cn_date
from ..domain.outcomes import OUTCOME_BY_CODE
from . import fonts as _fonts
from .catalogue import TEMPLATES_DIR, Letter, get_letter
from .sandbox import reference_in_html, reference_in_source, url_fetcher
from .seal import printed_seal

REG = "《中华人民共和国政府信息公开条例》"
RECONSIDERATION_LAW = "《中华人民共和国行政复议法》"

# CSS font-family chains per role for HTML previews in a browser (handbook §5). PDFs use the
# chains of the prepared fonts instead (see _Engine).
FONT_FAMILIES = {
    "fangsong": '"OGI FangSong", "FangSong_GB2312", "FangSong", "仿宋", serif',
    "xiaobiaosong": '"OGI XiaoBiaoSong", "FZXiaoBiaoSong-B05S", "方正小标宋简体", serif',
    "hei": '"OGI Hei", "SimHei", "黑体", sans-serif',
    "kai": '"OGI Kai", "KaiTi", "楷体", serif',
    "song": '"OGI Song", "SimSun", "宋体", serif',
}

CHANNELS = {
    "in_person": ("当面提交", "第三十一条第（一）项", "申请人当面提交政府信息公开申请的，以提交之日为收到申请之日"),
    "post": ("邮寄", "第三十一条第（二）项",
             "申请人以邮寄方式提交政府信息公开申请的，以行政机关签收之日为收到申请之日；"
             "以平常信函等无需签收的邮寄方式提交的，以与申请人确认之日为收到申请之日"),
    "online": ("互联网", "第三十一条第（三）项",
               "申请人通过互联网渠道提交政府信息公开申请的，以双方确认之日为收到申请之日"),
    "fax": ("传真", "第三十一条第（三）项",
            "申请人通过政府信息公开工作机构的传真提交政府信息公开申请的，以双方确认之日为收到申请之日"),
}


class LetterError(Exception):
    """A letter cannot be produced from the given values; ``field`` names the culprit.

    Same shape as ``services.errors.ServiceError`` (message, field) so the web layer can
    show it next to the input at fault.
    """

    def __init__(self, message: str, field: str | None = None, missing: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.missing = missing or []  # the required fields left empty (catalogue Fields)


class CnDate(date):
    """A date that prints the GB/T 9704 way: 2026年11月22日."""

    def __str__(self) -> str:
        return format_cn_date(self)

    def __html__(self) -> str:
        return format_cn_date(self)


def _cn_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_cn_date(value)
    return str(value)


def _paragraphs(value: Any) -> Markup:
    """Multi-line text → one <p> per non-empty line (escaped), each ending as a sentence."""
    if value is None:
        return Markup("")
    lines = [_sentence(line) for line in str(value).splitlines()]
    return Markup("".join(f"<p>{escape(line)}</p>" for line in lines if line))


_TRAILING = "，、；：,;:。．. "
_ENDS = ("。", "！", "？", "。”", "！”", "？”", "。）", "…")


def _clause(value: Any) -> str:
    """Typed text as a clause to be followed by more of the sentence: trailing punctuation dropped
    (a handler may or may not end a sentence with 。; the letter must read the same either way)."""
    return "" if value is None else str(value).strip().rstrip(_TRAILING)


def _sentence(value: Any) -> str:
    """Typed text as a whole sentence: ends with exactly one 。 (or its own ！？)."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if text.endswith(_ENDS):
        return text
    return _clause(text) + "。"


def _yuan(value: Any) -> str:
    """Money in yuan: 100 → 100, 12.5 → 12.50."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return f"{float(value):.2f}"


def _cn_number(value: Any) -> str:
    """1..99 in Chinese numerals (for counts written in words: 二十个工作日)."""
    digits = "零一二三四五六七八九"
    n = int(value)
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


# An agency's wording runs in every worker: arithmetic that would take a worker's time or memory
# ({{ 9 ** 9 ** 9 }}, "字" * 10 ** 9) is refused like the sandbox refuses a range of more than 100000.
MAX_POWER = 64
MAX_REPEAT = 100_000


class _LetterSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise OverflowError("exponent too large")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_REPEAT:
                    raise OverflowError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _make_env() -> SandboxedEnvironment:
    env = _LetterSandbox(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=200,
    )
    env.filters.update(cndate=_cn_date, paragraphs=_paragraphs, yuan=_yuan, cnnum=_cn_number,
                       clause=_clause, sentence=_sentence)
    return env


_env = _make_env()
_override_cache: OrderedDict[str, Any] = OrderedDict()
_override_lock = threading.Lock()

# Names every template may use besides its letter's fields.
BUILTIN_NAMES = frozenset({
    "letter", "remedy", "basis", "outcome", "outcome_label", "draft", "seal_uri", "fonts", "css",
    "channels", "reg", "you", "number", "issued_on", "contact", "attachments",
})


# --- context ----------------------------------------------------------------------------

def _get(context: dict, dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _set(context: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    holder = context
    for part in parts[:-1]:
        if not isinstance(holder.get(part), dict):
            holder[part] = {}
        holder = holder[part]
    holder[parts[-1]] = value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, dict, bytes)) and len(value) == 0)


def _coerce(letter: Letter, f, value: Any) -> Any:
    if value is None:
        return None
    where = f"{f.label}（{f.name}）"
    if f.type == "date":
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise LetterError(f"{where}不是有效的日期：{value}", f.name) from None
        if not isinstance(value, date):
            raise LetterError(f"{where}应为日期", f.name)
        return CnDate(value.year, value.month, value.day)
    if f.type in ("int", "money"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise LetterError(f"{where}应为数字", f.name)
        try:
            number = float(value) if f.type == "money" else int(value)
        except ValueError:
            raise LetterError(f"{where}应为数字：{value}", f.name) from None
        if number < 0:
            raise LetterError(f"{where}不能为负数", f.name)
        return int(number) if f.type == "money" and float(number).is_integer() else number
    if f.type == "list":
        if isinstance(value, str):
            value = [line for line in (v.strip() for v in value.splitlines()) if line]
        if not isinstance(value, (list, tuple)):
            raise LetterError(f"{where}应为列表", f.name)
        return [str(v) for v in value if not _blank(v)]
    if f.type == "items":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) for v in value):
            raise LetterError(f"{where}应为条目列表", f.name)
        items = []
        for n, raw in enumerate(value, 1):
            item = dict(raw)
            for sub in f.item_fields:
                if sub.required_for(False) and _blank(item.get(sub.name)):
                    raise LetterError(f"{where}第{n}项缺少{sub.label}（{sub.name}）", f"{f.name}.{n}.{sub.name}")
                item[sub.name] = _coerce(letter, sub, item.get(sub.name))
            items.append(item)
        return items
    if f.type == "bytes":
        if not isinstance(value, (bytes, bytearray)):
            raise LetterError(f"{where}应为图片文件内容（PNG）", f.name)
        if not bytes(value).startswith(b"\x89PNG\r\n\x1a\n"):
            raise LetterError(f"{where}必须是 PNG 图片", f.name)
        return bytes(value)
    if f.type == "choice":
        if value not in f.choices:
            raise LetterError(f"{where}只能是：{'、'.join(f'{lbl}（{c}）' for c, lbl in f.choice_labels)}", f.name)
        return value
    if not isinstance(value, (str, int, float)):
        raise LetterError(f"{where}应为文字", f.name)
    return str(value).strip()


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


def prepare_context(key: str, context: dict, *, draft: bool = False) -> dict:
    """Check and normalise a context for letter ``key``; LetterError before any rendering.

    Required fields must be present and non-empty (``required: "final"`` fields only for a
    final letter); declared optional fields absent from ``context`` become None, so templates
    can test them; dates become ``CnDate`` (printing 2026年11月22日).
    """
    letter = get_letter(key)
    if not isinstance(context, dict):
        raise LetterError("文书数据应为字典")
    ctx = _copy(context)
    for f in letter.fields:
        value = _get(ctx, f.name)
        _set(ctx, f.name, None if isinstance(value, str) and _blank(value) else _coerce(letter, f, value))
    # Checked on the values as printed: a list of blank lines is as empty as no list.
    missing = [f for f in letter.fields if f.required_by(lambda name: _get(ctx, name), draft)
               and _blank(_get(ctx, f.name))]
    if missing:
        names = "、".join(f"{f.label}（{f.name}）" for f in missing)
        raise LetterError(f"生成《{letter.title}》缺少必填项：{names}", missing[0].name, missing)
    # The outcome decides the legal basis and, for refusals, the remedy wording.
    outcome = ctx.get("outcome")
    if letter.outcomes:
        if _blank(outcome):
            if len(letter.outcomes) > 1:
                raise LetterError(f"《{letter.name}》需要指明办理结果（outcome）", "outcome")
            outcome = letter.outcomes[0]
        if outcome not in letter.outcomes:
            raise LetterError(f"办理结果“{outcome}”不适用于《{letter.name}》", "outcome")
    elif not _blank(outcome):
        raise LetterError(f"《{letter.name}》不是答复书，不接受办理结果（outcome）", "outcome")
    ctx["outcome"] = outcome or None
    ctx["outcome_label"] = OUTCOME_BY_CODE[outcome].label if outcome else None
    if _blank(ctx.get("basis")):
        ctx["basis"] = OUTCOME_BY_CODE[outcome].basis if outcome else None
    ctx["draft"] = bool(draft)
    for name in ("number", "issued_on", "contact", "attachments"):  # used by base.html.j2
        ctx.setdefault(name, None)
    agency = ctx.setdefault("agency", {})
    for name in ("phone", "address", "seal_png", "reconsideration_body", "court"):
        agency.setdefault(name, None)
    kind = _get(ctx, "applicant.kind")
    ctx["you"] = "贵单位" if kind == "organisation" else "您"
    if draft:
        agency["seal_png"] = None  # a draft is never sealed, whatever its wording asks for
    seal = _get(ctx, "agency.seal_png")
    ctx["seal_uri"] = ("data:image/png;base64," + base64.b64encode(printed_seal(seal)).decode()) if seal else None
    ctx["letter"] = {"key": letter.key, "title": letter.title, "name": letter.name,
                     "noun": letter.noun, "kind": letter.kind, "numbered": letter.numbered}
    ctx["remedy"] = remedy_text(letter, ctx.get("agency") or {}, outcome)
    ctx["fonts"] = dict(FONT_FAMILIES)
    ctx["css"] = Markup(stylesheet())
    ctx["channels"] = {code: {"label": v[0], "article": v[1], "rule": v[2]} for code, v in CHANNELS.items()}
    ctx["reg"] = REG
    return ctx


def with_example_values(key: str, context: dict, skip=lambda name: False) -> tuple[dict, list]:
    """``context`` with what letter ``key`` requires but the context lacks taken from the letter's
    example (for a preview of wording on a case that has not reached that letter yet); the fields
    so filled, in catalogue order. Fields for which ``skip(name)`` is true are left as they are;
    an outcome the letter does not carry becomes the example's."""
    from .catalogue import example_context

    letter = get_letter(key)
    example = example_context(key)
    ctx = _copy(context)
    if letter.outcomes and ctx.get("outcome") not in letter.outcomes:
        ctx["outcome"] = example.get("outcome") or letter.outcomes[0]
    filled: list = []
    for _ in range(2):  # a value filled in may make another field required (required_if)
        for f in letter.fields:
            if f in filled or skip(f.name) or not _blank(_get(ctx, f.name)) or _blank(_get(example, f.name)):
                continue
            if f.required_by(lambda name: _get(ctx, name), False):
                _set(ctx, f.name, _copy(_get(example, f.name)))
                filled.append(f)
    return ctx, [f for f in letter.fields if f in filled]


_stylesheets: dict[tuple, str] = {}


def stylesheet(fonts: dict[str, str] | None = None) -> str:
    """The letters' CSS: letter_templates/letter.css.j2 with the font-family chains.

    Without ``fonts``, the static chains (for HTML previews in a browser); the PDF engine
    passes the chains of the prepared fonts.
    """
    fonts = fonts or FONT_FAMILIES
    key = tuple(sorted(fonts.items()))
    if key not in _stylesheets:
        _stylesheets[key] = _env.get_template("letter.css.j2").render(fonts=fonts)
    return _stylesheets[key]


# --- the remedy paragraph (handbook §1.12, §4.4, §8.8) --------------------------------------

def remedy_text(letter: Letter, agency: dict, outcome: str | None = None) -> str | None:
    """The remedy notice for ``letter``: None for procedural notices.

    standard: reconsideration within 60 days or litigation within 6 months.
    reconsideration_first (不予公开; the withheld part of 部分公开): no direct litigation, and
    the 2023 Reconsideration Law Art. 23 rule that reconsideration comes first.
    """
    if letter.remedy == "none":
        return None
    noun = letter.noun
    body = agency.get("reconsideration_body") or "（复议机关）"
    first = (f"根据{RECONSIDERATION_LAW}第二十三条的规定，对行政机关不予公开政府信息不服的，"
             f"应当先申请行政复议；对行政复议决定不服的，可以依法提起行政诉讼")
    if letter.remedy == "reconsideration_first" and letter.key == "reply_partial":
        court = agency.get("court") or "（人民法院）"
        return (f"如对{noun}中不予公开的部分不服，可以自收到{noun}之日起六十日内向{body}申请行政复议。"
                f"{first}。如对{noun}其他内容不服，可以自收到{noun}之日起六十日内向{body}申请行政复议，"
                f"或者自收到{noun}之日起六个月内向{court}提起行政诉讼。")
    if letter.remedy == "reconsideration_first":
        return f"如对{noun}不服，可以自收到{noun}之日起六十日内向{body}申请行政复议。{first}。"
    court = agency.get("court") or "（人民法院）"
    return (f"如对{noun}不服，可以自收到{noun}之日起六十日内向{body}申请行政复议，"
            f"或者自收到{noun}之日起六个月内向{court}提起行政诉讼。")


# --- templates ------------------------------------------------------------------------------

# Jinja reports mistakes in English; a clerk editing wording reads them in Chinese, with the line and
# nothing of the English text (names from the template itself are quoted as written).
_TOKENS = {
    "end of print statement": "}}", "begin of print statement": "{{", "end of statement block": "%}",
    "begin of statement block": "{%", "end of comment": "#}", "begin of comment": "{#", "comment": "注释",
    "end of template": "模板结尾", "template data / text": "普通文字", "name": "名称", "string": "带引号的文字",
    "integer": "数字", "float": "数字", "begin of line statement": "语句", "end of line statement": "语句结尾",
}
_QUOTED = r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\""


def _token(text: str) -> str:
    return _TOKENS.get(text, text)


def _tag(name: str) -> str:
    return "{% " + name + " %}"


def _quoted(pattern: str, reason: str) -> list[str] | None:
    """The quoted names of a Jinja message matching ``pattern`` (where Q stands for one quoted name)."""
    m = re.search(pattern.replace("Q", f"(?:{_QUOTED})"), reason)
    if m is None:
        return None
    groups = m.groups()
    return [a if a is not None else b for a, b in zip(groups[::2], groups[1::2])]


def _unclosed(reason: str) -> str | None:
    found = _quoted(r"innermost block that needs to be closed is Q", reason)
    return found[0] if found else None


def _explain(reason: str) -> str:
    """A Jinja syntax error in Chinese; never the English text."""
    inner = _unclosed(reason)
    found = _quoted(r"Encountered unknown tag Q", reason)
    if found:
        tag = found[0]
        if "nesting mistake" in reason and inner:
            return (f"{_tag(tag)} 的位置不对：前面的 {_tag(inner)} 还没有结束"
                    f"（缺少 {_tag('end' + inner)}，或 {_tag(tag)} 多余）")
        if tag.startswith("end") or tag in ("else", "elif"):
            return f"多余的 {_tag(tag)}：前面没有与之对应的开始标签"
        return f"未知的标签“{tag}”（可用的标签有 if、for、set、block 等）"
    if reason.startswith("Unexpected end of template"):
        if inner:
            return f"模板在结尾处缺少 {_tag('end' + inner)}（{_tag(inner)} 没有结束）"
        return "模板意外结束"
    found = _quoted(r"unexpected end of template, expected Q", reason)
    if found:
        return f"模板意外结束，此处还缺少“{_token(found[0])}”"
    found = _quoted(r"expected token Q, got Q", reason)
    if found:
        return f"此处应为“{_token(found[0])}”，实际为“{_token(found[1])}”"
    found = _quoted(r"Expected an expression, got Q", reason)
    if found:
        return f"此处缺少要判断或输出的内容（如变量名），实际为“{_token(found[0])}”"
    found = _quoted(r"^unexpected Q, expected Q", reason)
    if found:
        return f"括号不配对：出现了“{found[0]}”，此处应为“{found[1]}”"
    found = _quoted(r"^unexpected char Q", reason)
    if found:
        char = found[0]
        if char in ("'", '"'):
            return "引号没有配对（缺少结束的引号）"
        if ord(char[:1] or " ") > 0x7F:
            return f"出现了无法识别的字符“{char}”（{{{{ }}}} 和 {{% %}} 之中只能使用半角符号）"
        return f"出现了无法识别的字符“{char}”"
    found = _quoted(r"^unexpected Q", reason)
    if found:
        return f"出现了多余的“{_token(found[0])}”"
    found = _quoted(r"No filter named Q", reason)
    if found:
        return f"没有名为“{found[0]}”的过滤器"
    found = _quoted(r"No test named Q", reason)
    if found:
        return f"没有名为“{found[0]}”的测试"
    found = _quoted(r"[Bb]lock Q defined twice", reason)
    if found:
        return f"区块“{found[0]}”定义了两次"
    found = _quoted(r"can't assign to Q", reason)
    if found:
        return "不能给此处赋值"
    for english, chinese in (
            ("Missing end of comment tag", "注释没有结束（缺少 #}）"),
            ("Missing end of raw directive", f"缺少 {_tag('endraw')}"),
            ("tag name expected", "{% 之后缺少标签名"),
            ("expected name or number", "点号之后缺少属性名"),
            ("expected subscript expression", "方括号之中缺少内容"),
            ("invalid syntax for function call", "函数调用的写法不正确"),
            ("Block names in Jinja", "区块名只能由字母、数字和下划线组成"),
            ("Invalid character in identifier", "名称中含有无法识别的字符"),
            ("non top-level scope", "extends 只能写在模板的最外层（通常是第一行）"),
            ("chain multiple tests", "不能连续使用多个 is 测试"),
            ("non-default argument follows default argument", "宏参数的写法不正确"),
            ("expected call", "此处应为函数调用"),
            ("Required blocks", "必填区块中只能有注释或空白"),
            ("names starting with an underline", "不能使用以下划线开头的名称"),
    ):
        if english in reason:
            return chinese
    return "写法不正确"


def _syntax_message(exc: TemplateSyntaxError) -> str:
    where = f"第{exc.lineno}行" if exc.lineno else ""
    return f"文书模板{where}有语法错误：{_explain(exc.message or str(exc))}"


def _runtime_where(tb) -> str:
    """Where a rendering error happened, as "第N行" or "base.html.j2 第N行".

    Jinja rewrites tracebacks so that template frames carry template file names and lines.
    """
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == "<template>":
            where = f"第{tb.tb_lineno}行"
        elif filename.endswith(".j2"):
            try:
                name = str(Path(filename).resolve().relative_to(TEMPLATES_DIR.resolve()))
            except ValueError:
                name = Path(filename).name
            where = f"（{name}）第{tb.tb_lineno}行"
        tb = tb.tb_next
    return where


def _undefined(text: str) -> str:
    found = _quoted(r"^Q is undefined", text)
    if found:
        return f"使用了未知的变量“{found[0]}”（可用的变量见“可用变量”一栏）"
    found = _quoted(r"has no attribute Q", text)
    if found:
        if text.startswith("'None'") or text.startswith("None "):
            return f"使用了属性“{found[0]}”，但它所属的内容为空"
        return f"使用了未知的属性“{found[0]}”（可用的变量见“可用变量”一栏）"
    m = re.search(r"has no element (.+)$", text)
    if m:
        return f"取用了不存在的一项“{m.group(1).strip(chr(39))}”"
    return "使用了未知的变量或属性"


def _runtime_reason(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, UndefinedError):
        return _undefined(text)
    if isinstance(exc, SecurityError):
        return "试图执行不允许的操作（例如访问以下划线开头的属性或调用程序内部的方法）"
    if isinstance(exc, TemplateNotFound):
        return f"引用的模板“{exc.name}”不存在（文书模板只能继承“base.html.j2”或“reply_base.html.j2”）"
    if isinstance(exc, TemplateSyntaxError):
        return _explain(exc.message or text)
    if isinstance(exc, TemplateRuntimeError):
        found = _quoted(r"No test named Q", text) or _quoted(r"No filter named Q", text)
        if found:
            kind = "测试" if "test" in text else "过滤器"
            return f"没有名为“{found[0]}”的{kind}"
        if "namespace" in text:
            return "只能给 namespace() 对象的属性赋值"
        return "无法按模板生成（模板中的某个写法在生成时出错）"
    if isinstance(exc, ZeroDivisionError):
        return "除数为零"
    if isinstance(exc, RecursionError):
        return "宏或模板的调用层数过多（可能是宏调用了自身）"
    if isinstance(exc, (OverflowError, MemoryError)):
        return "数值或循环次数过大"
    if isinstance(exc, TypeError):
        if "not callable" in text:
            return "把不是函数的内容当作函数调用了（名称后面多了括号）"
        if "not iterable" in text:
            return "对不是列表的内容使用了循环或列表操作（如 for、join）"
        return "数据类型不匹配（例如对文字做算术运算、把文字当作数字，或过滤器的参数类型不对）"
    if isinstance(exc, ValueError):
        return "数值不正确（例如把文字当作数字使用，或过滤器的参数取值不对）"
    if isinstance(exc, (KeyError, IndexError)):
        return "取用了不存在的一项"
    if isinstance(exc, AttributeError):
        return "使用了不存在的属性"
    return "无法按模板生成"


def _runtime_message(exc: BaseException) -> str:
    where = _runtime_where(exc.__traceback__)
    if isinstance(exc, UndefinedError):
        return f"文书模板{where}{_runtime_reason(exc)}"
    return f"文书模板{where}无法生成：{_runtime_reason(exc)}"


def _compile_override(source: str):
    digest = hashlib.sha256(source.encode()).hexdigest()
    with _override_lock:
        template = _override_cache.get(digest)
        if template is not None:
            _override_cache.move_to_end(digest)
            return template
    try:
        template = _env.from_string(source)
    except TemplateSyntaxError as exc:
        raise LetterError(_syntax_message(exc), "template") from None
    problem = reference_in_source(source)  # also checked when saved: a stored source may predate it
    if problem:
        raise LetterError(problem, "template")
    with _override_lock:
        _override_cache[digest] = template
        while len(_override_cache) > 64:
            _override_cache.popitem(last=False)
    return template


def _allowed_names(letter: Letter | None) -> set[str]:
    from .catalogue import all_letters

    letters = [letter] if letter else all_letters()
    names = set(BUILTIN_NAMES) | set(_env.globals)
    for item in letters:
        names.update(f.name.split(".")[0] for f in item.fields)
    return names


def _first_line(ast: nodes.Template, name: str) -> int | None:
    for node in ast.find_all(nodes.Name):
        if node.name == name and node.ctx == "load":
            return node.lineno
    return None


def validate_template(source: str, key: str | None = None) -> str | None:
    """Check an agency's template override; None if usable, else a Chinese error message.

    Catches syntax errors and unknown variables (with the line), and renders the template
    against the letter's example context to catch unknown attributes and missing wording.
    """
    letter = get_letter(key) if key else None
    try:
        ast = _env.parse(source)
    except TemplateSyntaxError as exc:
        return _syntax_message(exc)
    allowed = _allowed_names(letter)
    try:
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:  # e.g. an unknown filter, found while compiling
        return _syntax_message(exc)
    unknown = sorted(undeclared - allowed, key=lambda n: _first_line(ast, n) or 0)
    if unknown:
        name = unknown[0]
        line = _first_line(ast, name)
        where = f"第{line}行" if line else ""
        return f"文书模板{where}使用了未知的变量“{name}”（可用的变量见“可用变量”一栏）"
    problem = reference_in_source(source)
    if problem:
        return problem
    if letter is None:
        return None
    from .catalogue import example_context

    try:
        html = render_html(letter.key, example_context(letter.key), {letter.key: source})
    except LetterError as exc:
        return exc.message
    if "<html" not in html.lower():
        return "文书模板必须继承基础版式（第一行写 {% extends \"base.html.j2\" %}）"
    return None


def _template_for(letter: Letter, overrides: dict | None):
    source = (overrides or {}).get(letter.key)
    if source is not None:
        return _compile_override(source)
    try:
        return _env.get_template(letter.template_name)
    except TemplateSyntaxError as exc:
        raise LetterError(_syntax_message(exc), "template") from None


def render_html(key: str, context: dict, overrides: dict[str, str] | None = None, *,
                draft: bool = False) -> str:
    """The letter as a self-contained HTML document (stylesheet inlined), e.g. for a preview.

    ``overrides`` maps letter keys to template sources replacing the stock wording for one
    agency. LetterError for missing/invalid fields (before rendering) and broken templates.
    """
    return _render(key, context, overrides, draft=draft, embed_css=True)


def _render(key: str, context: dict, overrides: dict[str, str] | None, *, draft: bool,
            embed_css: bool) -> str:
    letter = get_letter(key)
    ctx = prepare_context(key, context, draft=draft)
    if not embed_css:
        ctx["css"] = None  # the PDF engine applies the pre-parsed stylesheet
    template = _template_for(letter, overrides)
    try:
        html = template.render(ctx)
    except LetterError:
        raise
    except Exception as exc:  # whatever the wording did wrong, the editor is told in Chinese, with the line
        raise LetterError(_runtime_message(exc), "template") from None
    if (overrides or {}).get(letter.key) is not None:
        # What the agency's wording produced for this case, as the PDF engine would parse it.
        problem = reference_in_html(html, allowed={ctx["seal_uri"]} if ctx["seal_uri"] else set())
        if problem:
            raise LetterError(problem, "template")
    if ctx["remedy"] and str(escape(ctx["remedy"])) not in html:
        raise LetterError(f"文书模板缺少救济途径告知段落（请保留 {{{{ remedy }}}}），《{letter.name}》必须载明",
                          "template")
    return html


def letter_text(html: str) -> str:
    """The words of a rendered letter (body only, no markup or whitespace), for wording checks."""
    import html as _html

    body = re.sub(r"(?s).*?<body[^>]*>|</body>.*", "", html)
    return re.sub(r"[\s\u3000]+", "", _html.unescape(re.sub(r"<[^>]+>", "", body)))


def repeated_sentences(html: str, minimum: int = 8) -> list[str]:
    """Sentences of at least ``minimum`` characters that a rendered letter prints more than once."""
    seen: dict[str, int] = {}
    # A paragraph ends a sentence too ("现答复如下：" runs into the next paragraph's first sentence).
    paragraphs = re.sub(r"</(p|h\d|div|td|th)>", "。", html)
    for s in re.split(r"[。；！？]", letter_text(paragraphs)):
        if len(s) >= minimum:
            seen[s] = seen.get(s, 0) + 1
    return [s for s, n in seen.items() if n > 1]


# --- PDF ------------------------------------------------------------------------------------

_UA_PATH = Path(__file__).with_name("ua.css")
_letter_html_class = None


def _weasy_html():
    """WeasyPrint's HTML class with a small user-agent stylesheet (see ua.css)."""
    global _letter_html_class
    if _letter_html_class is None:
        from weasyprint import CSS, HTML

        ua = CSS(string=_UA_PATH.read_text(encoding="utf-8"), url_fetcher=url_fetcher())

        class LetterHTML(HTML):
            def _ua_stylesheets(self, forms=False):
                return [ua]

        _letter_html_class = LetterHTML
    return _letter_html_class


class _Engine:
    """One WeasyPrint font configuration with the prepared fonts, reused for every letter.

    Building it (Fontconfig scanning the prepared files, Pango font sets) costs far more than
    a letter, so it lives as long as the process. Pango font maps are not thread-safe: one
    letter at a time per process.
    """

    def __init__(self, prepared: _fonts.PreparedFonts) -> None:
        from weasyprint import CSS
        from weasyprint.text.ffi import ffi, fontconfig, pangoft2
        from weasyprint.text.fonts import FontConfiguration

        self.prepared = prepared
        self.lock = threading.Lock()
        self.font_config = FontConfiguration()
        # Register the prepared files directly with this configuration's Fontconfig
        # (no @font-face: that would copy every file to a temporary folder per document).
        for path in prepared.files:
            if not fontconfig.FcConfigAppFontAddFile(self.font_config._config,
                                                     str(path).encode(sys.getfilesystemencoding())):
                raise _fonts.FontError(f"无法加载已准备的字体文件：{path}")
        pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", self.font_config.font_map))
        # Parsing the stylesheet costs more than laying out a page: parse it once.
        families = {role: prepared.css_family(role, "sans-serif" if role == "hei" else "serif")
                    for role in _fonts.ROLES}
        self.stylesheet = CSS(string=stylesheet(families), font_config=self.font_config, url_fetcher=url_fetcher())
        self.fits = [CSS(string=_env.get_template("letter-fit.css.j2").render(pitch=pitch),
                         font_config=self.font_config, url_fetcher=url_fetcher()) for pitch in FIT_PITCHES]

    def _layout(self, html: str, *extra):
        return _weasy_html()(string=html, base_url=str(TEMPLATES_DIR), url_fetcher=url_fetcher()).render(
            font_config=self.font_config, stylesheets=[self.stylesheet, *extra])

    def write_pdf(self, html: str) -> bytes:
        with self.lock:
            document = self._layout(html)
            pages = len(document.pages)
            if pages > 1 and sum(map(_used_share, document.pages)) - (pages - 1) <= FIT_EXCESS * (pages - 1):
                # Little more than a page's worth spills over: tighten the line spacing (GB/T 9704
                # 7.3.5) if that saves the page, as little as will do. The tightest first: if it
                # cannot save the page, none can.
                tightest, gentler = self.fits[-1], self.fits[:-1]
                tight = self._layout(html, tightest)
                if len(tight.pages) < pages:
                    document = tight
                    for fit in gentler:
                        candidate = self._layout(html, fit)
                        if len(candidate.pages) < pages:
                            document = candidate
                            break
            return document.write_pdf()


FIT_PITCHES = (26, 24)  # line pitches (pt) instead of 28.95 pt, the gentlest first
FIT_EXCESS = 0.4  # tried when the content exceeds whole pages by at most this share per page break


def _used_share(page) -> float:
    """How much of a page's type area its content fills (0–1), from the laid-out line boxes."""
    from weasyprint.formatting_structure import boxes

    page_box = page._page_box
    top, height = page_box.content_box_y(), page_box.height
    bottoms = [b.position_y + b.margin_height() for child in page_box.children
               if not isinstance(child, boxes.MarginBox)
               for b in child.descendants() if isinstance(b, boxes.LineBox)]
    return (max(bottoms) - top) / height if bottoms and height else 1.0


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> _Engine:
    global _engine
    prepared = _fonts.prepare_fonts()
    with _engine_lock:
        if _engine is None or _engine.prepared.directory != prepared.directory:
            _engine = _Engine(prepared)
        return _engine


def warm_up() -> None:
    """Prepare fonts and the PDF engine and render one letter, so the first real letter of
    the process is as fast as the others (call it at application start-up, e.g. in a
    worker's post-fork hook)."""
    from .catalogue import example_context

    render_pdf("reply_disclose", example_context("reply_disclose"))


def _field_with(context: dict, char: str, prefix: str = "") -> str | None:
    for k, v in context.items():
        name = f"{prefix}{k}"
        if isinstance(v, str) and char in v:
            return name
        if isinstance(v, dict):
            found = _field_with(v, char, name + ".")
            if found:
                return found
        if isinstance(v, (list, tuple)):
            for item in v:
                if isinstance(item, str) and char in item:
                    return name
                if isinstance(item, dict) and _field_with(item, char, name + "."):
                    return name
    return None


def render_pdf(key: str, context: dict, draft: bool = False, *,
               overrides: dict[str, str] | None = None) -> bytes:
    """The letter as PDF bytes (A4, GB/T 9704 layout, fonts embedded and subset).

    A draft carries a visible 草稿 mark and may lack its number and date. Raises
    LetterError when a character cannot be printed with any installed font, and
    fonts.FontError when no CJK font is installed.
    """
    html = _render(key, context, overrides, draft=draft, embed_css=False)
    engine = _get_engine()
    missing = _fonts.missing_glyphs(html, engine.prepared)
    if missing:
        char = missing[0]
        name = _field_with(context, char)
        f = get_letter(key).field(name) if name else None
        where = f"{f.label if f else name}中" if name else "文书中"
        raise LetterError(f"{where}的字符“{char}”（U+{ord(char):04X}）没有可用的字体，无法打印。"
                          f"请安装包含该字的字体（如 Debian 软件包 fonts-hanazono）后重试。", name)
    return engine.write_pdf(html)
