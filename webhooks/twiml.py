"""TwiML building blocks: voices per language, prompts, gathers with a retry path, the XML response.

Twilio has no Polly voice for Hungarian and fails a Say whose voice and language do not match, so each
language maps to one (language, voice) pair that is known to exist.
"""

from __future__ import annotations

from flask import Response
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import prompts
from ivr.steps import Gather as GatherStep
from ivr.steps import Play, Prompt, Say

VOICES: dict[str, tuple[str, str]] = {
    "hu": ("hu-HU", "Google.hu-HU-Standard-A"),
    "en": ("en-US", "Google.en-US-Standard-C"),
}
HOLD_MUSIC = "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


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
