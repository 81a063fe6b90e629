"""Matching what a caller said to a menu choice, forgiving accents and case ("szamla" is "számla")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_WORD = re.compile(r"[^0-9a-z]+")
MIN_STEM = 3

# Spoken keys: a caller who says "two" or "kettő" means the key 2 (normalised spellings).
_KEY_WORDS = {
    "hu": ("nulla", "egy", "ketto", "harom", "negy", "ot", "hat", "het", "nyolc", "kilenc"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}


def normalize(text: str) -> str:
    """Lower-case, accents removed, punctuation turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", bare).strip()


def match(utterance: str, phrases: Iterable[tuple[str, str]], language: str, keys: Iterable[str]) -> str | None:
    """The key whose phrase occurs earliest in ``utterance``, else a spoken key name, else None.

    ``phrases`` are (phrase, key) pairs. Words match whole, or as the start of a longer word when the
    phrase word has at least three letters, because Hungarian adds endings ("számlámmal" is about the
    "számla"). On a tie the longer phrase wins ("internet tv" over "tv").
    """
    words = normalize(utterance).split()
    found: list[tuple[int, int, str]] = []
    for phrase, key in phrases:
        position = _find(normalize(phrase).split(), words)
        if position is not None:
            found.append((position, -len(phrase), key))
    if found:
        return min(found)[2]
    return _spoken_key(words, language, set(keys))


def _find(phrase: list[str], words: list[str]) -> int | None:
    """Index of the first word where ``phrase`` starts in ``words``."""
    if not phrase:
        return None
    for start in range(len(words) - len(phrase) + 1):
        if all(_word_matches(p, w) for p, w in zip(phrase, words[start:], strict=False)):
            return start
    return None


def _word_matches(expected: str, said: str) -> bool:
    return said == expected or (len(expected) >= MIN_STEM and said.startswith(expected))


def _spoken_key(words: list[str], language: str, keys: set[str]) -> str | None:
    names = _KEY_WORDS.get(language, ())
    for word in words:
        key = str(names.index(word)) if word in names else word
        if key in keys:
            return key
    return None
