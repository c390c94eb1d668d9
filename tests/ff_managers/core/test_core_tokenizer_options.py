"""The tokenizer's options as attributes, its defaults, its cache, and the plural rule's edge
(issue 20: what mutation testing found unpinned)."""

from __future__ import annotations

from ff_managers._core.tokenizer import (
    QUESTION_WORDS,
    FFTextTokenizer,
    knowledge_tokenizer,
    memory_tokenizer,
    routing_tokenizer,
)


def test_defaults_are_lower_case_no_normalisation_and_no_cache():
    plain = FFTextTokenizer(words="ascii")
    assert (plain.case, plain.normalize, plain.plurals, plain.stemming, plain.stopwords) == ("lower", "none", "none", "none", frozenset())
    assert plain.token_tuple("a b") is not plain.token_tuple("a b")  # computed each time


def test_a_cache_of_size_one_or_more_shares_the_computed_tuple():
    for size in (1, 5):
        cached = FFTextTokenizer(words="ascii", cache_size=size)
        assert cached.token_tuple("x y") is cached.token_tuple("x y")


def test_the_memory_preset_caches_100000_texts():
    tokenizer = memory_tokenizer()
    assert tokenizer.token_tuple("tea time") is tokenizer.token_tuple("tea time")
    assert tokenizer._cached.cache_info().maxsize == 100_000


def test_with_stopwords_keeps_every_other_option():
    base = memory_tokenizer()
    query = base.with_stopwords(["kettle"])
    assert (query.words, query.case, query.normalize, query.plurals, query.stemming) == (
        base.words, base.case, base.normalize, base.plurals, base.stemming)
    assert query.stopwords == base.stopwords | {"kettle"}
    assert query.tokens("ＫＥＴＴＬＥ Straße stories") == ["strasse", "story"]


def test_knowledge_keeps_stop_words_by_default():
    assert knowledge_tokenizer(stemming="none").stopwords == frozenset()
    assert "the" in knowledge_tokenizer(stemming="none").tokens("the cat")
    assert knowledge_tokenizer(stemming="none").with_stopwords(QUESTION_WORDS).tokens("how the cat") == ["the", "cat"]


def test_routing_drops_a_plural_s_only_from_words_longer_than_three_letters():
    assert routing_tokenizer().tokens("gas bus cats class") == ["gas", "bus", "cat", "class"]
