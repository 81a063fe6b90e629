"""Prompt texts per language: the standard system prompts every channel needs, and their wording rules.

Hungarian and English ship; a language without a text falls back to English. Flow prompts live in the
hotline file (``ivr:``), survey prompts in its ``survey:`` section (``survey_texts``). Numbers are
written out as words (``ivr.numerals``) so text-to-speech reads them as a person would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.numerals import cardinal, ordinal

LANGUAGES = ("hu", "en")
FALLBACK = "en"
LOCALES = {"hu": "hu-HU", "en": "en-US"}
LANGUAGE_NAMES = {
    "hu": {"hu": "magyar", "en": "angol"},
    "en": {"hu": "Hungarian", "en": "English"},
}

SYSTEM: dict[str, dict[str, str]] = {
    "invalid_choice": {"hu": "Érvénytelen választás.", "en": "That is not a valid choice."},
    "no_input": {"hu": "Nem érkezett válasz.", "en": "We did not receive your choice."},
    "hold": {
        "hu": "Munkatársaink jelenleg mind foglaltak. Kérjük, tartsa a vonalat, hamarosan jelentkezünk.",
        "en": "All our operators are busy at the moment. Please hold the line, we will be with you shortly.",
    },
    "callback_offer": {
        "hu": "Ha várakozás helyett visszahívást kér, nyomja meg {key}.",
        "en": "To be called back instead of waiting, press {key}.",
    },
    "callback_confirmed": {
        "hu": "Köszönjük, visszahívási kérését rögzítettük. Amint sorra kerül, munkatársunk visszahívja "
        "ezen a számon. Viszonthallásra!",
        "en": "Thank you, your callback is booked. An operator will call you back on this number when it "
        "is your turn. Goodbye!",
    },
    "voicemail_prompt": {
        "hu": "Kérjük, a sípszó után hagyjon üzenetet, és visszahívjuk.",
        "en": "Please leave a message after the tone and we will call you back.",
    },
    "voicemail_thanks": {
        "hu": "Köszönjük az üzenetét, hamarosan visszahívjuk. Viszonthallásra!",
        "en": "Thank you for your message, we will call you back soon. Goodbye!",
    },
    "transferring": {
        "hu": "Kérjük, tartsa a vonalat, kapcsoljuk kollégánkat.",
        "en": "Please hold while we transfer your call.",
    },
    "queue_full": {
        "hu": "Elnézést kérünk, jelenleg nagyon sokan várakoznak. Kérjük, hívjon újra később. Viszonthallásra!",
        "en": "We are sorry, too many callers are waiting right now. Please call again later. Goodbye!",
    },
    "goodbye": {"hu": "Köszönjük, hogy hívott. Viszonthallásra!", "en": "Thank you for calling. Goodbye!"},
    "apology": {
        "hu": "Elnézést kérünk, technikai hiba történt. Kérjük, hívjon újra néhány perc múlva.",
        "en": "We are sorry, something went wrong on our side. Please call again in a few minutes.",
    },
    "survey_invalid": {
        "hu": "Kérjük, egy és öt közötti számot nyomjon.",
        "en": "Please press a number from one to five.",
    },
    "position": {"hu": "Ön a sorban {the_nth} helyen várakozik.", "en": "You are caller number {n}."},
    "wait_minutes": {
        "hu": "A várható várakozási idő körülbelül {m} perc.",
        "en": "Estimated wait about {m} {minutes}.",
    },
    "wait_seconds": {
        "hu": "A várható várakozási idő körülbelül {s} másodperc.",
        "en": "Estimated wait about {s} seconds.",
    },
    "whisper": {
        "hu": "{queue} hívás, {spoken} nyelven, jegy: {ticket}. Elfogadáshoz nyomja meg {key}.",
        "en": "{queue} call in {spoken}, ticket {ticket}. Press {key} to accept.",
    },
}

_HU_KEYS = {
    "0": "a nullát", "1": "az egyest", "2": "a kettest", "3": "a hármast", "4": "a négyest",
    "5": "az ötöst", "6": "a hatost", "7": "a hetest", "8": "a nyolcast", "9": "a kilencest",
    "*": "a csillagot", "#": "a kettőskeresztet",
}  # fmt: skip
_EN_KEYS = {"*": "star", "#": "hash"}
_VOWELS = "aáeéiíoóöőuúüű"


def system(name: str, language: str, /, **values: Any) -> str:
    """A standard prompt in ``language`` (English when missing), with ``values`` filled in."""
    texts = SYSTEM[name]
    return texts.get(language, texts[FALLBACK]).format(**values)


def locale(language: str) -> str:
    """The speech locale of a language (``hu`` -> ``hu-HU``), for TTS voices and speech recognition."""
    return LOCALES.get(language, language)


def key_name(key: str, language: str) -> str:
    """How a prompt names a phone key: Hungarian in the accusative with its article ("az egyest")."""
    if language == "hu":
        return _HU_KEYS.get(key, key)
    return _EN_KEYS.get(key) or (cardinal(int(key), "en") if key.isdigit() else key)


def with_article(word: str) -> str:
    """Hungarian definite article: "az" before a vowel ("az első"), "a" otherwise ("a harmadik")."""
    return ("az " if word[:1].lower() in _VOWELS else "a ") + word


def queue_announcement(position: int, wait_seconds: float | None, language: str) -> str:
    """ "You are caller number {n}. Estimated wait about {m} minutes." in the caller's language.

    Rounding: no estimate (None) announces the position only; up to 50 s is said in seconds rounded up
    to ten (at least ten); under 90 s is "about one minute"; longer waits in whole minutes, half up.
    """
    if language == "hu":
        the_nth = with_article(ordinal(position, "hu"))
        parts = [system("position", "hu", the_nth=the_nth)]
    else:
        parts = [system("position", language, n=cardinal(position, "en"))]
    if wait_seconds is not None:
        parts.append(wait_phrase(wait_seconds, language))
    return " ".join(parts)


def rounded_wait(wait_seconds: float | None) -> tuple[str, int] | None:
    """The estimated wait as it is said (see ``queue_announcement``): ("seconds", n) or ("minutes", n)."""
    if wait_seconds is None:
        return None
    if wait_seconds <= 50:
        return "seconds", max(10, math.ceil(max(wait_seconds, 0) / 10) * 10)
    return "minutes", 1 if wait_seconds < 90 else math.floor(wait_seconds / 60 + 0.5)


def wait_phrase(wait_seconds: float, language: str) -> str:
    """The estimated-wait sentence, rounded as a person would say it (see ``queue_announcement``)."""
    unit, amount = rounded_wait(wait_seconds) or ("seconds", 10)
    if unit == "seconds":
        return system("wait_seconds", language, s=cardinal(amount, language, attributive=True))
    unit = "minute" if amount == 1 else "minutes"
    return system("wait_minutes", language, m=cardinal(amount, language, attributive=True), minutes=unit)


def callback_offer(key: str, language: str) -> str:
    """ "To be called back instead of waiting, press 9." (the queue's callback key)."""
    return system("callback_offer", language, key=key_name(key, language))


def whisper(queue_title: str, caller_language: str, ticket: str, language: str, key: str = "1") -> str:
    """What the operator hears before the bridge: queue, the caller's language, ticket, how to accept."""
    names = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES[FALLBACK])
    return system(
        "whisper",
        language,
        queue=queue_title,
        spoken=names.get(caller_language, caller_language),
        ticket=ticket,
        key=key_name(key, language),
    )


class SurveySection(Protocol):
    """The parts of the hotline's survey section the prompts need (``callcenter.hotline.SurveyConfig``)."""

    @property
    def intro(self) -> dict[str, str]: ...

    @property
    def thanks(self) -> dict[str, str]: ...

    @property
    def questions(self) -> Any: ...


@dataclass(frozen=True)
class SurveyTexts:
    """The survey in one language: intro, (question id, kind, text) in order, and thanks."""

    intro: str
    questions: tuple[tuple[str, str, str], ...]
    thanks: str


def survey_texts(survey: SurveySection, language: str, default_language: str = "hu") -> SurveyTexts:
    """The hotline's survey prompts in the caller's language (the hotline default when missing)."""

    def pick(texts: dict[str, str]) -> str:
        return texts.get(language) or texts.get(default_language) or next(iter(texts.values()), "")

    questions = tuple((q.id, q.kind, pick(q.prompt)) for q in survey.questions)
    return SurveyTexts(pick(survey.intro), questions, pick(survey.thanks))
