"""A real retrieval benchmark that ships with every CPython: the pydoc topics and questions on them.

``pydoc_data.topics.topics`` maps about eighty help topics ("if", "typesmapping", ...) to the
text of the matching section of the language and library reference. Each question below is
written the way a person would ask it, in their own words, and names the one topic whose text
answers it. The questions were written from knowing what each topic covers, before any ranking
was run, and were not reworded afterwards to please a ranker.

Some topics overlap on purpose in CPython's docs ("compound" contains the "for" statement,
"specialnames" contains "customization"); a question still names the focused topic. Two
judgements are therefore measured (as TREC does with graded qrels):

* strict: only the labelled topic counts;
* qrels: the labelled topic and every topic that *embeds* it count. Topic U embeds topic T when
  every paragraph of T's body (the text after T's title, split at blank lines, paragraphs of at
  least ``EMBED_MIN_PARAGRAPH_CHARS`` characters) occurs verbatim in U's text. That is computed
  by :func:`relevant_topics` from the corpus, never picked by hand: U then contains the answering
  passage word for word, so a reader sent to U finds the answer. On CPython 3.11 it gives e.g.
  try -> {try, compound}, numeric-types -> {numeric-types, specialnames}, if -> {if, else,
  compound}. The relation is one-way: "execmodel" holds all of "naming", so it is relevant to
  a naming question, but "naming" holds only 19 of execmodel's 29 paragraphs, so it is not
  relevant to an execmodel question.

The "else" topic is not asked about: its text is identical to "if".

Labels were checked against the topic texts (each labelled topic contains the answer); none
needed correcting.
"""

from __future__ import annotations

import re

__all__ = ["PYDOC_QUESTIONS", "EMBED_MIN_PARAGRAPH_CHARS", "load_pydoc_corpus", "relevant_topics"]

EMBED_MIN_PARAGRAPH_CHARS = 80
"""Shorter paragraphs (grammar lines, "Note:") are too generic to show that one topic embeds another."""

PYDOC_QUESTIONS: list[tuple[str, str]] = [
    ("How do I run a piece of code only when some condition is true?", "if"),
    ("How can I loop over every item of a list one at a time?", "for"),
    ("How do I keep repeating a block of code as long as a condition holds?", "while"),
    ("How do I get out of a loop early, before it has gone through everything?", "break"),
    ("How can I skip the rest of the current loop iteration and move on to the next one?", "continue"),
    ("How do I deal with errors raised while a block of code is running and run cleanup code afterwards?", "try"),
    ("How do I signal an error from my own function so the caller has to handle it?", "raise"),
    ("How do I make sure a file is closed automatically when I am done with it?", "with"),
    ("How do I define a function whose parameters have default values?", "function"),
    ("How do I write a small anonymous function as a single expression?", "lambda"),
    ("How do I define a new class that inherits from a base class?", "class"),
    ("How does a function hand a result back to whoever called it?", "return"),
    ("How can a function produce a series of values lazily, one at a time, as a generator?", "yield"),
    ("How do I change a module-level variable from inside a function?", "global"),
    ("How can a nested function rebind a variable that belongs to the enclosing function?", "nonlocal"),
    ("How do I use code that lives in another module or package?", "import"),
    ("How do I check during development that something I assume is true, and stop if it is not?", "assert"),
    ("Which statement does nothing at all and can stand in where a statement is required?", "pass"),
    ("How do I remove a variable binding or delete an element from a list?", "del"),
    ("How do I suspend a coroutine until an awaitable object has finished?", "await"),
    ("How do I declare a coroutine and loop asynchronously over an asynchronous iterator?", "async"),
    ("How can I step through my program line by line and inspect variables to find a bug?", "debugger"),
    ("How can I turn a string into upper case, strip whitespace or split it into words?", "string-methods"),
    ("How do I format a number with two decimal places or pad it with zeros inside a string?", "formatstrings"),
    ("Which values are considered false when an object is used in a condition?", "truth"),
    ("How do I look up, add and remove keys in a dictionary and iterate over its items?", "typesmapping"),
    ("How can I append items to a list, insert at a position, or reverse it in place?", "typesseq-mutable"),
    ("How do I take part of a sequence from one index up to another, possibly with a step?", "slicings"),
    ("How do I write an integer literal in hexadecimal, octal or binary notation?", "integers"),
    ("How do I write a complex number with an imaginary part as a literal?", "imaginary"),
    ("How do I write a floating point number with an exponent in source code?", "floating"),
    ("What happens when I raise a number to a negative power?", "power"),
    ("How do the bitwise and, or and exclusive or operators work on integers?", "bitwise"),
    ("How do I move the bits of an integer to the left or right by a number of positions?", "shifting"),
    ("How do I test whether two names refer to the very same object rather than equal ones?", "comparisons"),
    ("When does an expression combining and, or and not stop evaluating its operands early?", "booleans"),
    ("Which operators bind more tightly than others when an expression has no parentheses?", "operator-summary"),
    ("How can I control what happens when code reads or sets an attribute that my object does not have?", "attribute-access"),
    ("Which special method makes instances of my class callable like a function?", "callable-types"),
    ("How do I make my own class support len() and indexing with square brackets like a container?", "sequence-types"),
    ("How do I write an object that can be used to set up and tear down resources in a with block?", "context-managers"),
    ("How do I overload the plus and times operators for my own numeric class?", "numeric-types"),
    ("What is the difference between the string an object shows when printed and its official representation?", "customization"),
    ("What happens to an error that nothing handles, and how does it travel up to the caller?", "exceptions"),
    ("How are names bound to objects, and how is the scope of a name decided?", "naming"),
    ("What do the double-underscore attributes every object carries, such as its class and its dict, hold?", "specialattrs"),
    ("What is the object that represents the absence of a value, returned by functions that return nothing?", "bltin-null-object"),
    ("What is the object written as three dots used for?", "bltin-ellipsis-object"),
    ("How can I add to a variable in place, for example to increase a counter by one?", "augassign"),
    ("How do I unpack a tuple into several variables in a single statement?", "assignment"),
    ("How do I check whether a value is contained in a list or a substring is part of a string?", "in"),
    ("How do I pass keyword arguments to a function or spread a list out into positional arguments?", "calls"),
    ("What do an object's identity, type and value mean, and which of them can change?", "objects"),
    ("Which words are reserved and cannot be used as variable names?", "identifiers"),
    ("What is special about names that begin or end with underscores?", "id-classes"),
    ("How do I write a string literal spanning several lines, or a raw string where backslashes are not escapes?", "strings"),
    ("What type does the result have when I add an integer and a floating point number?", "conversions"),
    ("How do I write a dictionary literal or build a dictionary with a comprehension?", "dict"),
    ("What happens when I use exec or eval inside a function that contains nested scopes?", "dynamic-features"),
    ("What do floor division and the remainder operator return for negative numbers?", "binary"),
]


def load_pydoc_corpus() -> dict[str, str]:
    """The pydoc topics as ``{topic: text}``.

    Raises ModuleNotFoundError when this Python was built without ``pydoc_data`` (some distro
    packages split it out); callers skip the measurement then rather than fail.
    """
    from pydoc_data.topics import topics  # imported here: optional part of CPython

    return dict(topics)


def _body_paragraphs(text: str) -> list[str]:
    """The paragraphs of a topic after its two title lines (title and underline)."""
    body = text.split("\n", 2)[2] if text.count("\n") >= 2 else text
    return [p.strip() for p in re.split(r"\n[ \t]*\n", body) if len(p.strip()) >= EMBED_MIN_PARAGRAPH_CHARS]


def relevant_topics(topic: str, corpus: dict[str, str]) -> frozenset[str]:
    """``topic`` and every topic of ``corpus`` that embeds it (see the module docstring).

    Raises KeyError for a topic the corpus does not have.
    """
    paragraphs = _body_paragraphs(corpus[topic])
    embedding = {
        other
        for other, text in corpus.items()
        if other != topic and paragraphs and all(p in text for p in paragraphs)
    }
    return frozenset({topic} | embedding)
