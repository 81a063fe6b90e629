"""Standard prompts and spoken numbers, in Hungarian and English."""

from __future__ import annotations

import pytest

from callcenter.hotline import load_hotline
from ivr import prompts
from ivr.numerals import cardinal, ordinal
from ivr.speech import match, normalize


@pytest.mark.parametrize(
    ("n", "words", "before_a_noun", "nth"),
    [
        (1, "egy", "egy", "első"),
        (2, "kettő", "két", "második"),
        (3, "három", "három", "harmadik"),
        (11, "tizenegy", "tizenegy", "tizenegyedik"),
        (12, "tizenkettő", "tizenkét", "tizenkettedik"),
        (20, "húsz", "húsz", "huszadik"),
        (22, "huszonkettő", "huszonkét", "huszonkettedik"),
        (45, "negyvenöt", "negyvenöt", "negyvenötödik"),
        (100, "száz", "száz", "századik"),
        (202, "kétszázkettő", "kétszázkét", "kétszázkettedik"),
        (1000, "ezer", "ezer", "ezredik"),
        (1999, "ezerkilencszázkilencvenkilenc", "ezerkilencszázkilencvenkilenc", "ezerkilencszázkilencvenkilencedik"),
        (2001, "kétezer-egy", "kétezer-egy", "kétezer-egyedik"),
    ],
)
def test_hungarian_numbers_read_as_a_person_says_them(n: int, words: str, before_a_noun: str, nth: str) -> None:
    assert cardinal(n, "hu") == words
    assert cardinal(n, "hu", attributive=True) == before_a_noun
    assert ordinal(n, "hu") == nth


@pytest.mark.parametrize(
    ("n", "words", "nth"),
    [
        (1, "one", "first"),
        (12, "twelve", "twelfth"),
        (20, "twenty", "twentieth"),
        (23, "twenty-three", "twenty-third"),
        (101, "one hundred and one", "one hundred and first"),
        (3000, "three thousand", "three thousandth"),
    ],
)
def test_english_numbers_read_as_a_person_says_them(n: int, words: str, nth: str) -> None:
    assert cardinal(n, "en") == words
    assert ordinal(n, "en") == nth


def test_zero_and_huge_numbers() -> None:
    assert cardinal(0, "hu") == "nulla"
    assert cardinal(0, "en") == "zero"
    assert cardinal(2_000_000, "en") == "2000000"


@pytest.mark.parametrize(
    ("position", "wait", "hungarian", "english"),
    [
        (1, 0, "Ön a sorban az első helyen várakozik. A várható várakozási idő körülbelül tíz másodperc.",
         "You are caller number one. Estimated wait about ten seconds."),
        (2, 41, "Ön a sorban a második helyen várakozik. A várható várakozási idő körülbelül ötven másodperc.",
         "You are caller number two. Estimated wait about fifty seconds."),
        (3, 75, "Ön a sorban a harmadik helyen várakozik. A várható várakozási idő körülbelül egy perc.",
         "You are caller number three. Estimated wait about one minute."),
        (5, 150, "Ön a sorban az ötödik helyen várakozik. A várható várakozási idő körülbelül három perc.",
         "You are caller number five. Estimated wait about three minutes."),
        (12, 149, "Ön a sorban a tizenkettedik helyen várakozik. A várható várakozási idő körülbelül két perc.",
         "You are caller number twelve. Estimated wait about two minutes."),
        (4, None, "Ön a sorban a negyedik helyen várakozik.", "You are caller number four."),
    ],
)  # fmt: skip
def test_queue_position_and_wait_announcement(position: int, wait: float | None, hungarian: str, english: str) -> None:
    assert prompts.queue_announcement(position, wait, "hu") == hungarian
    assert prompts.queue_announcement(position, wait, "en") == english


def test_whisper_names_queue_caller_language_ticket_and_accept_key() -> None:
    assert prompts.whisper("Technical support", "hu", "T-42", "en") == (
        "Technical support call in Hungarian, ticket T-42. Press one to accept."
    )
    assert prompts.whisper("Műszaki hibabejelentés", "en", "T-42", "hu") == (
        "Műszaki hibabejelentés hívás, angol nyelven, jegy: T-42. Elfogadáshoz nyomja meg az egyest."
    )


def test_callback_offer_names_the_key_in_the_accusative() -> None:
    assert prompts.callback_offer("9", "hu") == "Ha várakozás helyett visszahívást kér, nyomja meg a kilencest."
    assert prompts.callback_offer("5", "hu").endswith("nyomja meg az ötöst.")
    assert prompts.callback_offer("*", "en") == "To be called back instead of waiting, press star."


def test_standard_prompts_exist_in_both_languages_and_fall_back_to_english() -> None:
    for texts in prompts.SYSTEM.values():
        assert set(texts) >= {"hu", "en"}
    assert prompts.system("hold", "de") == prompts.system("hold", "en")
    assert prompts.locale("hu") == "hu-HU"


def test_survey_prompts_come_from_the_hotline_in_the_caller_language() -> None:
    survey = load_hotline(None).survey
    english = prompts.survey_texts(survey, "en")
    assert english.intro == survey.intro["en"]
    assert [q[0] for q in english.questions] == ["satisfaction", "solved"]
    assert prompts.survey_texts(survey, "de").thanks == survey.thanks["hu"]


def test_speech_normalisation_drops_accents_case_and_punctuation() -> None:
    assert normalize("Számlázás, KÉREM!") == "szamlazas kerem"
    assert match("árvíztűrő tükörfúrógép", [("arvizturo", "1")], "hu", ["1"]) == "1"
    assert match("nem tudom", [("számla", "1")], "hu", ["1"]) is None


@pytest.mark.parametrize(
    ("said", "key"),
    [
        ("a számlámmal van gond", "1"),
        ("nem megy az internetem", "2"),
        ("a második szintre kérem", "9"),
        ("tv is broken", "3"),
        ("hello", None),
    ],
)
def test_speech_matches_hungarian_words_with_endings(said: str, key: str | None) -> None:
    phrases = [("számla", "1"), ("internet", "2"), ("tv", "3"), ("második szint", "9")]
    assert match(said, phrases, "hu", ["1", "2", "3", "9"]) == key


def test_short_phrase_words_must_match_whole() -> None:
    assert match("tvs", [("tv", "3")], "en", ["3"]) is None
