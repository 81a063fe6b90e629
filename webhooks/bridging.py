"""Connecting a caller to the operator our ACD reserved: bridge, whisper, accept, and the Dial's outcome.

The bridge is ``<Dial action answerOnBridge record><Client url=whisper>`` (``<Sip>`` for SIP phones). The
whisper plays on the operator's leg only; pressing 1 accepts (CONNECTED), anything else or nothing declines
(RONA: the caller goes back to their original place). The Dial action decides on our ACD's state, not only
on ``DialCallStatus``: the operator hanging up leads to the survey, the caller hanging up ends the call.
"""

from __future__ import annotations

import logging

from callcenter.domain.operator import AcdError
from ivr import prompts
from webhooks import twiml
from webhooks.channel import TwilioChannel
from webhooks.survey import Survey
from webhooks.twiml import VoiceResponse
from webhooks.waiting import Waiting

logger = logging.getLogger(__name__)

ACCEPT_KEY = "1"
WHISPER_SECONDS = 8
FAILED_DIAL = ("no-answer", "busy", "failed", "canceled")


class Bridging:
    """The operator side of a Twilio call."""

    def __init__(self, channel: TwilioChannel, waiting: Waiting, survey: Survey):
        self.ch, self.waiting, self.survey = channel, waiting, survey

    def bridge(self, sid: str, operator: str, ticket: str) -> str:
        """Ring the reserved operator with a whisper; a stale push (no longer reserved) goes back to hold."""
        ch = self.ch
        response = VoiceResponse()
        position = ch.acd.position(sid, ch.now())
        if position.state != "ringing":
            return self.waiting.exit(sid, "overflow" if position.state == "waiting" else "")
        urls, queue = ch.urls, position.queue
        dial = response.dial(action=urls("dial", call=sid, op=operator), method="POST", answer_on_bridge=True,
                             timeout=ch.ring_timeout(queue), record="record-from-answer-dual",
                             recording_status_callback=urls("recording", call=sid, op=operator),
                             recording_status_callback_method="POST")  # fmt: skip
        whisper = urls("whisper", call=sid, op=operator, ticket=ticket)
        status = urls("status", call=sid, op=operator)
        kind, address = ch.softphone(operator)
        events = "initiated ringing answered completed"
        if kind == "sip":
            dial.sip(address, url=whisper, method="POST", status_callback=status, status_callback_event=events)
        else:
            dial.client(address, url=whisper, method="POST", status_callback=status, status_callback_event=events)
        return str(response)

    def whisper(self, sid: str, operator: str, ticket: str) -> str:
        """On the operator's leg: queue, the caller's language and the ticket; press 1 to accept."""
        ch, state = self.ch, self.ch.store.get(sid)
        language = ch.operator_language(operator)
        queue = state.get("queue", "")
        text = prompts.whisper(ch.queue_title(queue, language), state.language or ch.default_language,
                               ticket or "-", language, ACCEPT_KEY)  # fmt: skip
        response = VoiceResponse()
        action = ch.urls("whisper/accept", call=sid, op=operator)
        gather = twiml.digits_gather(response, action, timeout=WHISPER_SECONDS)
        twiml.say(gather, text, language)
        response.redirect(action + "&noinput=1", method="POST")
        return str(response)

    def accept(self, sid: str, operator: str, digits: str) -> str:
        """The operator's key after the whisper: 1 connects, anything else (or nothing) is a decline."""
        ch = self.ch
        response = VoiceResponse()
        try:
            if digits.strip() == ACCEPT_KEY:
                ch.acd.accept(sid, operator, ch.now())
                return str(response)  # an empty document: the bridge completes
            ch.acd.no_answer(sid, operator, ch.now())
            ch.poke()
        except AcdError as exc:
            logger.info("call %s: %s could not take it: %s", sid, operator, exc)
            language = ch.operator_language(operator)
            twiml.say(response, _GONE.get(language, _GONE["en"]), language)
        response.hangup()
        return str(response)

    def dial_done(self, sid: str, operator: str, dial_status: str, call_status: str) -> str:
        """The caller's Dial ended: RONA back to the queue, or the end of a conversation (survey)."""
        ch = self.ch
        if call_status == "completed":  # the caller hung up (Twilio ignores any TwiML now)
            self.waiting.caller_gone(sid)
            return str(VoiceResponse())
        try:
            position = ch.acd.position(sid, ch.now())
        except AcdError:
            return str(VoiceResponse())
        if position.state == "ringing" and operator:
            try:
                ch.acd.no_answer(sid, operator, ch.now())
            except AcdError as exc:
                logger.info("call %s: RONA of %s not applied: %s", sid, operator, exc)
            position = ch.acd.position(sid, ch.now())
        if position.state == "waiting":
            ch.poke()
            return self.waiting.exit(sid, "overflow")
        if position.state == "connected":
            return self._operator_hung_up(sid)
        return str(VoiceResponse())

    def _operator_hung_up(self, sid: str) -> str:
        ch = self.ch
        try:
            ch.acd.hangup(sid, ch.now(), by="operator")
        except AcdError as exc:
            logger.info("call %s: hangup by operator not applied: %s", sid, exc)
        ch.poke()
        return self.survey.begin(sid)


_GONE = {
    "hu": "A hívás már nem elérhető.",
    "en": "This call is no longer available.",
}
