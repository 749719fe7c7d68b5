"""docs/api.md works as written: every ```sh block is replayed, in order, against the test client.

The blocks use a small shell subset, and this test interprets exactly that subset (anything else in
an ```sh block fails the test, so the document cannot drift into commands nobody checked):

    NAME=value                      NAME=$(date +%F)
    NAME=$(curl … | field PATH)     NAME=$(field PATH < FILE)
    curl …                          curl … | tee FILE
    field() { python3 -c '…' "$1"; }   (the helper; its Python really runs on each captured response)
    # → 201                         (the status the next request must return)

Variables are expanded as the shell would (not inside single quotes). The ```json block after an
```sh block is the (abridged) response the reader sees for the block's last request: every key and
value shown must be in the real response ("…" stands for any value, a list shows its first elements,
and [] means empty).
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BASE = "http://127.0.0.1:5000"
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(markdown: str) -> list[tuple[str, str]]:
    out, lang, buf = [], None, []
    for line in markdown.splitlines():
        m = FENCE.match(line.strip())
        if m and lang is None:
            lang, buf = m.group(1), []
        elif line.strip() == "```" and lang is not None:
            out.append((lang, "\n".join(buf)))
            lang = None
        elif lang is not None:
            buf.append(line)
    assert lang is None, "unclosed code fence in docs/api.md"
    return out


def _open_quote(s: str) -> str | None:
    quote = None
    i = 0
    while i < len(s):
        c = s[i]
        if quote is None and c == "\\":
            i += 2
            continue
        if quote is None and c in "'\"":
            quote = c
        elif quote == c:
            quote = None
        elif quote == '"' and c == "\\":
            i += 2
            continue
        i += 1
    return quote


def logical_lines(script: str) -> list[str]:
    """Join backslash continuations and newlines inside quotes, like the shell does."""
    out, buf = [], ""
    for line in script.splitlines():
        if buf and _open_quote(buf):
            buf += "\n" + line
        elif buf.endswith("\\"):
            buf = buf[:-1].rstrip() + " " + line.strip()
        else:
            if buf:
                out.append(buf)
            buf = line.strip()
        if buf.endswith("\\") or _open_quote(buf):
            continue
        out.append(buf)
        buf = ""
    assert not buf, f"unterminated command: {buf!r}"
    return [x for x in out if x]


def expand(s: str, env: dict[str, str]) -> str:
    """Expand $NAME and ${NAME} outside single quotes."""
    out, quote, i = [], None, 0
    while i < len(s):
        c = s[i]
        if c == "'" and quote != '"':
            quote = None if quote == "'" else "'"
        elif c == '"' and quote != "'":
            quote = None if quote == '"' else '"'
        elif c == "$" and quote != "'":
            m = re.match(r"\$(?:\{(\w+)\}|(\w+))", s[i:])
            assert m, f"unsupported $ expression in {s!r}"
            name = m.group(1) or m.group(2)
            assert name in env, f"${name} used before the document sets it"
            value = env[name]
            assert not re.search(r"[\s'\"\\$]", value), f"${name}={value!r} would need quoting"
            out.append(value)
            i += m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def matches(shown, actual, where="$") -> None:
    if shown == "…":
        return
    if isinstance(shown, dict):
        assert isinstance(actual, dict), (where, actual)
        for k, v in shown.items():
            assert k in actual, f"{where}.{k} shown in docs/api.md but not in the response"
            matches(v, actual[k], f"{where}.{k}")
    elif isinstance(shown, list):
        assert isinstance(actual, list), (where, actual)
        if not shown:
            assert actual == [], (where, actual)
        assert len(shown) <= len(actual), (where, shown, actual)
        for i, v in enumerate(shown):
            matches(v, actual[i], f"{where}[{i}]")
    else:
        assert shown == actual, f"{where}: docs/api.md shows {shown!r}, the API returned {actual!r}"


class Shell:
    def __init__(self, client, today: str) -> None:
        self.client, self.today = client, today
        self.env: dict[str, str] = {}
        self.files: dict[str, str] = {}
        self.field_code: str | None = None
        self.expect: int | None = None
        self.requests = 0
        self.last = None

    def run(self, script: str) -> None:
        for line in logical_lines(script):
            self.line(line)

    def line(self, line: str) -> None:
        if line.startswith("#"):
            m = re.match(r"#\s*→\s*(\d{3})\b", line)
            if m:
                assert self.expect is None, "two status comments in a row"
                self.expect = int(m.group(1))
            return
        m = re.fullmatch(r"field\(\)\s*\{(.*)\}", line)
        if m:
            words = shlex.split(m.group(1))
            assert words[:2] == ["python3", "-c"] and words[3] == "$1;", words
            self.field_code = words[2]
            return
        m = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line, re.S)
        if m:
            name, rhs = m.groups()
            self.env[name] = self.value(rhs)
            return
        words = shlex.split(expand(line, self.env))
        assert words[0] == "curl", f"unsupported command in an ```sh block: {line!r}"
        if "|" in words:
            i = words.index("|")
            assert words[i + 1:i + 2] == ["tee"] and len(words) == i + 3, line
            body = self.curl(words[:i])
            self.files[words[i + 2]] = body
        else:
            self.curl(words)

    def value(self, rhs: str) -> str:
        if not rhs.startswith("$("):
            words = shlex.split(expand(rhs, self.env))
            assert len(words) == 1, rhs
            return words[0]
        assert rhs.endswith(")"), rhs
        inner = rhs[2:-1].strip()
        if inner == "date +%F":
            return self.today
        words = shlex.split(expand(inner, self.env))
        if words[0] == "field":
            assert len(words) == 4 and words[2] == "<", inner
            return self.field(words[1], self.files[words[3]])
        assert words[0] == "curl" and words[-3] == "|" and words[-2] == "field", inner
        return self.field(words[-1], self.curl(words[:-3]))

    def field(self, path: str, body: str) -> str:
        assert self.field_code, "field() used before the document defines it"
        out = subprocess.run([sys.executable, "-c", self.field_code, path], input=body, capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()

    def curl(self, words: list[str]) -> str:
        method, headers, data, url = None, {}, None, None
        it = iter(words[1:])
        for w in it:
            if w in ("-s", "-sS", "--silent"):
                continue
            if w == "-X":
                method = next(it)
            elif w == "-H":
                k, _, v = next(it).partition(":")
                headers[k.strip()] = v.strip()
            elif w in ("-d", "--data", "--data-raw"):
                data = next(it)
            elif w.startswith("-"):
                raise AssertionError(f"unsupported curl option {w}")
            else:
                assert url is None, words
                url = w
        assert url and url.startswith(BASE + "/api/v1/"), url
        method = method or ("POST" if data is not None else "GET")
        assert self.expect is not None, f"no '# → status' comment before: curl {method} {url}"
        r = self.client.open(url[len(BASE):], method=method, headers=headers,
                             data=data.encode() if data is not None else None)
        body = r.get_data(as_text=True)
        assert r.status_code == self.expect, f"{method} {url}: expected {self.expect}, got {r.status_code}: {body}"
        assert r.mimetype == "application/json" or r.status_code == 204, body
        self.expect, self.requests, self.last = None, self.requests + 1, r
        return body


def test_walkthrough_in_docs_works_as_written(app, client):
    shell = Shell(client, app.config["OGI_TODAY"])
    sh_blocks = 0
    pending_sample = False
    for lang, text in blocks(DOC.read_text(encoding="utf-8")):
        if lang == "sh":
            shell.run(text)
            sh_blocks += 1
            pending_sample = True
        elif lang == "json" and pending_sample:
            shown = json.loads(text)  # samples are valid JSON, abridged by leaving keys out
            matches(shown, shell.last.get_json())
            pending_sample = False
    assert shell.expect is None, "a status comment without a request after it"
    assert sh_blocks >= 14 and shell.requests >= 22

    # The case the reader followed ended delivered, with the whole story in the audit trail.
    case_id = shell.env["CASE_ID"]
    case = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": "Bearer " + shell.env["HEAD"]}).get_json()
    assert case["state"] == "delivered" and case["outcome"]["code"] == "disclose"
    assert [e["action"] for e in case["events"]] == [
        "register", "start", "consult", "consultation_reply", "save_draft", "submit_draft", "approve", "sign_off",
        "issue", "deliver"]
    assert shell.env["STEP_ID"] == str(case["steps"][0]["id"])
    assert shell.env["DRAFT_HASH"] == case["current_draft"]["content_hash"]


def test_interpreter_follows_shell_quoting():
    env = {"ID": "7", "TOKEN": "abc"}
    line = """curl -s -d '{"step_id": '"$ID"', "note": "$NOT_EXPANDED"}' -H "Authorization: Bearer $TOKEN" """
    words = shlex.split(expand(line, env))
    assert words[3] == '{"step_id": 7, "note": "$NOT_EXPANDED"}' and words[5] == "Authorization: Bearer abc"
    assert logical_lines("a \\\n  b\nc '{\n}'\nd") == ["a b", "c '{\n}'", "d"]
    with_gap = "curl -s \\\n  -d '{\"a\":\n 1}' \\\n  | tee x.json"
    assert logical_lines(with_gap) == ["curl -s -d '{\"a\":\n 1}' | tee x.json"]
