"""Information processing fees (国办函〔2020〕109号, handbook §2)."""
from __future__ import annotations

FEE_METHODS = {"per_request": "按件计收", "per_volume": "按量计收"}
FEE_PAYMENT_DAYS = 20  # working days from the day after receipt of the notice


def per_request_fee(nth_in_month: int) -> int:
    """Charge in yuan for an applicant's nth request in one natural month (Art. 4, progressive)."""
    if nth_in_month < 1:
        raise ValueError("序号从1开始")
    if nth_in_month <= 10:
        return 0
    if nth_in_month <= 30:
        return 100
    return 100 * (2 + (nth_in_month - 31) // 10)


def per_volume_fee(pages: int) -> int:
    """Charge in yuan for one request of ``pages`` pages (Art. 5, progressive by band)."""
    if pages < 0:
        raise ValueError("页数不能为负数")
    bands = ((30, 0), (100, 10), (200, 20), (None, 40))
    total, lower = 0, 0
    for upper, rate in bands:
        top = pages if upper is None else min(pages, upper)
        if top > lower:
            total += (top - lower) * rate
        if upper is None or pages <= upper:
            break
        lower = upper
    return total


def fee_amount(method: str, *, nth_in_month: int = 0, pages: int = 0) -> int:
    if method == "per_request":
        return per_request_fee(nth_in_month)
    if method == "per_volume":
        return per_volume_fee(pages)
    raise ValueError("收费方式只能是按件或按量，且不得同时适用")
