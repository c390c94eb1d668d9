"""grammar_check: a few rules that are right whenever they fire, each with an offset.

Rules (flag only what is certain): a word repeated ("the the"; "had had" and "that that" are
allowed), "a"/"an" by the sound of the next word (with lists of exceptions like "an hour",
"a university"), a lower-case letter starting a sentence, a lone lower-case "i", double spaces,
and fixed confusions: "could/would/should/must of" -> "have", "their is/are/was/were" ->
"there", "your welcome" -> "you're welcome", "alot" -> "a lot", comparatives + "then" -> "than".
"""

from __future__ import annotations

import re
from typing import Any

from ._protocol import ToolError, run_tool

__all__ = ["check", "apply_corrections"]

_ALLOWED_REPEATS = {"had", "that", "is", "do"}
_VOWEL_LETTER_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "eur", "one", "once", "ubi", "uku")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")
_CONFUSIONS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\b(could|would|should|must|might) of\b", re.I), r"\1 have", "'of' after a modal verb should be 'have'"),
    (re.compile(r"\btheir (is|are|was|were)\b", re.I), r"there \1", "'their' is possessive; use 'there'"),
    (re.compile(r"\byour welcome\b", re.I), "you're welcome", "'your' is possessive; use 'you're'"),
    (re.compile(r"\balot\b", re.I), "a lot", "'a lot' is two words"),
    (re.compile(r"\b(more|less|better|worse|rather|larger|smaller|faster|slower) then\b", re.I), r"\1 than", "comparisons take 'than'"),
]


def _an_expected(word: str) -> bool | None:
    """True if ``word`` takes 'an', False if 'a', None when unsure (acronyms, digits)."""
    lower = word.lower()
    if not word.isalpha() or (len(word) > 1 and word.isupper()):
        return None
    if lower.startswith(_SILENT_H):
        return True
    if lower.startswith(_VOWEL_LETTER_CONSONANT_SOUND):
        return False
    return lower[0] in "aeiou"


def _keep_case(original: str, replacement: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def check(text: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(start: int, end: int, replacement: str, rule: str, message: str) -> None:
        found.append(
            {"offset": start, "length": end - start, "original": text[start:end], "replacement": replacement, "rule": rule, "message": message}
        )

    for m in re.finditer(r"\b(\w+)(\s+)(\1)\b", text, re.I):
        if m.group(1).lower() not in _ALLOWED_REPEATS and not m.group(1).isdigit():
            add(m.start(2), m.end(3), "", "repeated_word", f"'{m.group(1)}' is repeated")
    for m in re.finditer(r"\b(a|an)(\s+)([A-Za-z][\w-]*)", text, re.I):
        article, nxt = m.group(1), m.group(3)
        wants_an = _an_expected(nxt)
        if wants_an is None or wants_an == (article.lower() == "an"):
            continue
        add(m.start(1), m.end(1), _keep_case(article, "an" if wants_an else "a"), "a_an", f"use '{'an' if wants_an else 'a'}' before '{nxt}'")
    for m in re.finditer(r"(?:^|[.!?][\"')\]]*\s+)([a-z]+)\b", text):
        word = m.group(1)
        if m.start(1) > 0 and text[m.start(1) - 1] not in " \t\n":
            continue
        add(m.start(1), m.start(1) + 1, word[0].upper(), "capitalization", "a sentence starts with a capital letter")
    for m in re.finditer(r"(?<![\w'])i(?![\w'])", text):
        if m.start() == 0 or text[m.start() - 1] in " \t\n\"(":
            add(m.start(), m.end(), "I", "capital_i", "the pronoun 'I' is always capitalised")
    for m in re.finditer(r"(?<=\S)( {2,})(?=\S)", text):
        add(m.start(1), m.end(1), " ", "double_space", "one space between words")
    for pattern, replacement, message in _CONFUSIONS:
        for m in pattern.finditer(text):
            add(m.start(), m.end(), _keep_case(m.group(0), m.expand(replacement)), "confusion", message)
    found.sort(key=lambda c: (c["offset"], -c["length"]))
    unique: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str]] = set()
    for correction in found:  # two rules may propose the same fix ("i" at a sentence start)
        key = (correction["offset"], correction["length"], correction["replacement"])
        if key not in seen:
            seen.add(key)
            unique.append(correction)
    return unique


def apply_corrections(text: str, corrections: list[dict[str, Any]]) -> str:
    """Apply non-overlapping corrections left to right (the first of two overlapping ones wins)."""
    parts: list[str] = []
    position = 0
    for c in corrections:
        if c["offset"] < position:
            continue
        parts.append(text[position : c["offset"]])
        parts.append(c["replacement"])
        position = c["offset"] + c["length"]
    parts.append(text[position:])
    return "".join(parts)


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    text = args.get("text")
    if not isinstance(text, str):
        raise ToolError("'text' must be a string")
    corrections = check(text)
    return {"corrections": corrections, "error_count": len(corrections), "corrected_text": apply_corrections(text, corrections)}


if __name__ == "__main__":
    run_tool(_handle)
