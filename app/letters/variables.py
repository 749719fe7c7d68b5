"""What a letter template may use, in words an office clerk reads: the variables panel of the
template editor (web) and the meanings behind it, in one place.

A letter's own fields carry their Chinese label in meta.json; everything else a template may
use (the names every letter gets, the groups that dotted fields belong to, Jinja's few globals
and our filters) is explained here. tests/letters/test_variables.py checks that every name
``validate_template`` accepts for a letter has a meaning, so a new field or built-in name cannot
reach the editor unexplained.
"""
from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Field, Letter

# The names render.BUILTIN_NAMES gives every letter.
BUILTIN_MEANINGS = {
    "letter": "本文书：letter.title 标题、letter.name 名称、letter.noun 自称（如“本答复书”）",
    "remedy": "救济途径告知段落（系统按文书类型生成，须保留）",
    "basis": "法律依据（默认为办理结果对应的条款）",
    "outcome": "办理结果（供判断使用）",
    "outcome_label": "办理结果的名称，如“予以公开”",
    "draft": "是否为草稿（草稿印有“草稿”字样，不加盖印章）",
    "seal_uri": "机关电子印章图片（草稿中为空）",
    "fonts": "版式所用字体（基础版式内部使用）",
    "css": "版式样式（基础版式内部使用）",
    "channels": "各种提交方式收到申请之日的认定规则（条例第三十一条）",
    "reg": "《中华人民共和国政府信息公开条例》",
    "you": "对申请人的称呼：“您”或“贵单位”",
    "number": "文号",
    "issued_on": "成文日期",
    "contact": "联系人：contact.name 姓名、contact.phone 电话",
    "attachments": "附件列表",
}
# The first part of dotted field names (agency.name → agency).
GROUP_MEANINGS = {
    "agency": "本机关（机关设置中的名称、地址、电话、复议机关、法院）",
    "applicant": "申请人",
    "cohandler": "协办单位",
    "answering": "分办后负责答复的机关",
    "competent": "有权更正的机关",
    "consulted_agency": "被征求意见的机关",
    "contact": "联系人",
    "document": "送达的文书",
    "earlier": "此前的申请和答复",
    "fee": "收费",
    "notice": "此前发出的补正告知书或收费通知书",
    "reasons_notice": "此前发出的说明理由告知书",
    "responsible": "负责公开的机关",
    "third_party": "第三方",
}
# Jinja's globals, allowed in the sandbox; rarely needed in a letter.
GLOBAL_MEANINGS = {
    "range": "数字序列，如 range(3) 依次为 0、1、2（用于循环）",
    "dict": "建立一组“名称：值”（高级用法）",
    "lipsum": "生成占位用的外文文字（仅供试排版，不要用在文书中）",
    "cycler": "在几个值之间轮流取值（高级用法）",
    "joiner": "在各项之间加分隔符（高级用法）",
    "namespace": "可在循环中修改的变量（高级用法）",
}
# Our filters (render._make_env) and the common Jinja ones a letter uses.
FILTER_MEANINGS = {
    "sentence": "作为完整的一句：末尾恰好一个句号（填写的内容有没有句号都一样）",
    "clause": "句子中间的一段：去掉末尾的标点，后面接着写",
    "paragraphs": "多行文字分段：每行一段，各段以句号结尾",
    "cndate": "日期写成“2026年11月22日”",
    "cnnum": "数字写成汉字，如 20 写成“二十”",
    "yuan": "金额（元）：100 写成 100，12.5 写成 12.50",
    "length": "列表的项数",
    "join": "把列表连成一段文字，如 join('、')",
}
TYPE_NOTES = {
    "date": "日期，印出来是“2026年11月22日”",
    "int": "数字",
    "money": "金额（元）",
    "list": "多项，逐项列出",
    "items": "多项，每项包括：",
    "choice": "供判断使用，取值：",
    "bytes": "图片",
}


@dataclass(frozen=True)
class Variable:
    name: str  # as written in the template
    meaning: str
    snippet: str | None  # what 插入 puts at the cursor; None: nothing to insert (internal)
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    hint: str
    variables: tuple[Variable, ...]


def meaning(letter: Letter, name: str) -> str | None:
    """What a top-level name means in this letter's template (None: unknown)."""
    f = letter.field(name)
    if f is not None:
        return f.label
    return BUILTIN_MEANINGS.get(name) or GROUP_MEANINGS.get(name) or GLOBAL_MEANINGS.get(name)


def _note(f: Field) -> str:
    parts = []
    if f.type == "items":
        parts.append(TYPE_NOTES["items"] + "、".join(f"{s.label}（item.{s.name}）" for s in f.item_fields))
    elif f.type == "choice":
        parts.append(TYPE_NOTES["choice"] + "、".join(f"'{code}'（{label}）" for code, label in f.choice_labels))
    elif f.type in TYPE_NOTES:
        parts.append(TYPE_NOTES[f.type])
    if f.required is not True:
        parts.append("可能为空，插入时带有 {% if %} 判断")
    if f.help:
        parts.append(f.help)
    return "；".join(parts)


def _snippet(f: Field) -> str | None:
    name = f.name
    if f.type == "bytes":
        return None  # the seal: printed by the layout through seal_uri
    if f.type == "list":
        body = f"{{% for item in {name} %}}\n<p>{{{{ item }}}}</p>\n{{% endfor %}}"
    elif f.type == "items":
        inner = "，".join(f"{{{{ item.{s.name} }}}}" for s in f.item_fields)
        body = f"{{% for item in {name} %}}\n<p>{inner}</p>\n{{% endfor %}}"
    elif f.type == "money":
        body = f"{{{{ {name}|yuan }}}}"
    elif f.type == "choice":
        code = f.choices[0]
        body = f"{{% if {name} == '{code}' %}}{{% endif %}}"
        return body
    else:
        body = f"{{{{ {name} }}}}"
    if f.required is not True:
        body = f"{{% if {name} %}}{body}{{% endif %}}"
    return body


# The built-in names shown in the panel, with what 插入 puts in; the others are listed as advanced.
_COMMON = (
    ("you", "{{ you }}"), ("reg", "{{ reg }}"), ("letter.title", "{{ letter.title }}"),
    ("letter.name", "{{ letter.name }}"), ("letter.noun", "{{ letter.noun }}"), ("basis", "{{ basis }}"),
    ("outcome_label", "{{ outcome_label }}"), ("remedy", None),
    ("number", "{% if number %}{{ number }}{% endif %}"), ("issued_on", "{% if issued_on %}{{ issued_on }}{% endif %}"),
    # A letter without a handler has no contact at all: ask for it before its parts.
    ("contact.name", "{% if contact and contact.name %}{{ contact.name }}{% endif %}"),
    ("contact.phone", "{% if contact and contact.phone %}{{ contact.phone }}{% endif %}"),
    ("draft", "{% if draft %}{% endif %}"), ("seal_uri", None),
)
_COMMON_MEANINGS = {
    "letter.title": "本文书的标题", "letter.name": "本文书的名称", "letter.noun": "本文书的自称，如“本答复书”",
    "contact.name": "联系人姓名（承办人）", "contact.phone": "联系电话",
}
# Printed by the base layout already: listed for their meaning, not inserted a second time.
_PRINTED_BY_LAYOUT = "基础版式已在固定位置印出，无需插入"
_ADVANCED = ("outcome", "channels", "attachments", "fonts", "css")


def sections(letter: Letter) -> list[Section]:
    """The variables panel of the template editor for one letter."""
    own = tuple(Variable(f.name, f.label, _snippet(f), _note(f)) for f in letter.fields if f.type != "bytes")
    fields = {f.name for f in letter.fields}
    common = []
    for name, snippet in _COMMON:
        if name in fields or (name in ("basis", "outcome_label") and not letter.outcomes):
            continue
        if name == "remedy" and letter.remedy == "none":
            continue
        common.append(Variable(name, _COMMON_MEANINGS.get(name) or BUILTIN_MEANINGS[name], snippet,
                               "" if snippet else _PRINTED_BY_LAYOUT))
    advanced = [Variable(name, BUILTIN_MEANINGS[name], None) for name in _ADVANCED if name not in fields]
    advanced += [Variable(name, text, None) for name, text in GLOBAL_MEANINGS.items()]
    filters = tuple(Variable(f"|{name}", text, f"|{name}") for name, text in FILTER_MEANINGS.items())
    return [
        Section("本文书的内容", "来自案件、办理环节和答复稿，生成文书时自动填入。", own),
        Section("各类文书通用", "系统为每份文书提供的内容。", tuple(common)),
        Section("过滤器", "写在变量后面，用竖线连接，如 {{ request|clause }}。", filters),
        Section("高级", "一般不需要；供熟悉模板写法的人员使用。", tuple(advanced)),
    ]
