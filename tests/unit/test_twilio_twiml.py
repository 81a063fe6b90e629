"""Pure parts of the Twilio channel: voices, gathers, URLs, signatures' URL, the forward-only leg status."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.twiml.voice_response import VoiceResponse

from ivr.steps import Gather, Play, Say
from webhooks import twiml
from webhooks.legs import is_later
from webhooks.signature import public_url
from webhooks.urls import Urls


def rendered(response: VoiceResponse) -> ET.Element:
    return ET.fromstring(str(response))


@pytest.mark.parametrize(
    ("language", "locale", "voice"),
    [("hu", "hu-HU", "Google.hu-HU-Standard-A"), ("en", "en-US", "Google.en-US-Standard-C"),
     ("de", "en-US", "Google.en-US-Standard-C")],
)  # fmt: skip
def test_each_language_speaks_with_a_matching_voice_and_locale(language, locale, voice):
    response = VoiceResponse()
    twiml.say(response, "szia", language)
    say = rendered(response).find("Say")
    assert (say.get("language"), say.get("voice"), say.text) == (locale, voice, "szia")


def test_a_menu_gather_listens_for_speech_and_keys_and_retries_through_a_redirect():
    response = VoiceResponse()
    step = Gather("main", 1, 6, (Say("Nyomja meg az egyest.", "hu"), Play("https://x/p.mp3", "hu")), "hu", ("számla",))
    twiml.gather(response, step, "https://cc/twilio/ivr?s=2&node=main", "hu")
    root = rendered(response)
    gather, redirect = root.find("Gather"), root.find("Redirect")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "hu-HU"
    assert (gather.get("numDigits"), gather.get("timeout"), gather.get("hints")) == ("1", "6", "számla")
    assert [child.tag for child in gather] == ["Say", "Play"]
    assert redirect.text == "https://cc/twilio/ivr?s=2&node=main&noinput=1"


def test_a_digits_only_menu_does_not_ask_for_speech():
    response = VoiceResponse()
    twiml.gather(response, Gather("language", 1, 5, (), None), "https://cc/twilio/ivr?s=1&node=language", "hu")
    assert rendered(response).find("Gather").get("input") == "dtmf"


def test_urls_are_absolute_under_the_public_base_and_drop_empty_parameters():
    urls = Urls("https://hotline.example.com/")
    assert (
        urls("bridge", call="CA1", op="anna", ticket="") == "https://hotline.example.com/twilio/bridge?call=CA1&op=anna"
    )
    assert urls("queue/wait") == "https://hotline.example.com/twilio/queue/wait"


def test_the_signed_url_keeps_the_raw_query_string():
    url = public_url("https://hotline.example.com", "/twilio/ivr", b"s=1&node=f%C5%91&x=a+b")
    assert url == "https://hotline.example.com/twilio/ivr?s=1&node=f%C5%91&x=a+b"
    assert (
        public_url("https://hotline.example.com/", "/twilio/voice", b"") == "https://hotline.example.com/twilio/voice"
    )


@pytest.mark.parametrize(
    ("new", "old", "later"),
    [(("ringing", 1), ("", -1), True), (("in-progress", 2), ("ringing", 1), True),
     (("ringing", 1), ("completed", 3), False), (("completed", 3), ("completed", 3), False),
     (("no-answer", 2), ("ringing", 1), True), (("in-progress", -1), ("initiated", -1), True)],
)  # fmt: skip
def test_a_leg_status_only_moves_forward(new, old, later):
    assert is_later(new[0], new[1], old[0], old[1]) is later
