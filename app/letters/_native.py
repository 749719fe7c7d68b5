"""Fontconfig bindings (cffi): which font files are installed, and which cover a character.

Fontconfig is asked directly, not through the ``fc-list`` program (which may be absent); no
maintained Python library covers font listing with a charset query. WeasyPrint already
requires libfontconfig, and cffi comes with it. Subsetting and outline drawing are in
app/pdf/subset.py (uharfbuzz).
"""
from __future__ import annotations

import cffi

_ffi = cffi.FFI()
_ffi.cdef("""
typedef uint32_t FcChar32;
typedef struct _FcConfig FcConfig;
typedef struct _FcPattern FcPattern;
typedef struct _FcObjectSet FcObjectSet;
typedef struct _FcCharSet FcCharSet;
typedef struct _FcFontSet { int nfont; int sfont; FcPattern **fonts; } FcFontSet;
typedef unsigned char FcChar8;
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

_fc = None
_fc_config = None


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
