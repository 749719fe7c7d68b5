"""What a PDF may load while it is typeset, and what an agency's letter template may reference.

WeasyPrint's default URL fetcher opens any URL: an agency template with
``<link rel="attachment" href="file:///proc/self/environ">`` would carry server files inside the
PDF, and ``<img src="http://127.0.0.1:…">`` would make the server fetch the URL. Every WeasyPrint
document of the app (letters, case files, report PDFs) therefore uses ``url_fetcher()``: it
serves only ``data:`` URIs (self-contained: the seal is one) and files inside the app's own
static folder and the font folders (font files only there); anything else, the network
included, is refused. Agency template overrides are also checked for external references when
they are saved and again whenever they are rendered (``reference_in_source``,
``reference_in_html``), so a refused reference is reported in Chinese instead of silently
dropped from the letter.
"""
from __future__ import annotations

import html as html_lib
import logging
import mimetypes
import os
import re
from pathlib import Path
from urllib import request
from urllib.parse import urlsplit

from ..config import ROOT

log = logging.getLogger(__name__)

STATIC_DIR = ROOT / "static"
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2")
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest CJK font collections are ~30 MB

# Elements that load or embed something, and attributes that hold a URL (local names).
LOADING_ELEMENTS = frozenset({"link", "base", "object", "embed", "iframe", "frame", "frameset", "script",
                              "applet", "audio", "video", "source", "track", "portal"})
URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "data", "poster", "background", "action", "formaction",
                            "cite", "longdesc", "usemap", "manifest", "codebase", "archive", "profile", "ping",
                            "lowsrc", "dynsrc"})
CSS_LOADING_FUNCTIONS = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade"})
CSS_LOADING_AT_RULES = frozenset({"import", "font-face", "namespace"})

REFUSED_HINT = "文书模板只能使用系统自带的版式、字体和机关印章（{{ seal_uri }}），不能引用文件、网址或其他外部资源。"


# ---------------------------------------------------------------- the URL fetcher

class URLRefused(ValueError):
    """A URL outside the sandbox (WeasyPrint logs it and leaves the resource out)."""


def _font_dirs() -> list[str]:
    from . import fonts

    return [*SYSTEM_FONT_DIRS, str(fonts.cache_dir())]


def _inside(path: str, root: str) -> bool:
    root = os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def allowed_file(url: str) -> Path | None:
    """The local file a ``file:`` URL names, if it is an app asset or a font file; else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = os.path.realpath(request.url2pathname(parts.path))  # resolves "..", symbolic links
    if not os.path.isfile(path):
        return None
    if _inside(path, str(STATIC_DIR)):
        return Path(path)
    if path.lower().endswith(FONT_SUFFIXES) and any(_inside(path, d) for d in _font_dirs()):
        return Path(path)
    return None


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SandboxFetcher(URLFetcher):
        """Serves data: URIs, the app's static files and font files; refuses everything else."""

        def __init__(self) -> None:
            request.OpenerDirector.__init__(self)  # no handlers: nothing is opened through urllib
            self._timeout, self._http_headers, self._allowed_protocols = 0, {}, ("data", "file")
            self._fail_on_errors, self._request = False, None

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
            if scheme == "data":
                with request.DataHandler().data_open(request.Request(url)) as resp:
                    return URLFetcherResponse(url, resp.read(), {"Content-Type": resp.headers["Content-Type"]})
            path = allowed_file(url) if scheme == "file" else None
            if path is None:
                log.warning("PDF rendering: refused to load %s", url[:300])
                raise URLRefused(f"refused to load {url[:300]}")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise URLRefused(f"file too large: {path}")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})

    return SandboxFetcher


_fetcher = None


def url_fetcher():
    """The URL fetcher for every WeasyPrint HTML and CSS object of the app (stateless, shared)."""
    global _fetcher
    if _fetcher is None:
        _fetcher = _fetcher_class()()
    return _fetcher


# ---------------------------------------------------------------- template checks

_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_URL_ATTRS = "|".join(sorted(URL_ATTRIBUTES | {"xlink:href"}, key=len, reverse=True))
# Checked in the template source as written (also branches the example letter does not take).
# Plain wording may name a website (可登录 http://… 查询): only URL attributes count, and file: anywhere.
_SOURCE_RULES = (
    (re.compile(r"<\s*/?\s*(" + "|".join(sorted(LOADING_ELEMENTS)) + r")\b", re.I), "使用了 <{0}> 标签"),
    (re.compile(r"<\s*/?\s*(\{[{%])", re.I), "用模板表达式生成了标签名"),
    (re.compile(r"@\s*(import|font-face|namespace)\b", re.I), "使用了 @{0}"),
    (re.compile(r"\b(url|image-set|image|cross-fade)\s*\(", re.I), "使用了 {0}()"),
    (re.compile(r"<[a-zA-Z][^<>]*?[\s/\"'](" + _URL_ATTRS + r")\s*=\s*(?![\"']?\s*(?:\{\{\s*seal_uri\s*\}\}|#))"
                r"[\"']?\s*([^\s\"'>]{1,60})", re.I), "的 {0} 属性引用了“{1}”"),
    (re.compile(r"\b(file)\s*:", re.I), "引用了 {0}: 地址"),
)


def _decode_css_escapes(text: str) -> str:
    def one(m: re.Match) -> str:
        if m.group(1):
            cp = int(m.group(1), 16)
            return chr(cp) if 0 < cp <= 0x10FFFF else "\ufffd"
        return m.group(2)
    return _CSS_ESCAPE.sub(one, text)


def reference_in_source(source: str) -> str | None:
    """Why a template source may load an external resource (Chinese, with the line), or None.

    Looks at the source as written and with HTML entities and CSS escapes decoded, so
    ``&#104;ttp:`` or ``\\75 rl(`` do not slip through.
    """
    decoded = html_lib.unescape(source)
    for text in dict.fromkeys((source, decoded, _CSS_COMMENT.sub("", _decode_css_escapes(decoded)))):
        for pattern, what in _SOURCE_RULES:
            m = pattern.search(text)
            if m:
                line = text.count("\n", 0, m.start()) + 1
                return f"文书模板第{line}行{what.format(*m.groups())}。" + REFUSED_HINT
    return None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _css_reference(css: str, *, declarations: bool) -> str | None:
    import tinycss2

    nodes = (tinycss2.parse_blocks_contents(css) if declarations else tinycss2.parse_stylesheet(css))
    stack = list(nodes)
    while stack:
        node = stack.pop()
        kind = getattr(node, "type", "")
        if kind == "url":
            return f"url({node.value})"
        if kind == "function" and node.lower_name in CSS_LOADING_FUNCTIONS:
            return f"{node.lower_name}()"
        if kind == "at-rule" and node.lower_at_keyword in CSS_LOADING_AT_RULES:
            return f"@{node.lower_at_keyword}"
        for attr in ("prelude", "content", "arguments", "value"):
            children = getattr(node, attr, None)
            if isinstance(children, list):
                stack.extend(children)
    return None


def reference_in_html(document: str, allowed: frozenset[str] | set[str] = frozenset()) -> str | None:
    """Why a rendered letter may load an external resource (Chinese), or None.

    Parsed with WeasyPrint's own parsers (tinyhtml5, tinycss2), so what is checked is what would
    be typeset. URL attributes may only hold an in-document link (``#…``) or a value in
    ``allowed`` (the seal's data: URI).
    """
    import tinyhtml5

    root = tinyhtml5.parse(document, namespace_html_elements=False)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = _local(el.tag)
        if tag in LOADING_ELEMENTS:
            return f"文书模板使用了 <{tag}> 标签。" + REFUSED_HINT
        for name, value in el.attrib.items():
            attr = _local(name)
            value = value or ""
            if attr in URL_ATTRIBUTES and value.strip() and not value.strip().startswith("#") and value not in allowed:
                shown = value if len(value) <= 60 else value[:60] + "…"
                return f"文书模板中 <{tag}> 的 {attr} 属性引用了“{shown}”。" + REFUSED_HINT
            if attr == "style" or "(" in value:
                found = _css_reference(value, declarations=True)
                if found:
                    return f"文书模板中 <{tag}> 的 {attr} 属性使用了 {found}。" + REFUSED_HINT
        if tag == "style":
            found = _css_reference("".join(el.itertext()), declarations=False)
            if found:
                return f"文书模板的样式表使用了 {found}。" + REFUSED_HINT
    return None
