"""Knowledge-base rules: article statuses, and the text folding and query terms full-text search uses.

Folding (lower case, diacritics removed) is what makes ``jelszo`` find ``jelszó``: SQLite's FTS5 tokenizer
(``unicode61 remove_diacritics 2``) and PostgreSQL's ``cc_fold()`` fold the documents, this module folds the
query the same way.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

_WORD = re.compile(r"\w+", re.UNICODE)
_SPECIAL = {"ø": "o", "đ": "d", "ł": "l", "ß": "ss"}
_NOTE_HEADER = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d [^\]]*\]")
MAX_QUERY_TERMS = 12
MIN_SUGGESTION_TERM = 4


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class InvalidArticleError(ValueError):
    """The article's fields break a rule (unknown status or language, an IVR topic on a draft...)."""


def fold(text: str) -> str:
    """Lower case without diacritics (``Jelszó`` -> ``jelszo``)."""
    out = []
    for char in text.lower():
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
            continue
        out.append("".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)))
    return "".join(out)


def query_terms(query: str) -> list[str]:
    """The folded words of a search query (at most MAX_QUERY_TERMS, duplicates dropped, order kept)."""
    terms: list[str] = []
    for word in _WORD.findall(fold(query).replace("_", " ")):
        if word not in terms:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


def suggestion_terms(topic: str, notes: str) -> list[str]:
    """Words to look for when suggesting articles for a ticket: its IVR topic, then the longest note words."""
    words = [
        w
        for w in _WORD.findall(fold(_NOTE_HEADER.sub(" ", notes[:20_000])).replace("_", " "))
        if len(w) >= MIN_SUGGESTION_TERM
    ]
    ranked = sorted(dict.fromkeys(w for w in words if not w.isdigit()), key=len, reverse=True)
    head = query_terms(topic)
    return (head + [w for w in ranked if w not in head])[:MAX_QUERY_TERMS]


def check_article(status: str, language: str, languages: tuple[str, ...], ivr_topic: str) -> None:
    """Status must be known, language one of the hotline's; only published articles are read out by the IVR
    (a draft may carry its future ivr_topic)."""
    if status not in ArticleStatus.__members__.values():
        raise InvalidArticleError(f"status must be one of {', '.join(s.value for s in ArticleStatus)}")
    if language not in languages:
        raise InvalidArticleError(f"language must be one of {', '.join(languages)}")
    if ivr_topic and not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", ivr_topic):
        raise InvalidArticleError("ivr_topic must be letters, digits, '-' or '_'")
