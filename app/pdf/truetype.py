"""Just enough of TrueType (glyf outlines) to merge retained-glyph-id subsets of one font.

WeasyPrint embeds TrueType fonts as CIDFontType2 with CIDToGIDMap /Identity: the code in the
page is the glyph id of the (retained-gid) subset, so subsets of one font file agree on glyph
ids. The merged font keeps those ids and holds every glyph any subset had; composite glyphs
keep their component references. Anything unexpected raises TTFError and the caller keeps
the original fonts.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

# Tables that hold per-glyph data or layout we do not carry over into the merged font.
_DROP = {b"glyf", b"loca", b"hmtx", b"hhea", b"maxp", b"head", b"cmap", b"vmtx", b"vhea", b"GSUB", b"GPOS",
         b"GDEF", b"kern", b"DSIG", b"hdmx", b"LTSH", b"VDMX", b"VORG", b"BASE", b"JSTF", b"MATH", b"post",
         b"CFF ", b"CFF2", b"SVG ", b"COLR", b"CPAL", b"CBDT", b"CBLC", b"EBDT", b"EBLC", b"sbix", b"STAT",
         b"fvar", b"gvar", b"avar", b"HVAR", b"VVAR", b"MVAR", b"cvar"}
_HINTING = (b"cvt ", b"fpgm", b"prep")

# Composite glyph flags
ARG_1_AND_2_ARE_WORDS, WE_HAVE_A_SCALE, MORE_COMPONENTS = 0x0001, 0x0008, 0x0020
WE_HAVE_AN_X_AND_Y_SCALE, WE_HAVE_A_TWO_BY_TWO = 0x0040, 0x0080


class TTFError(ValueError):
    pass


@dataclass
class TTFont:
    tables: dict[bytes, bytes]
    num_glyphs: int
    long_loca: bool
    n_hmetrics: int
    _loca: bytes = field(repr=False, default=b"")

    @classmethod
    def parse(cls, data: bytes) -> "TTFont":
        if len(data) < 12 or data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise TTFError("not a TrueType font")
        num = struct.unpack_from(">H", data, 4)[0]
        tables = {}
        for k in range(num):
            tag, _c, off, length = struct.unpack_from(">4sIII", data, 12 + 16 * k)
            if off + length > len(data):
                raise TTFError("table past end")
            tables[tag] = data[off:off + length]
        for need in (b"head", b"hhea", b"maxp", b"loca", b"glyf", b"hmtx"):
            if need not in tables:
                raise TTFError(f"no {need!r} table")
        head, hhea, maxp = tables[b"head"], tables[b"hhea"], tables[b"maxp"]
        if len(head) < 54 or len(hhea) < 36 or len(maxp) < 6:
            raise TTFError("short table")
        long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        n = struct.unpack_from(">H", maxp, 4)[0]
        n_hm = struct.unpack_from(">H", hhea, 34)[0]
        if n_hm < 1 or n_hm > n:
            raise TTFError("bad numberOfHMetrics")
        loca = tables[b"loca"]
        if len(loca) < (n + 1) * (4 if long_loca else 2):
            raise TTFError("short loca")
        return cls(tables, n, long_loca, n_hm, loca)

    def glyph(self, gid: int) -> bytes:
        if not 0 <= gid < self.num_glyphs:
            raise TTFError("glyph out of range")
        if self.long_loca:
            a, b = struct.unpack_from(">II", self._loca, 4 * gid)
        else:
            a, b = struct.unpack_from(">HH", self._loca, 2 * gid)
            a, b = 2 * a, 2 * b
        glyf = self.tables[b"glyf"]
        if b < a or b > len(glyf):
            raise TTFError("bad loca")
        return glyf[a:b]

    def metrics(self, gid: int) -> tuple[int, int]:
        hmtx = self.tables[b"hmtx"]
        if gid < self.n_hmetrics:
            return struct.unpack_from(">Hh", hmtx, 4 * gid)
        adv = struct.unpack_from(">H", hmtx, 4 * (self.n_hmetrics - 1))[0]
        p = 4 * self.n_hmetrics + 2 * (gid - self.n_hmetrics)
        lsb = struct.unpack_from(">h", hmtx, p)[0] if p + 2 <= len(hmtx) else 0
        return adv, lsb

    def identity(self) -> tuple:
        head = self.tables[b"head"]
        units_per_em = struct.unpack_from(">H", head, 18)[0]
        hhea = self.tables[b"hhea"]
        return (units_per_em, hhea[4:10], tuple(self.tables.get(t, b"") for t in _HINTING))

    def closure(self, gids: set[int]) -> set[int]:
        """The glyphs plus every component of the composite ones among them."""
        out, todo = set(), list(gids)
        while todo:
            g = todo.pop()
            if g in out or not 0 <= g < self.num_glyphs:
                continue
            out.add(g)
            todo.extend(components(self.glyph(g)))
        return out


def components(g: bytes) -> list[int]:
    if len(g) < 10 or struct.unpack_from(">h", g, 0)[0] >= 0:
        return []
    out, p = [], 10
    while True:
        if p + 4 > len(g):
            raise TTFError("truncated composite glyph")
        flags, idx = struct.unpack_from(">HH", g, p)
        out.append(idx)
        p += 4 + (4 if flags & ARG_1_AND_2_ARE_WORDS else 2)
        if flags & WE_HAVE_A_SCALE:
            p += 2
        elif flags & WE_HAVE_AN_X_AND_Y_SCALE:
            p += 4
        elif flags & WE_HAVE_A_TWO_BY_TWO:
            p += 8
        if not flags & MORE_COMPONENTS:
            return out


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def build_merged(base: TTFont, glyphs: dict[int, tuple[bytes, tuple[int, int]]],
                 maxp_fields: list[int]) -> bytes:
    """A TrueType font with the glyph ids of ``base``: glyphs = {gid: (glyf data, (advance, lsb))}."""
    n = max(glyphs) + 1 if glyphs else 1
    glyf, loca = bytearray(), bytearray()
    hmtx = bytearray()
    for gid in range(n):
        loca += struct.pack(">I", len(glyf))
        data, (adv, lsb) = glyphs.get(gid, (b"", (0, 0)))
        glyf += data
        glyf += b"\0" * (-len(glyf) % 4)
        hmtx += struct.pack(">Hh", adv, lsb)
    loca += struct.pack(">I", len(glyf))
    head = bytearray(base.tables[b"head"])
    struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
    struct.pack_into(">h", head, 50, 1)  # long loca
    hhea = bytearray(base.tables[b"hhea"])
    struct.pack_into(">H", hhea, 34, n)
    if glyphs:
        struct.pack_into(">H", hhea, 10, max(m[0] for _, m in glyphs.values()))  # advanceWidthMax
    maxp = bytearray(base.tables[b"maxp"])
    struct.pack_into(">H", maxp, 4, n)
    for k, v in enumerate(maxp_fields):
        if 6 + 2 * k + 2 <= len(maxp):
            struct.pack_into(">H", maxp, 6 + 2 * k, v)
    tables = {t: d for t, d in base.tables.items() if t not in _DROP}
    tables.update({b"head": bytes(head), b"hhea": bytes(hhea), b"maxp": bytes(maxp), b"loca": bytes(loca),
                   b"glyf": bytes(glyf), b"hmtx": bytes(hmtx),
                   b"post": struct.pack(">IIhhIIIII", 0x00030000, 0, 0, 0, 0, 0, 0, 0, 0)})
    tags = sorted(tables)
    num = len(tags)
    es = max(k for k in range(16) if 1 << k <= num)
    header = struct.pack(">IHHHH", 0x00010000, num, (1 << es) * 16, es, num * 16 - (1 << es) * 16)
    offset = 12 + 16 * num
    directory, body = bytearray(), bytearray()
    for t in tags:
        d = tables[t]
        directory += struct.pack(">4sIII", t, _checksum(d), offset + len(body), len(d))
        body += d + b"\0" * (-len(d) % 4)
    font = bytearray(header + directory + body)
    adj = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    head_off = offset + sum(len(tables[t]) + (-len(tables[t]) % 4) for t in tags[:tags.index(b"head")])
    struct.pack_into(">I", font, head_off + 8, adj)
    return bytes(font)


def maxp_fields(font: TTFont) -> list[int]:
    maxp = font.tables[b"maxp"]
    if len(maxp) < 32:
        return []
    return list(struct.unpack_from(">13H", maxp, 6))
