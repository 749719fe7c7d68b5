"""Parsing of untrusted input (form fields or JSON) into typed values with Chinese messages."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping

from .errors import ServiceError

# NUL and other C0 controls (tabs and line breaks allowed) and lone surrogates cannot be stored.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class Params:
    def __init__(self, raw: Mapping[str, Any] | None) -> None:
        self.raw = dict(raw or {})

    def _get(self, name: str):
        v = self.raw.get(name)
        if isinstance(v, str):
            v = v.strip()
        return None if v in ("", None) else v

    def text(self, name: str, label: str, *, required: bool = False, max_len: int = 2000, default: str = "") -> str:
        v = self._get(name)
        if v is None:
            if required:
                raise ServiceError(f"请填写{label}", name)
            return default
        if not isinstance(v, str):
            raise ServiceError(f"{label}应为文字", name)
        if _BAD_CHARS.search(v):
            raise ServiceError(f"{label}含有无法保存的控制字符", name)
        if len(v) > max_len:
            raise ServiceError(f"{label}不能超过{max_len}字", name)
        return v

    def date(self, name: str, label: str, *, required: bool = False, default: date | None = None) -> date | None:
        v = self._get(name)
        if v is None:
            if required and default is None:
                raise ServiceError(f"请填写{label}", name)
            return default
        if isinstance(v, date):
            return v
        try:
            d = date.fromisoformat(str(v))
        except ValueError:
            raise ServiceError(f"{label}格式应为 YYYY-MM-DD，例如 2026-11-22", name) from None
        if not 2000 <= d.year <= 2100:
            raise ServiceError(f"{label}超出合理范围", name)
        return d

    def integer(self, name: str, label: str, *, required: bool = False, default: int | None = None,
                lo: int | None = None, hi: int | None = None) -> int | None:
        v = self._get(name)
        if v is None:
            if required:
                raise ServiceError(f"请填写{label}", name)
            return default
        if isinstance(v, bool):
            raise ServiceError(f"{label}应为整数", name)
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ServiceError(f"{label}应为整数", name) from None
        if not -2**31 < n < 2**31:  # database integers are 32-bit
            raise ServiceError(f"{label}超出范围", name)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise ServiceError(f"{label}应在{lo}至{hi}之间", name)
        return n

    def choice(self, name: str, label: str, choices: Mapping[str, str], *, required: bool = True,
               default: str | None = None) -> str | None:
        v = self._get(name)
        if v is None:
            if required and default is None:
                raise ServiceError(f"请选择{label}", name)
            return default
        if not isinstance(v, str) or v not in choices:
            raise ServiceError(f"{label}的取值无效", name)
        return v

    def flag(self, name: str) -> bool:
        v = self.raw.get(name)
        if isinstance(v, str):
            return v.strip().lower() in ("1", "true", "y", "yes", "on")
        return bool(v)
