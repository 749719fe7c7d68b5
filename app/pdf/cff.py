"""Just enough of the CFF format (Adobe TN #5176) to merge CID-keyed font subsets.

WeasyPrint embeds each letter's fonts as OpenType/CFF subsets that keep the original glyph
ids (HarfBuzz RETAIN_GIDS) and have no subroutines (DESUBROUTINIZE). Subsets of one font file
therefore agree on what glyph N is, and one compact CID-keyed CFF holding every glyph that any
letter uses can replace them all: the content streams, which address glyphs by code, stay
untouched. Anything this module does not understand raises CFFError, and the caller keeps the
original fonts.
"""
from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

OP_CHARSET, OP_CHARSTRINGS, OP_PRIVATE, OP_SUBRS = 15, 17, 18, 19
OP_ROS, OP_FDARRAY, OP_FDSELECT, OP_FONTNAME = (12, 30), (12, 36), (12, 37), (12, 38)
N_STD_STRINGS = 391  # SIDs below this are the standard strings


class CFFError(ValueError):
    pass


# ---------------------------------------------------------------- low level

def read_index(b: bytes, pos: int) -> tuple[int, int, int, int]:
    """(count, offSize, position of offset array, position just before the data) of an INDEX."""
    try:
        count = struct.unpack_from(">H", b, pos)[0]
    except struct.error:
        raise CFFError("truncated INDEX") from None
    if count == 0:
        return 0, 0, pos + 2, pos + 2
    off_size = b[pos + 2]
    if not 1 <= off_size <= 4:
        raise CFFError("bad offSize")
    offsets_at = pos + 3
    data_base = offsets_at + (count + 1) * off_size - 1
    return count, off_size, offsets_at, data_base


def index_items(b: bytes, pos: int) -> tuple[list[bytes], int]:
    """All items of an INDEX and the position after it (for the small INDEXes only)."""
    count, off_size, offsets_at, base = read_index(b, pos)
    if count == 0:
        return [], pos + 2
    offs = [int.from_bytes(b[offsets_at + i * off_size: offsets_at + (i + 1) * off_size], "big")
            for i in range(count + 1)]
    end = base + offs[-1]
    if end > len(b):
        raise CFFError("INDEX past end")
    return [b[base + offs[i]: base + offs[i + 1]] for i in range(count)], end


def index_item(b: bytes, count: int, off_size: int, offsets_at: int, base: int, i: int) -> bytes:
    """One item of a large INDEX without reading the others (CharStrings has ~65k)."""
    if not 0 <= i < count:
        raise CFFError("glyph out of range")
    p = offsets_at + i * off_size
    start = int.from_bytes(b[p:p + off_size], "big")
    end = int.from_bytes(b[p + off_size:p + 2 * off_size], "big")
    if end < start or base + end > len(b):
        raise CFFError("bad CharStrings offset")
    return b[base + start: base + end]


def build_index(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    total = sum(len(x) for x in items) + 1
    off_size = 1 if total < 1 << 8 else 2 if total < 1 << 16 else 3 if total < 1 << 24 else 4
    out = bytearray(struct.pack(">HB", len(items), off_size))
    off = 1
    out += off.to_bytes(off_size, "big")
    for x in items:
        off += len(x)
        out += off.to_bytes(off_size, "big")
    for x in items:
        out += x
    return bytes(out)


def parse_dict(d: bytes) -> list[tuple[object, list, bytes]]:
    """A DICT as (operator, operand values, raw operand bytes), in order."""
    out = []
    operands: list = []
    start = i = 0
    n = len(d)
    while i < n:
        b0 = d[i]
        if b0 <= 21:
            if b0 == 12:
                if i + 1 >= n:
                    raise CFFError("truncated operator")
                op: object = (12, d[i + 1])
                raw = d[start:i]
                i += 2
            else:
                op = b0
                raw = d[start:i]
                i += 1
            out.append((op, operands, raw))
            operands, start = [], i
        elif b0 == 28:
            operands.append(struct.unpack_from(">h", d, i + 1)[0])
            i += 3
        elif b0 == 29:
            operands.append(struct.unpack_from(">i", d, i + 1)[0])
            i += 5
        elif b0 == 30:  # real number: keep it opaque
            j = i + 1
            while j < n:
                x = d[j]
                j += 1
                if (x & 0x0F) == 0x0F or (x >> 4) == 0x0F:
                    break
            operands.append(None)
            i = j
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + d[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - d[i + 1] - 108)
            i += 2
        else:
            raise CFFError(f"bad DICT byte {b0}")
    if operands:
        raise CFFError("DICT ends with operands")
    return out


def _int5(v: int) -> bytes:
    return b"\x1d" + struct.pack(">i", v)


def _op(op: object) -> bytes:
    return bytes(op) if isinstance(op, tuple) else bytes([op])


# ---------------------------------------------------------------- parsed font

@dataclass
class CIDFont:
    """A CID-keyed CFF subset as the merger needs it."""

    raw: bytes
    name_index: bytes
    top: list  # parsed Top DICT
    strings: list[bytes]
    cs: tuple[int, int, int, int]  # CharStrings INDEX (count, offSize, offsets_at, base)
    fd_dicts: list[list]  # parsed FD dicts
    privates: list[bytes]
    fdselect: tuple  # ("0", bytes) or ("3", firsts, fds)
    charset: object  # callable gid -> cid

    @property
    def glyph_count(self) -> int:
        return self.cs[0]

    def string(self, sid: int) -> str:
        if sid < N_STD_STRINGS:
            return f"#{sid}"
        i = sid - N_STD_STRINGS
        return self.strings[i].decode("latin-1") if i < len(self.strings) else f"?{sid}"

    def charstring(self, gid: int) -> bytes:
        return index_item(self.raw, *self.cs, gid)

    def fd_of(self, gid: int) -> int:
        if self.fdselect[0] == "0":
            return self.fdselect[1][gid]
        firsts, fds = self.fdselect[1], self.fdselect[2]
        k = bisect.bisect_right(firsts, gid) - 1
        if k < 0:
            raise CFFError("glyph before first FDSelect range")
        return fds[k]

    def identity(self) -> tuple:
        """What must be equal for two subsets to come from the same font program.

        Not the FD list: a subset keeps only the FDs its glyphs use. FDs are matched by name.
        """
        ros = next((v for op, v, _ in self.top if op == OP_ROS), None)
        ros_s = (self.string(ros[0]), self.string(ros[1]), ros[2]) if ros else None
        return (self.name_index, ros_s)

    def fd_key(self, fd_index: int) -> tuple[str, bytes]:
        """An FD as (FontName, Private DICT bytes): equal in every subset of one font."""
        cache = self.__dict__.setdefault("_fd_keys", {})
        if fd_index not in cache:
            fd = self.fd_dicts[fd_index]
            sid = next((v[0] for op, v, _ in fd if op == OP_FONTNAME), None)
            cache[fd_index] = (self.string(sid) if sid is not None else f"fd{fd_index}", self.privates[fd_index])
        return cache[fd_index]

    def fd_ops(self, fd_index: int) -> list:
        return self.fd_dicts[fd_index]


def _top_value(top: list, op: object) -> list | None:
    for o, v, _ in top:
        if o == op:
            return v
    return None


def parse_cid_cff(b: bytes) -> CIDFont:
    if len(b) < 4 or b[0] != 1:
        raise CFFError("not CFF version 1")
    pos = b[2]
    names, pos = index_items(b, pos)
    tops, pos = index_items(b, pos)
    strings, pos = index_items(b, pos)
    gsubr_count = read_index(b, pos)[0]
    if len(names) != 1 or len(tops) != 1:
        raise CFFError("font sets are not supported")
    if gsubr_count:
        raise CFFError("global subroutines present")
    top = parse_dict(tops[0])
    if _top_value(top, OP_ROS) is None:
        raise CFFError("not CID-keyed")
    if _top_value(top, OP_PRIVATE) is not None:
        raise CFFError("Top DICT Private in a CID font")
    cs_off = _top_value(top, OP_CHARSTRINGS)
    fda_off = _top_value(top, OP_FDARRAY)
    fds_off = _top_value(top, OP_FDSELECT)
    charset_off = _top_value(top, OP_CHARSET)
    if not (cs_off and fda_off and fds_off and charset_off):
        raise CFFError("missing CID tables")
    cs = read_index(b, cs_off[0])
    n = cs[0]
    fd_raw, _ = index_items(b, fda_off[0])
    fd_dicts, privates = [], []
    for raw in fd_raw:
        fd = parse_dict(raw)
        priv = _top_value(fd, OP_PRIVATE)
        if not priv or len(priv) != 2:
            raise CFFError("FD without Private")
        size, off = priv
        pdata = b[off:off + size]
        if len(pdata) != size:
            raise CFFError("Private past end")
        if _top_value(parse_dict(pdata), OP_SUBRS) is not None:
            raise CFFError("local subroutines present")
        fd_dicts.append(fd)
        privates.append(pdata)
    p = fds_off[0]
    fmt = b[p]
    if fmt == 0:
        fdselect: tuple = ("0", b[p + 1:p + 1 + n])
    elif fmt == 3:
        nr = struct.unpack_from(">H", b, p + 1)[0]
        firsts, fds = [], []
        for k in range(nr):
            first, fd = struct.unpack_from(">HB", b, p + 3 + 3 * k)
            firsts.append(first)
            fds.append(fd)
        fdselect = ("3", firsts, fds)
    else:
        raise CFFError(f"FDSelect format {fmt}")
    return CIDFont(raw=b, name_index=names[0], top=top, strings=strings, cs=cs, fd_dicts=fd_dicts,
                   privates=privates, fdselect=fdselect, charset=_charset_lookup(b, charset_off[0], n))


def _charset_lookup(b: bytes, p: int, n: int):
    fmt = b[p]
    if fmt == 0:
        def lookup0(gid: int) -> int:
            return 0 if gid == 0 else struct.unpack_from(">H", b, p + 1 + 2 * (gid - 1))[0]
        return lookup0
    if fmt not in (1, 2):
        raise CFFError(f"charset format {fmt}")
    firsts, gids = [], []
    q, gid = p + 1, 1
    step = 3 if fmt == 1 else 4
    while gid < n:
        first = struct.unpack_from(">H", b, q)[0]
        left = b[q + 2] if fmt == 1 else struct.unpack_from(">H", b, q + 2)[0]
        firsts.append(first)
        gids.append(gid)
        gid += left + 1
        q += step

    def lookup(g: int) -> int:
        if g == 0:
            return 0
        k = bisect.bisect_right(gids, g) - 1
        return firsts[k] + (g - gids[k])
    return lookup


def sfnt_table(data: bytes, tag: bytes) -> bytes:
    """A table of an OpenType font file."""
    if len(data) < 12:
        raise CFFError("not an sfnt")
    num = struct.unpack_from(">H", data, 4)[0]
    for k in range(num):
        t, _check, off, length = struct.unpack_from(">4sIII", data, 12 + 16 * k)
        if t == tag:
            if off + length > len(data):
                raise CFFError("table past end")
            return data[off:off + length]
    raise CFFError(f"no {tag!r} table")


# ---------------------------------------------------------------- writing the merged font

def build_cid_cff(base: CIDFont, glyphs: list[tuple[int, bytes, int]], fds: list[tuple[str, list, bytes]]) -> bytes:
    """A compact CID-keyed CFF: glyph i holds CID glyphs[i][0] (the code the pages use).

    ``glyphs`` is [(cid, charstring, index into fds)] sorted by cid, starting with CID 0
    (.notdef); ``fds`` is [(FontName, parsed FD DICT, Private DICT bytes)]. Name, strings and
    Top DICT values come from ``base``.
    """
    if not glyphs or glyphs[0][0] != 0:
        raise CFFError("glyph 0 must be .notdef")
    strings = list(base.strings)

    def sid(name: str) -> int:
        raw = name.encode("latin-1")
        if raw not in strings:
            strings.append(raw)
        return N_STD_STRINGS + strings.index(raw)

    fd_names = [sid(name) for name, _ops, _priv in fds]
    header = b"\x01\x00\x04\x04"
    name_index = build_index([base.name_index])
    string_index = build_index(strings)
    gsubrs = b"\x00\x00"
    charset = b"\x00" + b"".join(struct.pack(">H", cid) for cid, _, _ in glyphs[1:])
    fdselect = b"\x00" + bytes(fd for _, _, fd in glyphs)
    charstrings = build_index([cs for _, cs, _ in glyphs])
    privates = [priv for _name, _ops, priv in fds]

    def top_dict(charset_off: int, fds_off: int, cs_off: int, fda_off: int) -> bytes:
        out = bytearray()
        fixed = {OP_CHARSET: charset_off, OP_FDSELECT: fds_off, OP_CHARSTRINGS: cs_off, OP_FDARRAY: fda_off}
        ros = next(item for item in base.top if item[0] == OP_ROS)
        out += ros[2] + _op(OP_ROS)  # ROS must come first
        for op, _vals, raw in base.top:
            if op == OP_ROS or op in fixed:
                continue
            out += raw + _op(op)
        for op, v in fixed.items():
            out += _int5(v) + _op(op)
        return bytes(out)

    def fd_dicts(priv_offsets: list[int]) -> bytes:
        items = []
        for (_name, ops, priv), name_sid, off in zip(fds, fd_names, priv_offsets):
            out = bytearray()
            for op, _vals, raw in ops:
                if op in (OP_PRIVATE, OP_FONTNAME):
                    continue
                out += raw + _op(op)
            out += _int5(name_sid) + _op(OP_FONTNAME)
            out += _int5(len(priv)) + _int5(off) + _op(OP_PRIVATE)
            items.append(bytes(out))
        return build_index(items)

    # Offsets are written as 5-byte integers, so sizes do not depend on their values.
    top_len = len(build_index([top_dict(0, 0, 0, 0)]))
    pos = len(header) + len(name_index) + top_len + len(string_index) + len(gsubrs)
    charset_off = pos
    pos += len(charset)
    fds_off = pos
    pos += len(fdselect)
    cs_off = pos
    pos += len(charstrings)
    fda_off = pos
    pos += len(fd_dicts([0] * len(fds)))
    priv_offsets = []
    for priv in privates:
        priv_offsets.append(pos)
        pos += len(priv)
    top_index = build_index([top_dict(charset_off, fds_off, cs_off, fda_off)])
    assert len(top_index) == top_len
    out = b"".join([header, name_index, top_index, string_index, gsubrs, charset, fdselect, charstrings,
                    fd_dicts(priv_offsets), *privates])
    assert len(out) == pos
    return out
