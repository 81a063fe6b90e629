"""The post-call survey on the phone: DTMF on the caller's leg after the operator hung up.

Which calls are asked, recording answers (SURVEY_ANSWERED, once per call and question), the SMS survey when
the caller hung up first and the SMS replies belong to :class:`callcenter.surveys.SurveyService`; this module
asks the questions in the caller's language and hands it the keys pressed. No key, ``*`` or ``#`` skips a
question. Twilio is the service's Messaging port (``TwilioRest.send_sms``).
"""

from __future__ import annotations

import logging

from twilio.twiml.messaging_response import MessagingResponse

from callcenter.surveys import InvalidSurveyAnswerError, SurveyService, parse_reply
from ivr import prompts
from webhooks import twiml
from webhooks.channel import TwilioChannel
from webhooks.twiml import VoiceResponse

logger = logging.getLogger(__name__)

ANSWER_SECONDS = 6
SKIP_KEYS = ("", "*", "#")


class _Messaging:
    """The survey service's Messaging port: SMS through the channel's REST port (built when first used)."""

    def __init__(self, channel: TwilioChannel):
        self.channel = channel

    def send_sms(self, to: str, body: str) -> str:
        return self.channel.rest.send_sms(to, body)


class Survey:
    """Asks the hotline's survey questions in the caller's language."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel
        self.config = channel.hotline.survey
        c = channel.container
        self.service = SurveyService(c.sessions, c.redis.live, c.keys, c.journal, c.hotline, channel.now,
                                     messaging=_Messaging(channel))  # fmt: skip

    def wanted(self, sid: str, queue: str) -> bool:
        return self.service.wanted(sid, queue)

    def begin(self, sid: str) -> str:
        """After the operator hung up: the intro and the first question, or a goodbye."""
        state = self.ch.store.get(sid)
        language = state.language or self.ch.default_language
        response = VoiceResponse()
        if not self.wanted(sid, state.get("queue", "")):
            twiml.say(response, prompts.system("goodbye", language), language)
            response.hangup()
            return str(response)
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        if texts.intro:
            twiml.say(response, texts.intro, language)
        self._ask(response, sid, 0, language)
        return str(response)

    def answer(self, sid: str, index: int, digits: str, retry: int) -> str:
        """One answer (or none): journal it, then the next question or the thanks."""
        state = self.ch.store.get(sid)
        language = state.language or self.ch.default_language
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        response = VoiceResponse()
        if not 0 <= index < len(texts.questions):
            response.hangup()
            return str(response)
        question_id, kind, _ = texts.questions[index]
        value = parse_reply(kind, digits)
        if value is None and digits.strip() not in SKIP_KEYS and retry == 0:
            twiml.say(response, prompts.system("survey_invalid", language), language)
            self._ask(response, sid, index, language, retry=1)
            return str(response)
        if value is not None:
            self.record(sid, question_id, value, "dtmf")
        if index + 1 < len(texts.questions):
            self._ask(response, sid, index + 1, language)
        else:
            twiml.say(response, texts.thanks or prompts.system("goodbye", language), language)
            response.hangup()
        return str(response)

    def record(self, call_id: str, question: str, answer: int, via: str) -> None:
        try:
            self.service.record_answer(call_id, question, answer, via)
        except InvalidSurveyAnswerError as exc:
            logger.warning("call %s: survey answer not recorded: %s", call_id, exc)

    def _ask(self, response: VoiceResponse, sid: str, index: int, language: str, retry: int = 0) -> None:
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        action = self.ch.urls("survey", call=sid, q=index, retry=retry or None)
        gather = twiml.digits_gather(response, action, timeout=ANSWER_SECONDS)
        twiml.say(gather, texts.questions[index][2], language)
        response.redirect(action + "&noinput=1", method="POST")

    # -- by SMS --------------------------------------------------------------------------------------------
    def sms_reply(self, number: str, body: str) -> str:
        """TwiML answering an SMS from a caller (next question, thanks, or a polite explanation)."""
        response = MessagingResponse()
        response.message(self.service.handle_sms_reply(number, body, self.ch.now()))
        return str(response)
