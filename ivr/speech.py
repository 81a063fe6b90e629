"""Matching what a caller said to a menu choice, forgiving accents and case ("szamla" is "számla")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_WORD = re.compile(r"[^0-9a-z]+")

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
    """The key whose phrase occurs earliest (as whole words) in ``utterance``, else a spoken key, else None.

    ``phrases`` are (phrase, key) pairs. On a tie the longer phrase wins ("internet tv" over "tv").
    """
    said = f" {normalize(utterance)} "
    found: list[tuple[int, int, str]] = []
    for phrase, key in phrases:
        position = said.find(f" {normalize(phrase)} ")
        if position >= 0 and normalize(phrase):
            found.append((position, -len(phrase), key))
    if found:
        return min(found)[2]
    return _spoken_key(said.split(), language, set(keys))


def _spoken_key(words: list[str], language: str, keys: set[str]) -> str | None:
    names = _KEY_WORDS.get(language, ())
    for word in words:
        key = str(names.index(word)) if word in names else word
        if key in keys:
            return key
    return None
