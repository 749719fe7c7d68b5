"""Source documents with known text for the redaction tests (WeasyPrint, the letters' CJK font)."""
from __future__ import annotations

from html import escape

ID_NUMBER = "11010519491231002X"  # a valid checksum: the suggestions find it
NAME = "王小明"
SECRET = "内部审议意见"  # the word the tests search for and mark
PAGES = (
    f"示范区旧城改造项目征收补偿方案\n被征收人：{NAME}\n身份证号码：{ID_NUMBER}\n补偿金额：人民币伍拾万元整",
    f"附：{SECRET}\n经研究，同意按上述标准补偿。\n联系电话：13800000000",
)


def source_pdf(pages: tuple[str, ...] = PAGES) -> bytes:
    """A PDF with a text layer, one page per string (lines as paragraphs)."""
    from weasyprint import HTML

    body = "".join('<section>' + "".join(f"<p>{escape(line)}</p>" for line in page.split("\n")) + "</section>"
                   for page in pages)
    html = ("<html><head><style>@page { size: A4; margin: 25mm } body { font-family: 'Noto Serif CJK SC'; "
            "font-size: 16pt } section { break-after: page } section:last-child { break-after: auto }"
            f"</style></head><body>{body}</body></html>")
    return HTML(string=html).write_pdf()
