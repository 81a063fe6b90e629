"""Numbers as words, so text-to-speech reads them as a person would, in Hungarian and English.

Hungarian has an attributive form before a noun ("két perc", not "kettő perc"), ordinals that are not
just a suffix ("első", "második", but "tizenegyedik", "huszonkettedik"), and a hyphen after the thousands
above 2000 ("kétezer-egy"). Digits are used for numbers of a million and more.
"""

from __future__ import annotations

_HU_UNITS = ("", "egy", "kettő", "három", "négy", "öt", "hat", "hét", "nyolc", "kilenc")
_HU_TENS = ("", "tíz", "húsz", "harminc", "negyven", "ötven", "hatvan", "hetven", "nyolcvan", "kilencven")
_HU_TENS_JOINED = ("", "tizen", "huszon", *_HU_TENS[3:])
_HU_ORDINAL_ENDINGS = {
    "egy": "egyedik", "kettő": "kettedik", "három": "harmadik", "négy": "negyedik", "öt": "ötödik",
    "hat": "hatodik", "hét": "hetedik", "nyolc": "nyolcadik", "kilenc": "kilencedik", "tíz": "tizedik",
    "húsz": "huszadik", "harminc": "harmincadik", "negyven": "negyvenedik", "ötven": "ötvenedik",
    "hatvan": "hatvanadik", "hetven": "hetvenedik", "nyolcvan": "nyolcvanadik",
    "kilencven": "kilencvenedik", "száz": "századik", "ezer": "ezredik",
}  # fmt: skip
_EN_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                       "nine": "ninth", "twelve": "twelfth"}  # fmt: skip
LIMIT = 1_000_000


def cardinal(n: int, language: str, attributive: bool = False) -> str:
    """``n`` in words; ``attributive`` gives the Hungarian form used before a noun ("két perc")."""
    if n < 0:
        return ("mínusz " if language == "hu" else "minus ") + cardinal(-n, language, attributive)
    if n >= LIMIT:
        return str(n)
    if language == "hu":
        return _hu(n, attributive) if n else "nulla"
    return _en(n)


def ordinal(n: int, language: str) -> str:
    """``n``-th in words: "harmadik", "huszonegyedik"; "third", "twenty-first"."""
    if n <= 0 or n >= LIMIT:
        return f"{n}." if language == "hu" else f"{n}th"
    if language == "hu":
        return {1: "első", 2: "második"}.get(n) or _hu_ordinal(cardinal(n, "hu"))
    return _en_ordinal(cardinal(n, "en"))


def _hu(n: int, attributive: bool) -> str:
    if n < 10:
        return "két" if attributive and n == 2 else _HU_UNITS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return _HU_TENS_JOINED[tens] + _hu(units, attributive) if units else _HU_TENS[tens]
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "száz" if hundreds == 1 else _hu(hundreds, True) + "száz"
        return head + (_hu(rest, attributive) if rest else "")
    thousands, rest = divmod(n, 1000)
    head = "ezer" if thousands == 1 else _hu(thousands, True) + "ezer"
    if not rest:
        return head
    return head + ("-" if n > 2000 else "") + _hu(rest, attributive)


def _hu_ordinal(words: str) -> str:
    for ending in sorted(_HU_ORDINAL_ENDINGS, key=len, reverse=True):
        if words.endswith(ending):
            return words[: -len(ending)] + _HU_ORDINAL_ENDINGS[ending]
    return words + "edik"


def _en(n: int) -> str:
    if n < 20:
        return _EN_SMALL[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_SMALL[units]}" if units else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_SMALL[hundreds]} hundred" + (f" and {_en(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    glue = " and " if 0 < rest < 100 else " "
    return f"{_en(thousands)} thousand" + (glue + _en(rest) if rest else "")


def _en_ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    stem, dash, tail = last.rpartition("-")
    word = tail or last
    if word in _EN_ORDINAL_ENDINGS:
        word = _EN_ORDINAL_ENDINGS[word]
    elif word.endswith("y"):
        word = word[:-1] + "ieth"
    else:
        word += "th"
    return (f"{head} " if head else "") + stem + dash + word
