"""The post-call survey: DTMF on the caller's leg after the operator hung up, or SMS when the caller did.

Answers are journalled as SURVEY_ANSWERED (question, answer, via); a repeated answer keeps one event id per
(call, question), so it is counted once. No key, ``*`` or ``#`` skips a question.
"""

from __future__ import annotations

import hashlib
import logging

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from callcenter.domain.events import EventType
from ivr import prompts
from webhooks import twiml
from webhooks.channel import TwilioChannel

logger = logging.getLogger(__name__)

ANSWER_SECONDS = 6
SMS_TTL_SECONDS = 2 * 24 * 3600
SKIP_KEYS = ("", "*", "#")


def parse_answer(kind: str, text: str) -> int | str | None:
    """1-5 for a scale question, yes/no for 1/2; None when the input means neither."""
    digits = "".join(ch for ch in text if ch.isdigit())[:1]
    if kind == "yes_no":
        return {"1": "yes", "2": "no"}.get(digits)
    return int(digits) if digits and 1 <= int(digits) <= 5 else None


class Survey:
    """Asks the hotline's survey questions in the caller's language."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel
        self.config = channel.hotline.survey

    def wanted(self, sid: str, queue: str) -> bool:
        """Enabled, the queue takes part, and the call falls in the sample (stable per call id)."""
        config = self.config
        if not (config.enabled and config.questions) or (config.queues and queue not in config.queues):
            return False
        draw = int(hashlib.sha1(sid.encode()).hexdigest()[:8], 16) / 2**32
        return draw < config.sampling_rate

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
        value = parse_answer(kind, digits)
        if value is None and digits.strip() not in SKIP_KEYS and retry == 0:
            twiml.say(response, prompts.system("survey_invalid", language), language)
            self._ask(response, sid, index, language, retry=1)
            return str(response)
        if value is not None:
            self.record(sid, question_id, value, "dtmf", state.get("queue", ""))
        if index + 1 < len(texts.questions):
            self._ask(response, sid, index + 1, language)
        else:
            twiml.say(response, texts.thanks or prompts.system("goodbye", language), language)
            response.hangup()
        return str(response)

    def record(self, call_id: str, question: str, answer: int | str, via: str, queue: str = "") -> None:
        data = {"question": question, "answer": answer, "via": via}
        self.ch.append(self.ch.event(call_id, EventType.SURVEY_ANSWERED, data, question, queue=queue))
        logger.info("call %s: survey %s = %s (%s)", call_id, question, answer, via)

    def _ask(self, response: VoiceResponse, sid: str, index: int, language: str, retry: int = 0) -> None:
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        action = self.ch.urls("survey", call=sid, q=index, retry=retry or None)
        gather = twiml.digits_gather(response, action, timeout=ANSWER_SECONDS)
        twiml.say(gather, texts.questions[index][2], language)
        response.redirect(action + "&noinput=1", method="POST")

    # -- by SMS --------------------------------------------------------------------------------------------
    def sms_text(self, language: str) -> tuple[str, str]:
        """(question id, message body) of the SMS survey: its first question."""
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        question_id, _, text = texts.questions[0]
        return question_id, f"{texts.intro} {text}".strip()

    def sms_sent(self, call_id: str, number: str, question: str, language: str) -> None:
        key = self.ch.container.keys.twilio_sms_survey(number)
        redis = self.ch.container.redis.live
        redis.hset(key, mapping={"call": call_id, "q": question, "lang": language})
        redis.expire(key, SMS_TTL_SECONDS)

    def sms_reply(self, number: str, body: str) -> str:
        """An SMS from a caller: the answer to their pending survey question, thanked; otherwise 204-worthy ''."""
        redis = self.ch.container.redis.live
        key = self.ch.container.keys.twilio_sms_survey(number)
        pending: dict[str, str] = redis.hgetall(key)  # type: ignore[assignment]
        if not pending:
            return ""
        question = pending["q"]
        kind = next((q.kind for q in self.config.questions if q.id == question), "scale_1_5")
        value = parse_answer(kind, body)
        language = pending.get("lang") or self.ch.default_language
        response = MessagingResponse()
        if value is None:
            response.message(prompts.system("survey_invalid", language))
            return str(response)
        self.record(pending["call"], question, value, "sms")
        redis.delete(key)
        texts = prompts.survey_texts(self.config, language, self.ch.default_language)
        response.message(texts.thanks or prompts.system("goodbye", language))
        return str(response)
