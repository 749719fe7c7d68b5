"""Search tokens: what a case stores and what a term asks for (app.domain.search)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.intake import phone_key
from app.domain.search import WORD_MARK, index_tokens, phone_digits, query_tokens, tokens_decide


def test_cjk_text_is_indexed_by_unigrams_and_bigrams():
    assert index_tokens("王伟") == ["伟", "王", "王伟"]
    assert set(index_tokens("旧城改造")) == {"旧", "城", "改", "造", "旧城", "城改", "改造"}


def test_separators_split_runs_and_are_not_indexed():
    toks = index_tokens("张三，李四《方案》")
    assert "三李" not in toks and "，" not in toks and "《" not in toks
    assert {"张三", "李四", "方案"} <= set(toks)


def test_ascii_words_are_lowered_pieces_and_whole_words():
    toks = set(index_tokens("DEMO-2026-0123"))
    assert {"d", "de", "dem", "emo", "=demo", "=2026", "=0123", "012", "123"} <= toks
    assert "demo" not in toks  # pieces stop at 3 characters; the whole word carries the mark
    assert not any(t.isupper() for t in toks)


def test_ascii_next_to_cjk_is_a_separate_run():
    toks = set(index_tokens("示政发〔2024〕12号"))
    assert {"示政", "政发", "=2024", "=12", "号"} <= toks
    assert "2号" not in toks and "发2" not in toks


def test_only_ascii_letters_are_case_folded():
    assert index_tokens("Ａ") == ["Ａ"]  # full-width: SQLite's LIKE does not fold it either
    assert query_tokens("ABC") == ["abc"]


def test_terms():
    assert query_tokens("伟") == ["伟"]  # one character: its unigram
    assert query_tokens("王伟") == ["王伟"]  # two: the bigram
    assert query_tokens("旧城改造") == ["城改", "改造", "旧城"]  # longer: every bigram
    assert query_tokens("第12号") == ["=12", "号", "第"]  # 12 is bounded on both sides: a whole word
    assert query_tokens("12号") == ["12", "号"]  # 12 may end a longer word (112号): a piece
    assert query_tokens("0123") == ["012", "123"]  # may lie inside a word: its 3-character pieces
    assert query_tokens("DEMO-2026-0123") == ["012", "123", WORD_MARK + "2026", "dem", "emo"]
    assert query_tokens("〔") == [] and query_tokens(" - ") == []


def test_terms_whose_token_is_the_term_need_no_substring_check():
    assert tokens_decide("王伟") and tokens_decide("伟") and tokens_decide("12") and tokens_decide("Abc")
    assert not tokens_decide("王伟强")  # bigrams 王伟 and 伟强 may sit apart (王伟 … 伟强)
    assert not tokens_decide("abcd") and not tokens_decide("12号") and not tokens_decide(" 王")


TEXT = st.text(alphabet=st.sampled_from(list("王伟旧城改造第号年aZ09-〔〕 ，Ａ２")), max_size=30)


@settings(max_examples=400, deadline=None)
@given(TEXT, st.data())
def test_every_substring_asks_only_for_tokens_the_text_holds(text, data):
    """The index never loses a match: whatever substring is searched, the text has its tokens."""
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    term = text[i:j]
    assert set(query_tokens(term)) <= set(index_tokens(text))
    assert set(query_tokens(term)) <= set(index_tokens("前缀", text, "后缀"))
    if tokens_decide(term):  # and then holding the tokens means containing the term
        assert (term.lower() in text.lower()) == (set(query_tokens(term)) <= set(index_tokens(text)))


@settings(max_examples=400, deadline=None)
@given(TEXT, st.text(alphabet=st.sampled_from(list("王伟城改aZ09")), min_size=1, max_size=3))
def test_a_deciding_term_is_held_exactly_when_it_is_contained(text, term):
    if tokens_decide(term):
        contained = term.lower() in text.lower()
        assert contained == (set(query_tokens(term)) <= set(index_tokens(text)))


def test_a_term_typed_as_a_phone_stands_for_its_digits():
    for typed in ("138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "+8613812345678", "8613812345678",
                  "0086 138-1234-5678", "１３８１２３４５６７８", "(138) 1234.5678"):
        assert phone_digits(typed) == "13812345678", typed
    assert phone_digits("0755-8888 1234") == "075588881234"
    assert phone_digits("1234-5678") == "12345678"  # a part of a phone: its digits
    # Already the digits, too short, or not a phone at all: nothing more to search for.
    assert [phone_digits(t) for t in ("13812345678", "12-3", "王伟", "DEMO-2026", "〔2024〕12号", "")] == [None] * 6


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789")), min_size=11, max_size=11), st.data())
def test_any_typing_of_a_stored_phone_finds_its_key(digits, data):
    """However the office typed the phone and the user types it, the user's digits are in the key."""
    def typed(d: str) -> str:
        return data.draw(st.sampled_from((d, f"{d[:3]}-{d[3:7]}-{d[7:]}", f"{d[:3]} {d[3:7]} {d[7:]}",
                                          f"+86 {d}", f"+86-{d[:3]}-{d[3:]}")))
    key = phone_key(typed(digits))
    assert key == digits
    assert (phone_digits(typed(digits)) or digits) in key
