"""The IVR engine: a pure state machine from (flow, node, input, call context, now) to steps.

A channel calls ``start`` when a call arrives and ``advance`` with the node of the pending Gather and what
the caller did. It renders ``Result.steps`` (Twilio as TwiML, SIP over RTP), keeps ``Result.context`` for
the next request, and appends ``Result.facts`` to the journal. Nothing here reads the clock, the network or
the database: the time is ``now`` and knowledge-base messages come through the ``SelfServiceSource`` port.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from ivr import prompts, speech
from ivr.journal import exit_fact, input_fact
from ivr.nodes import (
    Assignment,
    BusinessHoursNode,
    CallbackNode,
    Choice,
    EnqueueNode,
    Flow,
    HangupNode,
    MenuNode,
    MessageNode,
    Node,
    SelfServiceNode,
    SetNode,
    Text,
    TransferNode,
    VoicemailNode,
)
from ivr.steps import (
    CallContext,
    Digits,
    Enqueue,
    Fact,
    Gather,
    Hangup,
    NoInput,
    Play,
    Prompt,
    Record,
    RequestCallback,
    Result,
    Say,
    Speech,
    Step,
    Transfer,
    UserInput,
)


class SelfServiceSource(Protocol):
    """The knowledge base as the IVR sees it: the published IVR message for a topic, if any."""

    def message_for(self, topic: str, language: str) -> str | None: ...


class NoSuchNodeError(LookupError):
    """The channel named a node the flow does not have (a stale or forged action URL)."""


class NotWaitingForInputError(ValueError):
    """Input was given to a node that does not take input."""


class FlowLoopError(RuntimeError):
    """The flow passed more nodes without input than it has; validation prevents this."""


def initial_context(flow: Flow) -> CallContext:
    """A new call speaks the hotline's default language until the caller chooses."""
    return CallContext(language=flow.default_language)


def start(
    flow: Flow, context: CallContext | None, now: dt.datetime, self_service: SelfServiceSource | None = None
) -> Result:
    """Run the flow from its start node until it needs input or the caller leaves the IVR."""
    return _Run(flow, now, self_service, context or initial_context(flow)).go(flow.start)


def advance(
    flow: Flow,
    node_id: str,
    user_input: UserInput,
    context: CallContext,
    now: dt.datetime,
    self_service: SelfServiceSource | None = None,
) -> Result:
    """Apply the caller's input at ``node_id``: follow a matching choice, else retry or give up.

    Each input is an IVR_INPUT fact. A no-input or invalid input asks again (after the invalid prompt)
    until the menu's ``retries`` are used up; the next failure goes to ``on_failure``. Empty digits or
    blank speech count as no input.
    """
    menu = _menu(flow, node_id)
    user_input = _nothing_as_no_input(user_input)
    choice = choose(menu, user_input, context.language)
    run = _Run(flow, now, self_service, context if choice is None else apply(context, choice.assign))
    run.facts.append(input_fact(menu.id, user_input, None if choice is None else choice.key, run.ctx))
    if choice is not None:
        return run.go(choice.next)
    return run.failed(menu, user_input)


def caller_hung_up(node_id: str, context: CallContext) -> Fact:
    """The IVR_EXIT fact for a caller who hung up while the IVR was waiting at ``node_id``."""
    return exit_fact(node_id, "caller_hung_up", context)


def choose(menu: MenuNode, user_input: UserInput, language: str) -> Choice | None:
    """The choice the input selects: an exact key, or a phrase heard anywhere in the speech."""
    by_key = {c.key: c for c in menu.choices}
    if isinstance(user_input, Digits):
        return by_key.get(user_input.digits.strip().rstrip("#"))
    if isinstance(user_input, Speech):
        key = speech.match(user_input.text, _phrases(menu, language), language, by_key)
        return None if key is None else by_key[key]
    return None


def apply(context: CallContext, assign: Assignment) -> CallContext:
    """The context with whatever ``assign`` sets (language, topic, skill, priority)."""
    changes: dict[str, Any] = {
        name: value
        for name in ("language", "topic", "skill", "priority")
        if (value := getattr(assign, name)) is not None
    }
    return replace(context, **changes)


class _Run:
    """One engine answer being built: steps and facts accumulate while nodes run without input."""

    def __init__(self, flow: Flow, now: dt.datetime, source: SelfServiceSource | None, ctx: CallContext):
        self.flow, self.now, self.source, self.ctx = flow, now, source, ctx
        self.steps: list[Step] = []
        self.facts: list[Fact] = []
        self.waiting_at: str | None = None

    def go(self, node_id: str) -> Result:
        """Run nodes from ``node_id`` until one waits for input or ends the IVR."""
        target: str | None = node_id
        for _ in range(len(self.flow.nodes) + 1):
            if target is None:
                return self.result()
            node = _node(self.flow, target)
            self.ctx = self.ctx.visit(node.id)
            target = self._handlers()[type(node)](node)
        raise FlowLoopError(f"flow passes {node_id!r} again without asking the caller anything")

    def failed(self, menu: MenuNode, user_input: UserInput) -> Result:
        """Say the invalid/no-input prompt; ask again or, after the last retry, go to ``on_failure``."""
        complaint = menu.no_input if isinstance(user_input, NoInput) else menu.invalid or self._system("invalid_choice")
        self._say_text(complaint, menu.all_languages)
        if self.ctx.retries >= menu.retries:
            return self.go(menu.on_failure)
        self.ctx = replace(self.ctx, retries=self.ctx.retries + 1)
        self._ask(menu)
        return self.result()

    def result(self) -> Result:
        return Result(tuple(self.steps), self.ctx, tuple(self.facts), self.waiting_at)

    def _handlers(self) -> Mapping[type, Callable[[Any], str | None]]:
        return {
            MenuNode: self._menu, BusinessHoursNode: self._hours, SetNode: self._set,
            MessageNode: self._message, SelfServiceNode: self._self_service, EnqueueNode: self._enqueue,
            CallbackNode: self._callback, VoicemailNode: self._voicemail, TransferNode: self._transfer,
            HangupNode: self._hangup,
        }  # fmt: skip

    def _menu(self, node: MenuNode) -> None:
        self._ask(node)

    def _ask(self, node: MenuNode) -> None:
        language = self.ctx.language
        phrases = tuple(p for p, _ in _phrases(node, language))
        self.steps.append(
            Gather(
                node=node.id,
                num_digits=max(len(c.key) for c in node.choices),
                timeout_seconds=node.timeout_seconds,
                prompts=self._prompts(node.prompt, node.all_languages),
                speech_language=language if phrases else None,
                hints=phrases,
            )
        )
        self.waiting_at = node.id

    def _hours(self, node: BusinessHoursNode) -> str:
        if node.holiday is not None and node.hours.is_holiday(self.now):
            self.ctx = replace(self.ctx, after_hours=True)
            return node.holiday
        if node.hours.is_open(self.now):
            return node.open
        self.ctx = replace(self.ctx, after_hours=True)
        return node.closed

    def _set(self, node: SetNode) -> str:
        self.ctx = apply(self.ctx, node.assign)
        return node.next

    def _message(self, node: MessageNode) -> str | None:
        self._say_text(node.prompt)
        if node.next is None:
            self.steps.append(Hangup())
            self._leave(node.id, node.reason)
        return node.next

    def _self_service(self, node: SelfServiceNode) -> str:
        topic = node.topic or self.ctx.topic
        text = self.source.message_for(topic, self.ctx.language) if self.source and topic else None
        if not text:
            return node.next
        self.steps.append(Say(text, self.ctx.language))
        self.ctx = replace(self.ctx, topic=topic)
        return node.after or node.next

    def _enqueue(self, node: EnqueueNode) -> None:
        self._say_text(node.prompt)
        priority, skills = self._routing(node.priority, node.skills)
        self.steps.append(Enqueue(node.queue, priority, skills, node.callback_key, *self._who()))

    def _callback(self, node: CallbackNode) -> None:
        priority, skills = self._routing(node.priority, node.skills)
        self.steps.append(RequestCallback(node.queue, priority, skills, *self._who()))
        self._say_text(node.prompt or self._system("callback_confirmed"))
        self.steps.append(Hangup())

    def _voicemail(self, node: VoicemailNode) -> None:
        self._say_text(node.prompt or self._system("voicemail_prompt"))
        self.steps.append(Record(node.max_seconds, node.queue))
        self._leave(node.id, "voicemail")

    def _transfer(self, node: TransferNode) -> None:
        self._say_text(node.prompt)
        priority, skills = self._routing(node.priority, node.skills)
        self.steps.append(Transfer(node.queue, node.number, priority, skills, *self._who()))
        if node.number is not None:
            self._leave(node.id, "transferred")

    def _hangup(self, node: HangupNode) -> None:
        self._say_text(node.prompt)
        self.steps.append(Hangup())
        closed = node.reason == "hangup" and self.ctx.after_hours
        self._leave(node.id, "closed" if closed else node.reason)

    def _routing(self, priority: int | None, skills: Mapping[str, int]) -> tuple[int, dict[str, int]]:
        """Node values win; otherwise the call's priority, and its skill at the lowest level."""
        wanted = {self.ctx.skill: 1} if self.ctx.skill else {}
        return (self.ctx.priority if priority is None else priority), {**wanted, **skills}

    def _who(self) -> tuple[str, str | None]:
        return self.ctx.language, self.ctx.topic

    def _leave(self, node_id: str, reason: str) -> None:
        self.facts.append(exit_fact(node_id, reason, self.ctx))

    def _system(self, key: str) -> Text:
        return Text({lang: prompts.system(key, lang) for lang in self.flow.languages})

    def _say_text(self, text: Text | None, all_languages: bool = False) -> None:
        if text is not None and text.texts:
            self.steps.extend(self._prompts(text, all_languages))

    def _prompts(self, text: Text, all_languages: bool) -> tuple[Prompt, ...]:
        languages = [lang for lang in text.texts] if all_languages else [self.ctx.language]
        return tuple(_prompt(text, lang, self.flow.default_language) for lang in languages)


def _prompt(text: Text, language: str, fallback: str) -> Prompt:
    spoken = text.texts.get(language) or text.texts.get(fallback) or next(iter(text.texts.values()))
    if language in text.audio:
        return Play(text.audio[language], language, spoken)
    return Say(spoken, language)


def _phrases(menu: MenuNode, language: str) -> list[tuple[str, str]]:
    return [(p, c.key) for c in menu.choices for p in c.speech.get(language, ())]


def _nothing_as_no_input(user_input: UserInput) -> UserInput:
    """Empty digits or blank speech (Twilio's ``actionOnEmptyResult``) count as a timeout."""
    if isinstance(user_input, Digits) and not user_input.digits.strip().rstrip("#"):
        return NoInput()
    if isinstance(user_input, Speech) and not user_input.text.strip():
        return NoInput()
    return user_input


def _node(flow: Flow, node_id: str) -> Node:
    try:
        return flow.nodes[node_id]
    except KeyError:
        raise NoSuchNodeError(f"the flow has no node {node_id!r}") from None


def _menu(flow: Flow, node_id: str) -> MenuNode:
    node = _node(flow, node_id)
    if not isinstance(node, MenuNode):
        raise NotWaitingForInputError(f"node {node_id!r} does not take input")
    return node
