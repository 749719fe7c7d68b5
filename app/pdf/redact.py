"""Interface placeholder: the engine lands from branch redact-engine (replaced on merge)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass(frozen=True)
class Box:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class PageInfo:
    width: float
    height: float
    has_text: bool


@dataclass(frozen=True)
class Hit:
    page: int
    boxes: tuple[Box, ...]
    text: str
    kind: str = "search"
    label: str = ""


@dataclass
class Released:
    pdf: bytes
    pages: int
    redacted_pages: list[int]


def inspect(pdf: bytes) -> list[PageInfo]:
    raise NotImplementedError


def render_page(pdf: bytes, page: int, width_px: int) -> bytes:
    raise NotImplementedError


def find_text(pdf: bytes, needle: str, *, limit: int = 500) -> list[Hit]:
    raise NotImplementedError


def find_personal_data(pdf: bytes) -> list[Hit]:
    raise NotImplementedError


def release(documents: Sequence[tuple[bytes, Sequence[Box]]], stamp: bytes | None = None,
            progress: Callable[[int, int], None] | None = None, dpi: int = 300) -> Released:
    raise NotImplementedError
