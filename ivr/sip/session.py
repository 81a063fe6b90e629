"""One caller on the SIP channel: IVR steps over RTP, the queue, the operator bridge, the survey.

The session runs in the thread pyVoIP gives the incoming call and drives the caller's audio on a fixed 20 ms
schedule (``CallerAudio``). It renders the same engine steps as the Twilio channel and leaves the same journal
events: CALL_STARTED and the engine's IVR facts from here, ENTER_QUEUE/OFFERED/CONNECTED/... from the ACD's
scripts, SURVEY_ANSWERED and CALL_ENDED from here again. The dispatcher hands it offers and deadlines
through ``inbox``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import queue as queues
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callcenter.domain.events import CallEvent, EventType
from callcenter.domain.operator import AcdError
from callcenter.hotline import Hotline
from ivr import engine, prompts
from ivr.nodes import Flow
from ivr.sip import recording
from ivr.sip.audio import frames
from ivr.sip.legs import LegRecorder
from ivr.sip.media import CallerAudio, CallerHungUpError, Pacer, ticks
from ivr.sip.operator_leg import OperatorAttempt, Ring, bridge
from ivr.sip.ports import Leg, Phone
from ivr.sip.voice import hold_music
from ivr.steps import (
    CallContext,
    Digits,
    Enqueue,
    Fact,
    Gather,
    Hangup,
    NoInput,
    Play,
    Record,
    RequestCallback,
    Result,
    Say,
    Step,
    Transfer,
    UserInput,
)
from queueing.acd import Acd
from queueing.acd_types import Offer, TickAction

logger = logging.getLogger(__name__)

SURVEY_TIMEOUT_SECONDS = 6
SURVEY_ANSWERS = {"scale_1_5": {str(n): n for n in range(1, 6)}, "yes_no": {"1": 1, "2": 0}}


class Journal(Protocol):
    def append(self, event: CallEvent) -> Any: ...


class SurveyRecorder(Protocol):
    def record_answer(self, call_id: str, question_id: str, answer: int, via: str) -> Any: ...


class Voices(Protocol):
    def say(self, text: str, language: str) -> bytes: ...

    def play(self, url: str, language: str, text: str = "") -> bytes: ...


@dataclass
class SessionDeps:
    """What every caller session shares (built once by the gateway)."""

    flow: Flow
    hotline: Hotline
    acd: Acd
    journal: Journal
    legs: LegRecorder
    voices: Voices
    phone: Phone
    softphone_of: Callable[[str], str | None]
    clock: Callable[[], float] = time.time
    pacer: Callable[[], Pacer] = Pacer
    surveys: SurveyRecorder | None = None
    self_service: engine.SelfServiceSource | None = None
    recordings_dir: Path = Path("recordings")
    announce_every: float = 30.0
    first_announce: float = 2.0
    hold_audio: bytes = field(default_factory=hold_music)


class CallerSession:
    """The life of one incoming SIP call, from answer to hang-up."""

    def __init__(self, leg: Leg, deps: SessionDeps):
        self.leg, self.deps = leg, deps
        self.call_id = f"sip-{uuid.uuid4().hex[:24]}"
        self.inbox: queues.Queue[Offer | TickAction] = queues.Queue()
        self.context: CallContext = engine.initial_context(deps.flow)
        self.audio = CallerAudio(leg, deps.pacer())
        self.phase = "ringing"
        self.node: str | None = None
        self.queue = ""
        self.operator = ""
        self.attempt: OperatorAttempt | None = None
        self._later: list[Offer | TickAction] = []  # inbox items kept while an operator rings
        self._hold: Iterator[bytes] = itertools.cycle(frames(deps.hold_audio) or [b"\x80" * 160])

    # -- the call ------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Answer (unless the caller cancelled), run the IVR, queue, bridge, survey; always clean up."""
        if not self.leg.answer():
            self._leg("canceled")
            logger.info("call %s cancelled while ringing; not answered", self.leg.sip_call_id)
            return
        self._leg("in-progress")
        self._event(EventType.CALL_STARTED, **{"from": self.leg.remote, "to": self.leg.local, "channel": "sip",
                    "caller_name": self.leg.remote_name, "sip_call_id": self.leg.sip_call_id})  # fmt: skip
        ended_by = "gateway"
        try:
            self.phase = "ivr"
            if self._after_ivr(self._ivr()) == "survey":
                self._survey()
        except CallerHungUpError:
            ended_by = "caller"
            self._caller_left()
        except Exception:  # Redis or the database away, a bug: apologise rather than leave dead air
            logger.exception("call %s: failed during %s", self.call_id, self.phase)
            self._apologise()
        finally:
            self._finish(ended_by)

    def _finish(self, ended_by: str) -> None:
        self.phase = "ended"
        if self.attempt is not None:
            self.attempt.cancel()
        self.leg.hangup()
        self._leg("completed")
        self._event(EventType.CALL_ENDED, queue=self.queue, operator=self.operator, by=ended_by)

    def _apologise(self) -> None:
        try:
            self._say_system("apology")
        except Exception:
            logger.debug("call %s: apology not played", self.call_id)

    def _caller_left(self) -> None:
        """The caller hung up: in the IVR that is an IVR_EXIT; waiting or ringing, ABANDONED; talking, the
        conversation is completed by the caller and the operator's leg ends too."""
        now = self.deps.clock()
        if self.phase == "ivr" and self.node is not None:
            self._fact(engine.caller_hung_up(self.node, self.context))
        elif self.phase in ("queued", "bridged"):
            self._acd(lambda: self.deps.acd.hangup(self.call_id, now, by="caller"))
        if self.phase == "bridged" and self.attempt is not None:
            self.attempt.cancel()
            self._operator_leg(self.attempt, self.operator, "completed")
        logger.info("call %s: caller hung up during %s", self.call_id, self.phase)

    # -- IVR -----------------------------------------------------------------------------------------------
    def _ivr(self) -> Step | None:
        """Run the flow until the caller leaves the IVR; returns the terminal step."""
        result = engine.start(self.deps.flow, None, self._now(), self.deps.self_service)
        while True:
            terminal = self._render(result)
            if result.waiting_at is None:
                return terminal
            gather = next(s for s in reversed(result.steps) if isinstance(s, Gather))
            answer = self._gather(gather)
            result = engine.advance(
                self.deps.flow, gather.node, answer, self.context, self._now(), self.deps.self_service
            )

    def _render(self, result: Result) -> Step | None:
        self.context = result.context
        self.node = result.context.path[-1] if result.context.path else self.node
        for fact in result.facts:
            self._fact(fact)
        terminal: Step | None = None
        for step in result.steps:
            if isinstance(step, Say | Play):
                self.audio.play(self._sound(step))
            elif isinstance(step, RequestCallback):
                self._book_callback(step)
                terminal = Hangup()
            elif not isinstance(step, Gather):
                terminal = terminal or step
        return terminal

    def _gather(self, gather: Gather) -> UserInput:
        for prompt in gather.prompts:
            if not self.audio.play(self._sound(prompt), interruptible=True):
                break
        digits = self.audio.collect(gather.num_digits, gather.timeout_seconds)
        return Digits(digits) if digits else NoInput()

    def _after_ivr(self, step: Step | None) -> str:
        """Carry out the step that ended the IVR; "survey" when the operator hung up on a connected call."""
        if isinstance(step, Enqueue):
            return self._queue(step.queue, step.priority, dict(step.skills), step.callback_key, step.topic)
        if isinstance(step, Transfer) and step.queue:
            return self._queue(step.queue, step.priority, dict(step.skills), None, step.topic)
        if isinstance(step, Transfer):
            logger.warning("call %s: transfer to %s needs REFER, which pyVoIP lacks", self.call_id, step.number)
            self._say_system("apology")
        if isinstance(step, Record):
            self._voicemail(step.max_seconds, step.queue)
        return "done"

    # -- queue ---------------------------------------------------------------------------------------------
    def _queue(self, name: str, priority: int, skills: dict[str, int], key: str | None, topic: str | None) -> str:
        now = self.deps.clock()
        data = {"topic": topic} if topic else {}
        entered = self.deps.acd.enqueue(
            self.call_id, name, now, priority=priority, skills=skills, channel="sip", caller=self.leg.remote,
            language=self.context.language, data=data,
        )  # fmt: skip
        self.queue, self.phase = entered.queue, "queued"
        if entered.action == "callback":
            self._say_system("callback_confirmed")
            return "done"
        if entered.action == "voicemail":
            self._voicemail(120, entered.queue)
            return "done"
        if entered.action == "full":
            self._say_system("queue_full")
            return "done"
        return self._wait(key)

    def _wait(self, key: str | None) -> str:
        """Hold music, announcements every ``announce_every`` seconds (the first after ``first_announce``, so
        a caller answered at once hears none), the callback key, offers, deadlines."""
        countdown = ticks(self.deps.first_announce)
        while True:
            for item in self._drain():
                outcome = self._ring(item) if isinstance(item, Offer) else self._deadline(item)
                if outcome != "waiting":
                    return outcome
            if key and key in self.audio.digits:
                self._acd(lambda: self.deps.acd.request_callback(self.call_id, self.leg.remote, self.deps.clock()))
                self._say_system("callback_confirmed")
                return "done"
            self.audio.digits = ""
            self.audio.tick(next(self._hold))
            countdown -= 1
            if countdown <= 0:
                self._announce(key)
                countdown = ticks(self.deps.announce_every)

    def _announce(self, key: str | None) -> None:
        try:
            where = self.deps.acd.position(self.call_id, self.deps.clock())
        except Exception:
            logger.exception("call %s: position unavailable", self.call_id)
            return
        if where.position <= 0:
            return
        language = self.context.language
        text = prompts.queue_announcement(where.position, where.estimated_wait, language)
        if key:
            text += " " + prompts.callback_offer(key, language)
        self.audio.play(self.deps.voices.say(text, language), interruptible=bool(key))

    def _deadline(self, action: TickAction) -> str:
        """Max wait reached (the ACD journaled EXIT_TIMEOUT): carry out the queue's ``on_max_wait``."""
        if action.kind != "max_wait":
            return "waiting"
        if action.action == "overflow":
            try:
                self.queue = self.deps.acd.position(self.call_id, self.deps.clock()).queue or self.queue
            except AcdError as exc:
                logger.info("call %s: overflow queue unknown: %s", self.call_id, exc)
            return "waiting"
        self.phase = "timed_out"
        if action.action == "callback":
            self._say_system("callback_confirmed")
        elif action.action == "voicemail":
            self._voicemail(120, action.queue)
        else:
            self._say_system("goodbye")
        return "done"

    def _book_callback(self, step: RequestCallback) -> None:
        now = self.deps.clock()
        self.deps.acd.enqueue(
            self.call_id, step.queue, now, priority=step.priority, skills=dict(step.skills), channel="sip",
            caller=self.leg.remote, language=step.language or self.context.language,
        )  # fmt: skip
        self.queue = step.queue
        self._acd(lambda: self.deps.acd.request_callback(self.call_id, self.leg.remote, now))

    # -- operator ------------------------------------------------------------------------------------------
    def _ring(self, offer: Offer) -> str:
        """Ring the reserved operator; busy, failure or no answer is RONA and the caller keeps the place."""
        uri = self.deps.softphone_of(offer.operator)
        if not uri or not uri.lower().startswith("sip"):
            logger.warning("call %s: operator %s has no SIP softphone (%r)", self.call_id, offer.operator, uri)
            self._acd(lambda: self.deps.acd.no_answer(self.call_id, offer.operator, self.deps.clock()))
            return "waiting"
        ring_timeout = self.deps.hotline.queues[offer.queue].ring_timeout_seconds if offer.queue else 20
        attempt = self.attempt = OperatorAttempt(self.deps.phone, uri, ring_timeout, time.monotonic)
        recorded = False
        while True:
            state = attempt.poll()
            if attempt.leg is not None and not recorded:
                recorded = True
                self._operator_leg(attempt, offer.operator, "ringing")
            if state is not Ring.RINGING:
                break
            if self._ring_timed_out(offer.operator):
                return self._missed(attempt, offer.operator, Ring.NO_ANSWER, rona_done=True)
            self.audio.tick(next(self._hold))
        if state is not Ring.ANSWERED:
            return self._missed(attempt, offer.operator, state, rona_done=False)
        return self._talk(attempt, offer.operator)

    def _ring_timed_out(self, operator: str) -> bool:
        """Whether the ACD timed out this operator's ring; anything else (ring_all's other offers) waits."""
        timed_out = False
        for item in self._drain():
            if isinstance(item, TickAction) and item.kind == "ring_timeout" and item.operator == operator:
                timed_out = True
            else:
                self._later.append(item)
        return timed_out

    def _missed(self, attempt: OperatorAttempt, operator: str, why: Ring, rona_done: bool) -> str:
        attempt.cancel()
        self.attempt = None
        logger.info("call %s: operator %s %s (%s)", self.call_id, operator, why.value, attempt.error or "")
        self._operator_leg(attempt, operator, why.value)
        if not rona_done:
            self._acd(lambda: self.deps.acd.no_answer(self.call_id, operator, self.deps.clock()))
        return "waiting"

    def _talk(self, attempt: OperatorAttempt, operator: str) -> str:
        assert attempt.leg is not None
        try:
            self.deps.acd.accept(self.call_id, operator, self.deps.clock())
        except AcdError as exc:  # the ring timed out in the ACD just as the operator answered
            logger.info("call %s: late answer by %s refused: %s", self.call_id, operator, exc)
            return self._missed(attempt, operator, Ring.NO_ANSWER, rona_done=True)
        self.operator, self.phase = operator, "bridged"
        self._operator_leg(attempt, operator, "in-progress")
        bridge(self.audio, attempt.leg)
        self.phase, self.attempt = "survey", None
        self._operator_leg(attempt, operator, "completed")
        self._acd(lambda: self.deps.acd.hangup(self.call_id, self.deps.clock(), by="operator"))
        return "survey"

    def _operator_leg(self, attempt: OperatorAttempt, operator: str, status: str) -> None:
        sid = attempt.leg_sid or f"{self.call_id}-{operator}-{uuid.uuid4().hex[:6]}"
        self.deps.legs.record(sid, self.call_id, status, self.deps.clock(), kind="operator", operator=operator,
                              from_addr=self.leg.local, to_addr=attempt.uri)  # fmt: skip

    # -- after the conversation ----------------------------------------------------------------------------
    def _survey(self) -> None:
        """The DTMF survey after the operator hung up: each question asked up to twice."""
        survey = self.deps.hotline.survey
        wanted = getattr(self.deps.surveys, "wanted", None)
        if not survey.enabled or not survey.questions or (wanted and not wanted(self.call_id, self.queue)):
            self._say_system("goodbye")
            return
        language = self.context.language
        texts = prompts.survey_texts(survey, language, self.deps.flow.default_language)
        self.audio.digits = ""
        self.audio.play(self.deps.voices.say(texts.intro, language))
        for question_id, kind, text in texts.questions:
            answer = self._ask(text, SURVEY_ANSWERS[kind], language)
            if answer is None:
                break
            self._record_answer(question_id, answer)
        self.audio.play(self.deps.voices.say(texts.thanks, language))

    def _ask(self, text: str, valid: dict[str, int], language: str) -> int | None:
        for _ in range(2):
            self.audio.play(self.deps.voices.say(text, language), interruptible=True)
            digit = self.audio.collect(1, SURVEY_TIMEOUT_SECONDS)
            if digit in valid:
                return valid[digit]
            if digit:
                self._say_system("survey_invalid")
        return None

    def _record_answer(self, question_id: str, answer: int) -> None:
        if self.deps.surveys is not None:
            self.deps.surveys.record_answer(self.call_id, question_id, answer, "voice")
            return
        self._event(EventType.SURVEY_ANSWERED, queue=self.queue, operator=self.operator, question=question_id,
                    answer=answer, via="voice")  # fmt: skip

    def _voicemail(self, max_seconds: int, queue: str) -> None:
        path = self.deps.recordings_dir / f"{self.call_id}.wav"
        seconds = recording.record(self.audio, path, max_seconds)
        self._event(EventType.VOICEMAIL, queue=queue or self.queue, recording_url=path.as_uri(), seconds=seconds)
        self._say_system("voicemail_thanks")

    # -- plumbing ------------------------------------------------------------------------------------------
    def _drain(self) -> list[Offer | TickAction]:
        items, self._later = self._later, []
        while True:
            try:
                items.append(self.inbox.get_nowait())
            except queues.Empty:
                return items

    def _sound(self, prompt: Say | Play) -> bytes:
        if isinstance(prompt, Play):
            return self.deps.voices.play(prompt.url, prompt.language, prompt.text)
        return self.deps.voices.say(prompt.text, prompt.language)

    def _say_system(self, key: str) -> None:
        language = self.context.language
        self.audio.play(self.deps.voices.say(prompts.system(key, language), language))

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.deps.clock(), dt.UTC)

    def _acd(self, operation: Callable[[], object]) -> None:
        """An ACD call whose refusal (the state moved on meanwhile) is logged, not fatal to the call."""
        try:
            operation()
        except AcdError as exc:
            logger.info("call %s: ACD refused: %s", self.call_id, exc)

    def _leg(self, status: str) -> None:
        self.deps.legs.record(self.leg.sip_call_id, self.call_id, status, self.deps.clock(), kind="caller",
                              from_addr=self.leg.remote, to_addr=self.leg.local)  # fmt: skip

    def _fact(self, fact: Fact) -> None:
        self._journal(fact.type, fact.data)

    def _event(self, event_type: EventType, /, queue: str = "", operator: str = "", **data: Any) -> None:
        self._journal(event_type, data, queue, operator)

    def _journal(self, event_type: EventType, data: dict[str, Any], queue: str = "", operator: str = "") -> None:
        event = CallEvent(id=uuid.uuid4().hex, type=event_type, ts=self.deps.clock(), call_id=self.call_id,
                          channel="sip", queue=queue, operator=operator, data=data)  # fmt: skip
        try:
            self.deps.journal.append(event)
        except Exception:
            logger.exception("call %s: could not journal %s", self.call_id, event_type)
