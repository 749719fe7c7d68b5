"""PDF uploads are checked with bounded memory and time: decompression bombs, too many pages or
content streams, and a check that takes too long are refused with a Chinese message."""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from app.casefile import uploads
from app.services.errors import ServiceError
from tests.casefile.conftest import jpeg_bytes, png_bytes, scan_pdf

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ building PDFs by hand

def deflate_zeros(units: int) -> tuple[bytes, int]:
    """A zlib stream of 1 + 2064 × units zero bytes, built directly (compressing gigabytes of zeros
    with zlib would take many seconds): one fixed-Huffman block, a literal 0, then matches of
    length 258 at distance 1, eight per 13 bytes. Returns (stream, inflated size)."""
    def small(n: int) -> bytes:
        acc, nbits = 0, 0

        def put(value: int, count: int) -> None:  # LSB-first bit packing (RFC 1951 §3.1.1)
            nonlocal acc, nbits
            acc |= value << nbits
            nbits += count

        def code(bits: str) -> None:  # Huffman codes go most significant bit first
            for b in bits:
                put(int(b), 1)

        put(1, 1)                       # BFINAL
        put(1, 2)                       # BTYPE = fixed Huffman
        code("00110000")                # literal 0
        for _ in range(8 * n):
            code("11000101")            # length 258 (symbol 285)
            code("00000")               # distance 1
        code("0000000")                 # end of block
        return acc.to_bytes((nbits + 7) // 8, "little")

    assert units >= 2
    s = small(2)
    body = s[:2] + s[2:15] * (units - 2) + s[2:]  # from byte 2 on the matches repeat every 13 bytes
    size = 1 + 2064 * units
    adler = ((size % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b counts the bytes
    return b"\x78\x01" + body + struct.pack(">I", adler), size


def pdf_file(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def page_pdf(streams: list[bytes], flate: bool = True) -> bytes:
    """One A4 page whose content is the given streams (already Flate-compressed if flate)."""
    refs = b" ".join(b"%d 0 R" % (4 + i) for i in range(len(streams)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [" + refs + b"] >>"]
    objects += [b"<< /Length %d%s >>\nstream\n" % (len(s), b" /Filter /FlateDecode" if flate else b"") + s
                + b"\nendstream" for s in streams]
    return pdf_file(objects)


def test_the_handmade_zlib_stream_is_valid():
    stream, size = deflate_zeros(40)
    assert zlib.decompress(stream) == b"\0" * size
    big, size = deflate_zeros(1_050_000)
    assert size > 2 * 1024 ** 3 and len(big) < 14 * 1024 * 1024  # over 2 GB of zeros in 13.6 MB
    d = zlib.decompressobj()
    assert d.decompress(big[:100_000], 1 << 20) == b"\0" * (1 << 20)


# ------------------------------------------------------------------ bombs, in a fresh process

MEASURE = r"""
import json, resource, sys
from app import create_app
from app.services.errors import ServiceError
import pypdf  # loaded before the baseline: the check itself is measured
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024})
from app.casefile.uploads import check
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with app.app_context():
        try:
            check(data, "scan.pdf")
            message = None
        except ServiceError as e:
            message = e.message
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"message": message, "grew_mb": grew}))
"""


def test_decompression_bombs_are_refused_in_bounded_memory(tmp_path):
    one, size = deflate_zeros(1_050_000)          # one stream: 13.6 MB inflating to 2.1 GB
    assert size > 2 * 1024 ** 3
    part, part_size = deflate_zeros(12_000)       # 24 MB each: below any one-stream limit ...
    bombs = {"one.pdf": page_pdf([one]), "many.pdf": page_pdf([part] * 12)}  # ... 290 MB together
    assert len(bombs["one.pdf"]) < 20 * 1024 * 1024 and part_size * 12 > 256 * 1024 * 1024
    results = []
    for name, data in bombs.items():  # one process each: the peak of one must not hide the other
        (tmp_path / name).write_bytes(data)
        out = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / name)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        results += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2
    for r in results:
        assert r["grew_mb"] < 100, r  # the old check inflated whole streams: 145-180 MB here, GBs in general
        assert r["message"] and "压缩炸弹" in r["message"] and "未上传" in r["message"]
    assert "超过 32 MB" in results[0]["message"] and "超过 256 MB" in results[1]["message"]


# ------------------------------------------------------------------ counts and time

def test_too_many_content_streams_are_refused(app, monkeypatch):
    monkeypatch.setattr(uploads, "PDF_MAX_STREAMS", 20)
    with app.app_context():
        assert uploads.check(page_pdf([zlib.compress(b"0 0 m 1 1 l S\n")] * 20)).pages == 1
        with pytest.raises(ServiceError, match="页面内容分段过多（超过 20 段）"):
            uploads.check(page_pdf([zlib.compress(b"0 0 m 1 1 l S\n")] * 21))


def test_too_many_pages_are_refused(app, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PDF_PAGES", 3)
    with app.app_context():
        assert uploads.check(scan_pdf("三页", 3)).pages == 3
        with pytest.raises(ServiceError, match="PDF 页数过多（4 页），上限为 3 页"):
            uploads.check(scan_pdf("四页", 4))


def test_a_check_that_takes_too_long_is_refused(app, monkeypatch):
    monkeypatch.setattr(uploads, "PDF_CHECK_SECONDS", 0)
    with app.app_context(), pytest.raises(ServiceError, match="0 秒内未能检查完毕"):
        uploads.check(scan_pdf("超时", 2))


def test_broken_flate_content_is_refused(app):
    good = zlib.compress(b"0 0 m 100 100 l S\n" * 50)
    with app.app_context(), pytest.raises(ServiceError, match="已损坏或无法读取"):
        uploads.check(page_pdf([good[:2] + b"\xff" * 40]))  # an invalid deflate block type


# ------------------------------------------------------------------ ordinary files still pass

def test_ordinary_scans_are_accepted(app):
    big_but_fine, size = deflate_zeros(12_000)  # 24 MB of page content: under the limits
    with app.app_context():
        assert uploads.check(scan_pdf("申请表扫描件", 2), "申请表.pdf").pages == 2
        assert uploads.check(page_pdf([b"0 0 m 100 100 l S\n"], flate=False)).pages == 1
        assert uploads.check(page_pdf([big_but_fine])).pages == 1
        assert uploads.check(png_bytes(), "身份证.png").content_type == "image/png"
        assert uploads.check(jpeg_bytes(), "回执.jpg").content_type == "image/jpeg"


def test_a_bomb_behind_another_filter_is_refused_in_bounded_memory(app):
    import base64
    import tracemalloc

    stream, size = deflate_zeros(50_000)  # 100 MB of zeros, ASCII85 then Flate
    data = base64.a85encode(stream, adobe=True)[2:]  # PDF's ASCII85 has no <~ prefix, keeps ~>
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n" % len(data) + data
               + b"\nendstream"]
    with app.app_context():
        tracemalloc.start()
        try:
            with pytest.raises(ServiceError, match="压缩炸弹"):
                uploads.check(pdf_file(objects))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 100 * 1024 * 1024
