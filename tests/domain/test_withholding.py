"""The provisions a withheld part of a 部分公开 reply may rest on cover every refusal ground of the outcome
table (Arts. 14–16) and non-government information (Art. 2), each cited with Art. 37, once each."""
from __future__ import annotations

import re

from app.domain.outcomes import OUTCOMES, REG, WITHHOLDING_BASES, WITHHOLDING_BY_TEXT


def test_every_refusal_ground_has_its_provision_and_each_provision_is_listed_once():
    articles = [b.articles for b in WITHHOLDING_BASES]
    assert len(set(articles)) == len(articles) == len(WITHHOLDING_BY_TEXT)
    for o in OUTCOMES:
        if o.refusal and o.code != "partial":
            exemption = re.match(re.escape(REG) + r"(第[^、]+)、", o.basis).group(1)
            assert exemption in articles, (o.code, exemption)
    assert "第二条" in articles  # Art. 37: content that is not government information is separated too


def test_the_printed_basis_cites_the_exemption_with_article_37():
    for b in WITHHOLDING_BASES:
        assert b.text == f"{REG}{b.articles}、第三十七条" and b.ground
