"""Information-processing fees, 国办函〔2020〕109号 Arts. 3–5 (handbook §2.1)."""
from __future__ import annotations

import pytest

from app.domain.fees import FEE_METHODS, fee_amount, per_request_fee, per_volume_fee


@pytest.mark.parametrize("nth,fee", [
    (1, 0), (5, 0), (10, 0),  # 1–10 free
    (11, 100), (20, 100), (30, 100),  # 11–30: 100 each
    (31, 200), (35, 200), (40, 200),  # 31–40: 200 each
    (41, 300), (50, 300),  # 41–50: 300 each
    (51, 400), (60, 400), (61, 500),  # each further band of 10 adds 100
])
def test_per_request_fee_bands(nth, fee):
    assert per_request_fee(nth) == fee


def test_per_request_fee_every_request_1_to_100_matches_band_rule():
    def rule(n):
        if n <= 10:
            return 0
        if n <= 30:
            return 100
        return 100 * (2 + (n - 31) // 10)  # 31–40 → 200, 41–50 → 300, ...
    assert [per_request_fee(n) for n in range(1, 101)] == [rule(n) for n in range(1, 101)]


def test_per_request_fee_counts_from_one():
    with pytest.raises(ValueError):
        per_request_fee(0)


@pytest.mark.parametrize("pages,fee", [
    (0, 0), (1, 0), (30, 0),
    (31, 10), (100, 700),
    (101, 720), (200, 2700),
    (201, 2740), (250, 4700),
])
def test_per_volume_fee_progressive_by_band(pages, fee):
    assert per_volume_fee(pages) == fee


def test_per_volume_fee_equals_page_by_page_sum():
    def page_rate(p):  # charge for the p-th page (109号 Art. 5)
        return 0 if p <= 30 else 10 if p <= 100 else 20 if p <= 200 else 40
    for pages in range(0, 501):
        assert per_volume_fee(pages) == sum(page_rate(p) for p in range(1, pages + 1)), pages


def test_per_volume_fee_refuses_negative_pages():
    with pytest.raises(ValueError):
        per_volume_fee(-1)


def test_fee_amount_dispatches_on_method():
    assert set(FEE_METHODS) == {"per_request", "per_volume"}
    assert fee_amount("per_request", nth_in_month=31) == 200
    assert fee_amount("per_volume", pages=101) == 720


@pytest.mark.parametrize("method", ["both", "", "per_page", None])
def test_fee_amount_refuses_unknown_method(method):
    with pytest.raises(ValueError, match="按件或按量"):
        fee_amount(method, nth_in_month=11, pages=50)
