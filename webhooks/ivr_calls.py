"""Incoming calls through the IVR: the engine's steps rendered as TwiML, its facts journalled.

Each Gather's action URL carries the IVR step number ``s``. A request for a step already answered (Twilio
retries, the fallback URL) gets the stored reply again and changes nothing, so repeats are harmless.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from callcenter.domain.events import CallEvent, EventType
from callcenter.kb import KbService
from ivr import engine
from ivr.steps import (
    CallContext,
    Enqueue,
    Gather,
    Hangup,
    Play,
    Record,
    RequestCallback,
    Result,
    Say,
    Step,
    Transfer,
    UserInput,
)
from webhooks import twiml
from webhooks.channel import TwilioChannel
from webhooks.twiml import VoiceResponse
from webhooks.waiting import Waiting

logger = logging.getLogger(__name__)

ACTIONS = (Enqueue, RequestCallback, Record, Transfer)
GREETINGS_KEPT = 64


class UnknownCallError(LookupError):
    """A webhook for a call this channel never saw (or whose state expired)."""


class KnowledgeBase:
    """The IVR's self-service source: the knowledge base's published IVR message for a topic. A database that
    cannot answer means no message (the flow goes on to an operator), never a failed call."""

    def __init__(self, kb: KbService):
        self.kb = kb

    def message_for(self, topic: str, language: str) -> str | None:
        try:
            return self.kb.message_for(topic, language)
        except Exception:
            logger.warning("self-service message for %s/%s unavailable", topic, language, exc_info=True)
            return None


class IvrCalls:
    """Start and advance calls in the IVR flow."""

    def __init__(self, channel: TwilioChannel, waiting: Waiting):
        self.ch, self.waiting = channel, waiting
        c = channel.container
        self.knowledge = KnowledgeBase(KbService(c.sessions, c.hotline, c.clock))
        self._greetings: dict[tuple[Any, ...], tuple[str, str]] = {}

    def start(self, sid: str, form: Mapping[str, str]) -> str:
        """A call comes in: CALL_STARTED, then the flow's first steps (a repeat replays the first answer)."""
        ch = self.ch
        caller = {"from": form.get("From", ""), "to": form.get("To", ""), "caller_name": form.get("CallerName", "")}
        started = ch.event(sid, EventType.CALL_STARTED, {**caller, "channel": "twilio"}, "start")
        if ch.flow is None:
            queue = next(iter(ch.hotline.queues))
            context = CallContext(language=ch.default_language)
            result = Result((Enqueue(queue, language=context.language),), context)
        else:
            result = engine.start(ch.flow, None, self._now(), self.knowledge)
        if not any(isinstance(item, ACTIONS) for item in result.steps):
            return self._start_quietly(sid, result, started, {**caller, "kind": "caller"})
        replay = ch.store.claim(sid)
        if replay is not None:
            return replay or str(VoiceResponse())
        ch.ensure_acd_config()
        return self.perform(sid, result, 0, [started], {**caller, "kind": "caller"})

    def _start_quietly(self, sid: str, result: Result, started: CallEvent, fields: dict[str, str]) -> str:
        """The usual start (the flow greets and asks): render, then claim + state + events in one round trip."""
        body, context = self._greeting(sid, result)
        state = {**fields, "ctx": context, "node": result.waiting_at or "", "step": 1, "reply_step": 0,
                 "reply": body}  # fmt: skip
        events = [started, *self.ch.facts(sid, result.facts, 0)]
        replay = self.ch.store.create_with(sid, state, events)
        return body if replay is None else replay or str(VoiceResponse())

    def _greeting(self, sid: str, result: Result) -> tuple[str, str]:
        """The TwiML and stored context of a start that only speaks and listens. Every caller in the same hours
        gets the same ones (they name no call), so they are rendered once per distinct start, not per call."""
        key = (result.steps, result.context)
        cached = self._greetings.get(key)
        if cached is None:
            response = VoiceResponse()
            for item in result.steps:
                self.render(sid, response, item, result.context, 1)
            cached = (str(response), json.dumps(result.context.to_dict(), ensure_ascii=False))
            if len(self._greetings) >= GREETINGS_KEPT:  # a flow has a handful of starts; never grow unbounded
                self._greetings.clear()
            self._greetings[key] = cached
        return cached

    def advance(self, sid: str, step: int, node: str, user_input: UserInput) -> str:
        """The caller answered (or did not answer) the Gather of ``node`` at IVR step ``step``."""
        state = self.ch.store.get(sid)
        if not state:
            raise UnknownCallError(sid)
        context = state.context
        if str(step) == state.get("reply_step") or step != state.step or context is None or self.ch.flow is None:
            return state.get("reply") or str(VoiceResponse())
        result = engine.advance(self.ch.flow, node, user_input, context, self._now(), self.knowledge)
        return self.perform(sid, result, step)

    def replay(self, sid: str) -> str:
        return self.ch.store.get(sid).get("reply") or str(VoiceResponse())

    def caller_hung_up(self, sid: str) -> None:
        """The caller left while the IVR waited for input: IVR_EXIT (once, whatever repeats)."""
        state = self.ch.store.get(sid)
        node, context = state.get("node"), state.context
        if node and context is not None:
            fact = engine.caller_hung_up(node, context)
            self.ch.append(self.ch.event(sid, fact.type, fact.data, "hangup"))
            self.ch.store.update(sid, node="")

    def perform(
        self,
        sid: str,
        result: Result,
        step: int,
        before: list[CallEvent] | None = None,
        fields: dict[str, str] | None = None,
    ) -> str:
        """Render every step, journal the facts, remember the reply for repeats.

        Steps that only speak and listen need one Redis round trip (state, reply and events together); steps
        that act (enqueue, callback, record, transfer) save the state first, since those read it."""
        ch = self.ch
        events = [*(before or []), *ch.facts(sid, result.facts, step)]
        state = {**(fields or {}), "ctx": json.dumps(result.context.to_dict(), ensure_ascii=False),
                 "node": result.waiting_at or ""}  # fmt: skip
        acts = any(isinstance(item, ACTIONS) for item in result.steps)
        if acts:
            ch.store.save(sid, state, events)
        response = VoiceResponse()
        for item in result.steps:
            self.render(sid, response, item, result.context, step + 1)
        body = str(response)
        reply = {"step": step + 1, "reply_step": step, "reply": body}
        ch.store.save(sid, reply if acts else {**state, **reply}, () if acts else events)
        return body

    def render(self, sid: str, response: VoiceResponse, item: Step, context: CallContext, next_step: int) -> None:
        language = context.language
        if isinstance(item, Say | Play):
            twiml.prompt(response, item)
        elif isinstance(item, Gather):
            action = self.ch.urls("ivr", s=next_step, node=item.node)
            twiml.gather(response, item, action, language)
        elif isinstance(item, Enqueue):
            self.waiting.enter(sid, response, item.queue, item.priority, item.skills, item.callback_key, language,
                               item.topic)  # fmt: skip
        elif isinstance(item, RequestCallback):
            self.waiting.book_callback(sid, item.queue, item.priority, item.skills, language, item.topic)
        elif isinstance(item, Record):
            self.waiting.voicemail(sid, response, item.queue, language, item.max_seconds, prompt=False)
        elif isinstance(item, Transfer):
            self._transfer(sid, response, item, language)
        elif isinstance(item, Hangup):
            response.hangup()

    def _transfer(self, sid: str, response: VoiceResponse, item: Transfer, language: str) -> None:
        if item.queue is not None:
            self.waiting.enter(sid, response, item.queue, item.priority, item.skills, None, language, item.topic)
            return
        dial = response.dial(caller_id=self.ch.store.get(sid).get("to") or None)
        dial.number(item.number)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ch.now(), tz=dt.UTC)
