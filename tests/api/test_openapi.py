"""The OpenAPI document and the parameter tables cannot drift from the code: routes, actions, and the
parameters each service handler actually reads."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.api import reference
from app.api.specs import (ACTION_PARAMS, GUARD_REQUIRED, INTAKE_PARAMS, LIST_FILTERS, VERSION_PARAM, Param)
from app.domain.outcomes import DRAFTABLE
from app.domain.workflow import ACTIONS, STATES
from app.services import cases as S
from tests.api.support import SchemaError, validate

PREFIX = "/api/v1"
CATCH_ALL = "api.not_found"  # JSON 404/405 for unknown API paths; not an operation
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _documented(doc) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}


def test_every_blueprint_route_is_documented_and_nothing_else(app, openapi_doc):
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/") or rule.endpoint == CATCH_ALL:
            continue
        assert rule.endpoint.startswith("api."), rule
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(PREFIX):])
        paths = [path.replace("{action}", a) for a in ACTIONS] if "{action}" in path else [path]
        for method in rule.methods & METHODS:
            expected.update((p, method) for p in paths)
    assert len(expected) > len(ACTIONS) + 8
    assert _documented(openapi_doc) == expected
    assert openapi_doc["servers"] == [{"url": PREFIX}]


def test_every_action_has_a_path_a_request_schema_and_its_roles(openapi_doc):
    assert list(ACTION_PARAMS) == list(ACTIONS)
    assert set(ACTIONS) == set(S.HANDLERS)
    schemas = openapi_doc["components"]["schemas"]
    for name, a in ACTIONS.items():
        op = openapi_doc["paths"][f"/cases/{{case_id}}/actions/{name}"]["post"]
        assert op["x-roles"] == sorted(a.roles)
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/Action_{name}"}
        schema = schemas[f"Action_{name}"]
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == {p.name for p in ACTION_PARAMS[name]} | {"version"}
        assert set(schema.get("required", [])) == {p.name for p in ACTION_PARAMS[name] if p.required}
        assert {"400", "401", "403", "404", "409", "200"} <= set(op["responses"])
    for required in ("Case", "CaseSummary", "Clock", "Step", "Draft", "Event", "Error", "CaseCreate"):
        assert required in schemas


def test_document_is_self_consistent(openapi_doc):
    assert openapi_doc["openapi"] == "3.1.0"
    text = repr(openapi_doc)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in openapi_doc["components"]["schemas"], name
    op_ids = [op["operationId"] for ops in openapi_doc["paths"].values() for op in ops.values()]
    assert len(op_ids) == len(set(op_ids))
    for path, ops in openapi_doc["paths"].items():
        declared = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert in_path == declared, (path, method)
            for code, resp in op["responses"].items():
                if code.startswith("4"):
                    assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            if op.get("security") != []:
                assert "401" in op["responses"], (path, method)


def test_schema_checker_is_strict(openapi_doc):
    err = {"error": {"message": "错", "field": None}}
    schema = openapi_doc["components"]["schemas"]["Error"]
    validate(openapi_doc, schema, err)
    for bad in ({"error": {"message": "错"}}, {"error": {"message": "错", "field": None, "x": 1}},
                {"error": {"message": 1, "field": None}}, {"error": {"message": "错", "field": 3}}):
        with pytest.raises(SchemaError):
            validate(openapi_doc, schema, bad)


# ---------------------------------------------------------------- tables vs. the services' code

PARAM_KINDS = {"text": "text", "date": "date", "integer": "integer", "choice": "choice", "flag": "boolean"}


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _const(node, default=None):
    return node.value if isinstance(node, ast.Constant) else default


def _reads(tree: ast.AST, receiver: str) -> dict[str, dict]:
    """Parameters a function reads through Params (receiver.text/date/… or x.step)."""
    found: dict[str, dict] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = ast.unparse(node.func.value)
        method = node.func.attr
        if owner == receiver and method in PARAM_KINDS:
            kind = PARAM_KINDS[method]
        elif owner == "x" and method == "step":
            kind = "integer"
        elif owner == "x" and method == "past_date":  # Ctx.past_date: an optional date, today by default
            kind = "date"
        else:
            continue
        first = node.args[0]
        names = [first.value] if isinstance(first, ast.Constant) else ["<dynamic>"]
        if kind == "choice":
            required = _const(_kw(node, "required"), True) is True and _kw(node, "default") is None
            choices = set(eval(ast.unparse(node.args[2]), {**vars(S), "STATES": STATES}))  # noqa: S307 - our source
        else:
            required = method == "step" or (_const(_kw(node, "required"), False) is True
                                             and _kw(node, "default") is None)
            choices = None
        info = {"kind": kind, "required": required, "choices": choices,
                "max_len": _const(_kw(node, "max_len"), 2000 if kind == "text" else None),
                "lo": _const(_kw(node, "lo")), "hi": _const(_kw(node, "hi"))}
        for n in names:
            found[n] = info
    return found


def _handler_functions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(Path(S.__file__).read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "handles":
                    out[d.args[0].value] = node
            if node.name in ("register_case", "add_registration", "check_applicant", "list_cases"):
                out["<" + node.name + ">"] = node
    return out


def _compare(where: str, reads: dict[str, dict], params: tuple[Param, ...], guard_required=frozenset()):
    table = {p.name: p for p in params}
    assert set(reads) == set(table), f"{where}: code reads {sorted(reads)}, table has {sorted(table)}"
    for name, r in reads.items():
        p = table[name]
        assert p.kind == r["kind"], (where, name, p.kind, r["kind"])
        if r["required"]:
            assert p.required, (where, name, "required by the service")
        elif p.required:
            assert (where, name) in guard_required, (where, name, "table says required, service does not")
        if r["choices"] is not None:
            assert set(p.choices) == r["choices"], (where, name)
        if p.kind == "text":
            assert p.max_len == r["max_len"], (where, name, p.max_len, r["max_len"])
        if r["lo"] is not None:
            assert (p.minimum, p.maximum) == (r["lo"], r["hi"]), (where, name)


def _letter_reads(generic: set[str]) -> dict[str, dict]:
    """What save_draft reads through letters.read_letter_fields: each reply letter's own fields."""
    from app.letters import letter_for_outcome
    from app.services.letters import draft_fields, form_name
    kinds = {"date": "date", "choice": "choice", "items": "items"}
    out: dict[str, dict] = {}
    for o in DRAFTABLE:
        for f in draft_fields(letter_for_outcome(o.code)):
            name = form_name(f.name)
            if name not in generic:
                kind = kinds.get(f.type, "text")
                out[name] = {"kind": kind, "required": False, "choices": set(f.choices) if f.choices else None,
                             "max_len": S.DRAFT_MAX_LEN, "lo": None, "hi": None}
    return out


def test_action_tables_match_what_each_handler_reads():
    fns = _handler_functions()
    assert set(ACTIONS) <= set(fns)
    for action in ACTIONS:
        reads = _reads(fns[action], "x.p")
        if "<dynamic>" in reads:  # save_draft reads every DRAFT_FIELDS entry in a comprehension
            assert action == "save_draft"
            info = reads.pop("<dynamic>")
            reads.update({k: {**info, "max_len": S.DRAFT_MAX_LEN} for k in S.DRAFT_FIELDS})
            reads.update(_letter_reads(set(reads)))
        guard_required = {a for (act, a) in GUARD_REQUIRED if act == action}
        _compare(action, reads, ACTION_PARAMS[action], {(action, n) for n in guard_required})
    assert "version" not in {p.name for ps in ACTION_PARAMS.values() for p in ps}
    assert VERSION_PARAM.kind == "integer"


def test_intake_table_matches_register_case():
    # register_case parses each input by its declaration (S._read), so kind, label, limits and
    # default cannot differ from the table; what is left to check is that it reads each one, once:
    # add_registration by name, check_applicant (shared with the online form) those of APPLICANT_FIELDS.
    assert tuple(p.name for p in INTAKE_PARAMS) == S.INTAKE_FIELDS
    fns = _handler_functions()
    declared = list(S.APPLICANT_FIELDS)
    for name in ("<add_registration>", "<check_applicant>"):
        fn = fns[name]
        assert _reads(fn, "p") == {}, f"{name} reads an input the declaration does not describe"
        declared += [ast.literal_eval(n.args[1]) for n in ast.walk(fn) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", "") == "_read" and isinstance(n.args[1], ast.Constant)]
    assert sorted(declared) == sorted(S.INTAKE_FIELDS)


def test_filter_table_matches_list_cases():
    _compare("list_cases", _reads(_handler_functions()["<list_cases>"], "p"), LIST_FILTERS)


def test_generated_reference_in_docs_is_current():
    doc = reference.DOC.read_text(encoding="utf-8")
    assert doc == reference.splice(doc), "docs/api.md is stale: run .venv/bin/python -m app.api.reference"
    for action in ACTIONS:
        assert f"#### `{action}` — {ACTIONS[action].label}" in doc
