"""Where a chunk ends and the next starts, exactly (issue 20: ``_best_break`` and
``_word_start_after`` survived mutation whole; the chunking tests checked sizes and overlap, not
which boundary wins). Expected positions are counted by hand from the docstrings' rules: the last
paragraph break of the window, else its last line break, else the whitespace after its last
sentence end, else its last space or tab, else the window's end; a chunk starts at a word start."""

from __future__ import annotations

from ff_managers._knowledge.chunking import _best_break, _word_start_after


def test_the_last_paragraph_break_wins():
    assert _best_break("xaa\n\nbb\n\ncc dd", 1, 14) == 7  # window "aa\n\nbb\n\ncc dd": last "\n\n" at 5
    assert _best_break("a\n\nbc", 0, 5) == 1  # a paragraph break at window offset 1 counts
    assert _best_break("x\n\nabc def", 1, 10) == 2  # at offset 0 it does not: the last "\n" (offset 1) does


def test_else_the_last_line_break():
    assert _best_break("ab\ncd\nef gh", 1, 11) == 5
    assert _best_break("\nabc def", 0, 8) == 4  # a line break at offset 0 does not count: the space does


def test_else_after_the_last_sentence_end():
    assert _best_break("xA. B. C. D", 1, 11) == 9  # ends at window offsets 2, 5, 8: the last one
    assert _best_break("Go! Now", 0, 7) == 3
    assert _best_break("One. Two three", 0, 14) == 4  # a sentence end beats a later space


def test_else_the_last_space_or_tab_else_the_end():
    assert _best_break("ab cd\tef gh", 0, 11) == 8
    assert _best_break("ab cd\tef\tgh", 0, 11) == 8
    assert _best_break("x abc", 1, 5) == 5  # a space at offset 0 does not count
    assert _best_break("ab c", 0, 4) == 2
    assert _best_break("a bcd", 0, 5) == 1  # a space at offset 1 counts
    assert _best_break("abcdef", 0, 6) == 6


def test_a_chunk_starts_at_a_word_start():
    assert _word_start_after("ab cd", 0, 5) == 0
    assert _word_start_after("hello world", 2, 11) == 6
    assert _word_start_after("a bc", 2, 4) == 2
    assert _word_start_after("abcdef", 2, 4) == 4  # never beyond the limit
    assert _word_start_after("ab    cd", 2, 4) == 4
    assert _word_start_after("ab  cd", 1, 6) == 4
    assert _word_start_after("a  b", 1, 4) == 3
