"""Malformed and hostile import files: a clear Chinese 422 on the page and in the API, never a 500,
and no DTD or entity is ever resolved."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from app.extensions import db
from app.models import Case
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.reports.test_import import GOOD, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")


def with_part(name: str, change) -> bytes:
    """A real workbook (the GOOD ledger) with one part rewritten."""
    src = zipfile.ZipFile(io.BytesIO(xlsx(GOOD)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            z.writestr(info.filename, change(data) if info.filename == name else data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A workbook whose sheet inflates to 101 MB of zeros (the package limit is 100 MB)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx(GOOD)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != SHEET:
                z.writestr(info.filename, src.read(info))
        with z.open(SHEET, "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(101):
                part.write(chunk)
    return out.getvalue()


def corrupt_stream() -> bytes:
    """A workbook whose compressed sheet data is damaged (the zip directory is intact)."""
    data = bytearray(xlsx(GOOD))
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = z.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 60):
        data[i] ^= 0x5A
    return bytes(data)


def billion_laughs(sheet: bytes) -> bytes:
    body = sheet.decode()
    return (LAUGHS + body.replace("张三", "&lol9;", 1)).encode()


def external_entity(core: bytes) -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + core.replace(b"<dc:creator>", b"<dc:creator>&e;", 1))


def dtd_only(rels: bytes) -> bytes:
    return b'<?xml version="1.0"?><!DOCTYPE Relationships SYSTEM "http://example.invalid/x.dtd">' + rels


CASES = {
    "broken-xml": (lambda: with_part(SHEET, lambda b: b[:-40]), "文件内容已损坏"),
    "billion-laughs": (lambda: with_part(SHEET, billion_laughs), "文档类型（DTD）或实体声明"),
    "external-entity": (lambda: with_part("docProps/core.xml", external_entity), "文档类型（DTD）或实体声明"),
    "dtd-in-rels": (lambda: with_part("_rels/.rels", dtd_only), "文档类型（DTD）或实体声明"),
    "utf16-dtd": (lambda: with_part("docProps/app.xml",
                                    lambda b: '\ufeff<!DOCTYPE x [<!ENTITY a "b">]>'.encode("utf-16-le") + b),
                  "文档类型（DTD）或实体声明"),
    "not-a-zip": (lambda: b"PK\x03\x04 this is not really a zip archive", "无法读取该 .xlsx 文件"),
    "plain-text": (lambda: "申请人,申请内容\n张三,规划".encode(), "不是 Excel .xlsx 格式"),
    "zip-bomb": (zip_bomb, "解压后过大"),
    "corrupt-stream": (corrupt_stream, "无法读取该 .xlsx 文件"),
}


@pytest.fixture(scope="module")
def files():
    return {k: make() for k, (make, _) in CASES.items()}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_web_answers_422_in_chinese(app, client, auth, files, kind):
    auth.login("admin")
    resp = client.post("/import", data={"file": (io.BytesIO(files[kind]), "台账.xlsx")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, html
    error = re.search(r'<div class="rp-error" role="alert" id="import-error"><h2>未导入</h2><p>(.*?)</p>', html)
    assert error and CASES[kind][1] in error.group(1), html
    assert "root:" not in html  # no external entity was read
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


@pytest.mark.parametrize("kind", sorted(CASES))
def test_api_answers_422_in_chinese(app, api, files, kind):
    r = api.request("POST", "/import", "admin", raw=files[kind], headers={"Content-Type": XLSX})
    assert r.status_code == 422, r.get_data(as_text=True)
    err = r.get_json()["error"]
    assert err["field"] == "file" and CHINESE.search(err["message"]) and CASES[kind][1] in err["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_a_dry_run_of_a_hostile_file_is_refused_too(api, files):
    r = api.request("POST", "/import", "admin", raw=files["billion-laughs"], headers={"Content-Type": XLSX},
                    query={"dry_run": "true"})
    assert r.status_code == 422


def test_openpyxl_parses_with_defusedxml():
    """Defence in depth behind the package check: openpyxl's parsers refuse entity declarations."""
    from openpyxl.xml import DEFUSEDXML
    from openpyxl.xml.functions import iterparse
    assert DEFUSEDXML and iterparse.__module__.startswith("defusedxml")
