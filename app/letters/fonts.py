"""Fonts for the letters: a role → font map with fallback chains, prepared once for speed.

Roles follow GB/T 9704 (handbook §5, §8.9): ``fangsong`` (body), ``xiaobiaosong`` (title),
``hei`` (headings "一、", the draft mark), ``kai`` (headings "（一）"), ``song`` (page numbers).
Each role has a chain of fonts, tried in order: an agency that installs 仿宋_GB2312 or
方正小标宋 gets them by naming them (family name, or a file path, ``/path/font.ttc#2`` for a
face of a collection); the chain always ends with the free fonts Debian ships.

Why fonts are "prepared": WeasyPrint subsets every font it embeds and keeps glyph ids, so a
letter set directly in Noto Serif CJK (65,535 glyphs, CFF) costs ~120 ms of CPU and 165 KiB.
We therefore cut each chain into small fonts, stored under ``instance/fonts/<key>/`` (key =
content hash of the source fonts + settings + PREP_VERSION), built once per machine:

* *core* fonts per role: GB2312 level 1 with common punctuation, and level 2 apart, converted
  to TrueType (empty retained glyphs cost almost nothing there) at a coarser em (256 units;
  0.02 mm at 16 pt) with the glyphs letters use most first (low glyph ids);
* *extension* slices of at most ``chunk_size`` characters for the rest of the body font's
  repertoire (all of Noto's 44,000+ characters), used only by letters that need them;
* ``OGI Rare`` slices from the rare-character fonts (default: HanaMinA/B from Debian's
  fonts-hanazono, CJK Extensions B–F) for what the body fonts lack.

Each prepared file has a family name of its own and the CSS lists them in order (WeasyPrint
merges faces that share a family into one embedded font, which prints wrong glyphs). The
files are registered with the Fontconfig configuration WeasyPrint uses (see ``render.py``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from ..config import ROOT, Config

log = logging.getLogger(__name__)

PREP_VERSION = 7  # bump when the preparation output changes

ROLES = ("fangsong", "xiaobiaosong", "hei", "kai", "song")
ROLE_LABELS = {"fangsong": "仿宋", "xiaobiaosong": "小标宋", "hei": "黑体", "kai": "楷体", "song": "宋体"}
FAMILY_NAMES = {"fangsong": "OGI FangSong", "xiaobiaosong": "OGI XiaoBiaoSong", "hei": "OGI Hei",
                "kai": "OGI Kai", "song": "OGI Song"}
RARE_FAMILY = "OGI Rare"

# Proprietary names first: installing the font is enough to get it. The free Debian font
# closing each chain is what a fresh machine uses (handbook §8.9).
DEFAULT_FONT_MAP: dict[str, tuple[str, ...]] = {
    "fangsong": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "cwTeXFangSong", "Noto Serif CJK SC"),
    "xiaobiaosong": ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05",
                     "Noto Serif CJK SC:style=Bold"),
    "hei": ("黑体", "SimHei", "Noto Sans CJK SC"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "AR PL UKai CN"),
    "song": ("宋体", "SimSun", "Noto Serif CJK SC"),
}
# A body face the agency did not name is used only if it has every GB2312 level-1 character
# (the 3,755 of ordinary wording): a partial face would set a third of the text in the fallback
# font. Debian's cwTeXFangSong is such a face (a traditional-character FangSong: 2,552 of 3,755,
# without 国 请 书 关 开 条 费 议…), so a fresh machine keeps Noto Serif CJK. A face named in the
# font map is used as named, with per-glyph fallback to the rest of the chain.
BODY_MIN_COVERAGE = 1.0

# Fonts of last resort for characters outside every role's fonts (CJK Ext B–F and more).
DEFAULT_RARE: tuple[str, ...] = ("HanaMinA", "HanaMinB")

_PROBE = "中华人民共和国政府信息公开申请答复书"  # a usable CJK body font covers all of these


class FontError(Exception):
    """The fonts cannot print a letter correctly (no CJK font, a missing glyph...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FontSettings:
    font_map: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FONT_MAP))
    named: frozenset[str] = frozenset()  # specs the agency configured (used even when partial)
    rare: tuple[str, ...] = DEFAULT_RARE
    cache_dir: Path = ROOT / "instance" / "fonts"
    core_upem: int = 256  # 0 = keep the source's em
    chunk_size: int = 2000


_settings = FontSettings()
_lock = threading.RLock()
_prepared: PreparedFonts | None = None


def configure_fonts(font_map: Mapping[str, Sequence[str] | str] | None = None, *,
                    rare: Sequence[str] | None = None, cache_dir: str | Path | None = None,
                    core_upem: int | None = None, chunk_size: int | None = None) -> FontSettings:
    """Set the font map (role → font names or file paths, most preferred first).

    Configured fonts go in front of the role's default chain; the free defaults stay at the
    end so every character can still print. Takes effect at the next render.
    """
    global _settings, _prepared
    merged = dict(DEFAULT_FONT_MAP)
    named: set[str] = set()
    for role, specs in (font_map or {}).items():
        if role not in ROLES:
            raise FontError(f"未知的字体角色：{role}（可用：{'、'.join(ROLES)}）")
        specs = (specs,) if isinstance(specs, str) else tuple(specs)
        named.update(specs)
        merged[role] = tuple(dict.fromkeys(specs + DEFAULT_FONT_MAP[role]))
    with _lock:
        _settings = FontSettings(
            font_map=merged,
            named=frozenset(named),
            rare=tuple(rare) if rare is not None else _settings.rare,
            cache_dir=Path(cache_dir) if cache_dir else _settings.cache_dir,
            core_upem=_settings.core_upem if core_upem is None else core_upem,
            chunk_size=chunk_size or _settings.chunk_size,
        )
        _prepared = None
    return _settings


def cache_dir() -> Path:
    """Where prepared fonts are kept (PDF rendering may load font files from here)."""
    return _settings.cache_dir


def _settings_from_env() -> None:
    """OGI_LETTER_FONTS='{"fangsong": ["仿宋_GB2312"]}' and OGI_FONT_CACHE (declared in Config), read
    once at import: the letter sandbox renders without an app."""
    raw = Config.OGI_LETTER_FONTS
    cache = Config.OGI_FONT_CACHE
    if raw or cache:
        try:
            font_map = json.loads(raw) if raw else None
        except ValueError as exc:
            raise FontError(f"环境变量 OGI_LETTER_FONTS 不是有效的 JSON：{exc}") from None
        configure_fonts(font_map, cache_dir=cache)


_settings_from_env()


# --- resolving names to font files -------------------------------------------------------

@dataclass(frozen=True)
class SourceFont:
    spec: str
    path: str
    index: int
    family: str


def _parse_spec(spec: str) -> tuple[str, str | None]:
    family, _, rest = spec.partition(":")
    style = None
    if rest.startswith("style="):
        style = rest[len("style="):]
    return family.strip(), style


def resolve(spec: str, installed: list[dict] | None = None) -> SourceFont | None:
    """Find the font file for a name ("Noto Serif CJK SC", "…:style=Bold") or a path."""
    if "/" in spec or spec.lower().endswith((".ttf", ".otf", ".ttc", ".otc")):
        path, _, index = spec.partition("#")
        if not Path(path).is_file():
            return None
        return SourceFont(spec, os.path.realpath(path), int(index or 0), Path(path).stem)
    from . import _native

    family, style = _parse_spec(spec)
    installed = _native.system_fonts() if installed is None else installed
    candidates = [f for f in installed
                  if any(n.casefold() == family.casefold() for n in f["families"])
                  and not any(n.startswith("OGI ") for n in f["families"])]
    if style:
        candidates = [f for f in candidates if any(s.casefold() == style.casefold() for s in f["styles"])]
        candidates.sort(key=lambda f: 0 if f["styles"] and f["styles"][0].casefold() == style.casefold() else 1)
    else:
        candidates.sort(key=lambda f: abs(f["weight"] - 80))  # 80 = Fontconfig "regular"
    if not candidates:
        return None
    best = candidates[0]
    return SourceFont(spec, os.path.realpath(best["file"]), best["index"], best["families"][0])


def resolve_chain(specs: Iterable[str], installed: list[dict]) -> list[SourceFont]:
    chain: list[SourceFont] = []
    for spec in specs:
        found = resolve(spec, installed)
        if found and (found.path, found.index) not in {(s.path, s.index) for s in chain}:
            chain.append(found)
    return chain


def body_chain(settings: FontSettings, installed: list[dict]) -> list[SourceFont]:
    """The body (仿宋) chain: named faces as given, default candidates only when complete enough
    (BODY_MIN_COVERAGE of GB2312 level 1), so the body never mixes faces every few characters."""
    chain = resolve_chain(settings.font_map.get("fangsong", ()), installed)
    # The last face is the fallback for everything: kept whatever it covers.
    return [s for s in chain[:-1]
            if s.spec in settings.named or gb2312_level1_coverage(s) >= BODY_MIN_COVERAGE] + chain[-1:]


def gb2312_level1_coverage(source: SourceFont) -> float:
    """Share of the 3,755 GB2312 level-1 characters the face has."""
    level1 = _level1()
    return len(level1 & _cmap(source.path, source.index)) / len(level1)


_level1_cache: frozenset[int] | None = None


def _level1() -> frozenset[int]:
    global _level1_cache
    if _level1_cache is None:
        _level1_cache = frozenset(cp for cp in core_codepoints() if _gb2312_level(cp) == 1)
    return _level1_cache


def _cmap(path: str, index: int) -> set[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        return set(font.getBestCmap() or {})
    finally:
        font.close()


def check_fonts(settings: FontSettings | None = None) -> dict[str, list[SourceFont]]:
    """Resolve every role's chain; FontError (in Chinese) when no usable CJK body font exists.

    Cheap enough to call at application start-up.
    """
    from . import _native

    settings = settings or _settings
    installed = _native.system_fonts()
    chains = {role: resolve_chain(settings.font_map.get(role, ()), installed) for role in ROLES}
    chains["fangsong"] = body_chain(settings, installed)
    _check_body(chains["fangsong"])
    return chains


def _check_body(chain: list[SourceFont]) -> None:
    covered: set[int] = set()
    for source in chain:
        covered |= {ord(c) for c in _PROBE} & _cmap(source.path, source.index)
    missing = [c for c in _PROBE if ord(c) not in covered]
    if missing:
        raise FontError(
            "未找到可用的中文字体，无法生成文书（缺少“" + "".join(missing[:6]) + "”等字的字形）。"
            "请安装 Debian 软件包 fonts-noto-cjk，或在字体配置中为“仿宋”角色指定字体名称或字体文件路径。")


# --- the core repertoire -------------------------------------------------------------------

def core_codepoints() -> frozenset[int]:
    """GB2312 (7,445 characters: what almost every letter uses) plus common punctuation."""
    cps: set[int] = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for lo, hi in ((0x2010, 0x2027), (0x2030, 0x203B), (0x2103, 0x2103), (0x2116, 0x2116),
                   (0x2160, 0x216B), (0x2460, 0x2473), (0x2474, 0x2487), (0x3000, 0x303F),
                   (0xFF01, 0xFF5E), (0xFFE0, 0xFFE5)):
        cps.update(range(lo, hi + 1))
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                cps.add(ord(bytes((first, second)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return frozenset(cps)


# Glyph order of the core fonts: what letters use most comes first. WeasyPrint keeps glyph
# ids when it subsets, so a letter whose characters all sit low in the font embeds (and
# compresses, and subsets) far less than one reaching glyph 7,000. The order only affects
# speed, never which characters print.
_FIRST = (
    "，。、；：？！“”‘’（）《》〔〕【】—…·％－　"
    # characters of the letter templates, most used first
    "，的。请公关机开申本信息政：定府理不于规出经据提根收意作内查到为法第三书行以正复见予记号"
    "答日已由容期方知十求人对处属条可告取前明审该同征式获登编将供面合决补或工二能确向依单位有者"
    "自未在限后认及个系现费过分送下制起是当缴发录部更达贵共逾益成重章您应实联办之视需计且说无管"
    "通次纳程事所国秘密并与权和算如造签年月放弃范围要形职等核证按材料涉家商其一四利大影响名函再"
    "负责延量另存进中诉相律安全稿受文宋列项反业隐私他注款悉拟盖损害附照五即构长件用数频显超但迟"
    "询途径保加析检索质履此报身准会代印草电话协助馈宜时间届满填写否交就因金额民币元预最情况上述"
    "主动仍了找新具特阅含够区访投举渠道映版物足转禁止危济社稳勤流务讨论磋示性执案卷类专门称地址"
    "备得外生市县省镇乡街村路号楼室局厅委办院所站队科处镇市区县"
    # remedy paragraphs and typical request/answer wording
    "例讼诉议复源河批旧湖屋排汇鉴网份缺邮寄七载财栏互双适符误户居细簿档均码纸页幢暂逐修庭"
    "零典束测块错允操继承础救留删竣验描税携配层织乱热待尚终笔障志店购买馆征拆迁补偿宅基耕"
    "土资源环境污染排放监测预算决算审批许可备案登记统计调查项目资金合同招投标采购施工竣工"
    # the most frequent characters of modern Chinese
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年"
    "过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心"
    "她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间"
    "由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给"
    "世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变"
    "四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社"
    "便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北"
    "边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济"
    "车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团"
    "集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考"
    "落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敢致村足护谁罪效"
    "张王李赵刘陈杨黄吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏"
    "苏吕丁任沈姚卢傅钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚"
    "邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪辛柯庄伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
)


def _gb2312_level(codepoint: int) -> int:
    """1 or 2 for GB2312 hanzi levels (一级字/二级字), 0 for other GB2312 characters, -1 outside."""
    try:
        first = chr(codepoint).encode("gb2312")[0]
    except UnicodeEncodeError:
        return -1
    if first >= 0xD8:
        return 2
    return 1 if first >= 0xB0 else 0


def _priority(codepoint: int, rank: dict[int, int]) -> tuple[int, int]:
    if codepoint in rank:
        return (0, rank[codepoint])
    if codepoint < 0x100:
        return (1, codepoint)
    return ({0: 2, 1: 3, 2: 4}.get(_gb2312_level(codepoint), 5), codepoint)


# --- preparing -----------------------------------------------------------------------------

def _file_hash(path: str, memo: dict) -> str:
    st = os.stat(path)
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    if key not in memo:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        memo[key] = digest.hexdigest()
    return memo[key]


def _rename(font, family: str) -> None:
    """Give a prepared font its OGI family name, as a plain Regular face."""
    from fontTools.ttLib import newTable

    ps = family.replace(" ", "")
    name = newTable("name")
    name.names = []
    for name_id, text in ((1, family), (2, "Regular"), (3, f"{ps}-Regular;ogidesk"),
                          (4, family), (5, "Version 1.0"), (6, f"{ps}-Regular")):
        name.setName(text, name_id, 3, 1, 0x409)
    font["name"] = name
    if "OS/2" in font:
        os2 = font["OS/2"]
        os2.usWeightClass = 400
        os2.fsSelection = (os2.fsSelection & ~0b1100001) | 0b1000000  # REGULAR, not bold/italic
    font["head"].macStyle = 0


def _cff_to_glyf(font, data: bytes, upem: int) -> None:
    """Convert CFF outlines to TrueType ones at ``upem`` units per em.

    Scaling happens while drawing (one pass), then only the metric tables are rescaled.
    Quadratic approximation error: at most 0.5 unit (0.03 pt at 16 pt).
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable
    from fontTools.ttLib.scaleUpem import scale_upem

    from ..pdf.subset import Outlines

    source_upem = font["head"].unitsPerEm
    upem = upem if upem and upem < source_upem else source_upem
    order = font.getGlyphOrder()
    glyphs = {}
    outlines = Outlines(data, upem)
    for gid, name in enumerate(order):
        pen = TTGlyphPen(None)
        outlines.draw(gid, Cu2QuPen(pen, 0.5))
        glyphs[name] = pen.glyph()
    factor = upem / source_upem
    # Most used characters first (see _FIRST); .notdef stays glyph 0.
    rank: dict[int, int] = {}
    for ch in _FIRST:
        rank.setdefault(ord(ch), len(rank))
    first_cp: dict[str, int] = {}
    for cp, name in sorted(font.getBestCmap().items()):
        first_cp.setdefault(name, cp)
    new_order = [order[0]] + sorted(order[1:], key=lambda n: _priority(first_cp.get(n, 0x10FFFF), rank))
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    if factor != 1:
        scale_upem(font, upem)  # metric tables only: the outlines are gone for now
    font.setGlyphOrder(new_order)
    order = new_order
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.numGlyphs = len(order)
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        glyph.recalcBounds(glyf)
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))
    font.sfntVersion = "\x00\x01\x00\x00"


def _finish(data: bytes, family: str, *, core: bool, upem: int) -> bytes:
    from fontTools.ttLib import TTFont

    font = TTFont(BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
    if core and "CFF " in font:
        font.recalcBBoxes = True  # the new glyf table needs its bounding boxes
        _cff_to_glyf(font, data, upem)
    _rename(font, family)
    out = BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass
class PreparedFonts:
    """The prepared font files and what they cover."""

    directory: Path
    files: list[Path]
    role_families: dict[str, list[str]]  # CSS font-family chain per role
    sources: dict[str, list[str]]  # role → "family (file#index)" actually used
    ranges: list[tuple[int, int]]  # code points the prepared fonts cover, as ranges
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [lo for lo, _ in self.ranges]

    def covers(self, codepoint: int) -> bool:
        from bisect import bisect_right

        i = bisect_right(self._starts, codepoint) - 1
        return i >= 0 and self.ranges[i][0] <= codepoint <= self.ranges[i][1]

    def css_family(self, role: str, fallback: str = "serif") -> str:
        """The CSS font-family value for a role: every prepared face in order, then generic."""
        return ", ".join([f'"{name}"' for name in self.role_families[role]] + [fallback])


def _to_ranges(cps: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in sorted(cps):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def _plan(settings: FontSettings) -> dict:
    """What to build: resolved chains and the cache key (content hashes + settings)."""
    from . import _native

    installed = _native.system_fonts()
    chains = {role: resolve_chain(settings.font_map.get(role, ()), installed) for role in ROLES}
    chains["fangsong"] = body_chain(settings, installed)
    rare = resolve_chain(settings.rare, installed)
    if not chains["fangsong"]:
        _check_body([])  # raises the "no CJK font" error
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    memo_path = settings.cache_dir / "file-hashes.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    ident = {
        "version": PREP_VERSION, "upem": settings.core_upem, "chunk": settings.chunk_size,
        "chains": {role: [(_file_hash(s.path, memo), s.index) for s in chain]
                   for role, chain in chains.items()},
        "rare": [(_file_hash(s.path, memo), s.index) for s in rare],
    }
    try:
        tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_path)
    except OSError:
        pass
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20]
    return {"chains": chains, "rare": rare, "key": key}


def _run_job(job: dict) -> None:
    """Cut one prepared font out of its source and write it (runs in a worker process)."""
    from ..pdf.subset import subset_font

    data = subset_font(job["source"], job["index"], job["chars"])
    data = _finish(data, job["family"], core=job["core"], upem=job["upem"])
    Path(job["target"]).write_bytes(data)


def _build(settings: FontSettings, plan: dict, target: Path) -> None:
    core = core_codepoints()
    chains: dict[str, list[SourceFont]] = plan["chains"]
    cmaps: dict[tuple[str, int], set[int]] = {}

    def cmap(source: SourceFont) -> set[int]:
        k = (source.path, source.index)
        if k not in cmaps:
            cmaps[k] = _cmap(source.path, source.index)
        return cmaps[k]

    jobs: list[dict] = []
    files: list[dict] = []

    # Every prepared file gets a family name of its own: WeasyPrint identifies an embedded
    # font by its Pango description (family, weight, style), so two files sharing a family
    # would be embedded as one and print wrong glyphs. The CSS lists them in order instead.
    def add(family: str, source: SourceFont, chars: list[int], is_core: bool) -> str:
        name = family.replace(" ", "") + (".ttf" if is_core else ".font")
        jobs.append({"target": str(target / name), "family": family, "source": source.path,
                     "index": source.index, "chars": chars, "core": is_core,
                     "upem": settings.core_upem})
        files.append({"file": name, "family": family, "chars": len(chars)})
        return family

    def build_group(base: str, chain: list[SourceFont], full: bool) -> tuple[list[str], set[int]]:
        """Core (and, if ``full``, extension) fonts for a chain; earlier fonts win."""
        covered: set[int] = set()
        cores: list[str] = []
        exts: list[str] = []
        for n, source in enumerate(chain):
            new = cmap(source) - covered
            covered |= new
            core_part = sorted(new & core)
            ext_part = sorted(new - core) if full else []
            # GB2312 level 2 (3,008 rarer characters) in a second core font: a letter that
            # needs none of them subsets and copies a font 40 % smaller.
            level2 = [cp for cp in core_part if _gb2312_level(cp) == 2]
            level1 = [cp for cp in core_part if _gb2312_level(cp) != 2]
            name = base if n == 0 else f"{base} C{n}"
            if level1:
                cores.append(add(name, source, level1, True))
            if level2:
                cores.append(add(f"{name} L2", source, level2, True))
            for i in range(0, len(ext_part), settings.chunk_size):
                exts.append(add(f"{base} E{n}-{i // settings.chunk_size:02d}", source,
                                ext_part[i:i + settings.chunk_size], False))
        if not full:
            covered &= core
        return cores + exts, covered

    # The body role carries the applicant's data: its whole chain is prepared. The other
    # roles print fixed wording; they get their core and fall back to the body fonts.
    body_families, body_cover = build_group(FAMILY_NAMES["fangsong"], chains["fangsong"], full=True)
    all_cover = set(body_cover)
    body_sig = tuple((s.path, s.index) for s in chains["fangsong"])
    groups: dict[tuple, list[str]] = {}
    role_families: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for role in ROLES:
        chain = chains[role]
        sig = tuple((s.path, s.index) for s in chain)
        if role == "fangsong" or not chain or sig == body_sig:
            own: list[str] = []
        elif sig in groups:
            own = groups[sig]
        else:
            own, cover = build_group(FAMILY_NAMES[role], chain, full=False)
            groups[sig] = own
            all_cover |= cover
        role_families[role] = own + body_families
        sources[role] = [f"{s.family} ({s.path}#{s.index})" for s in (chain or chains["fangsong"])]

    # Rare characters: whatever the rare fonts have that the body fonts lack.
    rare_chain: list[SourceFont] = plan["rare"]
    if rare_chain:
        rare_families: list[str] = []
        covered = set(body_cover)
        for n, source in enumerate(rare_chain):
            new = sorted(cmap(source) - covered)
            covered.update(new)
            all_cover.update(new)
            for i in range(0, len(new), settings.chunk_size):
                rare_families.append(add(f"{RARE_FAMILY} {n}-{i // settings.chunk_size:02d}", source,
                                         new[i:i + settings.chunk_size], False))
        for role in ROLES:
            role_families[role] += rare_families
        sources["rare"] = [f"{s.family} ({s.path}#{s.index})" for s in rare_chain]

    # Converting a core font to TrueType is the slow part (~9 s of CPU each): use every core.
    heavy = [job for job in jobs if job["core"]]
    light = [job for job in jobs if not job["core"]]
    workers = min(len(heavy), os.cpu_count() or 1)
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending = [pool.submit(_run_job, job) for job in heavy]
            for job in light:
                _run_job(job)
            for future in pending:
                future.result()
    else:
        for job in heavy + light:
            _run_job(job)

    manifest = {
        "version": PREP_VERSION, "key": plan["key"], "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "files": files, "role_families": role_families, "sources": sources,
        "ranges": _to_ranges(all_cover),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))


def _remove_outdated(cache_dir: Path) -> None:
    """Delete prepared sets built by an older version of this module (tens of MB each)."""
    for manifest in cache_dir.glob("*/manifest.json"):
        try:
            version = json.loads(manifest.read_text()).get("version")
        except (OSError, ValueError):
            continue
        if version != PREP_VERSION:
            shutil.rmtree(manifest.parent, ignore_errors=True)


def _load(directory: Path) -> PreparedFonts:
    manifest = json.loads((directory / "manifest.json").read_text())
    return PreparedFonts(
        directory=directory,
        files=[directory / f["file"] for f in manifest["files"]],
        role_families={k: list(v) for k, v in manifest["role_families"].items()},
        sources=manifest["sources"],
        ranges=[tuple(r) for r in manifest["ranges"]],
    )


def prepare_fonts(settings: FontSettings | None = None, *, force: bool = False) -> PreparedFonts:
    """Build (once) or load the prepared fonts for the current font map.

    The first call on a machine takes a few tens of seconds (it reads ~100 MB of fonts and
    converts the core fonts); later calls and later processes load the cached result.
    """
    global _prepared
    with _lock:
        if settings is None and _prepared is not None and not force:
            return _prepared
        settings = settings or _settings
        plan = _plan(settings)
        target = settings.cache_dir / plan["key"]
        if force and target.exists():
            shutil.rmtree(target, ignore_errors=True)
        if not (target / "manifest.json").exists():
            _check_body(plan["chains"]["fangsong"])  # a clear error rather than boxes
            started = time.perf_counter()
            tmp = settings.cache_dir / f".build-{plan['key']}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                _build(settings, plan, tmp)
                try:
                    os.rename(tmp, target)
                except OSError:  # another process finished first: use its result
                    shutil.rmtree(tmp, ignore_errors=True)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            log.info("letter fonts prepared in %.1f s: %s", time.perf_counter() - started, target)
            _remove_outdated(settings.cache_dir)
        prepared = _load(target)
        if settings is _settings:
            _prepared = prepared
        return prepared


def missing_glyphs(text: str, prepared: PreparedFonts | None = None) -> list[str]:
    """Characters of ``text`` that no prepared font and no installed font can print."""
    prepared = prepared or prepare_fonts()
    missing = []
    for ch in dict.fromkeys(text):
        cp = ord(ch)
        if cp < 0x20 or ch.isspace() or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
            continue  # controls, spaces and variation selectors need no glyph
        if prepared.covers(cp):
            continue
        if not _system_covers(cp):
            missing.append(ch)
    return missing


_system_cover_cache: dict[int, bool] = {}


def _system_covers(codepoint: int) -> bool:
    from . import _native

    if codepoint not in _system_cover_cache:
        _system_cover_cache[codepoint] = bool(_native.system_fonts_covering(codepoint))
    return _system_cover_cache[codepoint]
