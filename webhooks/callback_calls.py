"""Callbacks: the operator's phone rings first; once they accept, the caller's number is dialled.

The ACD offered a callback call (``Offer.callback_number``); the dispatcher rang the operator with
``calls.create``. Accepting journals CONNECTED and CALLBACK_DIALLED; the end of the Dial ends the
conversation as the operator's (the operator's leg is the one that stays up).
"""

from __future__ import annotations

import logging

from callcenter.domain.operator import AcdError
from ivr import prompts
from webhooks import twiml
from webhooks.bridging import ACCEPT_KEY, WHISPER_SECONDS
from webhooks.channel import TwilioChannel
from webhooks.twiml import VoiceResponse

logger = logging.getLogger(__name__)

_CALLBACK = {"hu": "Visszahívás.", "en": "Callback."}


class CallbackCalls:
    """The operator leg of a callback."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel

    def announce(self, call_id: str, operator: str, ticket: str) -> str:
        """The operator answered: what the callback is about; press 1 to dial the caller."""
        ch, state = self.ch, self.ch.store.get(call_id)
        language = ch.operator_language(operator)
        text = prompts.whisper(ch.queue_title(state.get("queue", ""), language), state.language or language,
                               ticket or "-", language, ACCEPT_KEY)  # fmt: skip
        response = VoiceResponse()
        action = ch.urls("callback/accept", call=call_id, op=operator)
        gather = twiml.digits_gather(response, action, timeout=WHISPER_SECONDS)
        twiml.say(gather, f"{_CALLBACK.get(language, _CALLBACK['en'])} {text}", language)
        response.redirect(action + "&noinput=1", method="POST")
        return str(response)

    def accept(self, call_id: str, operator: str, digits: str) -> str:
        """1: CONNECTED + CALLBACK_DIALLED and ``<Dial><Number>``; otherwise RONA (the callback keeps its place)."""
        ch, state = self.ch, self.ch.store.get(call_id)
        response = VoiceResponse()
        number = state.get("cbnum") or state.get("from", "")
        try:
            if digits.strip() != ACCEPT_KEY:
                ch.acd.no_answer(call_id, operator, ch.now())
                ch.poke()
                response.hangup()
                return str(response)
            ch.acd.accept(call_id, operator, ch.now())
            ch.acd.callback_dialled(call_id, ch.now())
        except AcdError as exc:
            logger.info("callback %s: %s could not take it: %s", call_id, operator, exc)
            response.hangup()
            return str(response)
        urls = ch.urls
        dial = response.dial(caller_id=ch.settings.twilio.caller_id or state.get("to") or None,
                             action=urls("callback/done", call=call_id, op=operator), method="POST",
                             record="record-from-answer-dual",
                             recording_status_callback=urls("recording", call=call_id),
                             recording_status_callback_method="POST")  # fmt: skip
        dial.number(number, status_callback=urls("status", call=call_id, leg="callback"),
                    status_callback_event="initiated ringing answered completed")  # fmt: skip
        return str(response)

    def done(self, call_id: str, operator: str) -> str:
        """The callback conversation ended (or the caller did not answer): the operator goes to wrap-up."""
        ch = self.ch
        try:
            ch.acd.hangup(call_id, ch.now(), by="operator")
        except AcdError as exc:
            logger.info("callback %s: end not applied: %s", call_id, exc)
        ch.poke()
        response = VoiceResponse()
        response.hangup()
        return str(response)
