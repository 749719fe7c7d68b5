"""The parameter reference of docs/api.md, rendered from the same tables as the OpenAPI document.

    .venv/bin/python -m app.api.reference      # rewrite the generated part of docs/api.md

tests/api/test_openapi.py fails when the file and the tables disagree.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..domain.workflow import ACTIONS, AGENCY_ROLES, ROLES, STATES
from .core import ENDPOINTS, PUBLIC
from .openapi import openapi_path
from .specs import (ACTION_PARAMS, HINT_PARAMS, IMPORT_PARAMS, INTAKE_PARAMS, LIST_FILTERS, SECURITY_LOG_PARAMS,
                    TRIAGE_PARAMS, VERSION_PARAM, Param, target_text)

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m app.api.reference) -->"
END = "<!-- END GENERATED REFERENCE -->"

KIND_LABELS = {"text": "文字", "date": "日期 YYYY-MM-DD", "integer": "整数", "boolean": "true/false",
               "choice": "取值", "choices": "取值的数组", "days": "日期数组或文本",
               "items": "对象数组或文本"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def param_table(params: tuple[Param, ...]) -> list[str]:
    rows = ["| 字段 | 类型 | 必填 | 说明 |", "| --- | --- | --- | --- |"]
    for p in params:
        rows.append(f"| `{p.name}` | {KIND_LABELS[p.kind]} | {'是' if p.required else ''} | {_cell(p.describe())} |")
    return rows


def endpoint_table() -> list[str]:
    rows = ["| 方法 | 路径 | 角色 | 说明 |", "| --- | --- | --- | --- |"]
    for ep in ENDPOINTS:
        if ep.roles is PUBLIC:
            roles = "无需令牌"
        elif ep.per_action:
            roles = "按操作（见下）"
        elif ep.roles:
            if ep.roles >= set(ROLES):
                roles = "任一角色"
            elif ep.roles == AGENCY_ROLES:
                roles = "机关的任一角色（不含系统管理员、公开主管部门）"
            else:
                roles = "、".join(ROLES[r] for r in sorted(ep.roles))
        else:
            roles = "任何有效令牌"
        rows.append(f"| {ep.method} | `/api/v1{openapi_path(ep.rule)}` | {roles} | {_cell(ep.summary)} |")
    return rows


def render() -> str:
    out = ["### 接口一览", "", *endpoint_table(), "",
           "### 登记申请的字段（POST /api/v1/cases）", "", *param_table(INTAKE_PARAMS), "",
           "### 案件列表的查询参数（GET /api/v1/cases）", "", *param_table(LIST_FILTERS), "",
           "### 登记提示的查询内容（POST /api/v1/intake-hints 的 JSON 请求体；GET 的查询参数同名）", "",
           *param_table(HINT_PARAMS), "",
           "### 历史台账导入的查询参数（POST /api/v1/import）", "", *param_table(IMPORT_PARAMS), "",
           "### 历史导入案件的分拣（POST /api/v1/cases/{id}/triage）", "", *param_table(TRIAGE_PARAMS), "",
           "### 安全审计日志的查询参数（GET /api/v1/security-log）", "", *param_table(SECURITY_LOG_PARAMS), "",
           "### 办理操作及其参数（POST /api/v1/cases/{id}/actions/{操作}）", "",
           "每个操作的请求体都可以另加 `version`（" + VERSION_PARAM.note + "）。"
           "没有参数的操作可以不带请求体。", ""]
    for name, params in ACTION_PARAMS.items():
        a = ACTIONS[name]
        roles = "、".join(ROLES[r] for r in sorted(a.roles))
        sources = "、".join(STATES[s] for s in STATES if s in a.sources)
        target = target_text(name)
        out += [f"#### `{name}` — {a.label}", "", f"角色：{roles}；适用状态：{sources}；执行后：{target}。", ""]
        out += (param_table(params) if params else ["无参数。"]) + [""]
    return "\n".join(out).rstrip() + "\n"


def splice(doc: str) -> str:
    head, sep, rest = doc.partition(BEGIN)
    if not sep or END not in rest:
        raise SystemExit(f"{DOC}: markers {BEGIN!r} … {END!r} not found")
    tail = rest.partition(END)[2]
    return f"{head}{BEGIN}\n\n{render()}\n{END}{tail}"


def main() -> int:
    DOC.write_text(splice(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
