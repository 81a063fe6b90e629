"""Callers in our ACD, held in a Twilio queue: entering, the wait loop, the callback key, leaving.

Twilio queues are strictly FIFO, so Twilio only holds the caller: the wait loop announces the position and
estimated wait our ACD computes, offers the callback key (the caller keeps their place), and pokes the
dispatcher, which makes the routing decisions and pushes the caller out to the bridge.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from callcenter.domain.events import EventType
from callcenter.domain.operator import AcdError, CallAlreadyQueuedError, NoSuchCallError, NoSuchQueueError
from ivr import prompts
from queueing.acd_types import EnqueueResult
from webhooks import twiml
from webhooks.channel import TwilioChannel
from webhooks.twiml import VoiceResponse

logger = logging.getLogger(__name__)

SMS_SURVEY_DELAY_SECONDS = 15
FIRST_TURN_SECONDS = 5
GONE_RESULTS = ("hangup",)
CALL_SID, QUEUE_SID = re.compile(r"^CA[0-9a-f]{32}$"), re.compile(r"^QU[0-9a-f]{32}$")
FAILED_RESULTS = ("queue-full", "error", "system-error")
TURNS_KEPT = 4096


class Waiting:
    """The queue part of a Twilio call."""

    def __init__(self, channel: TwilioChannel):
        self.ch = channel
        self._turns: dict[tuple[Any, ...], str] = {}

    # -- entering ------------------------------------------------------------------------------------------
    def enter(
        self,
        sid: str,
        response: VoiceResponse,
        queue: str,
        priority: int,
        skills: Mapping[str, int],
        callback_key: str | None,
        language: str,
        topic: str | None,
    ) -> None:
        """Queue the call in our ACD; render what its answer means (hold, callback booked or voicemail)."""
        ch, state = self.ch, self.ch.store.get(sid)
        data = {"topic": topic} if topic else None
        try:
            result = ch.acd.enqueue(sid, queue, ch.now(), priority=priority, skills=skills, channel="twilio",
                                    caller=state.get("from", ""), language=language, data=data)  # fmt: skip
        except CallAlreadyQueuedError:  # a repeated or concurrent request: the call is ours already
            position = ch.acd.position(sid, ch.now())
            self.hold(sid, response, position.queue)
            return
        ch.store.update(sid, queue=result.queue, cbkey=callback_key or "", lang=language)
        if result.action == "voicemail":
            self.voicemail(sid, response, result.queue, language, 120, prompt=True)
        elif result.action == "full":
            twiml.say(response, prompts.system("queue_full", language), language)
            response.hangup()
        elif result.action == "callback":
            ch.store.update(sid, exit="callback")
            twiml.say(response, prompts.system("callback_confirmed", language), language)
            response.hangup()
        else:
            self.hold(sid, response, result.queue)
        ch.poke()

    def hold(self, sid: str, response: VoiceResponse, queue: str) -> None:
        """``<Enqueue>`` into the Twilio queue of ``queue`` with our wait loop."""
        urls, state = self.ch.urls, self.ch.store.get(sid)
        wait = urls("queue/wait", lang=state.language or self.ch.default_language, key=state.get("cbkey"))
        response.enqueue(self.ch.twilio_queue(queue), wait_url=wait, wait_url_method="POST",
                         action=urls("queue/done"), method="POST")  # fmt: skip

    def book_callback(
        self, sid: str, queue: str, priority: int, skills: Mapping[str, int], language: str, topic: str | None
    ) -> None:
        """The IVR booked a callback: the call waits in the ACD as a callback to the caller's number."""
        ch, state = self.ch, self.ch.store.get(sid)
        data = {"topic": topic} if topic else None
        number = state.get("from", "")
        result = ch.acd.enqueue(sid, queue, ch.now(), priority=priority, skills=skills, channel="twilio",
                                caller=number, language=language, data=data)  # fmt: skip
        if result.action in ("queued", "overflow"):  # voicemail or full: the queue did not take the call
            ch.acd.request_callback(sid, number, ch.now())
        ch.store.update(sid, queue=result.queue, exit="callback", lang=language)
        ch.poke()

    def voicemail(
        self, sid: str, response: VoiceResponse, queue: str, language: str, seconds: int, prompt: bool
    ) -> None:
        """Record a message (the recording callback journals VOICEMAIL and RECORDING)."""
        urls = self.ch.urls
        if prompt:
            twiml.say(response, prompts.system("voicemail_prompt", language) if _has("voicemail_prompt") else
                      _VOICEMAIL_PROMPT.get(language, _VOICEMAIL_PROMPT["en"]), language)  # fmt: skip
        response.record(action=urls("voicemail/done", call=sid), method="POST", max_length=seconds, play_beep=True,
                        recording_status_callback=urls("recording", call=sid, kind="voicemail", queue=queue),
                        recording_status_callback_method="POST")  # fmt: skip
        response.hangup()

    # -- the wait loop -------------------------------------------------------------------------------------
    def wait(self, sid: str, queue_sid: str, queue_time: str, language: str, key: str) -> str:
        """One turn of the wait loop: position, estimated wait, callback offer, hold music.

        A turn costs one Redis round trip (the ACD's position): the caller's language and callback key come in
        the wait URL, and the Twilio queue SID (needed to push the caller to the bridge) is stored on the first
        turns only. Offers and max wait need no turn: the dispatcher runs on every ACD change and every few
        seconds while calls wait."""
        ch = self.ch
        if queue_sid and queue_time.isdigit() and int(queue_time) < FIRST_TURN_SECONDS:
            ch.store.update(sid, queue_sid=queue_sid)
        response = VoiceResponse()
        try:
            position = ch.acd.position(sid, ch.now())
        except NoSuchCallError:
            if CALL_SID.match(sid) and QUEUE_SID.match(queue_sid):  # a real Twilio caller in a real queue
                return self.rejoin(sid, queue_sid, language, key)
            response.leave()
            return str(response)
        except AcdError:
            response.leave()
            return str(response)
        if position.state == "ringing":
            response.pause(length=2)  # the push to the operator's bridge is on its way
        elif position.state != "waiting" or not position.position:
            response.leave()
        else:
            return self._turn(position.position, position.estimated_wait, language or ch.default_language, key)
        return str(response)

    def _turn(self, position: int, wait: float | None, language: str, key: str) -> str:
        """The TwiML of a waiting turn. It names no call, only what the caller hears (position, the wait as it is
        said, language, callback key), so every caller at the same place hears the same document: rendered once
        per distinct turn, not per turn (bounded; a busy queue has a few hundred distinct turns)."""
        said = (position, prompts.rounded_wait(wait), language, key)
        body = self._turns.get(said)
        if body is None:
            response = VoiceResponse()
            self._announce(response, position, wait, language, key)
            body = str(response)
            if len(self._turns) >= TURNS_KEPT:
                self._turns.clear()
            self._turns[said] = body
        return body

    def rejoin(self, sid: str, queue_sid: str, language: str, key: str) -> str:
        """A caller Twilio still holds but our ACD does not know (Redis lost its last writes, or this turn came
        before the rebuild): queue them again in their queue, at the back (their place is lost), and go on
        waiting; a queue that will not take them (voicemail, callback, full) lets them leave to its action."""
        ch, state = self.ch, self.ch.store.get(sid)
        language = language or state.language or ch.default_language
        response = VoiceResponse()
        try:
            result = self.requeue(sid, state.get("queue") or next(iter(ch.hotline.queues)), queue_sid, language)
        except AcdError as exc:
            logger.warning("call %s: not re-queued: %s", sid, exc)
            response.leave()
            return str(response)
        if result.action not in ("queued", "overflow"):
            response.leave()
            return str(response)
        position = ch.acd.position(sid, ch.now())
        self._announce(response, position.position, position.estimated_wait, language, key)
        return str(response)

    def requeue(self, sid: str, queue: str, queue_sid: str, language: str) -> EnqueueResult:
        """Queue again a caller Twilio holds in ``queue_sid`` and our ACD lost (``ENTER_QUEUE`` with
        ``data.rejoined``); the channel's state learns the queue, the Twilio queue and the way out."""
        ch, state = self.ch, self.ch.store.get(sid)
        result = self._enqueue_again(sid, queue, state.get("from", ""), language)
        logger.warning("call %s: unknown to the ACD while held by Twilio; re-queued (%s)", sid, result.action)
        exit_ = result.action if result.action in ("callback", "voicemail") else ""
        ch.store.update(sid, queue=result.queue, queue_sid=queue_sid or state.get("queue_sid", ""), exit=exit_,
                        lang=language)  # fmt: skip
        ch.poke()
        return result

    def _enqueue_again(self, sid: str, queue: str, caller: str, language: str) -> EnqueueResult:
        ch, data = self.ch, {"rejoined": True}
        try:
            return ch.acd.enqueue(sid, queue, ch.now(), channel="twilio", caller=caller, language=language, data=data)
        except NoSuchQueueError:  # Redis lost the configuration too: the hotline file has it
            ch.acd.sync_config(ch.now())
            return ch.acd.enqueue(sid, queue, ch.now(), channel="twilio", caller=caller, language=language, data=data)

    def _announce(self, response: VoiceResponse, position: int, wait: float | None, language: str, key: str) -> None:
        twiml.say(response, prompts.queue_announcement(position, wait, language), language)
        if not key:
            response.play(twiml.HOLD_MUSIC)
            return
        gather = twiml.digits_gather(response, self.ch.urls("queue/key"), timeout=1)
        twiml.say(gather, prompts.callback_offer(key, language), language)
        gather.play(twiml.HOLD_MUSIC)

    def key(self, sid: str, digits: str) -> str:
        """A key pressed while waiting: the callback key books a callback (keeping the place) and hangs up."""
        ch, state = self.ch, self.ch.store.get(sid)
        response = VoiceResponse()
        if not state.get("cbkey") or digits.strip() != state.get("cbkey"):
            return str(response)  # any other key: back to the wait loop
        language = state.language or ch.default_language
        try:
            ch.acd.request_callback(sid, state.get("from", ""), ch.now())
        except AcdError as exc:
            logger.info("call %s: callback not booked: %s", sid, exc)
            return str(response)
        ch.store.update(sid, exit="callback")
        twiml.say(response, prompts.system("callback_confirmed", language), language)
        response.leave()
        return str(response)

    # -- leaving -------------------------------------------------------------------------------------------
    def done(self, sid: str, result: str) -> str:
        """The caller left the Twilio queue (the ``<Enqueue action>``): act on why."""
        ch, state = self.ch, self.ch.store.get(sid)
        response = VoiceResponse()
        if result in GONE_RESULTS:
            self.caller_gone(sid)
        elif result in FAILED_RESULTS:
            logger.error("call %s: Twilio queue failed (%s)", sid, result)
            self.caller_gone(sid)
            twiml.say(response, prompts.system("apology", state.language or ch.default_language),
                      state.language or ch.default_language)  # fmt: skip
            response.hangup()
        elif result == "leave":
            return self.exit(sid, state.get("exit", ""))
        return str(response)

    def exit(self, sid: str, action: str, announce: bool = False) -> str:
        """TwiML for a caller taken out of the queue by our ACD: callback, voicemail, overflow, hangup."""
        ch, state = self.ch, self.ch.store.get(sid)
        language = state.language or ch.default_language
        response = VoiceResponse()
        if action == "callback":
            if announce:
                twiml.say(response, prompts.system("callback_confirmed", language), language)
            response.hangup()
        elif action == "voicemail":
            self.voicemail(sid, response, state.get("queue", ""), language, 120, prompt=True)
        elif action in ("overflow", "transferred"):
            if action == "transferred":
                twiml.say(response, prompts.system("transferring", language), language)
            position = ch.acd.position(sid, ch.now())
            ch.store.update(sid, queue=position.queue, exit="")
            self.hold(sid, response, position.queue)
            ch.poke()
        else:
            twiml.say(response, prompts.system("goodbye", language), language)
            response.hangup()
        return str(response)

    def caller_gone(self, sid: str) -> None:
        """The caller hung up: abandoned while waiting/ringing, completed by the caller while connected."""
        ch = self.ch
        try:
            kind = ch.acd.hangup(sid, ch.now(), by="caller")
        except AcdError:
            return  # not in the ACD, or already ended (a repeated callback)
        if kind == EventType.COMPLETED_BY_CALLER.value:
            self.after_caller_hung_up(sid)
        ch.poke()

    def after_caller_hung_up(self, sid: str) -> None:
        """The caller hung up on the operator: the SMS survey job follows once the journal has brought the call
        into SQL (the survey service reads the call record; the job retries if it is not there yet)."""
        survey = self.ch.hotline.survey
        if survey.enabled and survey.sms_when_caller_hung_up and survey.questions:
            when = dt.datetime.fromtimestamp(time.time() + SMS_SURVEY_DELAY_SECONDS, dt.UTC)
            tag = self.ch.container.keys.tag
            job_id = self.ch.container.keys.rq_queue_name(f"sms-survey-{sid}")  # once per call
            self.ch.container.jobs.enqueue_at(when, "webhooks.jobs.send_sms_survey", tag, sid, job_id=job_id)


_VOICEMAIL_PROMPT = {
    "hu": "Kérjük, a sípszó után hagyjon üzenetet, és visszahívjuk.",
    "en": "Please leave a message after the tone and we will call you back.",
}


def _has(key: str) -> bool:
    return key in prompts.SYSTEM
