"""Minimal HarfBuzz-subset and Fontconfig bindings used to prepare the letter fonts.

fontTools needs about a minute to cut a 7,000-glyph subset out of a 65,535-glyph CFF font;
HarfBuzz does it in a fraction of a second. WeasyPrint already requires libharfbuzz and
libharfbuzz-subset (Debian: libharfbuzz0b, libharfbuzz-subset0), and cffi comes with it.
Fontconfig is asked directly (not through the ``fc-list`` program, which may be absent).
"""
from __future__ import annotations

from collections.abc import Iterable

import cffi

_ffi = cffi.FFI()
_ffi.cdef("""
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_codepoint_t;
typedef uint32_t hb_tag_t;
hb_blob_t *hb_blob_create_from_file_or_fail(const char *file_name);
void hb_blob_destroy(hb_blob_t *blob);
const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
void hb_face_destroy(hb_face_t *face);
hb_blob_t *hb_face_reference_blob(hb_face_t *face);
hb_tag_t hb_tag_from_string(const char *str, int len);
void hb_set_add(hb_set_t *set, hb_codepoint_t codepoint);
void hb_set_clear(hb_set_t *set);
hb_subset_input_t *hb_subset_input_create_or_fail(void);
void hb_subset_input_destroy(hb_subset_input_t *input);
hb_set_t *hb_subset_input_unicode_set(hb_subset_input_t *input);
hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned value);
hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);

typedef struct hb_font_t hb_font_t;
typedef struct hb_draw_funcs_t hb_draw_funcs_t;
typedef struct {
  int path_open; float path_start_x; float path_start_y; float current_x; float current_y;
  int32_t reserved1; int32_t reserved2; int32_t reserved3; int32_t reserved4;
  int32_t reserved5; int32_t reserved6; int32_t reserved7;
} hb_draw_state_t;
typedef void (*hb_destroy_func_t)(void *user_data);
typedef void (*hb_draw_move_to_func_t)(hb_draw_funcs_t *, void *, hb_draw_state_t *,
                                       float, float, void *);
typedef void (*hb_draw_line_to_func_t)(hb_draw_funcs_t *, void *, hb_draw_state_t *,
                                       float, float, void *);
typedef void (*hb_draw_quadratic_to_func_t)(hb_draw_funcs_t *, void *, hb_draw_state_t *,
                                            float, float, float, float, void *);
typedef void (*hb_draw_cubic_to_func_t)(hb_draw_funcs_t *, void *, hb_draw_state_t *,
                                        float, float, float, float, float, float, void *);
typedef void (*hb_draw_close_path_func_t)(hb_draw_funcs_t *, void *, hb_draw_state_t *, void *);
hb_draw_funcs_t *hb_draw_funcs_create(void);
void hb_draw_funcs_destroy(hb_draw_funcs_t *dfuncs);
void hb_draw_funcs_set_move_to_func(hb_draw_funcs_t *, hb_draw_move_to_func_t, void *, hb_destroy_func_t);
void hb_draw_funcs_set_line_to_func(hb_draw_funcs_t *, hb_draw_line_to_func_t, void *, hb_destroy_func_t);
void hb_draw_funcs_set_quadratic_to_func(hb_draw_funcs_t *, hb_draw_quadratic_to_func_t, void *, hb_destroy_func_t);
void hb_draw_funcs_set_cubic_to_func(hb_draw_funcs_t *, hb_draw_cubic_to_func_t, void *, hb_destroy_func_t);
void hb_draw_funcs_set_close_path_func(hb_draw_funcs_t *, hb_draw_close_path_func_t, void *, hb_destroy_func_t);
hb_blob_t *hb_blob_create(const char *data, unsigned int length, int mode, void *user_data,
                          hb_destroy_func_t destroy);
hb_font_t *hb_font_create(hb_face_t *face);
void hb_font_destroy(hb_font_t *font);
void hb_font_set_scale(hb_font_t *font, int x_scale, int y_scale);
void hb_font_get_glyph_shape(hb_font_t *font, hb_codepoint_t glyph, hb_draw_funcs_t *dfuncs, void *draw_data);
void hb_font_draw_glyph(hb_font_t *font, hb_codepoint_t glyph, hb_draw_funcs_t *dfuncs, void *draw_data);

typedef struct _FcConfig FcConfig;
typedef struct _FcPattern FcPattern;
typedef struct _FcObjectSet FcObjectSet;
typedef struct _FcCharSet FcCharSet;
typedef struct _FcFontSet { int nfont; int sfont; FcPattern **fonts; } FcFontSet;
typedef unsigned char FcChar8;
typedef uint32_t FcChar32;
typedef int FcBool;
FcConfig *FcInitLoadConfigAndFonts(void);
FcPattern *FcPatternCreate(void);
void FcPatternDestroy(FcPattern *p);
FcBool FcPatternAddCharSet(FcPattern *p, const char *object, const FcCharSet *c);
int FcPatternGetString(const FcPattern *p, const char *object, int n, FcChar8 **s);
int FcPatternGetInteger(const FcPattern *p, const char *object, int n, int *i);
FcObjectSet *FcObjectSetCreate(void);
FcBool FcObjectSetAdd(FcObjectSet *os, const char *object);
void FcObjectSetDestroy(FcObjectSet *os);
FcFontSet *FcFontList(FcConfig *config, FcPattern *p, FcObjectSet *os);
void FcFontSetDestroy(FcFontSet *s);
FcCharSet *FcCharSetCreate(void);
FcBool FcCharSetAddChar(FcCharSet *fcs, FcChar32 ucs4);
void FcCharSetDestroy(FcCharSet *fcs);
""")

_SETS_DROP_TABLE_TAG = 3  # HB_SUBSET_SETS_DROP_TABLE_TAG
# Vertical and layout tables: letters are set horizontally and WeasyPrint drops GSUB/GPOS
# when it embeds a font anyway; keeping them would also drag vertical-form glyphs in.
_DROP = (b"GSUB", b"GPOS", b"BASE", b"JSTF", b"VORG", b"vhea", b"vmtx", b"DSIG", b"EBDT",
         b"EBLC", b"EBSC", b"LTSH", b"PCLT", b"hdmx", b"kern", b"morx", b"mort", b"SVG ")

_lib = None
_sub = None
_fc = None
_fc_config = None


def _libs():
    global _lib, _sub
    if _lib is None:
        _lib = _ffi.dlopen("libharfbuzz.so.0")
        _sub = _ffi.dlopen("libharfbuzz-subset.so.0")
    return _lib, _sub


class Face:
    """One face of a font file, kept open to cut several subsets from it."""

    def __init__(self, path: str, index: int = 0) -> None:
        lib, _ = _libs()
        self._blob = lib.hb_blob_create_from_file_or_fail(str(path).encode())
        if self._blob == _ffi.NULL:
            raise OSError(f"cannot read font file {path}")
        self._face = lib.hb_face_create(self._blob, index)

    def subset(self, unicodes: Iterable[int]) -> bytes:
        """A font with only the glyphs of ``unicodes`` (renumbered, subroutines kept)."""
        lib, sub = _libs()
        inp = sub.hb_subset_input_create_or_fail()
        if inp == _ffi.NULL:
            raise MemoryError("hb_subset_input_create_or_fail")
        try:
            uset = sub.hb_subset_input_unicode_set(inp)
            for cp in unicodes:
                lib.hb_set_add(uset, cp)
            drop = sub.hb_subset_input_set(inp, _SETS_DROP_TABLE_TAG)
            for tag in _DROP:
                lib.hb_set_add(drop, lib.hb_tag_from_string(tag, 4))
            sub.hb_subset_input_set_flags(inp, 0)
            out = sub.hb_subset_or_fail(self._face, inp)
            if out == _ffi.NULL:
                raise ValueError("HarfBuzz could not subset the font")
            try:
                blob = lib.hb_face_reference_blob(out)
                length = _ffi.new("unsigned int *")
                data = lib.hb_blob_get_data(blob, length)
                result = _ffi.unpack(data, length[0])
                lib.hb_blob_destroy(blob)
            finally:
                lib.hb_face_destroy(out)
        finally:
            sub.hb_subset_input_destroy(inp)
        return result

    def close(self) -> None:
        if self._face is not None:
            lib, _ = _libs()
            lib.hb_face_destroy(self._face)
            lib.hb_blob_destroy(self._blob)
            self._face = None

    def __enter__(self) -> Face:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_pen_box: list = [None]  # the pen receiving the current glyph's outline


@_ffi.callback("hb_draw_move_to_func_t")
def _move_to(dfuncs, data, st, x, y, user):
    _pen_box[0].moveTo((x, y))


@_ffi.callback("hb_draw_line_to_func_t")
def _line_to(dfuncs, data, st, x, y, user):
    _pen_box[0].lineTo((x, y))


@_ffi.callback("hb_draw_quadratic_to_func_t")
def _quadratic_to(dfuncs, data, st, cx, cy, x, y, user):
    _pen_box[0].qCurveTo((cx, cy), (x, y))


@_ffi.callback("hb_draw_cubic_to_func_t")
def _cubic_to(dfuncs, data, st, c1x, c1y, c2x, c2y, x, y, user):
    _pen_box[0].curveTo((c1x, c1y), (c2x, c2y), (x, y))


@_ffi.callback("hb_draw_close_path_func_t")
def _close_path(dfuncs, data, st, user):
    _pen_box[0].closePath()


class Outlines:
    """Draw the glyphs of an in-memory font into fontTools pens, at a chosen em size.

    Much faster than fontTools' Python CFF interpreter for thousands of glyphs.
    """

    def __init__(self, data: bytes, scale: int) -> None:
        lib, _ = _libs()
        self._data = _ffi.from_buffer(data)  # keeps the bytes alive while HarfBuzz reads them
        self._blob = lib.hb_blob_create(self._data, len(data), 1, _ffi.NULL, _ffi.NULL)
        self._face = lib.hb_face_create(self._blob, 0)
        self._font = lib.hb_font_create(self._face)
        lib.hb_font_set_scale(self._font, scale, scale)
        self._funcs = lib.hb_draw_funcs_create()
        lib.hb_draw_funcs_set_move_to_func(self._funcs, _move_to, _ffi.NULL, _ffi.NULL)
        lib.hb_draw_funcs_set_line_to_func(self._funcs, _line_to, _ffi.NULL, _ffi.NULL)
        lib.hb_draw_funcs_set_quadratic_to_func(self._funcs, _quadratic_to, _ffi.NULL, _ffi.NULL)
        lib.hb_draw_funcs_set_cubic_to_func(self._funcs, _cubic_to, _ffi.NULL, _ffi.NULL)
        lib.hb_draw_funcs_set_close_path_func(self._funcs, _close_path, _ffi.NULL, _ffi.NULL)
        try:
            self._draw = lib.hb_font_draw_glyph  # HarfBuzz >= 7
        except AttributeError:
            self._draw = lib.hb_font_get_glyph_shape  # HarfBuzz 4-6 (Debian 12)

    def draw(self, gid: int, pen) -> None:
        _pen_box[0] = pen
        try:
            self._draw(self._font, gid, self._funcs, _ffi.NULL)
        finally:
            _pen_box[0] = None

    def close(self) -> None:
        lib, _ = _libs()
        if self._font is not None:
            lib.hb_draw_funcs_destroy(self._funcs)
            lib.hb_font_destroy(self._font)
            lib.hb_face_destroy(self._face)
            lib.hb_blob_destroy(self._blob)
            self._font = None


def _fontconfig():
    global _fc, _fc_config
    if _fc is None:
        _fc = _ffi.dlopen("libfontconfig.so.1")
        _fc_config = _fc.FcInitLoadConfigAndFonts()
    return _fc, _fc_config


def _font_list(pattern_charset: int | None = None) -> list[dict]:
    fc, config = _fontconfig()
    pattern = fc.FcPatternCreate()
    charset = _ffi.NULL
    if pattern_charset is not None:
        charset = fc.FcCharSetCreate()
        fc.FcCharSetAddChar(charset, pattern_charset)
        fc.FcPatternAddCharSet(pattern, b"charset", charset)
    objects = fc.FcObjectSetCreate()
    for name in (b"file", b"index", b"family", b"style", b"weight"):
        fc.FcObjectSetAdd(objects, name)
    found = fc.FcFontList(config, pattern, objects)
    result = []
    try:
        string = _ffi.new("FcChar8 **")
        number = _ffi.new("int *")
        for i in range(found.nfont):
            p = found.fonts[i]
            entry = {"file": None, "index": 0, "families": [], "styles": [], "weight": 80}
            if fc.FcPatternGetString(p, b"file", 0, string) == 0:
                entry["file"] = _ffi.string(string[0]).decode("utf-8", "replace")
            if fc.FcPatternGetInteger(p, b"index", 0, number) == 0:
                entry["index"] = number[0]
            if fc.FcPatternGetInteger(p, b"weight", 0, number) == 0:
                entry["weight"] = number[0]
            for key, out in ((b"family", entry["families"]), (b"style", entry["styles"])):
                n = 0
                while fc.FcPatternGetString(p, key, n, string) == 0:
                    out.append(_ffi.string(string[0]).decode("utf-8", "replace"))
                    n += 1
            if entry["file"]:
                result.append(entry)
    finally:
        fc.FcFontSetDestroy(found)
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(pattern)
        if charset != _ffi.NULL:
            fc.FcCharSetDestroy(charset)
    return result


def system_fonts() -> list[dict]:
    """Every font face Fontconfig knows: file, index, families, styles, weight."""
    return _font_list()


def system_fonts_covering(codepoint: int) -> list[dict]:
    """The installed faces that have a glyph for ``codepoint``."""
    return _font_list(codepoint)
