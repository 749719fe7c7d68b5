"""Search tokens of a case (pure): what the index stores, and what a search term asks of it.

Search is substring search (a term is found where it occurs anywhere in a searched field), done in
two steps: the index narrows the cases to those holding every token of the term, then the exact
substring check runs on those candidates only. The tokens are therefore chosen so that every
substring of a searched text yields tokens that the text itself holds (no match is lost), and so
that they are selective enough to leave few candidates.

Characters fall in three classes:

* ASCII letters and digits form *words* (lower-cased): "DEMO-2026-0123" has the words demo, 2026,
  0123. A word is indexed by its 1-, 2- and 3-character pieces ("grams") and as a whole word
  (marked ``=2026``: selective where the pieces are not — "12" is in most case numbers, the whole
  word 12 only in 文号 with the number 12).
* Every other letter or digit (Chinese characters, full-width digits, kana …) stands for itself:
  a run of them is indexed by each character (unigram) and each pair of neighbours (bigram).
* Everything else (spaces, punctuation such as - 〔 〕 《 》 ， ) separates runs and is not indexed.

A term asks for: each CJK run's bigrams (a 1-character run: its unigram); each ASCII word that is
bounded on both sides inside the term (by a separator or a CJK character) as a whole word, any
other ASCII word by its 3-character pieces (1–2 characters: itself as a piece). A term with no
letter or digit at all ("〔") yields no tokens: the caller must check every case.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

WORD_MARK = "="  # prefix of a whole-word token; never part of a gram (grams are letters and digits)
MAX_GRAM = 3  # ASCII pieces up to this length


# An ASCII word, or a run of other letters and digits (\w without ASCII: no underscore either).
_RUN = re.compile(r"([A-Za-z0-9]+)|([^\W\x00-\x7f]+)")


def _runs(text: str) -> list[tuple[str, str, bool, bool]]:
    """Split text into (kind, run, bounded_left, bounded_right) with kind "w" (ASCII word) or "c"
    (other letters and digits). A run is bounded on a side when something other than the end of
    the text is there: a separator or a run of the other kind."""
    n = len(text)
    return [("w" if m.group(1) else "c", m.group(0), m.start() > 0, m.end() < n) for m in _RUN.finditer(text)]


def _grams(word: str, sizes: Iterable[int]) -> set[str]:
    return {word[i:i + k] for k in sizes for i in range(len(word) - k + 1)}


def _lower_ascii(s: str) -> str:
    """Lower-case ASCII letters only: the substring check folds ASCII case on both databases
    (SQLite's LIKE folds only ASCII), so the tokens must not fold anything more."""
    return s.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def index_tokens(*texts: str | None) -> list[str]:
    """The tokens stored for a case whose searched fields are texts (sorted, without duplicates)."""
    tokens: set[str] = set()
    for text in texts:
        if not text:
            continue
        for m in _RUN.finditer(_lower_ascii(text)):
            run = m.group(0)
            tokens.update(run)
            tokens.update(run[i:i + 2] for i in range(len(run) - 1))
            if m.group(1):
                tokens.update(run[i:i + 3] for i in range(len(run) - 2))
                tokens.add(WORD_MARK + run)
    return sorted(tokens)


def query_tokens(term: str) -> list[str]:
    """The tokens every case containing term as a substring holds (sorted, without duplicates);
    empty when term has no letter or digit."""
    tokens: set[str] = set()
    for kind, run, left, right in _runs(_lower_ascii(term)):
        if kind == "w":
            if left and right:
                tokens.add(WORD_MARK + run)
            else:
                tokens |= _grams(run, (min(len(run), MAX_GRAM),))
        else:
            tokens |= _grams(run, (min(len(run), 2),))
    return sorted(tokens)


def tokens_decide(term: str) -> bool:
    """Whether holding the tokens of term already means containing term: a term that is one
    CJK run of 1–2 characters or one ASCII word of 1–3 (its only token is itself). Such a search
    needs no substring check on the candidates."""
    m = _RUN.fullmatch(_lower_ascii(term))
    return m is not None and len(term) <= (MAX_GRAM if m.group(1) else 2)



# A term typed as a phone number: digits with the separators people write between them.
_PHONE_TERM = re.compile(r"\+?[0-9(][0-9 ()\-.]*")
MIN_PHONE_DIGITS = 4


def phone_digits(term: str) -> str | None:
    """The digits a term typed as (part of) a phone number stands for, as Case.phone_key holds
    them (intake.phone_key: digits only, no +86): "138-1234-5678", "+86 138 1234 5678" and
    "１３８１２３４５６７８" are all 13812345678. None when the term is not typed that way, or
    is already those digits (a plain digit term finds the phone as it is)."""
    t = unicodedata.normalize("NFKC", term or "").strip()
    if not _PHONE_TERM.fullmatch(t):
        return None
    digits = "".join(c for c in t if c.isdigit())
    if t.startswith("+86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS and digits != term else None
