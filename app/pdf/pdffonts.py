"""Embed each font once in a case file built from many PDFs.

Every letter carries its own subset of the same font (Noto Serif CJK SC, the letters' prepared
TrueType fonts...). Copied as they are, sixty letters carry sixty subsets; a CFF subset of Noto
alone carries some 40k empty glyph slots (~70 KiB each). Here the Type 0 fonts of all the
source PDFs are grouped by font program, and each group is replaced by one font holding the
union of the glyphs: a compact CID-keyed CFF (cff.py) or a TrueType font with the same glyph ids
(truetype.py). Page content streams are not touched: only the /Font entries of the page
resources point at the merged font.

This works because WeasyPrint subsets with retained glyph ids and Identity-H codes, so every
subset of one font file agrees on what code N draws. A font the merger does not understand (a
non-Identity encoding, a CFF with subroutines, a glyph that differs between two subsets of
"the same" font) is left alone and copied as it is.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from .cff import CFFError, build_cid_cff, parse_cid_cff, sfnt_table
from .truetype import TTFError, TTFont, build_merged, maxp_fields

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])")


class NotMergeable(Exception):
    pass


@dataclass
class SourceFont:
    """One Type 0 font of one source PDF, analysed."""

    kind: str  # "cff" (CIDFontType0) or "ttf" (CIDFontType2)
    base_name: str  # BaseFont without the subset tag
    program: object  # cff.CIDFont or truetype.TTFont
    widths: dict[int, float]
    to_unicode: dict[int, str]
    default_width: float
    descriptor: DictionaryObject
    used: set[int]

    def glyph(self, gid: int) -> bytes:
        return self.program.charstring(gid) if self.kind == "cff" else self.program.glyph(gid)

    def extra(self, gid: int):
        """What else the merged font needs per glyph: its FD (CFF) or its metrics (TrueType)."""
        if self.kind == "cff":
            fd = self.program.fd_of(gid)
            return self.program.fd_key(fd), self.program.fd_ops(fd)
        return self.program.metrics(gid)


@dataclass
class WidthSet:
    """The /W widths of some members of a group, consistent with each other.

    WeasyPrint records a glyph's width rounded at the size it first met it, and compensates in
    the page's TJ offsets; so two letters may give one glyph widths one unit apart. Each keeps
    exactly its own widths: members that disagree get their own small font dictionary, all of
    them sharing the one embedded font program.
    """

    widths: dict[int, float] = field(default_factory=dict)
    default_width: float = 1000
    ref: IndirectObject | None = None

    def fits(self, src: SourceFont) -> bool:
        if src.default_width != self.default_width:
            return False
        mine = self.widths
        return all(mine.get(g, w) == w for g, w in src.widths.items())


@dataclass
class FontGroup:
    key: tuple
    base: SourceFont
    glyphs: dict[int, tuple[bytes, object]] = field(default_factory=dict)  # gid/cid -> (outline, extra)
    width_sets: list[WidthSet] = field(default_factory=list)
    to_unicode: dict[int, str] = field(default_factory=dict)
    members: int = 0
    bbox: list[float] | None = None
    maxp: list[int] = field(default_factory=list)
    fd_privates: dict[str, bytes] = field(default_factory=dict)  # CFF: FD name -> Private DICT

    def conflict(self, src: SourceFont) -> str | None:
        """Why ``src`` cannot share this group's font program (a glyph or an FD differs), or None."""
        for gid in src.used:
            mine = self.glyphs.get(gid)
            if mine is not None and mine[0] != src.glyph(gid):
                return f"glyph {gid} differs"
            if src.kind == "cff":
                name, priv = src.program.fd_key(src.program.fd_of(gid))
                known = self.fd_privates.get(name)
                if known is not None and known != priv:
                    return f"FD {name} differs"
        return None

    def add(self, src: SourceFont) -> WidthSet:
        for gid in src.used:
            if gid not in self.glyphs:
                self.glyphs[gid] = (src.glyph(gid), src.extra(gid))
                if src.kind == "cff":
                    (name, priv), _ops = self.glyphs[gid][1]
                    self.fd_privates.setdefault(name, priv)
        for gid, u in src.to_unicode.items():
            self.to_unicode.setdefault(gid, u)
        bb = [float(x) for x in src.descriptor.get("/FontBBox", [0, 0, 0, 0])]
        if len(bb) == 4:
            self.bbox = bb if self.bbox is None else [min(self.bbox[0], bb[0]), min(self.bbox[1], bb[1]),
                                                      max(self.bbox[2], bb[2]), max(self.bbox[3], bb[3])]
        if src.kind == "ttf":
            fields = maxp_fields(src.program)
            self.maxp = [max(a, b) for a, b in zip(self.maxp, fields)] if self.maxp else fields
        self.members += 1
        ws = next((w for w in self.width_sets if w.fits(src)), None)
        if ws is None:
            ws = WidthSet(default_width=src.default_width)
            self.width_sets.append(ws)
        ws.widths.update(src.widths)
        return ws


def _parse_widths(w) -> dict[int, float]:
    out: dict[int, float] = {}
    items = list(w)
    i = 0
    while i < len(items):
        first = int(items[i])
        nxt = items[i + 1].get_object() if i + 1 < len(items) else None
        if isinstance(nxt, list):
            for k, v in enumerate(nxt):
                out[first + k] = float(v)
            i += 2
        else:
            last, width = int(items[i + 1]), float(items[i + 2])
            for c in range(first, last + 1):
                out[c] = width
            i += 3
    return out


def _utf16(hexstr: bytes) -> str:
    try:
        return bytes.fromhex(hexstr.decode()).decode("utf-16-be")
    except ValueError:
        return ""


def _parse_to_unicode(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        vals = _HEX.findall(block)
        for src, dst in zip(vals[0::2], vals[1::2]):
            out[int(src, 16)] = _utf16(dst)
    for block in _BFRANGE.findall(data):
        for lo, hi, dst in _RANGE.findall(block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if hi_i - lo_i > 0xFFFF:
                continue
            if dst.startswith(b"["):
                for k, d in enumerate(_HEX.findall(dst)):
                    out[lo_i + k] = _utf16(d)
            else:
                start = _utf16(dst[1:-1])
                if not start:
                    continue
                for k in range(hi_i - lo_i + 1):
                    out[lo_i + k] = start[:-1] + chr(ord(start[-1]) + k)
    return out


def analyse(font) -> SourceFont:
    """Read a Type 0 font dictionary; raise NotMergeable if the merger cannot take it."""
    f = font.get_object()
    if f.get("/Subtype") != "/Type0" or f.get("/Encoding") != "/Identity-H":
        raise NotMergeable("not a Type 0 font with Identity-H")
    desc = f.get("/DescendantFonts")
    if not desc:
        raise NotMergeable("no descendant")
    cid = desc.get_object()[0].get_object()
    fd = cid["/FontDescriptor"].get_object()
    try:
        if cid.get("/Subtype") == "/CIDFontType0" and "/FontFile3" in fd:
            ff = fd["/FontFile3"].get_object()
            data = ff.get_data()
            if ff.get("/Subtype") == "/OpenType":
                data = sfnt_table(data, b"CFF ")
            elif ff.get("/Subtype") != "/CIDFontType0C":
                raise NotMergeable("unknown FontFile3 subtype")
            kind, program = "cff", parse_cid_cff(data)
        elif cid.get("/Subtype") == "/CIDFontType2" and "/FontFile2" in fd:
            if cid.get("/CIDToGIDMap", "/Identity") != "/Identity":
                raise NotMergeable("CIDToGIDMap is not Identity")
            kind, program = "ttf", TTFont.parse(fd["/FontFile2"].get_object().get_data())
        else:
            raise NotMergeable("no embedded CFF or TrueType program")
    except (CFFError, TTFError) as e:
        raise NotMergeable(str(e)) from None
    if "/W" not in cid or "/ToUnicode" not in f:
        raise NotMergeable("no widths or ToUnicode")
    widths = _parse_widths(cid["/W"].get_object())
    to_unicode = _parse_to_unicode(f["/ToUnicode"].get_object().get_data())
    # WeasyPrint gives a width to every glyph it draws, and codes are glyph ids of the subset.
    n = program.glyph_count if kind == "cff" else program.num_glyphs
    used = {c for c in set(widths) | set(to_unicode) | {0} if 0 <= c < n}
    if kind == "ttf":
        try:
            used = program.closure(used)
        except TTFError as e:
            raise NotMergeable(str(e)) from None
        identity = program.identity()
    else:
        identity = program.identity()
    name = str(f.get("/BaseFont", "/font"))[1:]
    base_name = name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name
    src = SourceFont(kind=kind, base_name=base_name, program=program, widths=widths, to_unicode=to_unicode,
                     default_width=float(cid.get("/DW", 1000)), descriptor=fd, used=used)
    src.identity = (kind, base_name, identity)  # type: ignore[attr-defined]
    return src


def _w_array(widths: dict[int, float]) -> ArrayObject:
    out = ArrayObject()
    run: list[int] = []
    for c in sorted(widths):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out += [NumberObject(run[0]), ArrayObject(_num(widths[x]) for x in run)]
        run = [c]
    if run:
        out += [NumberObject(run[0]), ArrayObject(_num(widths[x]) for x in run)]
    return out


def _num(v: float):
    return NumberObject(int(v)) if float(v).is_integer() else FloatObject(round(v, 3))


def _to_unicode_cmap(m: dict[int, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <FFFF>", b"endcodespacerange"]
    items = sorted((c, u) for c, u in m.items() if u)
    for k in range(0, len(items), 100):
        chunk = items[k:k + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        for c, u in chunk:
            lines.append(f"<{c:04X}> <{u.encode('utf-16-be').hex().upper()}>".encode())
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _stream(writer: PdfWriter, data: bytes, extra: dict | None = None) -> IndirectObject:
    s = StreamObject()
    s.set_data(data)
    for k, v in (extra or {}).items():
        s[NameObject(k)] = v
    s = s.flate_encode(level=6)
    return writer._add_object(s)


class FontMerger:
    """Collects the fonts of many source PDFs and writes one merged font per font program."""

    def __init__(self) -> None:
        self.groups: list[FontGroup] = []
        self._seen: dict[tuple[int, int], FontGroup | None] = {}
        self.kept = 0  # fonts left as they are
        self.why: list[str] = []

    def _key(self, font) -> tuple[int, int] | None:
        if isinstance(font, IndirectObject):
            return (id(font.pdf), font.idnum)
        return None

    def collect(self, font) -> WidthSet | None:
        """Analyse a font of a source PDF; the returned width set's ``ref`` replaces it after write()."""
        k = self._key(font)
        if k is not None and k in self._seen:
            return self._seen[k]
        ws: WidthSet | None = None
        try:
            src = analyse(font)
        except NotMergeable as e:
            self.kept += 1
            self.why.append(str(e))
        except Exception as e:  # a broken font is copied as it is, never fatal
            self.kept += 1
            self.why.append(repr(e))
        else:
            group = None
            for g in self.groups:
                if g.key == src.identity:
                    why = g.conflict(src)
                    if why is None:
                        group = g
                        break
                    self.why.append(f"{src.base_name}: {why}")
            if group is None:
                group = FontGroup(key=src.identity, base=src)
                self.groups.append(group)
            ws = group.add(src)
        if k is not None:
            self._seen[k] = ws
        return ws

    def write(self, writer: PdfWriter) -> None:
        for g in self.groups:
            self._write_group(writer, g)

    def _write_group(self, writer: PdfWriter, g: FontGroup) -> None:
        if g.base.kind == "cff":
            fds: dict[str, tuple[str, list, bytes]] = {}
            glyphs = []
            for cid, (cs, ((name, priv), ops)) in sorted(g.glyphs.items()):
                if name not in fds:
                    fds[name] = (name, ops, priv)
                glyphs.append((cid, cs, list(fds).index(name)))
            program = build_cid_cff(g.base.program, glyphs, list(fds.values()))
            file_key, subtype = "/FontFile3", "/CIDFontType0"
            ff_extra = {"/Subtype": NameObject("/CIDFontType0C")}
        else:
            program = build_merged(g.base.program, g.glyphs, g.maxp)
            file_key, subtype = "/FontFile2", "/CIDFontType2"
            ff_extra = {"/Length1": NumberObject(len(program))}
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(program).digest()[:6])
        name = NameObject(f"/{tag}+{g.base.base_name}")
        ff = _stream(writer, program, ff_extra)
        desc = DictionaryObject()
        for k, v in g.base.descriptor.items():
            if k in ("/FontFile", "/FontFile2", "/FontFile3", "/CIDSet", "/FontName"):
                continue
            desc[NameObject(k)] = v if not isinstance(v, IndirectObject) else v.get_object().clone(writer)
        desc[NameObject("/FontName")] = name
        desc[NameObject(file_key)] = ff
        if g.bbox:
            desc[NameObject("/FontBBox")] = ArrayObject(_num(x) for x in g.bbox)
        desc_ref = writer._add_object(desc)
        to_unicode = _stream(writer, _to_unicode_cmap(g.to_unicode))
        for ws in g.width_sets:
            cid = DictionaryObject({
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject(subtype),
                NameObject("/BaseFont"): name,
                NameObject("/CIDSystemInfo"): DictionaryObject({
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("Identity"),
                    NameObject("/Supplement"): NumberObject(0)}),
                NameObject("/FontDescriptor"): desc_ref,
                NameObject("/DW"): _num(ws.default_width),
                NameObject("/W"): _w_array(ws.widths),
            })
            if subtype == "/CIDFontType2":
                cid[NameObject("/CIDToGIDMap")] = NameObject("/Identity")
            t0 = DictionaryObject({
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): name,
                NameObject("/Encoding"): NameObject("/Identity-H"),
                NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid)]),
                NameObject("/ToUnicode"): to_unicode,
            })
            ws.ref = writer._add_object(t0)


def walk_font_slots(resources, visit, _depth: int = 0) -> None:
    """Call visit(font_dict, name) for every font of a resource dictionary and its form XObjects."""
    if resources is None or _depth > 8:
        return
    res = resources.get_object()
    fonts = res.get("/Font")
    if fonts is not None:
        fonts = fonts.get_object()
        for name in list(fonts.keys()):
            visit(fonts, name)
    xobjects = res.get("/XObject")
    if xobjects is not None:
        for _name, xo in list(xobjects.get_object().items()):
            xo_obj = xo.get_object()
            if xo_obj.get("/Subtype") == "/Form" and "/Resources" in xo_obj:
                walk_font_slots(xo_obj["/Resources"], visit, _depth + 1)
