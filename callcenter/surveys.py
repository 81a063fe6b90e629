"""Post-call satisfaction surveys: which calls are asked, answers recorded once, SMS survey and its replies.

Answers travel like every fact about a call: a SURVEY_ANSWERED event in the journal (question, answer, via),
whose id is derived from (call, question), so one question of one call is stored once however often it is
answered (a repeated webhook, a DTMF answer followed by an SMS one: the first wins). The journal writer's
:class:`SurveyProjection` turns each new answer into a ``survey_responses`` row linked to the call's ticket,
operator and queue; the call summary keeps the satisfaction score for the KPIs (CSAT and response rate).

Yes/no answers are stored as 1 (yes) and 0 (no). An SMS reply is accepted while the survey is pending (two
days); a late reply, a reply with no survey, or a second answer gets a polite text and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.events import CallEvent, EventType
from callcenter.hotline import Hotline, SurveyQuestion
from callcenter.storage.event_store import upsert, utc
from callcenter.storage.models import Call, SurveyResponse
from queueing.keys import Keys

logger = logging.getLogger(__name__)

# The same namespace as the Twilio channel's event ids: an answer given through either path has one id.
EVENT_NAMESPACE = uuid.UUID("6f1c3f52-9a4e-4c1e-9a53-2f0d6b1f7a11")
SMS_PENDING_SECONDS = 2 * 24 * 3600
ANSWERED_FLAG_SECONDS = 30 * 24 * 3600  # beyond this, the event id still keeps a second answer out of SQL
MAX_GARBAGE_REPLIES = 2
YES_NO = {"1": 1, "2": 0, "yes": 1, "no": 0, "igen": 1, "nem": 0, "y": 1, "n": 0, "i": 1}

TEXTS = {
    "en": {
        "scale": "Please reply with a number from 1 to 5.",
        "yes_no": "Please reply 1 for yes or 2 for no.",
        "none": "Thank you for your message. There is no open survey for this number; to reach us, please call.",
        "again": "Thank you, we already have your answer.",
        "thanks": "Thank you for your answer!",
        "late": "Thank you for your reply; this survey has closed.",
    },
    "hu": {
        "scale": "Kérjük, egy 1 és 5 közötti számmal válaszoljon.",
        "yes_no": "Kérjük, igen esetén 1-gyel, nem esetén 2-vel válaszoljon.",
        "none": "Köszönjük üzenetét. Ehhez a számhoz nincs nyitott kérdőív; kérjük, hívjon minket.",
        "again": "Köszönjük, a válaszát már rögzítettük.",
        "thanks": "Köszönjük a válaszát!",
        "late": "Köszönjük a válaszát; ez a kérdőív már lezárult.",
    },
}


class Messaging(Protocol):
    """Sends a text message (the Twilio channel's REST adapter provides it)."""

    def send_sms(self, to: str, body: str) -> str: ...


class Journal(Protocol):
    def append(self, event: CallEvent) -> str: ...


class InvalidSurveyAnswerError(ValueError):
    """An answer that does not fit the question (unknown question, or out of range)."""


def answer_event_id(call_id: str, question_id: str) -> str:
    return uuid.uuid5(EVENT_NAMESPACE, f"{call_id}|{EventType.SURVEY_ANSWERED.value}|{question_id}").hex


def parse_reply(kind: str, text: str) -> int | None:
    """1-5 for a scale question, 1/0 for a yes/no one (digits or words); None when the text means neither."""
    words = text.strip().lower().replace(".", " ").replace("!", " ").split()
    if kind == "yes_no":
        return YES_NO.get(words[0]) if words else None
    digits = [ch for ch in text if ch.isdigit()]
    return int(digits[0]) if len(digits) == 1 and 1 <= int(digits[0]) <= 5 else None


class SurveyService:
    """Who is surveyed, answers, the SMS survey job and SMS replies."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        keys: Keys,
        journal: Journal,
        hotline: Hotline,
        clock: Callable[[], float],
        messaging: Messaging | None = None,
    ):
        self._sessions, self._redis, self._keys, self._journal = sessions, client, keys, journal
        self.config, self._hotline, self._clock, self._messaging = hotline.survey, hotline, clock, messaging

    def wanted(self, call_id: str, queue: str) -> bool:
        """Survey enabled, the queue takes part (none listed: all), and the call falls in the sample (stable)."""
        config = self.config
        if not (config.enabled and config.questions) or (config.queues and queue not in config.queues):
            return False
        draw = int(hashlib.sha1(call_id.encode()).hexdigest()[:8], 16) / 2**32
        return draw < config.sampling_rate

    def record_answer(self, call_id: str, question_id: str, answer: int, via: str) -> bool:
        """Journal one answer; False when this question of this call was answered before (first answer wins)."""
        question = self._question(question_id)
        allowed = range(1, 6) if question.kind == "scale_1_5" else (0, 1)
        if answer not in allowed:
            raise InvalidSurveyAnswerError(f"call {call_id}: {answer!r} does not answer {question_id!r}")
        flag = self._keys.survey_answer(call_id, question_id)
        if not self._redis.set(flag, via, nx=True, ex=ANSWERED_FLAG_SECONDS):
            logger.info("call %s: survey %s already answered; %s answer ignored", call_id, question_id, via)
            return False
        data = {"question": question_id, "answer": answer, "via": via}
        self._journal.append(
            CallEvent(
                answer_event_id(call_id, question_id), EventType.SURVEY_ANSWERED, self._clock(), call_id, data=data
            )
        )
        logger.info("call %s: survey %s = %s (%s)", call_id, question_id, answer, via)
        return True

    def sms_survey_job(self, call_id: str) -> bool:
        """The caller hung up before the survey: text them its first question (once); False when not wanted."""
        call = self._call(call_id)
        if call is None or not self._sms_wanted(call):
            return False
        pending = self._keys.survey_sms(call.caller)
        if not self._redis.hsetnx(pending, "call", call_id):
            return False
        state: dict[str | bytes, str] = {"q": "0", "lang": self._language(call.language), "bad": "0"}
        state["sent"] = repr(self._clock())
        self._redis.hset(pending, mapping=state)  # type: ignore[arg-type]
        self._redis.expire(pending, SMS_PENDING_SECONDS)
        self._messaging.send_sms(call.caller, self._sms_question(0, call.language, intro=True))  # type: ignore[union-attr]
        logger.info("call %s: SMS survey sent", call_id)
        return True

    def handle_sms_reply(self, from_number: str, body: str, now: float) -> str:
        """The text to send back for an SMS from a caller: next question, thanks, or a polite explanation."""
        key = self._keys.survey_sms(from_number)
        pending: dict[str, str] = self._redis.hgetall(key)  # type: ignore[assignment]
        if not pending:
            return TEXTS[self._language("")]["none"]
        index, language = int(pending["q"]), pending.get("lang", "en")
        if now - float(pending.get("sent", now)) > SMS_PENDING_SECONDS:
            self._redis.delete(key)
            return TEXTS[language]["late"]
        question = self.config.questions[index]
        value = parse_reply(question.kind, body)
        if value is None:
            return self._garbage(key, pending, question, language)
        recorded = self.record_answer(pending["call"], question.id, value, "sms")
        if recorded and index + 1 < len(self.config.questions):
            self._redis.hset(key, mapping={"q": str(index + 1), "bad": "0"})
            return self._sms_question(index + 1, language)
        self._redis.delete(key)
        return self._thanks(language) if recorded else TEXTS[language]["again"]

    # -- helpers --------------------------------------------------------------------------------------------
    def _garbage(self, key: str, pending: dict[str, str], question: SurveyQuestion, language: str) -> str:
        if int(pending.get("bad", "0")) + 1 >= MAX_GARBAGE_REPLIES:
            self._redis.delete(key)  # stop asking: a conversation, not a survey answer
            return TEXTS[language]["none"]
        self._redis.hincrby(key, "bad", 1)
        return TEXTS[language]["scale" if question.kind == "scale_1_5" else "yes_no"]

    def _sms_wanted(self, call: Call) -> bool:
        has_answer = self._redis.exists(self._keys.survey_answer(call.id, self.config.questions[0].id))
        return bool(
            self._messaging is not None
            and self.config.sms_when_caller_hung_up
            and call.caller.startswith("+")
            and call.answered_at is not None
            and not has_answer
            and self.wanted(call.id, call.queue)
        )

    def _question(self, question_id: str) -> SurveyQuestion:
        for question in self.config.questions:
            if question.id == question_id:
                return question
        raise InvalidSurveyAnswerError(f"no survey question {question_id!r}")

    def _call(self, call_id: str) -> Call | None:
        with self._sessions() as session:
            return session.get(Call, call_id)

    def _language(self, language: str) -> str:
        language = language or self._hotline.hotline.default_language
        return language if language in TEXTS else "en"

    def _sms_question(self, index: int, language: str, intro: bool = False) -> str:
        lang = self._language(language)
        question = self.config.questions[index]
        text = _local(question.prompt, lang)
        hint = TEXTS[lang]["scale" if question.kind == "scale_1_5" else "yes_no"]
        opening = _local(self.config.intro, lang) if intro else ""
        return " ".join(part for part in (opening, text, hint) if part)

    def _thanks(self, language: str) -> str:
        return _local(self.config.thanks, language) or TEXTS[language]["thanks"]


def _local(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or next(iter(texts.values()), "")


class SurveyProjection:
    """Journal projection: each new SURVEY_ANSWERED becomes a survey_responses row (once per call and question)."""

    def apply(self, events: Sequence[CallEvent], session: Session) -> None:
        answers = [e for e in events if e.type is EventType.SURVEY_ANSWERED and e.call_id]
        if not answers:
            return
        calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_({e.call_id for e in answers})))}
        rows = [row for row in (_response_row(e, calls.get(e.call_id)) for e in answers) if row is not None]
        if rows:
            insert = upsert(session.get_bind(), SurveyResponse)  # type: ignore[arg-type]
            session.execute(insert.on_conflict_do_nothing(index_elements=["call_id", "question_id"]), rows)


def _response_row(event: CallEvent, call: Call | None) -> dict[str, Any] | None:
    raw = event.data.get("answer")
    value = {"yes": 1, "no": 0}.get(str(raw).lower(), raw)
    try:
        answer = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        logger.warning("call %s: survey answer %r is not a number; not stored", event.call_id, raw)
        return None
    return {
        "call_id": event.call_id,
        "ticket_id": call.ticket_id if call else None,
        "operator": (call.operator if call else "") or event.operator,
        "queue": (call.queue if call else "") or event.queue,
        "question_id": str(event.data.get("question", "satisfaction")),
        "answer": answer,
        "via": str(event.data.get("via", "voice"))[:8],
        "answered_at": utc(event.ts),
    }
