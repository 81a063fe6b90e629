"""TwiML building blocks: voices per language, prompts, gathers with a retry path, the XML response.

Twilio has no Polly voice for Hungarian and fails a Say whose voice and language do not match, so each
language maps to one (language, voice) pair that is known to exist.

Documents are built with twilio-python's verbs and written out by :func:`render`, which produces the very bytes
twilio-python's ElementTree serialisation does (``tests/unit/test_twilio_twiml_render.py`` compares them) at a
fraction of its cost: it runs on every webhook.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from twilio.twiml import TwiML
from twilio.twiml import voice_response as twilio_voice
from twilio.twiml.voice_response import Gather

from ivr import prompts
from ivr.steps import Gather as GatherStep
from ivr.steps import Play, Prompt, Say

VOICES: dict[str, tuple[str, str]] = {
    "hu": ("hu-HU", "Google.hu-HU-Standard-A"),
    "en": ("en-US", "Google.en-US-Standard-C"),
}
HOLD_MUSIC = "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


class VoiceResponse(twilio_voice.VoiceResponse):  # type: ignore[misc]
    """twilio-python's ``<Response>``, written out by :func:`render` (the same text, without ElementTree)."""

    def to_xml(self, xml_declaration: bool = True) -> str:
        return render(self, xml_declaration)


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def render(node: TwiML, xml_declaration: bool = True) -> str:
    """``node.to_xml()`` as twilio-python writes it (ElementTree, UTF-8, sorted attributes, ``<Leave />``)."""
    parts = [XML_DECLARATION] if xml_declaration else []
    try:
        _write(node, parts)
        text = "".join(parts)
        text.encode()  # a lone surrogate: ElementTree writes a character reference for it
    except (TypeError, UnicodeEncodeError):  # ElementTree's own error, or its way out
        return str(TwiML.to_xml(node, xml_declaration))
    return text


def _write(node: TwiML, parts: list[str]) -> None:
    write = parts.append
    write("<" + node.name)
    for name in sorted(node.attrs):
        value: Any = node.attrs[name]
        write(f' {name}="{_attribute(str(value).lower() if isinstance(value, bool) else str(value))}"')
    text = node.value or None
    if isinstance(text, dict):  # as twilio-python does (it also keeps the JSON)
        text = node.value = json.dumps(text)
    children: list[tuple[TwiML, Any]] = []  # (element, tail); a string nested after an element is its tail
    for verb in node.verbs:
        if not isinstance(verb, str):
            children.append((verb, None))
        elif children:
            children[-1] = (children[-1][0], verb)
        else:
            text = verb
    if not text and not children:
        write(" />")
        return
    write(">" + _text(text) if text else ">")
    for child, tail in children:
        _write(child, parts)
        if tail:
            write(_text(tail))
    write("</" + node.name + ">")


def _text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attribute(text: str) -> str:
    text = _text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def voice_of(language: str) -> tuple[str, str]:
    """(TwiML language, voice) for one of our languages; English for anything unknown."""
    return VOICES.get(language, VOICES["en"])


def say(parent: TwiML, text: str, language: str) -> None:
    """A Say in the language's own voice."""
    locale, voice = voice_of(language)
    parent.say(text, language=locale, voice=voice)


def prompt(parent: TwiML, step: Prompt) -> None:
    """Render an engine prompt: a recording plays, anything else is spoken."""
    if isinstance(step, Play):
        parent.play(step.url)
    elif isinstance(step, Say):
        say(parent, step.text, step.language)


def gather(response: VoiceResponse, step: GatherStep, action: str, language: str) -> None:
    """A Gather for an IVR menu, followed by a Redirect: Twilio only requests the action when input came,
    so the Redirect (to the same action, flagged as no input) is the retry path."""
    speech = step.speech_language is not None
    node = response.gather(
        input="dtmf speech" if speech else "dtmf",
        num_digits=step.num_digits,
        timeout=step.timeout_seconds,
        action=action,
        method="POST",
        language=prompts.locale(step.speech_language or language),
        hints=", ".join(step.hints) if step.hints else None,
    )
    for item in step.prompts:
        prompt(node, item)
    response.redirect(action + "&noinput=1", method="POST")


def digits_gather(parent: VoiceResponse, action: str, timeout: int, num_digits: int = 1) -> Gather:
    """A DTMF-only Gather (queue keys, whisper accept, survey answers)."""
    return parent.gather(input="dtmf", num_digits=num_digits, timeout=timeout, action=action, method="POST")


def xml(response: VoiceResponse | str, status: int = 200) -> Response:
    """The TwiML document as text/xml."""
    return Response(str(response), status=status, mimetype="text/xml")


def no_content() -> Response:
    """Callbacks that need no TwiML answer 204."""
    return Response(status=204)


def bad_request(message: str) -> Response:
    """A malformed Twilio request: 400 with the reason (never a 500)."""
    return Response(message.rstrip() + "\n", status=400, mimetype="text/plain")


def goodbye(language: str) -> VoiceResponse:
    """A polite end for a call we cannot (or can no longer) serve: thanks, goodbye, hang up."""
    response = VoiceResponse()
    say(response, prompts.system("goodbye", language), language)
    response.hangup()
    return response
